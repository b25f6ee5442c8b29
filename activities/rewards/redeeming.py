"""Redeeming points for a reward: stock, limits and the balance checked and written in one
transaction, so neither the stock nor a courier's balance can go below zero under concurrency.

Lock order, everywhere: the courier's row, then the reward's. Every debit of a courier's points
holds the courier's row (as `points.award` does for its caps), so two redemptions by one courier
run one after the other and each sees the other's debit; the reward's row makes redemptions of
one reward take the last items one at a time.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from activities import points
from activities.models import PointsEntry, Reward, Voucher
from activities.rewards.tasks import schedule_expiry
from activities.rewards.vouchers import new_code
from couriers.models import Courier


class RedeemRefused(Exception):
    """Why a redemption was refused, in words for the courier; nothing was written."""


def _month_start(moment: datetime.datetime) -> datetime.datetime:
    return timezone.localtime(moment).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _check_limits(courier: Courier, reward: Reward, now: datetime.datetime) -> None:
    # Used and waiting vouchers count; cancelled and expired ones gave their place back.
    taken = Voucher.objects.filter(
        courier=courier, reward=reward, state__in=[Voucher.State.ISSUED, Voucher.State.USED]
    )
    if reward.total_limit is not None and taken.count() >= reward.total_limit:
        raise RedeemRefused(f"“{reward.name}”每人最多兑换 {reward.total_limit} 次，你已达到上限。")
    if reward.monthly_limit is not None:
        this_month = taken.filter(issued_at__gte=_month_start(now)).count()
        if this_month >= reward.monthly_limit:
            raise RedeemRefused(
                f"“{reward.name}”每人每月最多兑换 {reward.monthly_limit} 次，本月已达到上限。"
            )


def redeem(courier: Courier, reward_id: int, *, now: datetime.datetime | None = None) -> Voucher:
    """Spend the courier's points on one of the reward: a voucher, or RedeemRefused."""
    now = now or timezone.now()
    with transaction.atomic():
        # Lock order courier → reward, as everywhere: the balance is read under the courier's
        # lock, so no other debit can slip in before ours.
        balance = points.locked_balance(courier.pk)
        if balance is None:
            raise RedeemRefused("找不到你的登记信息，请重新登录。")
        reward = (
            Reward.objects.select_for_update(of=("self",))
            .select_related("partner")
            .filter(pk=reward_id)
            .first()
        )
        if reward is None or not reward.is_on_offer(timezone.localdate(now)):
            raise RedeemRefused("这个奖品已下架或不在兑换期内。")
        if reward.stock is not None and reward.stock < 1:
            raise RedeemRefused(f"“{reward.name}”已经兑完了。")
        _check_limits(courier, reward, now)
        if balance < reward.price:
            raise RedeemRefused(f"积分不够：需要 {reward.price} 积分，你现在有 {balance} 积分。")
        if reward.stock is not None:
            reward.stock -= 1
            reward.save(update_fields=["stock"])
        voucher = _issue(courier, reward, now)
        PointsEntry.objects.create(
            courier_id=courier.pk,
            amount=-reward.price,
            reason=f"兑换：{reward.name}",
            source=PointsEntry.Source.REDEEM,
            source_id=voucher.pk,
            created_at=now,
        )
    schedule_expiry(voucher)
    return voucher


def _issue(courier: Courier, reward: Reward, now: datetime.datetime) -> Voucher:
    expires = now + datetime.timedelta(days=settings.REWARD_VOUCHER_DAYS)
    for _attempt in range(5):
        try:
            with transaction.atomic():  # a savepoint: a clashing code is drawn again
                return Voucher.objects.create(
                    code=new_code(),
                    reward=reward,
                    courier_id=courier.pk,
                    points=reward.price,
                    issued_at=now,
                    expires_at=expires,
                )
        except IntegrityError:
            continue
    raise RedeemRefused("系统繁忙，请稍后再试。")


def wallet(courier: Courier) -> dict[str, int]:
    """Earned (every entry but spending), spent (used vouchers), held (open vouchers) and
    available (the balance: earned − spent − held), from the ledger in one query."""
    redeem = Q(source=PointsEntry.Source.REDEEM)
    open_vouchers = Voucher.objects.filter(courier=courier, state=Voucher.State.ISSUED)
    figures = PointsEntry.objects.filter(courier=courier).aggregate(
        earned=Sum("amount", filter=~redeem),
        spending=Sum("amount", filter=redeem),  # used and open (cancelled ones reversed)
        held=Sum(
            "amount",
            filter=redeem & Q(reverses__isnull=True, source_id__in=open_vouchers.values("pk")),
        ),
    )
    earned = figures["earned"] or 0
    spending = -(figures["spending"] or 0)
    held = -(figures["held"] or 0)
    return {
        "earned": earned,
        "spent": spending - held,
        "held": held,
        "available": earned - spending,
    }
