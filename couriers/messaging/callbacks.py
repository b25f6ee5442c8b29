"""What the SMS providers post back: delivery receipts and couriers' replies.

- Aliyun's HTTP batch push: SmsReport (a JSON list of {phone_number, success, biz_id,
  err_code, err_msg, report_time …}) and SmsUp (a JSON list of {phone_number, content,
  sign_name, send_time …}); Aliyun wants {"code": 0, "msg": "成功"} back.
- Tencent Cloud's callbacks: the status report (a JSON list of {mobile, report_status
  SUCCESS/FAIL, sid, errmsg, description, user_receive_time …}) and the reply (one JSON object
  {mobile, nationcode, text, sign, time …}); Tencent wants {"result": 0, "errmsg": "OK"}.

A reply that means 退订 (TD, T, N, R, 退订, 拒收 …) stops every message but one-time codes
(`preferences.stop_all`). The addresses carry a secret (SMS_CALLBACK_TOKEN) that only the
district gives the provider; without it, or with a wrong one, there is nothing here (404). The
answer never depends on whether the number is a courier's, so the callbacks cannot be used to
find out who is registered.
"""

from __future__ import annotations

import datetime
import hmac
import json
import logging
import re

from django.conf import settings
from django.http import Http404, HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from couriers.messaging import delivery, preferences
from couriers.messaging.backends import Receipt
from couriers.messaging.providers.mapping import CHINA
from couriers.privacy.masking import mask_phone
from couriers.security.ratelimit import rate_limit

logger = logging.getLogger("couriers.messaging.sms")

# Replies that mean "no more messages". Latin ones must be the whole reply (a courier who
# writes "OK" or "TDL" did not unsubscribe); the Chinese words count anywhere in it.
STOP_WORDS = {"TD", "T", "N", "R", "STOP", "UNSUBSCRIBE", "QX"}
STOP_PHRASES = ("退订", "拒收", "取消订阅", "不再接收")
_NOISE = re.compile(r"[\s\W_]+")

# Providers post in batches, from few addresses: more room than a public form, still bounded.
_LIMITS = {
    "device": (settings.SMS_CALLBACK_POSTS, 600),
    "address": (settings.SMS_CALLBACK_POSTS, 600),
}


def means_stop(text: str) -> bool:
    compact = _NOISE.sub("", str(text or "")).upper()
    return compact in STOP_WORDS or any(phrase in compact for phrase in STOP_PHRASES)


def mobile(number: str, nationcode: str = "86") -> str:
    """The 11-digit mainland number from what a provider writes (+8613…, 8613…, 13…)."""
    digits = re.sub(r"\D", "", str(number or ""))
    if str(nationcode or "86") != "86":
        return ""
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if re.fullmatch(r"1\d{10}", digits) else ""


def _guarded(view):
    """The secret in the address, CSRF exempt (the provider has no session), POST only, rate
    limited."""

    def guarded(request: HttpRequest, token: str):
        expected = settings.SMS_CALLBACK_TOKEN
        if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
            raise Http404
        try:
            payload = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            payload = None
        return view(payload)

    guarded.__name__ = view.__name__
    guarded.__doc__ = view.__doc__
    return rate_limit(**_LIMITS)(csrf_exempt(require_POST(guarded)))


def _items(payload) -> list[dict] | None:
    if isinstance(payload, dict):
        payload = [payload]
    if not isinstance(payload, list) or not all(isinstance(item, dict) for item in payload):
        return None
    return payload


def _time(value) -> datetime.datetime | None:
    try:
        return datetime.datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
    except ValueError:
        return None


def _stop(number: str, provider: str) -> None:
    if number:
        preferences.stop_all(number)
        logger.info("%s 回复退订：%s", provider, mask_phone(number))


ALIYUN_OK = {"code": 0, "msg": "成功"}
ALIYUN_BAD = {"code": 1, "msg": "无法解析"}
TENCENT_OK = {"result": 0, "errmsg": "OK"}
TENCENT_BAD = {"result": 1, "errmsg": "bad request"}


@_guarded
def aliyun_report(payload):
    """SmsReport: Aliyun's delivery receipts."""
    items = _items(payload)
    if items is None:
        return JsonResponse(ALIYUN_BAD, status=400)
    receipts = [
        Receipt(
            provider_message_id=str(item.get("biz_id") or ""),
            delivered=item.get("success") in (True, "true", "True", 1),
            at=_time(item.get("report_time")),
            error=str(item.get("err_msg") or item.get("err_code") or ""),
        )
        for item in items
    ]
    delivery.record(receipts, "aliyun")
    return JsonResponse(ALIYUN_OK)


@_guarded
def aliyun_reply(payload):
    """SmsUp: what couriers replied to Aliyun messages."""
    items = _items(payload)
    if items is None:
        return JsonResponse(ALIYUN_BAD, status=400)
    for item in items:
        if means_stop(item.get("content", "")):
            _stop(mobile(item.get("phone_number", "")), "aliyun")
    return JsonResponse(ALIYUN_OK)


@_guarded
def tencent_report(payload):
    """Tencent's status callback (短信下发状态通知)."""
    items = _items(payload)
    if items is None:
        return JsonResponse(TENCENT_BAD, status=400)
    receipts = [
        Receipt(
            provider_message_id=str(item.get("sid") or ""),
            delivered=item.get("report_status") == "SUCCESS",
            at=_time(item.get("user_receive_time")),
            error=str(item.get("description") or item.get("errmsg") or ""),
        )
        for item in items
    ]
    delivery.record(receipts, "tencent")
    return JsonResponse(TENCENT_OK)


@_guarded
def tencent_reply(payload):
    """Tencent's reply callback (短信回复)."""
    items = _items(payload)
    if items is None:
        return JsonResponse(TENCENT_BAD, status=400)
    for item in items:
        if means_stop(item.get("text", "")):
            _stop(mobile(item.get("mobile", ""), item.get("nationcode", "86")), "tencent")
    return JsonResponse(TENCENT_OK)


# Included under sms/callback/ by fengxian/urls.py.
urlpatterns = [
    path("aliyun/report/<str:token>/", aliyun_report, name="sms_aliyun_report"),
    path("aliyun/reply/<str:token>/", aliyun_reply, name="sms_aliyun_reply"),
    path("tencent/report/<str:token>/", tencent_report, name="sms_tencent_report"),
    path("tencent/reply/<str:token>/", tencent_reply, name="sms_tencent_reply"),
]
