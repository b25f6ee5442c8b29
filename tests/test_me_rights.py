"""「我的」 keeps the privacy notice's promise (issue 16, item 18): the courier sees everything the
portal holds about them, edits what is theirs, withdraws the separate consent for their
political status (then not used for anything public, and staff see it), changes phone with a
code sent to the new number, and asks for erasure, which staff see and complete."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from activities.claims import claim
from activities.models import PhotoReport, PointsEntry, VolunteerPost
from couriers import models as registry
from couriers.models import Courier
from couriers.privacy.personal_data import ERASED_NAME
from stations.models import CheckIn, CheckinPoint, SixI
from tests import factories
from tests.factories import courier_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def courier(nanqiao_town, campaign) -> Courier:
    outlet = factories.outlet(nanqiao_town, name="南桥中通一部")
    courier = factories.courier(
        nanqiao_town,
        name="王小明",
        political_status=Courier.PoliticalStatus.MEMBER,
        brand=outlet.enterprise.brand,
        enterprise=outlet.enterprise,
        outlet=outlet,
    )
    point = CheckinPoint.objects.create(name="南桥报到点", town=nanqiao_town, address="解放东路")
    CheckIn.objects.create(
        courier=courier,
        campaign=campaign,
        point=point,
        interests=["learn", "safety"],
        privacy_consent_at=timezone.now(),
        sensitive_consent_at=timezone.now(),
    )
    return courier


def me(client) -> str:
    response = client.get("/me/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_courier_sees_everything_held_about_them(courier, nanqiao_town):
    post = VolunteerPost.objects.create(
        title="平安巡逻", town=nanqiao_town, category=SixI.SAFETY, capacity=3
    )
    claim(post, courier)
    PointsEntry.objects.create(courier=courier, amount=5, reason="志愿服务", source="manual")
    PhotoReport.objects.create(
        courier=courier, town=nanqiao_town, category="city", description="垃圾", address="某路"
    )
    html = me(courier_client(courier))
    for held in (
        "王小明",
        courier.masked_phone,
        "南桥镇",
        "中通",
        "南桥中通一部",
        "中共党员",
        "单独同意处理",
        "I学理论、I护平安",
        "南桥报到点",
        "平安巡逻",
        "志愿服务",
        "某路",
    ):
        assert held in html, held
    assert courier.phone not in html


def test_the_courier_edits_outlet_and_interests_themselves(courier, nanqiao_town):
    other = factories.outlet(nanqiao_town, courier.enterprise, name="南桥中通二部")
    client = courier_client(courier)
    response = client.post(
        "/me/edit/",
        {
            "name": "王晓明",
            "work_town": nanqiao_town.pk,
            "brand": courier.brand_id,
            "outlet": other.pk,
            "interests": ["charity"],
        },
    )
    assert response.status_code == 302
    courier.refresh_from_db()
    assert (courier.name, courier.outlet) == ("王晓明", other)
    assert CheckIn.objects.get(courier=courier).interests == ["charity"]


def test_withdrawing_the_sensitive_consent_takes_the_status_out_of_public_figures(
    anonymous, courier, district_client
):
    def public_members() -> int:
        return Courier.objects.headline_figures()["party_members"]

    assert public_members() == 1
    client = courier_client(courier)
    response = client.post("/me/consent/withdraw/", follow=True)
    assert "已撤回" in response.content.decode()
    courier.refresh_from_db()
    assert courier.sensitive_consent_withdrawn_at is not None
    assert public_members() == 0
    html = me(client)
    assert "撤回同意" in html and "中共党员" not in html and 'id="withdraw-consent"' not in html

    staff_page = district_client.get(f"/admin/couriers/courier/{courier.pk}/change/")
    shown = staff_page.content.decode().split("撤回敏感信息同意时间")[1][:400]
    assert str(timezone.localdate().year) in shown  # the moment, not an empty field


def test_giving_the_consent_again_at_a_check_in_counts_again(courier, campaign):
    from stations.checkin.flow import check_in

    Courier.objects.filter(pk=courier.pk).update(sensitive_consent_withdrawn_at=timezone.now())
    point = CheckIn.objects.get(courier=courier).point
    check_in(courier, point, campaign, interests=[], sensitive_consent=True)
    courier.refresh_from_db()
    assert courier.sensitive_consent_withdrawn_at is None


def _code(outbox, phone) -> str:
    sent = [text for to, text in outbox if to == phone]
    return re.search(r"验证码 (\d{6})", sent[-1]).group(1)


def test_the_phone_changes_with_a_code_sent_to_the_new_number(courier, sms_outbox):
    client = courier_client(courier)
    old = courier.phone
    new = factories.phone(7777)
    html = client.post("/me/phone/", {"phone": new}).content.decode()
    assert "验证码已发送到新号码" in html
    assert [to for to, _ in sms_outbox] == [new]
    wrong = client.post("/me/phone/", {"code": "12a"}).content.decode()
    assert "6 位数字" in wrong
    response = client.post("/me/phone/", {"code": _code(sms_outbox, new)})
    assert response.status_code == 302 and response["Location"] == "/me/"
    courier.refresh_from_db()
    assert courier.phone == new and courier.phone != old


def test_a_number_held_by_another_courier_is_not_taken_over(courier, nanqiao_town, sms_outbox):
    other = factories.courier(nanqiao_town, name="李四")
    client = courier_client(courier)
    client.post("/me/phone/", {"phone": other.phone})
    response = client.post("/me/phone/", {"code": _code(sms_outbox, other.phone)}, follow=True)
    assert "已登记在另一位小哥名下" in response.content.decode()
    courier.refresh_from_db()
    assert courier.phone != other.phone


def test_an_erasure_request_is_seen_by_town_staff_and_completed_with_erase_person(
    courier, nanqiao_client, xidu_client
):
    client = courier_client(courier)
    assert "申请注销" in me(client)
    page = client.get("/me/erasure/").content.decode()
    assert "确认申请注销" in page
    client.post("/me/erasure/", {"confirm": "1", "reason": "换工作了"})
    client.post("/me/erasure/", {"confirm": "1"})  # a double tap
    request = registry.ErasureRequest.objects.get()
    assert (request.courier, request.completed_at) == (courier, None)
    assert "你已于" in me(client) and "申请注销" in me(client)

    listing = nanqiao_client.get("/admin/couriers/erasurerequest/")
    assert listing.status_code == 200 and "王小明" in listing.content.decode()
    assert "王小明" not in xidu_client.get("/admin/couriers/erasurerequest/").content.decode()

    response = nanqiao_client.post(
        "/admin/couriers/erasurerequest/",
        {"action": "complete", "_selected_action": [request.pk]},
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.completed_at is not None and request.reason == ""
    courier.refresh_from_db()
    assert courier.name == ERASED_NAME and not courier.phone.startswith("1")
    assert client.get("/me/").status_code == 302  # signed out: their session went too
