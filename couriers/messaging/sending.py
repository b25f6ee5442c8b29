"""Sending the outbox: what the background worker does with messages that are due.

Whether a message goes is decided when it comes up, not when it was queued (a message
queued at 20:59 behind a slow queue still waits for the morning):

1. a courier erased since, or who has muted that kind of message since, is told nothing: the
   message is cancelled with the reason; so is a code nobody can use any more (expired);
2. quiet hours (SMS_QUIET_HOURS, local time): a message that is not urgent waits for their end;
3. the daily cap (SMS_DAILY_CAP_PER_COURIER): a courier who has had that many messages today
   gets further non-urgent ones the next morning. They wait rather than being cancelled: what
   a courier is told (a promotion, points, a reply) still concerns them tomorrow, and is also on
   「我的」. Codes and urgent messages are never held by the cap;
4. the district-wide rate (SMS_RATE_PER_SECOND, the provider's QPS), counted in the database
   (`RateCounter`), so it holds however many worker processes send; a tenth of it is kept for
   urgent messages;
5. sent. A `TemporaryError` (network, 5xx, flow control) is retried with backoff (1, 2, 4 …
   minutes, at most 30, MAX_ATTEMPTS tries: about two and a half hours of trying); a
   `PermanentError` fails at once, its reason kept for staff. Several temporary failures in a
   row mean the provider is down: the round stops and the other messages keep their places.

Each message is claimed under a row lock (`SKIP LOCKED` where the database has it), so two
workers — or a redelivered task — never send the same one; the outcome is saved in the same
transaction as the claim. Every step is written to the message's history (`MessageLog`).
"""

from __future__ import annotations

import datetime
import logging
import time
import zoneinfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from couriers.messaging import preferences, templates
from couriers.messaging.backends import BaseBackend, PermanentError, SMSError
from couriers.models import Message, MessageLog
from couriers.models.messaging import ERASED
from couriers.security.ratelimit import hit

logger = logging.getLogger("couriers.messaging.sms")

MAX_ATTEMPTS = 10
BACKOFF = datetime.timedelta(minutes=1)  # doubled after each failed attempt …
MAX_BACKOFF = datetime.timedelta(minutes=30)  # … up to this
PROVIDER_DOWN_AFTER = 3  # temporary failures in a row that end a round
CODE_TTL = datetime.timedelta(minutes=10)  # a one-time code is good this long (otp.py)
RATE_KEY = "sms:district-rate"

sleep = time.sleep  # tests replace it


def backend() -> BaseBackend:
    return import_string(settings.SMS_BACKEND)()


# --- the policy -----------------------------------------------------------------------------


def _local(moment: datetime.datetime) -> datetime.datetime:
    return moment.astimezone(zoneinfo.ZoneInfo(settings.TIME_ZONE))


def quiet_hours() -> tuple[datetime.time, datetime.time] | None:
    value = settings.SMS_QUIET_HOURS.strip()
    if not value:
        return None
    start, end = (datetime.time.fromisoformat(part.strip()) for part in value.split("-"))
    return start, end


def quiet_until(now: datetime.datetime) -> datetime.datetime | None:
    """The end of the quiet hours `now` falls in, or None when it falls in none."""
    hours = quiet_hours()
    if hours is None:
        return None
    start, end = hours
    local = _local(now)
    at = local.time()
    if start <= end:
        inside, ends_on = start <= at < end, local.date()
    else:  # across midnight: 21:00-08:00
        inside = at >= start or at < end
        ends_on = local.date() if at < end else local.date() + datetime.timedelta(days=1)
    if not inside:
        return None
    return datetime.datetime.combine(ends_on, end, tzinfo=local.tzinfo)


def _start_of_day(now: datetime.datetime) -> datetime.datetime:
    local = _local(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _is_code(message: Message) -> bool:
    return templates.get(message.template).kind == templates.Kind.CODE


def over_daily_cap(message: Message, now: datetime.datetime) -> bool:
    if message.courier_id is None or message.urgent or _is_code(message):
        return False
    sent_today = (
        Message.objects.filter(
            courier_id=message.courier_id,
            state__in=[Message.State.SENT, Message.State.DELIVERED],
            sent_at__gte=_start_of_day(now),
        )
        .exclude(template__in=_code_templates())
        .count()
    )
    return sent_today >= settings.SMS_DAILY_CAP_PER_COURIER


def _code_templates() -> list[str]:
    return [t.code for t in templates.TEMPLATES.values() if t.kind == templates.Kind.CODE]


def _next_morning(now: datetime.datetime) -> datetime.datetime:
    midnight = _start_of_day(now) + datetime.timedelta(days=1)
    return quiet_until(midnight) or midnight


def why_not_now(message: Message, now: datetime.datetime):
    """("cancel", reason) or ("wait", until, reason) when `message` must not go now; else None."""
    template = templates.get(message.template)
    if message.courier_id is not None:
        if not preferences.reachable(message.courier):
            return ("cancel", ERASED)
        if not preferences.allows(message.courier, template.kind):
            return ("cancel", f"收信人已退订“{templates.Kind(template.kind).label}”类消息")
    elif not message.phone:
        return ("cancel", ERASED)
    if template.kind == templates.Kind.CODE and message.created_at < now - CODE_TTL:
        return ("cancel", "验证码已过期，不再发送")
    if message.send_before is not None and now >= message.send_before:
        return ("cancel", f"已过时效（应在 {_local(message.send_before):%m-%d %H:%M} 前发出）")
    held = None
    if not message.urgent:
        until = quiet_until(now)
        if until is not None:
            held = ("wait", until, f"免打扰时段，推迟到 {_local(until):%m-%d %H:%M}")
    if held is None and over_daily_cap(message, now):
        until = _next_morning(now)
        cap = settings.SMS_DAILY_CAP_PER_COURIER
        held = ("wait", until, f"今天已发 {cap} 条（每日上限），推迟到 {_local(until):%m-%d %H:%M}")
    if held and message.send_before is not None and held[1] >= message.send_before:
        return ("cancel", f"{held[2].split('，')[0]}，到时已过时效，不再发送")
    return held


def backoff(attempts: int) -> datetime.timedelta:
    return min(BACKOFF * 2 ** (attempts - 1), MAX_BACKOFF)


# --- one message ----------------------------------------------------------------------------


def _forget_secrets(message: Message) -> None:
    """A code is kept in clear only until it is sent (or will never be)."""
    if _is_code(message):
        message.params = {key: "" for key in message.params}


def cancel(message: Message, reason: str, by=None) -> None:
    """Cancel a pending message (locked by the caller), with the reason."""
    message.state, message.last_error = Message.State.CANCELLED, reason[:300]
    _forget_secrets(message)
    message.save(update_fields=["state", "last_error", "params"])
    message.log(MessageLog.What.CANCELLED, reason, by=by)


def send_one(message: Message, sender: BaseBackend, now: datetime.datetime) -> str:
    """Send `message` (locked by the caller) and record the outcome on it and in its history;
    returns the outcome (a MessageLog.What)."""
    template = templates.get(message.template)
    message.attempts += 1
    message.provider = sender.name
    try:
        message.provider_message_id = sender.send_template(
            message.recipient_phone, template, message.params
        )
    except PermanentError as problem:
        message.state, message.last_error = Message.State.FAILED, str(problem)[:300]
        outcome = MessageLog.What.FAILED
    except SMSError as problem:
        message.last_error = str(problem)[:300]
        # A provider that says how long trying is pointless (a number's daily limit) is
        # believed, and such waits do not use up the ordinary tries, only twice as many do.
        waited = getattr(problem, "retry_after", None)
        if message.attempts >= MAX_ATTEMPTS * (2 if waited else 1):
            message.state, outcome = Message.State.FAILED, MessageLog.What.FAILED
        else:
            message.send_after = now + (waited or backoff(message.attempts))
            outcome = MessageLog.What.RETRY
    else:
        message.state, message.sent_at, message.last_error = Message.State.SENT, now, ""
        message.segments = templates.segments(
            template.render(message.params), settings.SMS_SIGN_NAME
        )
        outcome = MessageLog.What.SENT
    if message.state != Message.State.PENDING:
        _forget_secrets(message)
    message.save()
    note = f"第 {message.attempts} 次（{sender.name}）"
    if outcome == MessageLog.What.RETRY:
        note += f"：{message.last_error}；{_local(message.send_after):%H:%M} 再试"
    elif outcome == MessageLog.What.FAILED:
        note += f"：{message.last_error}"
    message.log(outcome, note, at=now)
    return outcome


# --- the worker's round ---------------------------------------------------------------------


def locking(queryset):
    """`queryset` locked for update, skipping rows another transaction holds (a worker
    sending one of them) where the database can."""
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset.select_for_update()


def _claim(now: datetime.datetime, pk: int | None = None) -> Message | None:
    due = Message.objects.due(now).select_related("courier")
    if pk is not None:
        due = due.filter(pk=pk)
    return locking(due).first()


def wait_for_slot(urgent: bool) -> None:
    """Hold the caller until the district's sending rate allows one more message. A tenth of
    each second's allowance (at least one) is kept for urgent messages, so a code asked for
    during a broadcast is not starved by the worker."""
    rate = settings.SMS_RATE_PER_SECOND
    if rate <= 0:
        return
    limit = rate if urgent else max(1, rate - max(1, rate // 10))
    while hit(RATE_KEY, 1) > limit:
        sleep(max(0.01, 1 - time.time() % 1))


def _step(sender: BaseBackend, pk: int | None = None) -> str | None:
    """Decide on the next due message (or message `pk`), and send it if it may go: the
    outcome, or None when nothing is due. The rate slot is taken between the decision and the
    send, outside any transaction, so waiting for it holds no lock."""
    with transaction.atomic():
        now = timezone.now()
        message = _claim(now, pk)
        if message is None:
            return None
        verdict = why_not_now(message, now)
        if verdict is not None and verdict[0] == "cancel":
            cancel(message, verdict[1])
            return MessageLog.What.CANCELLED
        if verdict is not None:
            message.send_after = verdict[1]
            message.save(update_fields=["send_after"])
            message.log(MessageLog.What.DEFERRED, verdict[2], at=now)
            return MessageLog.What.DEFERRED
        pk, urgent = message.pk, message.urgent
    wait_for_slot(urgent)
    with transaction.atomic():
        now = timezone.now()
        message = _claim(now, pk)
        if message is None:  # another worker took it meanwhile
            return MessageLog.What.DEFERRED
        return send_one(message, sender, now)


def send_due(limit: int | None = None) -> int:
    """Deal with every message that is due, one transaction each; returns how many were
    looked at (sent, failed, retried later, deferred or cancelled)."""
    sender = backend()
    tried = failing = 0
    while limit is None or tried < limit:
        outcome = _step(sender)
        if outcome is None:
            break
        tried += 1
        failing = failing + 1 if outcome == MessageLog.What.RETRY else 0
        if failing >= PROVIDER_DOWN_AFTER:
            logger.warning("短信通道连续 %s 次临时失败，本轮暂停发送", failing)
            break
    return tried


def send_now(pk: int) -> str | None:
    """Send message `pk` at once if it is due (a one-time code, from the sign-in request):
    the outcome, or None when it is not (already sent, or another worker holds it)."""
    return _step(backend(), pk)


def next_due() -> datetime.datetime | None:
    """When the next pending message is due (for the worker's next wake-up)."""
    return (
        Message.objects.filter(state=Message.State.PENDING)
        .order_by("send_after")
        .values_list("send_after", flat=True)
        .first()
    )
