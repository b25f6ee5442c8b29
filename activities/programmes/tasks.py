"""Background tasks (django-tasks) of activities: the reminder sweep, which the worker runs
every quarter hour by enqueueing its own next run."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django_tasks import task
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from activities.programmes import reminders

EVERY = datetime.timedelta(minutes=15)


@task()
def send_reminders() -> int:
    """Queue the reminders that are due, then ask for the next run."""
    count = reminders.queue_reminders()
    schedule_next()
    return count


def _already_scheduled() -> bool:
    """Whether a run is waiting in the database queue (the hourly command and the task's own
    re-enqueueing must not grow two chains)."""
    if not isinstance(send_reminders.get_backend(), DatabaseBackend):
        return False
    return DBTaskResult.objects.filter(
        task_path=send_reminders.module_path, status="READY"
    ).exists()


def schedule_next(now: datetime.datetime | None = None) -> bool:
    """Enqueue the next sweep at the next quarter hour, where the task backend can wait (the
    database backend in production; the immediate one in tests and development cannot)."""
    if not send_reminders.get_backend().supports_defer or _already_scheduled():
        return False
    now = now or timezone.now()
    run_after = (now + EVERY).replace(second=0, microsecond=0)
    run_after -= datetime.timedelta(minutes=run_after.minute % 15)
    send_reminders.using(run_after=run_after).enqueue()
    return True
