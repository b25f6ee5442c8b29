"""Attendance at activities: the QR code's signed token and its time window, scanning once,
walk-ins, points paid once through the ledger, staff ticking and unticking in the admin, and
the QR sheet staff print."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from activities import points
from activities.models import Activity, Attendance, PointsEntry, SignUp
from activities.programmes import attendance, signups
from couriers.models import Courier
from tests import factories
from tests.factories import courier_client

pytestmark = pytest.mark.django_db

ADMIN = "/admin/activities"


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture(autouse=True)
def _window(settings):
    settings.ACTIVITY_ATTENDANCE_EARLY_MINUTES = 30
    settings.ACTIVITY_ATTENDANCE_LATE_MINUTES = 45


@pytest.fixture
def courier(nanqiao_town) -> Courier:
    return factories.courier(nanqiao_town, name="王小明")


def starting_in(town, minutes: float, **fields) -> Activity:
    start = timezone.now() + datetime.timedelta(minutes=minutes)
    return factories.activity(
        town, starts_at=start, ends_at=start + datetime.timedelta(hours=1), **fields
    )


def scan_url(activity: Activity) -> str:
    return f"/activities/attend/{attendance.token(activity)}/"


# --- the token's window -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "minutes, state",
    [
        (31, "early"),  # 31 minutes before the start: the window opens 30 minutes before
        (29, "open"),
        (-60, "open"),  # running
        (-60 - 44, "open"),  # 44 minutes after the 1-hour activity ended
        (-60 - 46, "late"),
    ],
)
def test_the_code_is_accepted_only_around_the_activity(minutes, state, nanqiao_town, courier):
    activity = starting_in(nanqiao_town, minutes)
    client = courier_client(courier)
    page = client.get(scan_url(activity))
    assert page.status_code == 200 and page.context["state"] == state
    response = client.post(scan_url(activity))
    recorded = Attendance.objects.filter(activity=activity, courier=courier).exists()
    assert recorded == (state == "open")
    if state == "early":
        assert "签到还没开始" in response.content.decode()
    if state == "late":
        assert "签到已结束" in response.content.decode()
    assert points.balance(courier) == (activity.points if state == "open" else 0)


@pytest.mark.parametrize("mangle", ["signature", "other_activity", "garbage"])
def test_a_tampered_code_is_refused(mangle, nanqiao_town, courier):
    activity = starting_in(nanqiao_town, 0)
    token = attendance.token(activity)
    bad = {
        "signature": token[:-2] + ("xx" if token[-2:] != "xx" else "yy"),
        "other_activity": token[:-1],
        "garbage": "hello",
    }[mangle]
    starting_in(nanqiao_town, 0)  # the activity the mangled id would name exists
    client = courier_client(courier)
    response = client.get(f"/activities/attend/{bad}/")
    assert response.status_code == 404
    assert "二维码无效" in response.content.decode()
    assert client.post(f"/activities/attend/{bad}/").status_code == 404
    assert not Attendance.objects.exists()


def test_a_token_of_the_check_in_posters_is_not_an_attendance_token(nanqiao_town, courier):
    from django.core import signing

    activity = starting_in(nanqiao_town, 0)
    foreign = signing.Signer(salt="stations.checkin-point", sep=".").sign(str(activity.pk))
    assert courier_client(courier).get(f"/activities/attend/{foreign}/").status_code == 404


def test_an_unpublished_activitys_code_is_refused(nanqiao_town, courier):
    activity = starting_in(nanqiao_town, 0, is_published=False)
    assert courier_client(courier).post(scan_url(activity)).status_code == 404


# --- scanning ---------------------------------------------------------------------------------


def test_a_visitor_scanning_is_asked_to_sign_in_and_comes_back(anonymous, nanqiao_town):
    activity = starting_in(nanqiao_town, 0)
    url = scan_url(activity)
    assert "登录后签到" in anonymous.get(url).content.decode()
    response = anonymous.post(url)
    assert response.status_code == 302 and response["Location"] == f"/me/signin/?next={url}"
    assert not Attendance.objects.exists()


def test_scanning_records_attendance_and_pays_points_once(nanqiao_town, courier):
    activity = starting_in(nanqiao_town, 0, points=8)
    signups.sign_up(starting_in(nanqiao_town, 60), courier)  # another activity: no matter
    SignUp.objects.create(activity=activity, courier=courier, status="confirmed")
    client = courier_client(courier)
    first = client.post(scan_url(activity), follow=True)
    assert messages_of(first) == [f"签到成功，获得 8 积分。欢迎参加“{activity.title}”！"]
    assert "你已签到" in first.content.decode()
    again = client.post(scan_url(activity), follow=True)
    assert "不用重复签到" in messages_of(again)[0]
    record = Attendance.objects.get()
    assert (record.via, record.walk_in) == (Attendance.Via.SCAN, False)
    assert points.balance(courier) == 8
    entry = PointsEntry.objects.get(courier=courier)
    assert entry.source == PointsEntry.Source.ACTIVITY and entry.reason.endswith(activity.title)


def test_a_walk_in_without_a_sign_up_is_recorded_as_such(nanqiao_town, courier):
    activity = starting_in(nanqiao_town, 0)
    courier_client(courier).post(scan_url(activity))
    record = Attendance.objects.get()
    assert record.walk_in is True
    assert points.balance(courier) == activity.points


def test_an_activity_without_points_records_attendance_only(nanqiao_town, courier):
    activity = starting_in(nanqiao_town, 0, points=0)
    response = courier_client(courier).post(scan_url(activity), follow=True)
    assert messages_of(response)[0].startswith("签到成功。")
    assert Attendance.objects.count() == 1 and not PointsEntry.objects.exists()


# --- staff in the admin -----------------------------------------------------------------------


@pytest.fixture
def signed(nanqiao_town, courier) -> SignUp:
    activity = starting_in(nanqiao_town, 60 * 24)
    return signups.sign_up(activity, courier)


def _act(client: Client, action: str, *signups_: SignUp):
    return client.post(
        f"{ADMIN}/signup/",
        {"action": action, "_selected_action": [s.pk for s in signups_]},
        follow=True,
    )


def test_staff_tick_attendance_once_and_untick_reverses_the_points(nanqiao_client, signed, courier):
    _act(nanqiao_client, "mark_attended", signed)
    _act(nanqiao_client, "mark_attended", signed)  # ticked twice: still once
    record = Attendance.objects.get()
    assert (record.via, record.recorded_by.username) == (Attendance.Via.STAFF, "nanqiao")
    assert points.balance(courier) == 5
    response = _act(nanqiao_client, "unmark_attended", signed)
    assert "已取消 1 人的出席登记。" in [str(m) for m in response.context["messages"]]
    assert not Attendance.objects.exists()
    assert points.balance(courier) == 0
    assert PointsEntry.objects.count() == 2  # the award and its reversal stay on the ledger
    _act(nanqiao_client, "mark_attended", signed)  # ticked again by decision: paid again
    assert points.balance(courier) == 5


def test_the_attendance_admin_adds_and_removes_with_points(nanqiao_client, signed, courier):
    response = nanqiao_client.post(
        f"{ADMIN}/attendance/add/",
        {"activity": signed.activity_id, "courier": courier.pk},
        follow=True,
    )
    assert response.status_code == 200
    record = Attendance.objects.get()
    assert points.balance(courier) == 5
    nanqiao_client.post(f"{ADMIN}/attendance/{record.pk}/delete/", {"post": "yes"})
    assert not Attendance.objects.exists() and points.balance(courier) == 0


def test_the_activity_page_inline_ticks_attendance(nanqiao_client, signed, courier):
    activity = signed.activity
    url = f"{ADMIN}/activity/{activity.pk}/change/"
    form = nanqiao_client.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name not in ("organisers", "partners")
    }
    local = {k: timezone.localtime(data[k]) for k in ("starts_at", "ends_at")}
    data.update(
        {
            "town": activity.town_id,
            "starts_at_0": f"{local['starts_at']:%Y-%m-%d}",
            "starts_at_1": f"{local['starts_at']:%H:%M:%S}",
            "ends_at_0": f"{local['ends_at']:%Y-%m-%d}",
            "ends_at_1": f"{local['ends_at']:%H:%M:%S}",
            "signup_deadline_0": "",
            "signup_deadline_1": "",
            "signups-TOTAL_FORMS": 1,
            "signups-INITIAL_FORMS": 1,
            "signups-0-id": signed.pk,
            "signups-0-activity": activity.pk,
            "attendances-TOTAL_FORMS": 1,
            "attendances-INITIAL_FORMS": 0,
            "attendances-0-courier": courier.pk,
            "attendances-0-activity": activity.pk,
        }
    )
    data.pop("station", None), data.pop("checkin_point", None)
    response = nanqiao_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Attendance.objects.get().recorded_by.username == "nanqiao"
    assert points.balance(courier) == 5


def test_the_qr_sheet_carries_the_attendance_link_for_the_towns_staff(
    nanqiao_client, xidu_client, signed
):
    activity = signed.activity
    page = nanqiao_client.get(f"{ADMIN}/activity/{activity.pk}/qr/")
    assert page.status_code == 200
    body = page.content.decode()
    assert f"http://testserver{scan_url(activity)}" in body and "<svg" in body
    assert xidu_client.get(f"{ADMIN}/activity/{activity.pk}/qr/").status_code == 404
