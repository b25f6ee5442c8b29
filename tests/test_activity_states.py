"""Each state of an activity says the right thing (issue 16, item 15): a past one offers no
places or calendar entry, an ongoing one says it is on, an online class does not promise points
for scanning at a venue, and a cancelled one says so and takes no sign-ups."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from activities.models import Activity, Attendance, PointsEntry
from activities.programmes import attendance, signups
from tests import factories
from tests.factories import courier_client
from tests.test_activities_signup import _unfold
from tests.test_posts import page

pytestmark = pytest.mark.django_db


def _ago(**delta) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(**delta)


def test_a_past_activity_offers_no_places_and_no_calendar_entry(anonymous, nanqiao_town):
    past = factories.activity(nanqiao_town, "上月课堂", starts_at=_ago(days=30), capacity=20)
    html = page(anonymous, f"/activities/{past.pk}/")
    assert "活动已结束" in html
    assert "个名额" not in html and "加入手机日历" not in html
    assert "签到得" not in html and "登录后报名" not in html
    assert "已结束" in page(anonymous, "/activities/")


def test_an_ongoing_activity_says_it_is_on_and_how_to_take_part(anonymous, nanqiao_town):
    running = factories.activity(nanqiao_town, "正在上课", starts_at=_ago(minutes=30))
    html = page(anonymous, f"/activities/{running.pk}/")
    assert "活动进行中" in html and "扫描现场二维码签到" in html
    assert "个名额" not in html and "加入手机日历" not in html
    assert "进行中" in page(anonymous, "/activities/")


def test_an_online_class_does_not_promise_points_for_scanning_at_a_venue(anonymous, nanqiao_town):
    online = factories.activity(
        nanqiao_town,
        "云端课堂：劳动权益",
        kind=Activity.Kind.ONLINE_CLASS,
        topic=Activity.Topic.RIGHTS,
        address="",
        online_url="https://meeting.example.cn/123",
    )
    html = page(anonymous, f"/activities/{online.pk}/")
    assert "到场" not in html and "扫码签到" not in html
    assert "线上参加，经工作人员确认出席后得" in html
    assert "还有 3 个名额" in html and "加入手机日历" in html


def test_an_upcoming_activity_at_a_venue_still_invites_to_sign_up(anonymous, nanqiao_town):
    coming = factories.activity(nanqiao_town)
    html = page(anonymous, f"/activities/{coming.pk}/")
    assert "还有 3 个名额" in html and "加入手机日历" in html and "到场扫码签到得" in html


def test_a_cancelled_activity_says_so_and_takes_no_sign_ups(anonymous, nanqiao_town):
    cancelled = factories.activity(
        nanqiao_town, "台风天的课堂", is_cancelled=True, cancel_note="因台风预警取消，另行通知"
    )
    html = page(anonymous, f"/activities/{cancelled.pk}/")
    assert "活动已取消：因台风预警取消，另行通知" in html
    assert "个名额" not in html and "加入手机日历" not in html and "登录后报名" not in html
    assert "已取消" in page(anonymous, "/activities/")

    courier = factories.courier(nanqiao_town)
    client = courier_client(courier)
    assert 'id="signup"' not in page(client, f"/activities/{cancelled.pk}/")
    with pytest.raises(signups.SignUpRefused, match="已取消"):
        signups.sign_up(cancelled, courier)


def test_a_courier_signed_up_for_a_cancelled_activity_sees_it_cancelled(nanqiao_town):
    activity = factories.activity(nanqiao_town)
    courier = factories.courier(nanqiao_town)
    signups.sign_up(activity, courier)
    Activity.objects.filter(pk=activity.pk).update(is_cancelled=True)
    html = page(courier_client(courier), f"/activities/{activity.pk}/")
    assert "活动已取消" in html and 'id="cancel"' not in html


def test_copying_a_cancelled_activity_makes_a_live_one(nanqiao_town):
    from activities.programmes.admin import copy_activity

    cancelled = factories.activity(nanqiao_town, is_cancelled=True, cancel_note="下雨")
    copy = copy_activity(cancelled, None)
    assert not copy.is_cancelled and copy.cancel_note == ""


def test_a_cancelled_activity_calendar_file_cancels_the_event_already_added(
    anonymous, nanqiao_town
):
    activity = factories.activity(nanqiao_town, "台风天的课堂")
    added = _unfold(anonymous.get(f"/activities/{activity.pk}.ics").content.decode())
    assert added["METHOD"] == "PUBLISH" and added["STATUS"] == "CONFIRMED"
    Activity.objects.filter(pk=activity.pk).update(
        is_cancelled=True, cancel_note="因台风预警取消，另行通知"
    )
    response = anonymous.get(f"/activities/{activity.pk}.ics")
    assert response.status_code == 200
    fields = _unfold(response.content.decode())
    assert fields["METHOD"] == "CANCEL" and fields["STATUS"] == "CANCELLED"
    assert fields["UID"] == added["UID"]  # the calendar finds the event it holds
    assert int(fields["SEQUENCE"]) > int(added["SEQUENCE"])
    assert "ORGANIZER;CN=奉贤快递小哥党建服务平台" in fields
    assert fields["SUMMARY"] == "【已取消】台风天的课堂"
    assert fields["DESCRIPTION"].startswith("活动已取消。因台风预警取消，另行通知")


def test_a_cancelled_activity_refuses_attendance_by_its_code(nanqiao_town, settings):
    settings.ACTIVITY_ATTENDANCE_EARLY_MINUTES = 30
    settings.ACTIVITY_ATTENDANCE_LATE_MINUTES = 45
    activity = factories.activity(nanqiao_town, starts_at=_ago(minutes=10))
    courier = factories.courier(nanqiao_town)
    Activity.objects.filter(pk=activity.pk).update(is_cancelled=True)
    client = courier_client(courier)
    url = f"/activities/attend/{attendance.token(activity)}/"
    html = page(client, url)
    assert "活动已取消，无法签到" in html and 'id="attend"' not in html
    response = client.post(url, follow=True)
    assert "活动已取消，无法签到。" in [str(m) for m in response.context["messages"]]
    assert not Attendance.objects.filter(activity=activity).exists()
    assert not PointsEntry.objects.filter(courier=courier).exists()
