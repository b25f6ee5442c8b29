"""An anonymous, per-browser identity for rate limits and visit counts: a random token in a
long-lived cookie. Only a hash of it (and of the client's address) is stored."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse

COOKIE = "fx_device"
COOKIE_AGE = 2 * 365 * 24 * 3600


def _digest(value: str) -> str:
    return hashlib.sha256(f"{settings.SECRET_KEY}:{value}".encode()).hexdigest()


def device_token(request: HttpRequest) -> str:
    """This browser's token, creating one (set on the response by `remember_device`)."""
    token = getattr(request, "_device_token", None) or request.COOKIES.get(COOKIE, "")
    if not token or len(token) != 32:
        token = secrets.token_hex(16)
    request._device_token = token
    return token


def device_hash(request: HttpRequest) -> str:
    return _digest(device_token(request))


def address_hash(request: HttpRequest) -> str:
    # Behind the HTTPS proxy REMOTE_ADDR is the proxy; the proxy's X-Forwarded-For last hop
    # is the client. Configure the proxy to overwrite (not append to) that header.
    address = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
    return _digest("ip:" + (address or request.META.get("REMOTE_ADDR", "")))


def remember_device(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    token = getattr(request, "_device_token", None)
    if token and request.COOKIES.get(COOKIE) != token:
        response.set_cookie(
            COOKIE,
            token,
            max_age=COOKIE_AGE,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response
