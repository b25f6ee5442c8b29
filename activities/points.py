"""The points ledger: awarding (within monthly caps), reversing, balances.

Entries are only ever added. A correction is a reversing entry pointing at the original, with
its own reason; a balance is the sum of a courier's entries.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from activities.models import PointsEntry
from couriers.messaging.notify import notify
from couriers.models import Courier


class PointsError(Exception):
    pass


# --- the monthly leaderboard ------------------------------------------------------------------


def _earned(start: datetime.datetime, end: datetime.datetime, town=None):
    """Points earned in [start, end) by couriers on the public board: spending them on rewards
    (and its reversals) does not lower the figure."""
    rows = PointsEntry.objects.filter(
        created_at__gte=start, created_at__lt=end, courier__show_on_leaderboard=True
    ).exclude(source=PointsEntry.Source.REDEEM)
    if town is not None:
        rows = rows.filter(courier__work_town=town)
    return rows


def leaderboard(start: datetime.datetime, end: datetime.datetime, town=None, size: int = 50):
    """The top `size` rows (courier_id, name, town, total, rank). Ties share a place and the next
    place is skipped (20, 15, 15, 12 rank 1, 2, 2, 4), so a rank reads as "how many did better"."""
    rows = (
        _earned(start, end, town)
        .values("courier_id", "courier__name", "courier__work_town__name")
        .annotate(total=Sum("amount"))
        .filter(total__gt=0)
        .order_by("-total", "courier_id")[:size]
    )
    board = []
    for position, row in enumerate(rows, start=1):
        tied = board and board[-1]["total"] == row["total"]
        board.append({**row, "rank": board[-1]["rank"] if tied else position})
    return board


def place_on_board(
    courier: Courier, start: datetime.datetime, end: datetime.datetime, town=None
) -> int | None:
    """The courier's rank on the same board, also below the rows shown; None when he has no
    points there (or is not on it)."""
    if not courier.show_on_leaderboard or (town is not None and courier.work_town_id != town.pk):
        return None
    rows = _earned(start, end, town)
    mine = rows.filter(courier=courier).aggregate(total=Sum("amount"))["total"] or 0
    if mine <= 0:
        return None
    better = rows.values("courier_id").annotate(total=Sum("amount")).filter(total__gt=mine)
    return better.count() + 1


def balance(courier: Courier) -> int:
    return PointsEntry.objects.filter(courier=courier).aggregate(total=Sum("amount"))["total"] or 0


def lock_courier(courier_id: int) -> bool:
    """Lock the courier's row, the one lock every change to their points takes first (so
    awards under a monthly cap and debits are judged one after the other). Call inside a
    transaction; False when there is no such courier."""
    return Courier.objects.select_for_update().filter(pk=courier_id).exists()


def locked_balance(courier_id: int) -> int | None:
    """The courier's balance read under their lock: no other debit can slip in before the
    caller's. None when there is no such courier. Call inside a transaction."""
    if not lock_courier(courier_id):
        return None
    total = PointsEntry.objects.filter(courier_id=courier_id).aggregate(total=Sum("amount"))
    return total["total"] or 0


def _check_debit(courier_id: int, amount: int) -> None:
    """A balance never goes below zero, whatever takes points away (a redemption, a staff
    reversal or deduction after the points were spent); call inside a transaction."""
    if amount >= 0:
        return
    left = locked_balance(courier_id) or 0
    if left + amount < 0:
        raise PointsError(
            f"积分余额不足：当前余额 {left} 分，扣除 {-amount} 分后将为负数。"
            "如积分已用于兑换，请先取消对应的兑换券。"
        )


def _month_start(moment: datetime.datetime) -> datetime.datetime:
    local = timezone.localtime(moment)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def award(
    courier: Courier,
    amount: int,
    reason: str,
    source: str,
    *,
    source_id: int | None = None,
    by=None,
    at: datetime.datetime | None = None,
) -> PointsEntry | None:
    """Add points; a category with a monthly cap (POINTS_MONTHLY_CAPS) gets only what is left
    this month. Returns the entry, or None when the cap leaves nothing. A source record is paid
    once, however often this is called for it."""
    at = at or timezone.now()
    with transaction.atomic():
        lock_courier(courier.pk)  # caps: one award at a time
        if source_id is not None:
            paid = PointsEntry.objects.filter(
                source=source, source_id=source_id, reverses__isnull=True
            ).first()
            if paid is not None:
                return paid  # a source record is paid once
        cap = settings.POINTS_MONTHLY_CAPS.get(source)
        if cap is not None and amount > 0:
            start = _month_start(at)
            end = (start + datetime.timedelta(days=32)).replace(day=1)
            used = (
                PointsEntry.objects.filter(
                    courier=courier, source=source, created_at__gte=start, created_at__lt=end
                ).aggregate(total=Sum("amount"))["total"]
                or 0
            )
            amount = min(amount, max(cap - used, 0))
            if amount == 0:
                return None
        try:
            with transaction.atomic():
                return PointsEntry.objects.create(
                    courier=courier,
                    amount=amount,
                    reason=reason,
                    source=source,
                    source_id=source_id,
                    created_by=by,
                    created_at=at,
                )
        except IntegrityError:
            return PointsEntry.objects.get(
                source=source, source_id=source_id, reverses__isnull=True
            )


def reverse(entry: PointsEntry, reason: str, by, *, voucher_cancelled: bool = False) -> PointsEntry:
    """Cancel an entry with an opposite one; an entry is reversed at most once."""
    if not reason.strip():
        raise PointsError("冲正必须填写原因。")
    if entry.reverses_id is not None:
        raise PointsError("冲正记录本身不能再冲正。")
    if entry.source == PointsEntry.Source.REDEEM and not voucher_cancelled:
        # Refunding a redemption by hand would leave its voucher usable: points spent twice.
        raise PointsError("兑换扣除的积分不能直接冲正，请取消对应的兑换券（积分会自动退回）。")
    with transaction.atomic():
        if PointsEntry.objects.filter(reverses=entry).exists():
            raise PointsError("这条记录已经冲正过了。")
        _check_debit(entry.courier_id, -entry.amount)
        return PointsEntry.objects.create(
            courier=entry.courier,
            amount=-entry.amount,
            reason=f"冲正：{reason.strip()}",
            source=entry.source,
            reverses=entry,
            created_by=by,
        )


def adjust(courier: Courier, amount: int, reason: str, by) -> PointsEntry:
    """A manual adjustment by staff: the reason is required."""
    if not reason.strip():
        raise PointsError("人工调整必须填写原因。")
    if amount == 0:
        raise PointsError("调整的积分不能为 0。")
    with transaction.atomic():
        _check_debit(courier.pk, amount)
        entry = PointsEntry.objects.create(
            courier=courier,
            amount=amount,
            reason=reason.strip(),
            source=PointsEntry.Source.MANUAL,
            created_by=by,
        )
        tell_adjusted(entry, reason.strip())
        return entry


def correct(entry: PointsEntry, reason: str, by) -> PointsEntry:
    """Staff reverse an entry from the ledger, saying why: the courier is told. (Reversals
    that follow another change — an unticked attendance, a cancelled voucher — are not
    adjustments of their own and tell nobody here.)"""
    with transaction.atomic():
        reversal = reverse(entry, reason, by)
        tell_adjusted(reversal, reason.strip())
        return reversal


def tell_adjusted(entry: PointsEntry, reason: str) -> None:
    notify(
        entry.courier,
        "points_adjusted",
        {"change": f"{entry.amount:+d}", "reason": reason},
        event="points_adjusted",
        about=entry,
    )
