"""小哥报到 through the test client: scan → form → SMS code → 欢迎回家, bad QR codes, moving to
another point, query counts, and concurrency. The courier's own page and signing in and out
are in test_checkin_me.py."""

from __future__ import annotations

import datetime
import re
import threading

import pytest
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from couriers.models import Courier, PhoneCode
from stations.checkin.flow import point_token
from stations.models import Campaign, CheckIn, CheckInMove, CheckinPoint, Station
from tests import factories
from tests.concurrency import at_once, needs_postgresql

pytestmark = pytest.mark.django_db

PHONE = "13912345678"


def url(point: CheckinPoint, step: str = "") -> str:
    return f"/checkin/{point_token(point)}/" + (f"{step}/" if step else "")


def form(**fields) -> dict:
    """The check-in form as a courier fills it in: 南桥镇, privacy agreed, one 6I interest."""
    data = {
        "name": "王小明",
        "phone": PHONE,
        "work_town": factories.town("南桥镇").pk,
        "interests": ["learn"],
        "agree_privacy": "on",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def station(town, name: str) -> Station:
    """An always-open station near 南桥."""
    return Station(
        town=town,
        name=name,
        address="测试路",
        latitude=30.918,
        longitude=121.474,
        open_24_hours=True,
    )


def sent_code(outbox) -> str:
    return re.search(r"验证码 (\d{6})", outbox[-1][1]).group(1)


def age_codes(seconds: float = 61) -> None:
    delta = datetime.timedelta(seconds=seconds)
    PhoneCode.objects.update(created_at=F("created_at") - delta, expires_at=F("expires_at") - delta)


def check_in(client: Client, at: CheckinPoint, outbox, **fields):
    """The whole flow; returns the response after the code (followed to its end)."""
    response = client.post(url(at), form(**fields))
    assert response.status_code == 302 and response["Location"] == url(at, "verify"), (
        response.content.decode()[:3000]
    )
    return client.post(url(at, "verify"), {"code": sent_code(outbox)}, follow=True)


def sign_in(client: Client, phone: str, outbox) -> None:
    age_codes()  # a code may just have been sent to this phone
    client.post("/me/signin/", {"phone": phone})
    response = client.post("/me/signin/", {"code": sent_code(outbox)})
    assert response.status_code == 302 and response["Location"] == "/me/"


def errors(response) -> dict:
    return {name: list(messages) for name, messages in response.context["form"].errors.items()}


def nothing_written() -> bool:
    return not (Courier.objects.exists() or CheckIn.objects.exists())


# --- the happy path ---------------------------------------------------------------------------


def test_the_whole_check_in_flow(anonymous, point, campaign, nanqiao_town, sms_outbox):
    page = anonymous.get(url(point))
    html = page.content.decode()
    assert page.status_code == 200
    assert point.name in html and campaign.name in html and "个人信息处理告知" in html

    response = anonymous.post(url(point), form())
    assert response.status_code == 302 and response["Location"] == url(point, "verify")
    assert [phone for phone, _ in sms_outbox] == [PHONE]
    assert nothing_written()  # nothing is registered before the phone is proven

    html = anonymous.get(url(point, "verify")).content.decode()
    assert "139****5678" in html and PHONE not in html

    response = anonymous.post(url(point, "verify"), {"code": sent_code(sms_outbox)})
    assert response.status_code == 302 and response["Location"] == url(point, "done")
    html = anonymous.get(url(point, "done")).content.decode()
    assert "欢迎回家，王小明" in html and point.name in html and campaign.name in html

    courier = Courier.objects.get()
    assert (courier.name, courier.phone, courier.work_town) == ("王小明", PHONE, nanqiao_town)
    checkin = CheckIn.objects.get()
    assert (checkin.courier, checkin.point, checkin.campaign) == (courier, point, campaign)
    assert checkin.interests == ["learn"]
    assert checkin.privacy_consent_at is not None and checkin.sensitive_consent_at is None

    html = anonymous.get("/me/").content.decode()
    assert "王小明" in html and "139****5678" in html and "南桥镇" in html
    assert campaign.name in html and point.name in html and "I学理论" in html


def test_the_done_page_lists_open_stations_near_the_point(
    anonymous, point, campaign, nanqiao_town, xidu_town, sms_outbox
):
    station(nanqiao_town, "南桥驿站").save()
    station(xidu_town, "西渡驿站").save()
    html = check_in(anonymous, point, sms_outbox).content.decode()
    assert "欢迎回家" in html and "南桥驿站" in html and "西渡驿站" not in html


@pytest.mark.parametrize("typed", ["+86 139 1234 5678", "139-1234-5678", "0086 13912345678"])
def test_a_phone_typed_with_spaces_or_country_code_is_normalised(
    anonymous, point, campaign, sms_outbox, typed
):
    check_in(anonymous, point, sms_outbox, phone=typed)
    assert sms_outbox[0][0] == PHONE
    assert Courier.objects.get().phone == PHONE


def test_the_code_can_be_sent_again_after_a_minute(anonymous, point, campaign, sms_outbox):
    anonymous.post(url(point), form())
    html = anonymous.post(url(point, "verify"), {"resend": "1"}, follow=True).content.decode()
    assert "秒后再重新获取" in html and len(sms_outbox) == 1
    age_codes()
    html = anonymous.post(url(point, "verify"), {"resend": "1"}, follow=True).content.decode()
    assert "验证码已重新发送" in html and len(sms_outbox) == 2
    anonymous.post(url(point, "verify"), {"code": sent_code(sms_outbox)})
    assert CheckIn.objects.count() == 1


# --- form errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["12345", "1391234567a", "23912345678"])
def test_a_bad_phone_gets_a_chinese_error_and_no_code(anonymous, point, campaign, sms_outbox, bad):
    response = anonymous.post(url(point), form(phone=bad))
    assert response.status_code == 200
    assert errors(response)["phone"][0].startswith("手机号码")
    assert "手机号码" in response.content.decode()
    assert sms_outbox == [] and not PhoneCode.objects.exists()


def test_privacy_consent_is_required(anonymous, point, campaign, sms_outbox):
    response = anonymous.post(url(point), form(agree_privacy=None))
    assert errors(response) == {"agree_privacy": ["请先阅读并同意个人信息处理告知。"]}
    assert sms_outbox == [] and nothing_written()


def test_political_status_needs_its_own_consent(anonymous, point, campaign, sms_outbox):
    response = anonymous.post(url(point), form(political_status="member"))
    assert errors(response) == {
        "agree_sensitive": ["填写政治面貌需要你单独同意；也可以不填政治面貌。"]
    }
    assert "填写政治面貌需要你单独同意" in response.content.decode()
    assert sms_outbox == [] and nothing_written()


def test_political_status_with_consent_records_when_it_was_given(
    anonymous, point, campaign, sms_outbox
):
    check_in(anonymous, point, sms_outbox, political_status="member", agree_sensitive="on")
    checkin = CheckIn.objects.get()
    assert checkin.sensitive_consent_at is not None
    assert checkin.courier.political_status == "member"


def test_sensitive_consent_without_political_status_is_not_recorded(
    anonymous, point, campaign, sms_outbox
):
    check_in(anonymous, point, sms_outbox, agree_sensitive="on")
    assert CheckIn.objects.get().sensitive_consent_at is None


def test_an_outlet_of_another_brand_is_refused(anonymous, point, campaign, sms_outbox):
    outlet = factories.outlet(point.town)  # 中通
    response = anonymous.post(url(point), form(brand=factories.brand("圆通").pk, outlet=outlet.pk))
    assert errors(response)["outlet"] == [f"这个网点属于“{outlet.enterprise.brand}”。"]
    assert sms_outbox == []


def test_an_outlet_from_the_list_links_enterprise_and_brand(anonymous, point, campaign, sms_outbox):
    outlet = factories.outlet(point.town)
    check_in(anonymous, point, sms_outbox, brand=outlet.enterprise.brand.pk, outlet=outlet.pk)
    courier = Courier.objects.get()
    assert (courier.outlet, courier.enterprise) == (outlet, outlet.enterprise)
    assert courier.brand == outlet.enterprise.brand


def test_a_workplace_not_in_the_list_is_kept_as_a_note(anonymous, point, campaign, sms_outbox):
    check_in(anonymous, point, sms_outbox, workplace=" 南桥某某快递点 ")
    courier = Courier.objects.get()
    assert courier.outlet is None and "自填网点：南桥某某快递点" in courier.notes


def test_only_outlets_of_the_points_town_are_offered(anonymous, point, campaign, xidu_town):
    ours, theirs = factories.outlet(point.town), factories.outlet(xidu_town)
    html = anonymous.get(url(point)).content.decode()
    assert ours.name in html and theirs.name not in html
    response = anonymous.post(url(point), form(outlet=theirs.pk))
    assert "outlet" in errors(response)


# --- codes ------------------------------------------------------------------------------------


def test_a_wrong_code_is_refused_with_the_tries_left(anonymous, point, campaign, sms_outbox):
    anonymous.post(url(point), form())
    wrong = f"{(int(sent_code(sms_outbox)) + 1) % 1_000_000:06d}"
    response = anonymous.post(url(point, "verify"), {"code": wrong})
    assert response.status_code == 200
    assert errors(response) == {"code": ["验证码不正确，还可以再试 4 次。"]}
    assert nothing_written()


def test_an_expired_code_is_refused(anonymous, point, campaign, sms_outbox):
    anonymous.post(url(point), form())
    age_codes(11 * 60)
    response = anonymous.post(url(point, "verify"), {"code": sent_code(sms_outbox)})
    assert errors(response) == {"code": ["验证码已过期或未获取，请重新获取。"]}
    assert nothing_written()


def test_a_code_used_elsewhere_is_refused(anonymous, point, campaign, sms_outbox):
    from couriers.messaging import otp

    anonymous.post(url(point), form())
    # Used a moment earlier, e.g. from another tab of the same browser.
    otp.verify_code(PHONE, sent_code(sms_outbox), PhoneCode.objects.get().device)
    response = anonymous.post(url(point, "verify"), {"code": sent_code(sms_outbox)})
    assert errors(response) == {"code": ["这个验证码已经用过了，请重新获取。"]}
    assert nothing_written()


def test_the_verify_page_without_a_pending_form_goes_back_to_the_form(anonymous, point, campaign):
    response = anonymous.get(url(point, "verify"))
    assert response.status_code == 302 and response["Location"] == url(point)


def test_a_double_submitted_code_gives_one_check_in(anonymous, point, campaign, sms_outbox):
    anonymous.post(url(point), form())
    code = sent_code(sms_outbox)
    first = anonymous.post(url(point, "verify"), {"code": code})
    second = anonymous.post(url(point, "verify"), {"code": code}, follow=True)
    assert first.status_code == 302 and second.status_code == 200
    assert "你已报到" in second.content.decode()
    assert CheckIn.objects.count() == 1 and Courier.objects.count() == 1


# --- bad QR codes, closed points, no campaign ------------------------------------------------


def _tampered(token: str) -> list[str]:
    """Near misses of a point's (random, stored) token, and the kinds of guesses one makes."""
    flip = "A" if token[-1] != "A" else "B"
    return [token[:-1] + flip, token[:-1], token + "A", token.upper(), "1", "nonsense"]


@pytest.mark.parametrize("step", ["", "verify", "done"])
def test_a_tampered_token_is_refused(anonymous, point, other_point, campaign, sms_outbox, step):
    for token in _tampered(point_token(point)):
        target = f"/checkin/{token}/" + (f"{step}/" if step else "")
        for response in (anonymous.get(target), anonymous.post(target, form())):
            assert response.status_code == 400, token
            assert "二维码无效" in response.content.decode()
    assert sms_outbox == [] and nothing_written() and not PhoneCode.objects.exists()


def test_a_tampered_token_cannot_move_a_check_in(
    anonymous, point, other_point, campaign, sms_outbox
):
    check_in(anonymous, point, sms_outbox)
    forged = _tampered(point_token(other_point))[0]
    response = anonymous.post(f"/checkin/{forged}/move/")
    assert response.status_code == 400
    assert CheckIn.objects.get().point == point and not CheckInMove.objects.exists()


def test_a_token_for_an_unknown_point_is_refused(anonymous, campaign, sms_outbox):
    ghost = point_token(CheckinPoint(pk=99999))
    response = anonymous.post(f"/checkin/{ghost}/", form())
    assert response.status_code == 400 and "二维码无效" in response.content.decode()
    assert sms_outbox == [] and nothing_written()


def test_an_inactive_point_is_refused(anonymous, point, campaign, sms_outbox):
    CheckinPoint.objects.filter(pk=point.pk).update(is_active=False)
    for response in (anonymous.get(url(point)), anonymous.post(url(point), form())):
        assert response.status_code == 400 and "二维码无效" in response.content.decode()
    assert sms_outbox == []


def test_without_a_current_campaign_the_page_says_so(anonymous, point, sms_outbox):
    Campaign.objects.create(
        name="2024年报到季", starts_on=datetime.date(2024, 3, 1), ends_on=datetime.date(2024, 6, 1)
    )
    for response in (anonymous.get(url(point)), anonymous.post(url(point), form())):
        assert response.status_code == 200
        assert "报到季还没开始" in response.content.decode()
    assert sms_outbox == [] and nothing_written()


def test_a_campaign_closed_while_typing_the_code_ends_friendly(
    anonymous, point, campaign, sms_outbox
):
    anonymous.post(url(point), form())
    Campaign.objects.update(is_current=False)
    response = anonymous.post(url(point, "verify"), {"code": sent_code(sms_outbox)}, follow=True)
    assert response.status_code == 200 and "报到季还没开始" in response.content.decode()
    assert not CheckIn.objects.exists()


# --- matching the registry by phone -----------------------------------------------------------


def test_a_courier_imported_earlier_is_updated_not_duplicated(
    anonymous, point, campaign, nanqiao_town, sms_outbox
):
    imported = factories.courier(nanqiao_town, name="王晓明", phone=PHONE, education="bachelor")
    check_in(anonymous, point, sms_outbox, phone="139 1234 5678", name="王小明")
    courier = Courier.objects.get()
    assert courier.pk == imported.pk
    assert courier.name == "王小明" and courier.education == "bachelor"
    assert CheckIn.objects.get().courier == imported


def test_a_new_phone_registers_a_courier_in_the_chosen_town(
    anonymous, point, campaign, xidu_town, sms_outbox
):
    factories.courier(xidu_town, name="别人", phone="13900000009")
    check_in(anonymous, point, sms_outbox, work_town=xidu_town.pk)
    courier = Courier.objects.get(phone=PHONE)
    assert courier.work_town == xidu_town and courier.name == "王小明"
    assert Courier.objects.count() == 2


def test_the_form_offers_the_points_town_first(anonymous, point, campaign):
    form_ = anonymous.get(url(point)).context["form"]
    assert form_["work_town"].value() == point.town.pk


# --- scanning again ---------------------------------------------------------------------------


def test_scanning_again_at_the_same_point_shows_the_check_in(
    anonymous, point, campaign, sms_outbox
):
    check_in(anonymous, point, sms_outbox)
    html = anonymous.get(url(point)).content.decode()
    assert "你已报到" in html and point.name in html and campaign.name in html
    assert "改到这里报到" not in html
    assert CheckIn.objects.count() == 1


def test_scanning_at_another_point_offers_to_move_and_moving_keeps_history(
    anonymous, point, other_point, campaign, sms_outbox
):
    check_in(anonymous, point, sms_outbox)
    html = anonymous.get(url(other_point)).content.decode()
    assert "你已在别处报到" in html and "改到这里报到" in html
    assert point.name in html and other_point.name in html
    assert f'action="{url(other_point, "move")}"' in html

    response = anonymous.post(url(other_point, "move"), follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == url(other_point, "done")
    assert f"已改到“{other_point.name}”报到" in html and "欢迎回家" in html
    checkin = CheckIn.objects.get()
    assert checkin.point == other_point and checkin.interests == ["learn"]
    move = CheckInMove.objects.get()
    assert (move.checkin, move.from_point, move.to_point) == (checkin, point, other_point)

    html = anonymous.get(url(other_point)).content.decode()
    assert "你已报到" in html  # and moving again to the same point is a no-op
    anonymous.post(url(other_point, "move"))
    assert CheckInMove.objects.count() == 1


def test_moving_needs_a_post(anonymous, point, other_point, campaign, sms_outbox):
    check_in(anonymous, point, sms_outbox)
    assert anonymous.get(url(other_point, "move")).status_code == 405
    assert CheckIn.objects.get().point == point


def test_checking_in_on_a_new_phone_at_another_point_offers_to_move(
    point, other_point, campaign, sms_outbox
):
    check_in(Client(), point, sms_outbox)
    age_codes()
    elsewhere = Client()
    response = check_in(elsewhere, other_point, sms_outbox)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == url(other_point)
    assert "你已在别处报到" in html and "改到这里报到" in html
    assert CheckIn.objects.get().point == point and Courier.objects.count() == 1


def test_a_signed_in_courier_checks_in_without_a_new_code(
    anonymous, point, campaign, sms_outbox, nanqiao_town
):
    factories.courier(nanqiao_town, name="王小明", phone=PHONE)
    sign_in(anonymous, PHONE, sms_outbox)
    page = anonymous.get(url(point))
    # The proven phone is not written into the page: shown masked, kept when left empty.
    assert page.context["form"]["phone"].value() is None
    assert PHONE not in page.content.decode() and "139****5678" in page.content.decode()
    response = anonymous.post(url(point), form(phone=""))
    assert response.status_code == 302 and response["Location"] == url(point, "done")
    assert len(sms_outbox) == 1  # only the sign-in code
    assert CheckIn.objects.get().courier.phone == PHONE


def test_move_without_a_check_in_does_not_register_without_consent(
    anonymous, point, campaign, nanqiao_town, sms_outbox
):
    factories.courier(nanqiao_town, name="王小明", phone=PHONE)  # imported, never checked in
    sign_in(anonymous, PHONE, sms_outbox)
    response = anonymous.post(url(point, "move"))
    assert response.status_code == 302 and response["Location"] == url(point)
    assert not CheckIn.objects.exists()


# --- query counts -----------------------------------------------------------------------------


def _grow(campaign: Campaign, towns, count: int, start: int) -> None:
    """More points, couriers and their check-ins (this campaign and an older one)."""
    old, _ = Campaign.objects.get_or_create(
        name="2024年小哥报到季",
        defaults={"starts_on": datetime.date(2024, 3, 1), "ends_on": datetime.date(2024, 6, 1)},
    )
    for town in towns:
        points = CheckinPoint.objects.bulk_create(
            CheckinPoint(name=f"{town.short_name}报到点{start + n}", town=town, address="路")
            for n in range(count)
        )
        couriers = Courier.objects.bulk_create(
            Courier(
                name=f"小哥{start + n}",
                phone=factories.phone(70_000 + start + n + town.pk * 1000),
                work_town=town,
            )
            for n in range(count)
        )
        now = timezone.now()
        CheckIn.objects.bulk_create(
            CheckIn(courier=c, campaign=season, point=p, privacy_consent_at=now)
            for c, p in zip(couriers, points, strict=True)
            for season in (campaign, old)
        )
        Station.objects.bulk_create(
            station(town, f"{town.short_name}驿站{start + n}") for n in range(count)
        )


def _queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(queries)


def test_check_in_pages_keep_a_constant_number_of_queries(
    point, campaign, nanqiao_town, xidu_town, sms_outbox
):
    browser = Client()
    check_in(browser, point, sms_outbox)
    me = Courier.objects.get()
    Campaign.objects.create(
        name="2023年小哥报到季",
        starts_on=datetime.date(2023, 3, 1),
        ends_on=datetime.date(2023, 6, 1),
    )
    station(nanqiao_town, "南桥驿站").save()
    stranger = Client()

    def counts() -> dict[str, int]:
        return {
            "start": _queries(stranger, url(point)),
            "done": _queries(browser, url(point, "done")),
            "me": _queries(browser, "/me/"),
        }

    few = counts()
    _grow(campaign, [nanqiao_town, xidu_town], 40, start=0)
    older = Campaign.objects.get(name="2024年小哥报到季")
    CheckIn.objects.create(
        courier=me, campaign=older, point=point, privacy_consent_at=timezone.now()
    )
    many = counts()
    assert few == many
    # start: point, campaign, brand / outlet / town choices (Django reads the town list twice:
    #   once to decide the select's `required` attribute);
    # done: point, session, courier, campaign, check-in (with its campaign), suggested posts
    #   (with their claim counts), stations, then their services and hours as plain rows
    #   (stations/views.py search_stations);
    # me: session, courier, check-ins with point, town and campaign, claimed posts, points
    #   balance, points history, photo reports, activity sign-ups with their waiting places.
    # me also: the courier with town, brand, enterprise and outlet, the sensitive-data consent
    #   and an open erasure request (「我的」 shows everything held).
    assert many == {"start": 6, "done": 10, "me": 12}  # me: + the vouchers (积分兑换)


def test_a_signed_in_couriers_check_in_writes_only_the_check_in(point, campaign, sms_outbox):
    """The season's check-in of a courier already signed in on this phone: no code, no session
    rewrite, no update of an unchanged courier record — the page every courier submits."""
    browser = Client()
    check_in(browser, point, sms_outbox)
    CheckIn.objects.all().delete()  # a new season: the same courier checks in again
    sent = len(sms_outbox)
    with CaptureQueriesContext(connection) as queries:
        response = browser.post(url(point), form())
    assert response.status_code == 302 and response["Location"] == url(point, "done")
    assert len(sms_outbox) == sent  # the welcome goes out from the worker, after the request
    writes = [q["sql"] for q in queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]
    assert [w.split()[2].strip('"') for w in writes] == [
        "couriers_ratecounter",  # per browser
        "couriers_ratecounter",  # per address
        "stations_checkin",
        "couriers_message",  # the welcome text message, queued with the check-in (issue 17)
    ]
    assert CheckIn.objects.get().courier.phone == PHONE


# --- concurrency (PostgreSQL: real row locks, real parallel transactions) --------------------


def _committed_setup() -> tuple[Campaign, CheckinPoint, CheckinPoint]:
    nanqiao, xidu = factories.town("南桥镇"), factories.town("西渡街道")
    season = Campaign.objects.create(
        name="2025年小哥报到季",
        starts_on=datetime.date(2025, 3, 1),
        ends_on=datetime.date(2025, 12, 31),
        is_current=True,
    )
    here = CheckinPoint.objects.create(name="南桥报到点", town=nanqiao, address="路")
    there = CheckinPoint.objects.create(name="西渡报到点", town=xidu, address="路")
    return season, here, there


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_check_ins_make_one(committed_db):
    from stations.checkin import flow as checkin

    season, here, there = _committed_setup()
    for n, points in enumerate([(here, here), (here, there), (there, here)]):
        courier = factories.courier(here.town, phone=factories.phone(90_000 + n))
        results, problems = at_once(
            [
                lambda at=at, who=courier: checkin.check_in(
                    who, at, season, interests=[], sensitive_consent=False
                )
                for at in points
            ]
        )
        assert problems == []
        assert sorted(outcome.status for outcome in results) == ["already", "new"]
        assert CheckIn.objects.filter(courier=courier).count() == 1
        assert not CheckInMove.objects.exists()


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_registrations_of_a_phone_make_one_courier(committed_db):
    from couriers.registration import find_or_register

    town = factories.town("南桥镇")
    for n in range(3):
        phone = factories.phone(91_000 + n)
        results, problems = at_once(
            [
                lambda name=name, phone=phone: find_or_register(phone, name=name, town=town)
                for name in "甲乙"
            ]
        )
        assert problems == []
        assert Courier.objects.filter(phone=phone).count() == 1
        assert sorted(created for _, created in results) == [False, True]
        assert {courier.pk for courier, _ in results} == {Courier.objects.get(phone=phone).pk}


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_phone_registered_a_moment_ago_by_another_request_is_not_an_error(
    committed_db, monkeypatch
):
    """The window made deterministic: the late request pauses just before full_clean()."""
    from couriers.registration import find_or_register

    town = factories.town("南桥镇")
    paused, committed = threading.Event(), threading.Event()
    full_clean = Courier.full_clean

    def pausing_full_clean(self, *args, **kwargs):
        if threading.current_thread().name == "late":
            paused.set()
            committed.wait(10)
        return full_clean(self, *args, **kwargs)

    monkeypatch.setattr(Courier, "full_clean", pausing_full_clean)
    problems = []

    def late() -> None:
        try:
            find_or_register(PHONE, name="迟到", town=town)
        except Exception as problem:
            problems.append(problem)
        finally:
            connection.close()

    thread = threading.Thread(target=late, name="late")
    thread.start()
    assert paused.wait(10)
    find_or_register(PHONE, name="先到", town=town)  # commits at once (autocommit)
    committed.set()
    thread.join(30)
    assert problems == []
    assert Courier.objects.filter(phone=PHONE).count() == 1
