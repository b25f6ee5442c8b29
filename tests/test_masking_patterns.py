"""No unmasked phone or ID number (patterns from the issue) in public HTML, in any admin change
list (as district and as town staff), in the admin's history pages and Django's admin log
messages, or in the audit log's admin — with data full of real-looking numbers."""

from __future__ import annotations

import datetime
import re

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from activities.models import (
    Activity,
    Claim,
    Partnership,
    PhotoReport,
    PointsEntry,
    ServiceRecord,
    SignUp,
    Story,
    VolunteerPost,
)
from couriers.models import Enterprise, PipelineStage
from couriers.models.casework import Need, PartyStage, Visit
from stations.checkin.flow import point_token
from stations.models import (
    Campaign,
    CheckIn,
    CheckinPoint,
    SixI,
    Station,
    StationVisit,
    StatusReport,
)
from tests import factories
from tests.factories import courier_client
from tests.sheets import xlsx
from tests.test_survey_admin import upload

pytestmark = pytest.mark.django_db

PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dXx](?!\w)")
ADMIN = "/" + settings.ADMIN_URL

COURIER_PHONE = "13912345678"
OTHER_PHONE = "15800001111"
CONTACT_PHONE = "13700000007"
ID_A = factories.id_number("19900521", 123)
ID_B = factories.id_number("19851103", 457)


def leaks(html: str) -> list[str]:
    return PHONE.findall(html) + ID_NUMBER.findall(html)


def assert_no_leak(html: str, where: str) -> None:
    found = leaks(html)
    assert not found, f"{where}: {found}"


@pytest.fixture
def world(nanqiao_town, xidu_town, district):
    """Couriers with phones and ID numbers in two towns, and every kind of record that shows
    a courier somewhere: check-ins, claims, service, points, visits, reports."""
    today = timezone.localdate()
    campaign = Campaign.objects.create(
        name="报到季",
        starts_on=today - datetime.timedelta(days=7),
        ends_on=today + datetime.timedelta(days=30),
        is_current=True,
    )
    brand = factories.brand()
    enterprise = Enterprise.objects.create(
        name="上海南桥中通快递有限公司",
        brand=brand,
        town=nanqiao_town,
        contact_person="李经理",
        contact_phone=CONTACT_PHONE,
    )
    outlet = factories.outlet(nanqiao_town, of_enterprise=enterprise, name="中通南桥一部")
    ours = factories.courier(
        nanqiao_town,
        name="王小明",
        phone=COURIER_PHONE,
        id_number=ID_A,
        brand=brand,
        enterprise=enterprise,
        outlet=outlet,
        show_on_leaderboard=True,
    )
    theirs = factories.courier(
        xidu_town, name="李小红", phone=OTHER_PHONE, id_number=ID_B, show_on_leaderboard=True
    )
    station = Station.objects.create(
        town=nanqiao_town,
        name="南桥全天充电站",
        address="南桥镇测试路1号",
        latitude=30.918,
        longitude=121.474,
        open_24_hours=True,
        phone="021-57123456",  # a station's public phone is a landline
    )
    point = CheckinPoint.objects.create(
        name="南桥报到点",
        town=nanqiao_town,
        address="解放东路1号",
        contact_name="张书记",
        contact_phone="13700000008",
    )
    post = VolunteerPost.objects.create(
        title="南桥镇护学岗", category=SixI.SAFETY, town=nanqiao_town, capacity=3
    )
    for courier in (ours, theirs):
        CheckIn.objects.create(
            courier=courier,
            campaign=campaign,
            point=point,
            interests=["learn"],
            privacy_consent_at=timezone.now(),
        )
        claim = Claim.objects.create(post=post, courier=courier)
        ServiceRecord.objects.create(claim=claim, note="护学两小时", confirmed_by=district)
        PointsEntry.objects.create(
            courier=courier, amount=10, reason="志愿服务", source=PointsEntry.Source.values[0]
        )
        StationVisit.objects.create(station=station, courier=courier, device="d" * 64)
        PhotoReport.objects.create(
            courier=courier,
            town=courier.work_town,
            category=PhotoReport.Category.CITY,
            description="路边垃圾堆放",
            address="南桥镇某路口",
            photo=factories.photo("r.jpg"),
            status=PhotoReport.Status.RESOLVED,
            reply="已清理",
            is_published=True,
        )
    StatusReport.objects.create(station=station, kind=StatusReport.Kind.values[0], device="x")
    # Issue 7's pages: an activity the couriers signed up for, a partnership of the enterprise
    # (whose contact phone is a mobile), and a published story of a courier.
    activity = Activity.objects.create(
        title="夏送清凉",
        kind=Activity.Kind.SUMMER,
        town=nanqiao_town,
        station=station,
        starts_at=timezone.now() + datetime.timedelta(days=3),
        ends_at=timezone.now() + datetime.timedelta(days=3, hours=2),
    )
    for courier in (ours, theirs):
        SignUp.objects.create(activity=activity, courier=courier, status=SignUp.Status.CONFIRMED)
    Partnership.objects.create(
        enterprise=enterprise,
        partner="奉贤黄桃合作社",
        kind=Partnership.Kind.VILLAGE,
        produce="黄桃",
        town=nanqiao_town,
        since=today - datetime.timedelta(days=400),
    )
    story = Story.objects.create(
        title="暴雨中的坚守",
        body="王师傅在暴雨中坚持送达每一件快递。",
        courier=ours,
        consent_given_at=timezone.now(),
        consent_note="签署书面同意书",
        published_on=today,
    )
    # Casework: a 三送三问 visit to each courier with a need, and a step of the party pipeline.
    for courier in (ours, theirs):
        visit = Visit.objects.create(
            town=courier.work_town, courier=courier, staff=district, needs_answer="希望有充电桩"
        )
        Need.objects.create(
            visit=visit,
            category=Need.Category.values[0],
            description="充电桩",
            responsible="街镇党建办",
            deadline=today + datetime.timedelta(days=30),
        )
        PartyStage.objects.create(courier=courier, stage=PipelineStage.WILLING, date=today)
    return {
        "activity": activity,
        "story": story,
        "ours": ours,
        "theirs": theirs,
        "station": station,
        "point": point,
        "post": post,
        "campaign": campaign,
    }


# --- public pages ---------------------------------------------------------------------------


def public_pages(world) -> list[str]:
    return [
        "/",
        "/stations/",
        "/stations/map/",
        f"/stations/{world['station'].pk}/",
        f"/checkin/{point_token(world['point'])}/",
        "/posts/",
        f"/posts/{world['post'].pk}/",
        "/leaderboard/",
        "/reports/resolved/",
        "/me/signin/",
        "/activities/",
        f"/activities/{world['activity'].pk}/",
        "/partnerships/",
        "/stories/",
        f"/stories/{world['story'].pk}/",
    ]


def test_public_pages_show_no_phone_or_id_number(world, anonymous):
    for path in public_pages(world):
        response = anonymous.get(path)
        assert response.status_code == 200, path
        assert_no_leak(response.content.decode(), path)


def test_the_pages_do_show_the_people_masked(world, anonymous):
    # The pages above are not empty of people: the leaderboard shows them, masked.
    html = anonymous.get("/leaderboard/").content.decode()
    assert "王*明" in html and "李*红" in html
    assert "021-57123456" in anonymous.get(f"/stations/{world['station'].pk}/").content.decode()


def test_a_couriers_own_pages_show_their_phone_masked(world):
    client = courier_client(world["ours"])
    for path in (
        "/me/",
        "/me/edit/",
        f"/posts/{world['post'].pk}/",
        "/reports/new/",
        f"/activities/{world['activity'].pk}/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_no_leak(response.content.decode(), path)
    assert "139****5678" in client.get("/me/").content.decode()


def test_a_signed_in_couriers_check_in_page_shows_their_phone_masked(world, nanqiao_town):
    # Someone registered last season and not yet checked in this season.
    courier = factories.courier(nanqiao_town, name="赵小刚", phone="13655556666")
    response = courier_client(courier).get(f"/checkin/{point_token(world['point'])}/")
    assert response.status_code == 200
    assert "赵小刚" in response.content.decode()  # the form is pre-filled
    assert_no_leak(response.content.decode(), "check-in page, signed in")


def test_a_phone_typed_into_a_published_report_is_not_published(world):
    PhotoReport.objects.create(
        courier=world["ours"],
        town=world["ours"].work_town,
        category=PhotoReport.Category.FACILITY,
        description=f"井盖松动，有事联系我 {COURIER_PHONE}",
        address="南桥镇某小区门口",
        photo=factories.photo("r2.jpg"),
        status=PhotoReport.Status.RESOLVED,
        reply="已修复",
        is_published=True,
    )
    html = Client().get("/reports/resolved/").content.decode()
    assert "井盖松动" in html
    assert_no_leak(html, "/reports/resolved/")


# --- admin change lists ---------------------------------------------------------------------


def changelist_urls() -> list[tuple[str, str]]:
    return [
        (opts.label, reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        for opts in (model._meta for model in admin.site._registry)
    ]


def admin_activity(world, client: Client) -> None:
    """Staff edit a courier's phone, import a survey and look at an ID number, so the logs
    and histories have entries about people."""
    courier = world["ours"]
    url = reverse("admin:couriers_courier_change", args=[courier.pk])
    data = factories.courier_admin_form(
        courier.work_town,
        name=courier.name,
        gender="",
        phone="13912340000",
        education="",
        brand=courier.brand_id,
        enterprise=courier.enterprise_id,
        outlet=courier.outlet_id,
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    importer = reverse("admin:couriers_courier_changelist") + "import/"
    upload(
        client,
        xlsx(
            [
                ["姓名", "手机号码", "身份证号码", "工作街镇"],
                ["张三", "13800000001", factories.id_number(seq=101), "南桥镇"],
            ]
        ),
        "survey.xlsx",
        url=importer,
    )
    from couriers.models import ImportJob

    client.post(f"{importer}{ImportJob.objects.latest('id').pk}/")
    client.get(reverse("admin:couriers_courier_id_number", args=[courier.pk]))
    client.post(reverse("admin:login"), {"username": "nanqiao", "password": "wrong"})


@pytest.fixture
def superuser_client() -> Client:
    from django.contrib.auth.models import User

    client = Client()
    client.force_login(User.objects.create_superuser("root", password="pw-for-tests-only"))
    return client


def test_every_admin_change_list_is_masked_for_a_superuser(world, superuser_client):
    admin_activity(world, superuser_client)
    checked = 0
    for label, url in changelist_urls():
        response = superuser_client.get(url)
        assert response.status_code == 200, (label, response.status_code)
        assert_no_leak(response.content.decode(), f"{label} change list")
        checked += 1
    assert checked == len(admin.site._registry) >= 20


def test_every_admin_change_list_is_masked_for_district_staff(world, district_client):
    admin_activity(world, district_client)
    seen = []
    for label, url in changelist_urls():
        response = district_client.get(url)
        assert response.status_code in (200, 403), (label, response.status_code)
        assert_no_leak(response.content.decode(), f"{label} change list (district staff)")
        if response.status_code == 200:
            seen.append(label)
    assert {"couriers.Courier", "couriers.Enterprise", "stations.CheckinPoint"} <= set(seen)


def test_every_admin_change_list_is_masked_for_town_staff(world, nanqiao_client, district_client):
    admin_activity(world, district_client)
    seen = []
    for label, url in changelist_urls():
        response = nanqiao_client.get(url)
        assert response.status_code in (200, 403), (label, response.status_code)
        assert_no_leak(response.content.decode(), f"{label} change list (town staff)")
        if response.status_code == 200:
            seen.append(label)
    assert {"couriers.Courier", "stations.CheckIn", "activities.Claim"} <= set(seen)
    assert {"activities.SignUp", "activities.Story", "couriers.Visit", "couriers.Need"} <= set(seen)


def test_the_courier_list_is_not_empty_so_the_check_means_something(world, district_client):
    html = district_client.get(reverse("admin:couriers_courier_changelist")).content.decode()
    assert "139****5678" in html and "158****1111" in html
    assert world["ours"].masked_id_number in html


# --- histories and log messages ---------------------------------------------------------------


def test_admin_history_pages_and_log_messages_are_masked(world, district_client):
    admin_activity(world, district_client)
    courier = world["ours"]
    entries = list(AdminLogEntry.objects.all())
    assert any(e.change_message for e in entries)
    for entry in entries:
        assert_no_leak(entry.object_repr, "admin LogEntry.object_repr")
        assert_no_leak(entry.change_message, "admin LogEntry.change_message")
        assert_no_leak(entry.get_change_message(), "admin LogEntry message")
    history = district_client.get(reverse("admin:couriers_courier_history", args=[courier.pk]))
    assert history.status_code == 200
    assert_no_leak(history.content.decode(), "courier history page")
    index = district_client.get(reverse("admin:index"))  # "recent actions"
    assert_no_leak(index.content.decode(), "admin index")


def test_the_audit_log_admin_is_masked(world, superuser_client):
    admin_activity(world, superuser_client)
    from auditlog.models import LogEntry

    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()
    listing = superuser_client.get(reverse("admin:auditlog_logentry_changelist"))
    assert listing.status_code == 200
    assert_no_leak(listing.content.decode(), "audit log change list")
    for entry in LogEntry.objects.all():
        page = superuser_client.get(reverse("admin:auditlog_logentry_change", args=[entry.pk]))
        assert page.status_code == 200
        assert_no_leak(page.content.decode(), f"audit log entry {entry.pk}")
