"""Background tasks (django-tasks) for vouchers: the expiry sweep the `db_worker` runs."""

from __future__ import annotations

import datetime

from django.db import transaction
from django_tasks import task

from activities.models import Voucher
from activities.rewards import vouchers


@task()
def expire_vouchers() -> int:
    """Expire every voucher past its date (idempotent: a second run finds none)."""
    return vouchers.expire_due()


def schedule_expiry(voucher: Voucher) -> None:
    """Ask the worker to sweep just after this voucher expires, where the task backend can wait
    (the database backend in production). The `expire_vouchers` command does the same sweep
    from cron, and the counter refuses an expired voucher whether or not the sweep has run."""
    if not expire_vouchers.get_backend().supports_defer:
        return
    run_after = voucher.expires_at + datetime.timedelta(minutes=1)
    transaction.on_commit(lambda: expire_vouchers.using(run_after=run_after).enqueue())
