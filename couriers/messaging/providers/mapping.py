"""What both providers share: the portal's template → the provider's template code, and when
a limited number may be tried again."""

from __future__ import annotations

import datetime
import zoneinfo

from django.conf import settings
from django.utils import timezone

from couriers.messaging.backends import PermanentError
from couriers.messaging.templates import Template

CHINA = zoneinfo.ZoneInfo("Asia/Shanghai")  # providers count a "day" in Beijing time

HOUR = datetime.timedelta(hours=1)


def template_code(template: Template) -> str:
    """The provider's code for `template` (SMS_TEMPLATE_CODES). A template nobody registered
    cannot be sent whatever we try: a permanent failure staff can read."""
    code = str(settings.SMS_TEMPLATE_CODES.get(template.code, "")).strip()
    if not code:
        raise PermanentError(
            f"模板「{template.title}」（{template.code}）尚未在短信平台登记："
            "请在短信平台申请该模板，并把模板编号写入 SMS_TEMPLATE_CODES"
        )
    return code


def until_tomorrow(now: datetime.datetime | None = None) -> datetime.timedelta:
    """How long until the provider's day is over (midnight in Beijing), plus a minute's grace
    for clocks that differ: a daily limit is not worth trying again before then."""
    now = (now or timezone.now()).astimezone(CHINA)
    midnight = datetime.datetime.combine(
        now.date() + datetime.timedelta(days=1), datetime.time(), tzinfo=CHINA
    )
    return midnight - now + datetime.timedelta(minutes=1)


def described(code: str, reasons: dict[str, str], message: str = "") -> str:
    """The error as staff read it in the outbox: the reason in Chinese, then the provider's
    code (what its documentation and support ask for)."""
    reason = reasons.get(code) or message or "短信平台拒绝发送"
    return f"{reason}（{code}）"
