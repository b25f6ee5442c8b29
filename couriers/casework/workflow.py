"""三送三问 casework: moving a need through its workflow and telling the courier the result.

待办 → 办理中 → 已解决 (with the resolution) / 不能解决 (with the reason). A closed need can
be reopened (办理中) when the answer did not hold; reopening keeps the earlier text for the
record until a new result replaces it. Overdue = still open after the deadline
(`Need.objects.overdue()`, `Need.is_overdue`).

Staff tell the courier the result themselves (a call, the next visit) and tick 已告知, or let
the portal tell them: `inform_by_message` sends the result by text message and ticks it.
"""

from __future__ import annotations

import datetime
import hashlib

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from couriers.messaging.notify import notify
from couriers.models import Need

Status = Need.Status

# From each status, where a need may go next.
NEXT: dict[str, list[str]] = {
    Status.OPEN: [Status.IN_PROGRESS, Status.RESOLVED, Status.UNRESOLVABLE],
    Status.IN_PROGRESS: [Status.RESOLVED, Status.UNRESOLVABLE],
    Status.RESOLVED: [Status.IN_PROGRESS],
    Status.UNRESOLVABLE: [Status.IN_PROGRESS],
}


def check_move(old: str, new: str) -> None:
    if old != new and new not in NEXT[old]:
        raise ValidationError(
            f"不能从“{Status(old).label}”改为“{Status(new).label}”。"
            f"可改为：{'、'.join(str(Status(s).label) for s in NEXT[old])}。"
        )


def apply_status(need: Need, old_status: str | None, today: datetime.date | None = None) -> None:
    """Set the bookkeeping fields that go with a (validated) status change, before saving."""
    today = today or timezone.localdate()
    if old_status is not None:
        check_move(old_status, need.status)
    if need.is_open:
        need.closed_on = None
        need.courier_informed, need.informed_on = False, None
    elif need.closed_on is None or old_status != need.status:
        need.closed_on = today


def move(need: Need, status: str, text: str = "", today: datetime.date | None = None) -> Need:
    """Move `need` to `status`; `text` is the resolution (已解决) or the reason (不能解决)."""
    old = need.status
    need.status = status
    if status == Status.RESOLVED:
        need.resolution = text or need.resolution
    elif status == Status.UNRESOLVABLE:
        need.reason = text or need.reason
    apply_status(need, old, today)
    need.full_clean()
    need.save()
    return need


def mark_informed(need: Need, on: datetime.date | None = None) -> Need:
    """The courier has been told the result of a closed need."""
    if need.is_open:
        raise ValidationError("需求尚未办结，不能标记为已告知小哥。")
    need.courier_informed, need.informed_on = True, on or timezone.localdate()
    need.save(update_fields=["courier_informed", "informed_on", "updated_at"])
    return need


def result_text(need: Need) -> str:
    if need.status == Status.RESOLVED:
        return need.resolution.strip()
    return f"未能解决，原因：{need.reason.strip()}"


def inform_by_message(need: Need, on: datetime.date | None = None) -> bool:
    """Tell the courier a closed need's result by text message, and mark them informed. Only a
    need raised on a visit to a courier has someone to tell; returns whether a message was
    queued (False also for a courier who cannot be reached or chose not to get these)."""
    if need.is_open:
        raise ValidationError("需求尚未办结，不能告知小哥结果。")
    courier = need.visit.courier
    if courier is None:
        raise ValidationError("这条需求来自对网点或企业的走访，没有可以短信告知的小哥。")
    result = result_text(need)
    with transaction.atomic():
        message = notify(
            courier,
            "need_resolved",
            {"need": need.description.strip()[:20], "result": result},
            event="need_resolved",
            about=need,
            # Reopened and closed again with another result: that one is told too.
            occasion=hashlib.sha256(result.encode()).hexdigest()[:16],
        )
        if message is not None:
            need.courier_informed, need.informed_on = True, on or timezone.localdate()
            need.save(update_fields=["courier_informed", "informed_on", "updated_at"])
    return message is not None
