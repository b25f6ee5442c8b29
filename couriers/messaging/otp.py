"""One-time codes by SMS: sending with rate limits, checking with a lockout.

A code is a message of the outbox like any other (template `login_code`, urgent, event
"login_code", occasion the PhoneCode's id), written with the code's row and sent from the
request itself as soon as that row is committed, so the courier waits for no worker; the
worker retries it if the provider fails. The code in clear is blanked from the message once
it has gone (couriers.messaging.sending).

Every limit is counted in the database, so it holds across all app servers and workers.
Codes are stored only as salted hashes, expire after CODE_TTL, and are single-use even when two
requests present the same code at once (the "mark used" update is conditional).

A code is good only on the device that asked for it (`device`: a hash of the browser's device
cookie), and wrong codes are counted per phone and device while that device's code is locked
(SELECT … FOR UPDATE), so however many guesses arrive at once, no more than
WRONG_CODES_BEFORE_LOCK are ever judged. A stranger who knows a courier's phone can therefore
lock out only their own device, never the courier's. What a stranger can still use up is the
phone's hourly allowance of codes (which keeps its owner from being flooded with messages); a
device that has already proved the phone is not held to it.
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

from couriers.messaging import sending, tasks, templates
from couriers.models import Message, MessageLog, PhoneCode, PhoneLock

CODE_TTL = sending.CODE_TTL  # the worker gives up sending a code this old
RESEND_AFTER = datetime.timedelta(seconds=60)
PER_PHONE_PER_HOUR = 5  # per device, and for the phone from devices that have not proved it
PER_ADDRESS_PER_HOUR = 20
WRONG_CODES_BEFORE_LOCK = 5  # from one device
LOCK_FOR = datetime.timedelta(minutes=30)  # that device, for that phone
CODE_LENGTH = 6


class CodeError(Exception):
    """The message says what went wrong, in Chinese, for the courier."""


def _hash(phone: str, code: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"{phone}:{code}".encode(), hashlib.sha256
    ).hexdigest()


def _lock_message(phone: str, device: str, now: datetime.datetime) -> str | None:
    lock = PhoneLock.objects.filter(phone=phone, device=device, locked_until__gt=now).first()
    if lock is None:
        return None
    minutes = max(1, math.ceil((lock.locked_until - now).total_seconds() / 60))
    return f"验证码输错次数太多，该手机号已锁定，请 {minutes} 分钟后再试。"


def _proved_on(phone: str, device: str) -> bool:
    """Whether this device has signed in with this phone before (used one of its codes)."""
    return PhoneCode.objects.filter(phone=phone, device=device, used_at__isnull=False).exists()


def send_code(phone: str, address: str, device: str, *, deliver: bool = True) -> str:
    """Send a new code to `phone`, good on `device` only; returns it (shown on the page only in
    development). `address` and `device` are hashes of the client's address and device.

    With `deliver` False everything happens (the limits, the stored code) except the message:
    for a phone nobody may learn is not registered."""
    now = timezone.now()
    locked = _lock_message(phone, device, now)
    if locked:
        raise CodeError(locked)
    hour_ago = now - datetime.timedelta(hours=1)
    with transaction.atomic():
        recent = PhoneCode.objects.select_for_update().filter(phone=phone, created_at__gte=hour_ago)
        recent.order_by("-created_at").first()  # codes for one phone are sent one at a time
        mine = recent.filter(device=device)
        latest = mine.order_by("-created_at").first()
        if latest and latest.created_at > now - RESEND_AFTER:
            wait = int((latest.created_at + RESEND_AFTER - now).total_seconds()) + 1
            raise CodeError(f"验证码已发送，请 {wait} 秒后再重新获取。")
        if mine.count() >= PER_PHONE_PER_HOUR or (
            recent.count() >= PER_PHONE_PER_HOUR and not _proved_on(phone, device)
        ):
            raise CodeError("这个手机号一小时内获取验证码次数太多，请稍后再试。")
        if (
            PhoneCode.objects.filter(address=address, created_at__gte=hour_ago).count()
            >= PER_ADDRESS_PER_HOUR
        ):
            raise CodeError("当前网络获取验证码次数太多，请稍后再试。")
        code = f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"
        phone_code = PhoneCode.objects.create(
            phone=phone,
            code_hash=_hash(phone, code),
            address=address,
            device=device,
            created_at=now,
            expires_at=now + CODE_TTL,
        )
        message = _queue(phone, code, phone_code) if deliver else None
    # The views run outside any transaction, so the block above has committed: send it now,
    # in the request; a temporary failure leaves it to the worker's retries.
    if message is not None and sending.send_now(message.pk) == MessageLog.What.RETRY:
        tasks.wake(Message.objects.get(pk=message.pk).send_after)
    return code


def _queue(phone: str, code: str, phone_code: PhoneCode) -> Message:
    template = templates.get("login_code")
    return Message.objects.create(
        phone=phone,
        template=template.code,
        params={"code": code},
        event="login_code",
        occasion=str(phone_code.pk),
        urgent=True,
        created_at=phone_code.created_at,
        send_after=phone_code.created_at,
    )


def resend_wait(phone: str, device: str) -> int:
    """Seconds until this device may ask for another code for `phone` (0: now)."""
    latest = (
        PhoneCode.objects.filter(phone=phone, device=device)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if latest is None:
        return 0
    left = (latest + RESEND_AFTER - timezone.now()).total_seconds()
    return max(0, math.ceil(left))


def verify_code(phone: str, code: str, device: str) -> None:
    """Accept the code or raise CodeError; five wrong codes from one device lock the phone on
    that device for a while. Something that cannot be a code at all (a typo like "12a", too
    short) is sent back without being judged: it uses up none of the tries."""
    code = "".join(code.split())
    if len(code) != CODE_LENGTH or not (code.isascii() and code.isdigit()):
        raise CodeError(f"验证码是 {CODE_LENGTH} 位数字，请检查后重新输入（不计入错误次数）。")
    with transaction.atomic():  # the verdict and the count it leaves are committed together
        problem = _judge(phone, code, device, timezone.now())
    if problem:
        raise CodeError(problem)


def _judge(phone: str, code: str, device: str, now: datetime.datetime) -> str | None:
    # The device's code stays locked until the verdict is committed: guesses that arrive
    # together are judged one after another, each seeing the count the last one left.
    active = (
        PhoneCode.objects.select_for_update()
        .filter(phone=phone, device=device, used_at__isnull=True, expires_at__gt=now)
        .order_by("-created_at")
        .first()
    )
    locked = _lock_message(phone, device, now)
    if locked:
        return locked
    if active is None:
        if PhoneCode.objects.filter(
            phone=phone, device=device, created_at__gte=now - CODE_TTL, used_at__isnull=False
        ).exists():
            return "这个验证码已经用过了，请重新获取。"
        return "验证码已过期或未获取，请重新获取。"
    if hmac.compare_digest(active.code_hash, _hash(phone, code)):
        # Single use, even when two requests bring the same code at the same moment.
        if PhoneCode.objects.filter(pk=active.pk, used_at__isnull=True).update(used_at=now):
            return None
        return "这个验证码已经用过了，请重新获取。"
    PhoneCode.objects.filter(pk=active.pk).update(failed_attempts=F("failed_attempts") + 1)
    failures = sum(
        PhoneCode.objects.filter(
            phone=phone, device=device, created_at__gte=now - LOCK_FOR
        ).values_list("failed_attempts", flat=True)
    )
    if failures >= WRONG_CODES_BEFORE_LOCK:
        PhoneLock.objects.update_or_create(
            phone=phone, device=device, defaults={"locked_until": now + LOCK_FOR}
        )
        # The device's codes are void (expired, not "used": used means proved).
        PhoneCode.objects.filter(
            phone=phone, device=device, used_at__isnull=True, expires_at__gt=now
        ).update(expires_at=now)
        return "验证码输错次数太多，该手机号已锁定 30 分钟。"
    return f"验证码不正确，还可以再试 {WRONG_CODES_BEFORE_LOCK - failures} 次。"
