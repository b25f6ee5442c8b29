"""Issue 17, reminders: the evening before (19:00–21:00) and 2 hours before an activity, each
courier holding a place is reminded once — not those waiting, not those who cancelled, not for
a cancelled activity — however often the sweep runs."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from activities.models import Activity, SignUp
from activities.programmes import reminders, signups, tasks
from couriers.messaging import templates
from couriers.models import Message, MessagePreference
from tests import factories

pytestmark = pytest.mark.django_db

DAY = timezone.localdate() + datetime.timedelta(days=5)  # the activity's day


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


EVE = DAY - datetime.timedelta(days=1)


@pytest.fixture
def lesson(nanqiao_town) -> Activity:
    return factories.activity(nanqiao_town, "食品安全课", capacity=2, starts_at=at(DAY, 10))


@pytest.fixture
def people(nanqiao_town, lesson) -> dict:
    names = ("confirmed", "cancelled", "late", "waiting")
    out = {name: factories.courier(nanqiao_town, name=name) for name in names}
    signups.sign_up(lesson, out["confirmed"])
    signups.sign_up(lesson, out["cancelled"])
    signups.cancel(lesson, out["cancelled"])
    signups.sign_up(lesson, out["late"])
    assert signups.sign_up(lesson, out["waiting"]).status == SignUp.Status.WAITING
    assert not Message.objects.exists()  # nobody was moved up
    return out


def reminded() -> list[tuple[str, str]]:
    rows = Message.objects.filter(event="activity_reminder").order_by("courier__name", "occasion")
    return [(m.courier.name, m.occasion.split()[0]) for m in rows]


def test_the_evening_before_each_courier_holding_a_place_is_reminded_once(
    lesson, people, sms_outbox, django_capture_on_commit_callbacks
):
    assert reminders.queue_reminders(at(EVE, 18, 30)) == 0  # too early
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.queue_reminders(at(EVE, 19, 5)) == 2
    assert reminded() == [("confirmed", "evening"), ("late", "evening")]
    message = Message.objects.get(courier=people["confirmed"])
    assert message.template == "activity_reminder" and message.about_id == lesson.pk
    assert message.occasion == f"evening {DAY:%Y-%m-%d} 10:00" and not message.urgent
    assert message.send_before == lesson.starts_at  # held past the start: cancelled, not late
    assert message.params == {
        "activity": "食品安全课",
        "time": f"{DAY.month}月{DAY.day}日 10:00",
        "place": "南桥镇党群服务中心",
    }
    body = "【奉贤快递小哥】" + templates.get("activity_reminder").render(message.params)
    assert (people["confirmed"].phone, body) in sms_outbox and len(sms_outbox) == 2
    assert reminders.queue_reminders(at(EVE, 20, 5)) == 0  # the next run: nothing new
    assert reminders.queue_reminders(at(EVE, 21, 5)) == 0  # quiet hours: the window is over
    assert Message.objects.count() == 2


def test_two_hours_before_they_are_reminded_again(lesson, people):
    reminders.queue_reminders(at(EVE, 19, 30))
    assert reminders.queue_reminders(at(DAY, 7, 30)) == 0  # 2½ hours before
    assert reminders.queue_reminders(at(DAY, 8, 15)) == 2
    assert reminders.queue_reminders(at(DAY, 9, 30)) == 0
    assert reminded() == [
        ("confirmed", "2h"),
        ("confirmed", "evening"),
        ("late", "2h"),
        ("late", "evening"),
    ]
    assert reminders.queue_reminders(at(DAY, 10, 30)) == 0  # started: too late


def test_a_cancelled_activity_is_not_reminded(lesson, people):
    Activity.objects.filter(pk=lesson.pk).update(is_cancelled=True, cancel_note="台风")
    assert reminders.queue_reminders(at(EVE, 19, 30)) == 0
    assert reminders.queue_reminders(at(DAY, 8, 30)) == 0
    assert not Message.objects.exists()


def test_a_courier_who_muted_reminders_is_not_reminded(lesson, people):
    MessagePreference.objects.create(courier=people["late"], muted_kinds=[templates.Kind.REMINDER])
    assert reminders.queue_reminders(at(DAY, 8, 30)) == 1
    assert reminded() == [("confirmed", "2h")]


def test_an_activity_moved_to_another_day_is_reminded_for_its_new_date(lesson, people):
    reminders.queue_reminders(at(EVE, 19, 30))
    later = DAY + datetime.timedelta(days=7)
    Activity.objects.filter(pk=lesson.pk).update(starts_at=at(later, 10), ends_at=at(later, 12))
    assert reminders.queue_reminders(at(later - datetime.timedelta(days=1), 19, 30)) == 2


def test_the_command_queues_what_is_due_and_a_dry_run_nothing(nanqiao_town):
    soon = factories.activity(
        nanqiao_town, "马上开始", starts_at=timezone.now() + datetime.timedelta(hours=1)
    )
    signups.sign_up(soon, factories.courier(nanqiao_town))
    out = io.StringIO()
    call_command("send_reminders", "--dry-run", stdout=out)
    assert "将发送 1 条" in out.getvalue() and not Message.objects.exists()
    call_command("send_reminders", stdout=out)
    assert "已排队 1 条" in out.getvalue() and Message.objects.count() == 1
    call_command("send_reminders", stdout=out)
    assert "已排队 0 条" in out.getvalue() and Message.objects.count() == 1


def test_the_worker_sweep_asks_for_its_next_run_once(settings, nanqiao_town):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    before = timezone.now()
    tasks.send_reminders.call()
    tasks.send_reminders.call()  # a second chain would double the work every quarter hour
    call_command("send_reminders", stdout=io.StringIO())  # the hourly timer, too
    queued = DBTaskResult.objects.filter(task_path=tasks.send_reminders.module_path)
    assert queued.count() == 1
    run_after = queued.get().run_after
    assert before < run_after <= before + tasks.EVERY and run_after.minute % 15 == 0


def test_without_a_waiting_backend_nothing_is_scheduled():
    # The immediate backend (development, tests) cannot wait: the timer's command does it all.
    assert tasks.schedule_next() is False
