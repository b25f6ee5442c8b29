"""How the worker sends the outbox: quiet hours decided at send time, the daily cap, the
district's sending rate, backoff on temporary failures, permanent failures kept for staff,
exactly once under a redelivered task, urgent messages first, nothing to an erased courier.

The clock is frozen by replacing `django.utils.timezone.now` (and `time.time` for the rate);
nothing is timed."""

from __future__ import annotations

import datetime
import threading
import time
import zoneinfo

import pytest
from django.db import connection, models
from django.utils import timezone

from couriers.messaging import otp, sending, tasks
from couriers.messaging.backends import LocmemBackend, PermanentError, TemporaryError
from couriers.messaging.notify import notify
from couriers.models import Message, MessageLog, MessagePreference
from couriers.privacy import personal_data
from tests import factories

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(hour: int, minute: int = 0, day: int = 1) -> datetime.datetime:
    return datetime.datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def clock(monkeypatch, settings):
    settings.SMS_QUIET_HOURS = "21:00-08:00"  # the default (tests/conftest.py turns it off)
    settings.SMS_RATE_PER_SECOND = 10

    class Clock:
        now = at(12)

    frozen = Clock()
    monkeypatch.setattr(timezone, "now", lambda: frozen.now)
    return frozen


@pytest.fixture
def courier(nanqiao_town):
    return factories.courier(nanqiao_town, name="南桥小哥", phone="13911112222")


def welcome(courier, n: int = 0, **kwargs) -> Message:
    return notify(
        courier, "checkin_welcome", {"link": "/me/"}, event="w", occasion=str(n), **kwargs
    )


def history(message: Message) -> list[str]:
    return list(message.history.values_list("what", flat=True))


@pytest.fixture
def failing(monkeypatch):
    """Make the backend raise `failing.problem` (None: send)."""

    class Failing:
        problem: Exception | None = None
        calls: list[str] = []

    state = Failing()
    original = LocmemBackend.send_template

    def send_template(self, phone, template, params):
        state.calls.append(template.code)
        if state.problem is not None:
            raise state.problem
        return original(self, phone, template, params)

    monkeypatch.setattr(LocmemBackend, "send_template", send_template)
    return state


# --- quiet hours ----------------------------------------------------------------------------


def test_a_message_due_in_quiet_hours_waits_for_the_morning(clock, courier, sms_outbox):
    clock.now = at(21, 30)
    message = welcome(courier)
    assert sending.send_due() == 1
    message.refresh_from_db()
    assert message.state == Message.State.PENDING and sms_outbox == []
    assert message.send_after == at(8, day=2)
    assert history(message) == [MessageLog.What.DEFERRED]
    assert "免打扰" in message.history.get().note
    clock.now = at(7, 59, day=2)
    assert sending.send_due() == 0
    clock.now = at(8, day=2)
    assert sending.send_due() == 1
    message.refresh_from_db()
    assert message.state == Message.State.SENT and len(sms_outbox) == 1


def test_a_message_held_past_its_moment_is_cancelled_not_sent_late(clock, courier, sms_outbox):
    # A reminder for a 07:30 class, coming up at 21:30 the evening before: quiet hours would
    # hold it to 08:00, after the class has begun.
    clock.now = at(21, 30)
    late = welcome(courier, 1, send_before=at(7, 30, day=2))
    kept = welcome(courier, 2, send_before=at(9, day=2))
    sending.send_due()
    late.refresh_from_db(), kept.refresh_from_db()
    assert late.state == Message.State.CANCELLED and "已过时效" in late.last_error
    assert kept.state == Message.State.PENDING and kept.send_after == at(8, day=2)
    # One whose moment passes while it waits (a provider down all morning) is cancelled too.
    clock.now = at(9, day=2)
    sending.send_due()
    kept.refresh_from_db()
    assert kept.state == Message.State.CANCELLED and sms_outbox == []


def test_quiet_hours_are_decided_when_the_message_comes_up(clock, courier, sms_outbox):
    clock.now = at(20, 59)
    message = welcome(courier)  # queued before the quiet hours, behind a slow queue
    clock.now = at(21, 1)
    sending.send_due()
    message.refresh_from_db()
    assert message.state == Message.State.PENDING and sms_outbox == []


def test_early_morning_waits_until_eight_the_same_day(clock, courier):
    clock.now = at(3, 0, day=2)
    message = welcome(courier)
    sending.send_due()
    message.refresh_from_db()
    assert message.send_after == at(8, day=2)


def test_urgent_messages_go_in_quiet_hours(clock, courier, sms_outbox):
    clock.now = at(23)
    welcome(courier, urgent=True)
    sending.send_due()
    assert len(sms_outbox) == 1


def test_quiet_hours_are_configurable(clock, courier, sms_outbox, settings):
    clock.now = at(12, 30)
    settings.SMS_QUIET_HOURS = "12:00-13:00"
    message = welcome(courier)
    sending.send_due()
    message.refresh_from_db()
    assert message.send_after == at(13)
    settings.SMS_QUIET_HOURS = ""
    clock.now = at(23)
    welcome(courier, 1)
    sending.send_due()
    assert len(sms_outbox) == 2  # the one held until 13:00, and the new one


# --- the daily cap --------------------------------------------------------------------------


def test_the_daily_cap_holds_the_rest_until_the_next_morning(
    clock, courier, nanqiao_town, sms_outbox, settings
):
    settings.SMS_DAILY_CAP_PER_COURIER = 2
    other = factories.courier(nanqiao_town, name="另一位", phone="13911113333")
    clock.now = at(10)
    messages = [welcome(courier, n) for n in range(3)]
    welcome(other)
    sending.send_due()
    states = [Message.objects.get(pk=m.pk).state for m in messages]
    assert states == [Message.State.SENT, Message.State.SENT, Message.State.PENDING]
    held = Message.objects.get(pk=messages[2].pk)
    assert held.send_after == at(8, day=2)
    assert "每日上限" in held.history.get().note
    assert Message.objects.get(courier=other).state == Message.State.SENT
    # Urgent messages (a same-day change) and codes are never held by the cap.
    urgent = welcome(courier, 9, urgent=True)
    otp.send_code(courier.phone, "address", "device")
    sending.send_due()
    assert Message.objects.get(pk=urgent.pk).state == Message.State.SENT
    assert Message.objects.get(event="login_code").state == Message.State.SENT
    assert len(sms_outbox) == 5
    clock.now = at(8, day=2)
    sending.send_due()
    assert Message.objects.get(pk=messages[2].pk).state == Message.State.SENT


# --- failures -------------------------------------------------------------------------------


def test_temporary_failures_back_off_exponentially_then_fail(clock, courier, failing):
    failing.problem = TemporaryError("网络超时")
    message = welcome(courier)
    waits = []
    for _ in range(sending.MAX_ATTEMPTS):
        start = clock.now
        sending.send_due()
        message.refresh_from_db()
        if message.state != Message.State.PENDING:
            break
        waits.append(message.send_after - start)
        clock.now = message.send_after
    minutes = [int(w.total_seconds() // 60) for w in waits]
    assert minutes == [1, 2, 4, 8, 16, 30, 30, 30, 30]
    assert message.state == Message.State.FAILED and message.attempts == sending.MAX_ATTEMPTS
    assert message.last_error == "网络超时"
    assert history(message) == [MessageLog.What.RETRY] * 9 + [MessageLog.What.FAILED]


def test_a_provider_that_names_its_wait_is_believed(clock, courier, failing):
    # Tencent's LimitExceeded.PhoneNumberDailyLimit: the number may get no more today.
    failing.problem = TemporaryError("当日上限", retry_after=datetime.timedelta(hours=2))
    message = welcome(courier)
    sending.send_due()
    message.refresh_from_db()
    assert message.state == Message.State.PENDING
    assert message.send_after == at(14)
    # Such waits do not use up the ordinary tries.
    Message.objects.filter(pk=message.pk).update(attempts=sending.MAX_ATTEMPTS)
    clock.now = at(14)
    sending.send_due()
    message.refresh_from_db()
    assert message.state == Message.State.PENDING and message.attempts == sending.MAX_ATTEMPTS + 1


def test_delivery_receipts_are_kept_in_the_history(clock, courier, sms_outbox):
    from couriers.messaging import delivery
    from couriers.messaging.backends import Receipt

    message = welcome(courier)
    sending.send_due()
    Message.objects.filter(pk=message.pk).update(provider_message_id="biz-1")
    assert delivery.record([Receipt("biz-1", True, at=at(12, 1))], "locmem") == 1
    assert delivery.record([Receipt("biz-1", True, at=at(12, 2))], "locmem") == 0  # twice
    message.refresh_from_db()
    assert message.state == Message.State.DELIVERED and message.delivered_at == at(12, 1)
    assert history(message) == [MessageLog.What.SENT, MessageLog.What.DELIVERED]


def test_a_permanent_failure_is_not_retried_and_its_reason_is_kept(clock, courier, failing):
    failing.problem = PermanentError("isv.MOBILE_NUMBER_ILLEGAL 号码格式错误")
    message = welcome(courier)
    sending.send_due()
    clock.now += datetime.timedelta(hours=3)
    assert sending.send_due() == 0
    message.refresh_from_db()
    assert message.state == Message.State.FAILED and message.attempts == 1
    assert "MOBILE_NUMBER_ILLEGAL" in message.last_error
    assert history(message) == [MessageLog.What.FAILED]
    assert len(failing.calls) == 1


def test_a_provider_that_is_down_ends_the_round_and_the_rest_keep_their_places(
    clock, courier, failing
):
    failing.problem = TemporaryError("503")
    messages = [welcome(courier, n) for n in range(6)]
    assert sending.send_due() == sending.PROVIDER_DOWN_AFTER
    untouched = Message.objects.filter(pk__in=[m.pk for m in messages], attempts=0)
    assert untouched.count() == 6 - sending.PROVIDER_DOWN_AFTER
    assert all(m.send_after <= clock.now for m in untouched)


def test_a_redelivered_task_sends_nothing_twice(clock, courier, sms_outbox):
    welcome(courier)
    tasks.send_due_messages.call()
    tasks.send_due_messages.call()  # the same task, delivered again
    assert len(sms_outbox) == 1
    assert Message.objects.get().attempts == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL's row locks across connections"
)
def test_a_second_worker_skips_the_message_the_first_is_sending(committed_db, monkeypatch):
    courier = factories.courier(factories.town("南桥镇"), phone="13911114444")
    seen_by_second = []
    sent = []

    def send_template(self, phone, template, params):
        # While this worker holds the message, another worker (a redelivered task) runs.
        if not seen_by_second:
            worker = threading.Thread(
                target=lambda: (seen_by_second.append(sending.send_due()), connection.close())
            )
            worker.start()
            worker.join()
        sent.append(phone)
        return ""

    monkeypatch.setattr(LocmemBackend, "send_template", send_template)
    welcome(courier)  # committed: the worker is woken at once (inline in tests) and sends it
    assert sending.send_due() == 0
    assert seen_by_second == [0] and sent == [courier.phone]
    assert Message.objects.get().attempts == 1


# --- order and rate -------------------------------------------------------------------------


def test_urgent_messages_go_before_a_queued_broadcast(clock, courier, failing, settings):
    settings.SMS_DAILY_CAP_PER_COURIER = 10
    for n in range(5):
        notify(courier, "broadcast", {"title": "通知", "content": "x"}, event="b", occasion=str(n))
    clock.now += datetime.timedelta(minutes=5)
    otp.send_code("13900000009", "address", "device")  # sent in the request: first anyway
    welcome(courier, urgent=True)  # a same-day change, queued last
    failing.calls.clear()
    sending.send_due()
    assert failing.calls[0] == "checkin_welcome"
    assert failing.calls[1:] == ["broadcast"] * 5


def test_the_district_rate_holds_the_worker_to_the_providers_qps(
    clock, courier, monkeypatch, settings, sms_outbox
):
    settings.SMS_RATE_PER_SECOND = 2
    fake = {"t": 1_800_000_000.25}
    waits = []

    def fake_sleep(seconds):
        waits.append(seconds)
        fake["t"] += seconds

    monkeypatch.setattr(time, "time", lambda: fake["t"])
    monkeypatch.setattr(sending, "sleep", fake_sleep)
    for n in range(5):
        welcome(courier, n, urgent=True)
    sending.send_due()
    assert len(sms_outbox) == 5
    # Two a second: the third and the fifth waited for the next second.
    assert waits == [pytest.approx(0.75), pytest.approx(1.0)]


def test_part_of_the_rate_is_kept_for_urgent_messages(
    clock, courier, monkeypatch, settings, sms_outbox
):
    settings.SMS_RATE_PER_SECOND = 2
    settings.SMS_DAILY_CAP_PER_COURIER = 10
    fake = {"t": 1_800_000_000.0}
    waits = []
    monkeypatch.setattr(time, "time", lambda: fake["t"])
    monkeypatch.setattr(sending, "sleep", lambda s: (waits.append(s), fake.update(t=fake["t"] + s)))
    for n in range(3):
        welcome(courier, n)
    sending.send_due()
    # One a second for the broadcast-like queue: the second slot of each second is urgent's.
    assert len(sms_outbox) == 3 and len(waits) == 2


# --- who may still be told ------------------------------------------------------------------


def test_a_courier_erased_after_queuing_is_told_nothing(clock, courier, sms_outbox):
    message = welcome(courier)
    notify(courier, "points_adjusted", {"change": "+5", "reason": "补录"}, event="p")
    personal_data.erase(personal_data.find(courier.phone))
    assert sending.send_due() == 0
    assert sms_outbox == []
    message.refresh_from_db()
    assert message.state == Message.State.CANCELLED and message.params == {}
    assert message.last_error == "收信人已注销"
    assert Message.objects.filter(params={}).count() == 2


def test_a_pending_message_to_a_since_erased_phone_is_cancelled_at_send_time(clock, courier):
    message = welcome(courier)
    # Erased past personal_data (a shell left by an older erasure): the worker checks too.
    placeholder = models.Value("X0000000001", output_field=models.CharField())
    type(courier).objects.filter(pk=courier.pk).update(phone=placeholder)
    sending.send_due()
    message.refresh_from_db()
    assert message.state == Message.State.CANCELLED and message.last_error == "收信人已注销"


def test_a_kind_muted_after_queuing_is_not_sent(clock, courier, sms_outbox):
    message = welcome(courier)
    MessagePreference.objects.create(courier=courier, muted_kinds=["welcome"])
    sending.send_due()
    message.refresh_from_db()
    assert message.state == Message.State.CANCELLED and "退订" in message.last_error
    assert sms_outbox == []


def test_erasure_clears_the_codes_sent_to_the_number(courier, sms_outbox):
    otp.send_code(courier.phone, "address", "device")
    held = personal_data.find(courier.phone)
    assert any(isinstance(obj, Message) for obj in held.codes)
    personal_data.erase(held)
    assert not Message.objects.filter(phone=courier.phone).exists()


# --- codes ----------------------------------------------------------------------------------


def test_a_code_is_an_urgent_outbox_message_and_is_blanked_once_sent(sms_outbox):
    code = otp.send_code("13900000001", "address", "device")
    message = Message.objects.get(event="login_code")
    assert message.urgent and message.template == "login_code" and message.phone == "13900000001"
    assert message.state == Message.State.SENT and message.params == {"code": ""}
    assert code in sms_outbox[0][1] and message.segments == 1


def test_a_code_that_failed_to_send_is_retried_and_gives_up_when_expired(clock, failing):
    failing.problem = TemporaryError("超时")
    otp.send_code("13900000001", "address", "device")
    message = Message.objects.get(event="login_code")
    assert message.state == Message.State.PENDING and message.params["code"]
    clock.now = message.created_at + sending.CODE_TTL + datetime.timedelta(seconds=1)
    failing.problem = None
    sending.send_due()
    message.refresh_from_db()
    assert message.state == Message.State.CANCELLED and message.params == {"code": ""}


# --- the worker's wake-ups ------------------------------------------------------------------


def test_a_round_that_leaves_messages_waiting_asks_for_the_next(clock, courier, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from django_tasks_db.models import DBTaskResult

    clock.now = at(22)
    welcome(courier)
    tasks.send_due_messages.call()  # the round itself, as the worker runs it
    scheduled = DBTaskResult.objects.get()
    assert scheduled.run_after == at(8, day=2)
    tasks.schedule_next_round()  # the housekeeping command asks again: no second round
    tasks.wake()
    tasks.wake()  # many messages queued together wake the worker once
    assert DBTaskResult.objects.count() == 2


def test_the_housekeeping_command_sends_what_is_due(courier, sms_outbox):
    from django.core.management import call_command

    welcome(courier)
    call_command("send_messages", "--dry-run")
    assert sms_outbox == []
    call_command("send_messages")
    assert len(sms_outbox) == 1


def test_the_defaults_are_the_districts():
    from fengxian import settings as configured

    assert configured.SMS_QUIET_HOURS == "21:00-08:00"
    assert configured.SMS_DAILY_CAP_PER_COURIER == 5
    assert configured.SMS_RATE_PER_SECOND == 10
    assert configured.SMS_COST_PER_SEGMENT == 0.045
