"""One-time codes by SMS: sending with rate limits, checking with a lockout.

Every limit is counted in the database, so it holds across all app servers and workers.
Codes are stored only as salted hashes, expire after CODE_TTL, and are single-use even when two
requests present the same code at once (the "mark used" update is conditional).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import math
import secrets

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from couriers.messaging.sms import send_sms
from couriers.models import PhoneCode, PhoneLock

CODE_TTL = datetime.timedelta(minutes=10)
RESEND_AFTER = datetime.timedelta(seconds=60)
PER_PHONE_PER_HOUR = 5
PER_ADDRESS_PER_HOUR = 20
WRONG_CODES_BEFORE_LOCK = 5
LOCK_FOR = datetime.timedelta(minutes=30)


class CodeError(Exception):
    """The message says what went wrong, in Chinese, for the courier."""


def _hash(phone: str, code: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"{phone}:{code}".encode(), hashlib.sha256
    ).hexdigest()


def _check_lock(phone: str, now: datetime.datetime) -> None:
    lock = PhoneLock.objects.filter(phone=phone, locked_until__gt=now).first()
    if lock:
        minutes = max(1, math.ceil((lock.locked_until - now).total_seconds() / 60))
        raise CodeError(f"验证码输错次数太多，该手机号已锁定，请 {minutes} 分钟后再试。")


def send_code(phone: str, address: str) -> str:
    """Send a new code to `phone`; returns it (shown on the page only in development)."""
    now = timezone.now()
    _check_lock(phone, now)
    hour_ago = now - datetime.timedelta(hours=1)
    with transaction.atomic():
        recent = PhoneCode.objects.select_for_update().filter(phone=phone, created_at__gte=hour_ago)
        latest = recent.order_by("-created_at").first()
        if latest and latest.created_at > now - RESEND_AFTER:
            wait = int((latest.created_at + RESEND_AFTER - now).total_seconds()) + 1
            raise CodeError(f"验证码已发送，请 {wait} 秒后再重新获取。")
        if recent.count() >= PER_PHONE_PER_HOUR:
            raise CodeError("这个手机号一小时内获取验证码次数太多，请稍后再试。")
        if (
            PhoneCode.objects.filter(address=address, created_at__gte=hour_ago).count()
            >= PER_ADDRESS_PER_HOUR
        ):
            raise CodeError("当前网络获取验证码次数太多，请稍后再试。")
        code = f"{secrets.randbelow(1_000_000):06d}"
        PhoneCode.objects.create(
            phone=phone,
            code_hash=_hash(phone, code),
            address=address,
            created_at=now,
            expires_at=now + CODE_TTL,
        )
    send_sms(
        phone, f"【{settings.SMS_SIGN_NAME}】验证码 {code}，10 分钟内有效。如非本人操作请忽略。"
    )
    return code


def verify_code(phone: str, code: str) -> None:
    """Accept the code or raise CodeError; five wrong codes lock the phone for a while."""
    now = timezone.now()
    _check_lock(phone, now)
    code = "".join(code.split())
    active = (
        PhoneCode.objects.filter(phone=phone, used_at__isnull=True, expires_at__gt=now)
        .order_by("-created_at")
        .first()
    )
    if active is None:
        if PhoneCode.objects.filter(
            phone=phone, created_at__gte=now - CODE_TTL, used_at__isnull=False
        ).exists():
            raise CodeError("这个验证码已经用过了，请重新获取。")
        raise CodeError("验证码已过期或未获取，请重新获取。")
    if hmac.compare_digest(active.code_hash, _hash(phone, code)):
        # Single use, even when two requests bring the same code at the same moment.
        if PhoneCode.objects.filter(pk=active.pk, used_at__isnull=True).update(used_at=now):
            return
        raise CodeError("这个验证码已经用过了，请重新获取。")
    PhoneCode.objects.filter(pk=active.pk).update(failed_attempts=F("failed_attempts") + 1)
    failures = sum(
        PhoneCode.objects.filter(phone=phone, created_at__gte=now - LOCK_FOR).values_list(
            "failed_attempts", flat=True
        )
    )
    if failures >= WRONG_CODES_BEFORE_LOCK:
        PhoneLock.objects.update_or_create(phone=phone, defaults={"locked_until": now + LOCK_FOR})
        PhoneCode.objects.filter(phone=phone, used_at__isnull=True).update(used_at=now)
        raise CodeError("验证码输错次数太多，该手机号已锁定 30 分钟。")
    left = WRONG_CODES_BEFORE_LOCK - failures
    raise CodeError(f"验证码不正确，还可以再试 {left} 次。")
