"""Background tasks (django-tasks) of the outbox: run by `manage.py db_worker`.

django-tasks has no periodic scheduler, so a round that leaves messages waiting (backoff,
quiet hours, the daily cap, a provider that is down) asks for the next round itself, at the
time the first of them is due (`run_after`, where the backend can wait: the database backend
in production). The hourly housekeeping runs `manage.py send_messages` as a safety net. A
round is asked for only when none is already waiting to start at or before that time, so
thousands of messages queued together wake the worker once, not thousands of times.
"""

from __future__ import annotations

import datetime

from django.db.models import Q
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult, get_date_max

from couriers.messaging import delivery, sending
from couriers.messaging.backends import BaseBackend

PROVIDER_PAUSE = datetime.timedelta(minutes=1)  # after a round the provider cut short
# Carriers report delivery within minutes: a round that sent something asks the provider
# this long after (QuerySendDetails / PullSmsSendStatus), besides the receipt callbacks.
RECEIPTS_AFTER = datetime.timedelta(minutes=5)


def _already_waiting(run_after: datetime.datetime | None) -> bool:
    """Whether a round that has not started yet will start by `run_after` (None: now). Only
    the database backend keeps rounds waiting; the others run them at once or never."""
    if not isinstance(send_due_messages.get_backend(), DatabaseBackend):
        return False
    by = Q(run_after=get_date_max()) | Q(run_after__lte=run_after or timezone.now())
    return (
        DBTaskResult.objects.filter(
            status=TaskResultStatus.READY, task_path=send_due_messages.module_path
        )
        .filter(by)
        .exists()
    )


def wake(run_after: datetime.datetime | None = None) -> None:
    """Ask for a round of `send_due_messages` now, or at `run_after`."""
    if _already_waiting(run_after):
        return
    if run_after is None:
        send_due_messages.enqueue()
    elif send_due_messages.get_backend().supports_defer:
        send_due_messages.using(run_after=run_after).enqueue()


def schedule_next_round() -> None:
    """After a round: the next one when the first waiting message is due."""
    due = sending.next_due()
    if due is None or not send_due_messages.get_backend().supports_defer:
        return
    now = timezone.now()
    # Still due now: the round stopped because the provider is down; give it a minute.
    wake(max(due, now + PROVIDER_PAUSE) if due <= now else due)


def reports_delivery() -> bool:
    """Whether the configured backend can be asked about delivery (the providers can)."""
    return type(sending.backend()).delivery_reports is not BaseBackend.delivery_reports


@task()
def send_due_messages() -> int:
    tried = sending.send_due()
    schedule_next_round()
    if tried and reports_delivery() and poll_delivery_reports.get_backend().supports_defer:
        poll_delivery_reports.using(run_after=timezone.now() + RECEIPTS_AFTER).enqueue()
    return tried


@task()
def poll_delivery_reports() -> int:
    return delivery.poll()
