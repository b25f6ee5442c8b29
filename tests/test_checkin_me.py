"""The courier's own page (/me/), editing it, and signing in and out with phone and code."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from couriers.models import Courier, PhoneCode
from tests import factories
from tests.test_checkin import (
    PHONE,
    age_codes,
    check_in,
    errors,
    form,
    sent_code,
    url,
)

pytestmark = pytest.mark.django_db


# --- the courier's own page -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/me/", "/me/edit/"])
def test_my_page_needs_signing_in(anonymous, path):
    response = anonymous.get(path)
    assert response.status_code == 302 and response["Location"] == f"/me/signin/?next={path}"


def test_my_page_shows_only_my_own_data(point, other_point, campaign, sms_outbox, xidu_town):
    a, b = Client(), Client()
    check_in(a, point, sms_outbox, name="甲小哥", interests=["learn"])
    check_in(b, other_point, sms_outbox, name="乙小哥", phone="13987654321", interests=["health"])
    mine, theirs = a.get("/me/").content.decode(), b.get("/me/").content.decode()
    assert "甲小哥" in mine and "139****5678" in mine and point.name in mine
    assert "乙小哥" not in mine and "139****4321" not in mine and other_point.name not in mine
    assert "乙小哥" in theirs and other_point.name in theirs and "I享健康" in theirs
    assert "甲小哥" not in theirs and point.name not in theirs and "I学理论" not in theirs
    # No URL takes a courier id: there is nothing to change to see someone else.
    other = Courier.objects.get(name="甲小哥").pk
    for path in (f"/me/{other}/", f"/me/?courier={other}", f"/me/?courier_id={other}"):
        response = b.get(path)
        assert response.status_code == 404 or "甲小哥" not in response.content.decode()


def test_editing_my_details(anonymous, point, campaign, sms_outbox, xidu_town):
    check_in(anonymous, point, sms_outbox)
    page = anonymous.get("/me/edit/")
    assert page.status_code == 200 and "王小明" in page.content.decode()
    brand = factories.brand("韵达")
    response = anonymous.post(
        "/me/edit/", {"name": "王大明", "work_town": xidu_town.pk, "brand": brand.pk}
    )
    assert response.status_code == 302 and response["Location"] == "/me/"
    courier = Courier.objects.get()
    assert (courier.name, courier.work_town, courier.brand) == ("王大明", xidu_town, brand)
    assert courier.phone == PHONE  # the phone is not editable here
    assert "王大明" in anonymous.get("/me/").content.decode()


def test_changing_brand_drops_the_old_brands_outlet(anonymous, point, campaign, sms_outbox):
    outlet = factories.outlet(point.town)  # 中通
    check_in(anonymous, point, sms_outbox, brand=outlet.enterprise.brand.pk, outlet=outlet.pk)
    other = factories.brand("韵达")
    response = anonymous.post(
        "/me/edit/", {"name": "王小明", "work_town": point.town.pk, "brand": other.pk}
    )
    assert response.status_code == 302, errors(response)
    courier = Courier.objects.get()
    assert (courier.brand, courier.enterprise, courier.outlet) == (other, None, None)


def test_editing_cannot_change_the_phone(anonymous, point, campaign, sms_outbox, nanqiao_town):
    check_in(anonymous, point, sms_outbox)
    anonymous.post(
        "/me/edit/", {"name": "王小明", "work_town": nanqiao_town.pk, "phone": "13800000000"}
    )
    assert Courier.objects.get().phone == PHONE


def test_signing_out_ends_the_session(anonymous, point, campaign, sms_outbox):
    check_in(anonymous, point, sms_outbox)
    assert anonymous.get("/me/signout/").status_code == 405
    assert anonymous.get("/me/").status_code == 200
    response = anonymous.post("/me/signout/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert anonymous.get("/me/").status_code == 302
    assert anonymous.get(url(point)).context["form"]["phone"].value() is None


def test_signing_in_again_with_phone_and_code(point, campaign, sms_outbox):
    check_in(Client(), point, sms_outbox)
    age_codes()
    browser = Client()
    html = browser.post("/me/signin/", {"phone": "+86 139 1234 5678"}).content.decode()
    assert "139****5678" in html and "登录" in html
    assert sms_outbox[-1][0] == PHONE
    wrong = f"{(int(sent_code(sms_outbox)) + 1) % 1_000_000:06d}"
    response = browser.post("/me/signin/", {"code": wrong})
    assert "验证码不正确，还可以再试 4 次。" in response.content.decode()
    assert browser.get("/me/").status_code == 302
    response = browser.post("/me/signin/", {"code": sent_code(sms_outbox)})
    assert response.status_code == 302 and response["Location"] == "/me/"
    assert "王小明" in browser.get("/me/").content.decode()


def _as_answered(response, phone: str) -> tuple:
    """A response with what must differ taken out: the number (masked, or as typed into the
    form), the CSRF token's mask and the new cookies' values (the cookies must be the same)."""
    page = response.content.decode().replace(f"{phone[:3]}****{phone[-4:]}", "NUMBER")
    page = page.replace(phone, "NUMBER")
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", page)
    return response.status_code, page, sorted(response.cookies)


def test_signing_in_answers_alike_whether_or_not_the_phone_has_checked_in(nanqiao_town, sms_outbox):
    registered, unknown = "18912342468", "18955551357"
    factories.courier(nanqiao_town, phone=registered)
    browsers = {phone: Client() for phone in (registered, unknown)}
    asked = {phone: b.post("/me/signin/", {"phone": phone}) for phone, b in browsers.items()}
    assert _as_answered(asked[registered], registered) == _as_answered(asked[unknown], unknown)
    page = asked[unknown].content.decode()
    assert "如果该号码已报到，验证码已发送到 <strong>189****1357</strong>" in page
    assert "扫描" in page and "小哥报到" in page  # where to check in, said to everyone
    assert [to for to, _message in sms_outbox] == [registered]  # only a courier gets a message

    # A wrong code, and asking again too soon, answer alike as well.
    for step in ({"code": "000000"}, {"phone": None}):
        answers = {
            phone: b.post("/me/signin/", {k: v or phone for k, v in step.items()})
            for phone, b in browsers.items()
        }
        assert _as_answered(answers[registered], registered) == _as_answered(
            answers[unknown], unknown
        )
    assert len(sms_outbox) == 1


def test_signing_in_with_an_unknown_phone_signs_nobody_in(anonymous, sms_outbox):
    anonymous.post("/me/signin/", {"phone": PHONE})
    assert sms_outbox == []
    code = PhoneCode.objects.get(phone=PHONE)  # the same work as for a courier's phone
    assert code.device and code.used_at is None
    assert anonymous.get("/me/").status_code == 302
    response = anonymous.post("/me/signin/", {"phone": "12345"})
    assert errors(response)["phone"][0].startswith("手机号码应为 11 位")


def test_signing_in_returns_to_the_page_asked_for(nanqiao_town, sms_outbox):
    factories.courier(nanqiao_town, phone=PHONE)
    browser = Client()
    browser.post("/me/signin/?next=/me/edit/", {"phone": PHONE})
    response = browser.post("/me/signin/?next=/me/edit/", {"code": sent_code(sms_outbox)})
    assert response["Location"] == "/me/edit/"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example/",
    ],
)
def test_signing_in_never_redirects_off_site(nanqiao_town, sms_outbox, target):
    from urllib.parse import quote

    factories.courier(nanqiao_town, phone=PHONE)
    browser = Client()
    signin = f"/me/signin/?next={quote(target)}"
    browser.post(signin, {"phone": PHONE})
    response = browser.post(signin, {"code": sent_code(sms_outbox)})
    assert response["Location"] == "/me/"


def test_a_new_session_key_on_sign_in(point, campaign, sms_outbox):
    browser = Client()
    browser.get(url(point))
    browser.post(url(point), form())
    before = browser.cookies["sessionid"].value
    browser.post(url(point, "verify"), {"code": sent_code(sms_outbox)})
    assert browser.cookies["sessionid"].value != before
