"""Vouchers after they are issued: codes, use at the partner's counter, cancelling and expiry.

A voucher leaves "issued" exactly once: every change is one conditional UPDATE … WHERE
state = 'issued', and only the request whose UPDATE touched the row goes on. So a voucher
scanned at two counters at once is used once, and a voucher cancelled while it is scanned is
either used or cancelled, never both. Cancelling and expiry give the stock back and reverse the
ledger debit with a reversing entry (never an edit or a delete).
"""

from __future__ import annotations

import datetime
import secrets

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from activities import points
from activities.models import Partner, PointsEntry, Reward, Voucher

# No 0/O, 1/I/L: a code read aloud or typed from a phone screen is not mistaken.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10  # 31**10 ≈ 8·10^14 codes: guessing one is hopeless at the counter's rate limit


class VoucherRefused(Exception):
    """Why a voucher cannot be used or cancelled, in words for the person; nothing written."""


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str:
    """What a person typed or a QR code carried, as a stored code; "" when it cannot be one."""
    cleaned = "".join(ch for ch in (text or "")[:40].upper() if ch not in " -\t")
    if len(cleaned) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in cleaned):
        return ""
    return cleaned


def state_message(voucher: Voucher, now: datetime.datetime | None = None) -> str:
    """Why a voucher that is not usable is not, or "" when it is."""
    now = now or timezone.now()
    local = timezone.localtime
    if voucher.state == Voucher.State.USED:
        return f"这张兑换券已于 {local(voucher.used_at):%Y-%m-%d %H:%M} 使用过，不能重复使用。"
    if voucher.state == Voucher.State.CANCELLED:
        return "这张兑换券已取消，积分已退回。"
    if voucher.state == Voucher.State.EXPIRED or voucher.expires_at <= now:
        return f"这张兑换券已于 {local(voucher.expires_at):%Y-%m-%d} 过期。"
    return ""


def look_up(code_text: str, partner: Partner) -> Voucher:
    """The voucher with this code, if it is one of `partner`'s; else VoucherRefused."""
    code = normalize_code(code_text)
    if not code:
        raise VoucherRefused("券码格式不对：应为 10 位字母和数字，请核对后重新输入。")
    voucher = Voucher.objects.select_related("reward__partner", "courier").filter(code=code).first()
    if voucher is None:
        raise VoucherRefused("没有这张兑换券，请核对券码。")
    if voucher.reward.partner_id != partner.pk:
        raise VoucherRefused(
            f"这张兑换券的奖品由“{voucher.reward.partner.name}”提供，不能在“{partner.name}”核销。"
        )
    return voucher


def use(code_text: str, partner: Partner, by, *, now: datetime.datetime | None = None) -> Voucher:
    """Confirm at the counter: the voucher becomes used, once; else VoucherRefused."""
    now = now or timezone.now()
    voucher = look_up(code_text, partner)
    refused = state_message(voucher, now)
    if refused:
        raise VoucherRefused(refused)
    done = Voucher.objects.filter(
        pk=voucher.pk, state=Voucher.State.ISSUED, expires_at__gt=now
    ).update(state=Voucher.State.USED, used_at=now, used_by=by)
    voucher.refresh_from_db()
    if not done:  # another counter, a cancel or the expiry got there first
        raise VoucherRefused(state_message(voucher, now) or "这张兑换券已不能使用。")
    return voucher


def cancel(
    voucher: Voucher,
    reason: str,
    *,
    by=None,
    state: str = Voucher.State.CANCELLED,
    now: datetime.datetime | None = None,
) -> Voucher:
    """Cancel an unused voucher (or expire it): stock and points go back; else VoucherRefused."""
    if not reason.strip():
        raise VoucherRefused("取消兑换券必须填写原因。")
    now = now or timezone.now()
    with transaction.atomic():
        done = Voucher.objects.filter(pk=voucher.pk, state=Voucher.State.ISSUED).update(
            state=state, cancelled_at=now, cancelled_by=by, cancel_reason=reason.strip()
        )
        if not done:
            voucher.refresh_from_db()
            raise VoucherRefused(state_message(voucher, now) or "这张兑换券已不能取消。")
        Reward.objects.filter(pk=voucher.reward_id, stock__isnull=False).update(
            stock=F("stock") + 1
        )
        debit = PointsEntry.objects.get(
            source=PointsEntry.Source.REDEEM, source_id=voucher.pk, reverses__isnull=True
        )
        points.reverse(debit, reason, by, voucher_cancelled=True)
    voucher.refresh_from_db()
    return voucher


def due(now: datetime.datetime | None = None):
    return Voucher.objects.open().filter(expires_at__lte=now or timezone.now())


def expire_due(now: datetime.datetime | None = None) -> int:
    """Expire every issued voucher past its date; how many. Each in its own transaction, so a
    voucher used at the counter meanwhile is simply skipped."""
    now = now or timezone.now()
    expired = 0
    for voucher in due(now).order_by("expires_at", "pk").iterator():
        try:
            cancel(voucher, "过期未使用，自动取消", state=Voucher.State.EXPIRED, now=now)
        except VoucherRefused:
            continue
        expired += 1
    return expired
