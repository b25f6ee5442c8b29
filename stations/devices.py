"""An anonymous, per-browser identity for rate limits and visit counts: a random token in a
long-lived cookie. Only a hash of it (and of the client's address) is stored."""

from __future__ import annotations

import secrets

from django.http import HttpRequest, HttpResponse

from couriers.security.ratelimit import DEVICE_COOKIE, client_address, digest

COOKIE = DEVICE_COOKIE
COOKIE_AGE = 2 * 365 * 24 * 3600


def device_token(request: HttpRequest) -> str:
    """This browser's token, creating one (set on the response by `remember_device`)."""
    token = getattr(request, "_device_token", None) or request.COOKIES.get(COOKIE, "")
    if not token or len(token) != 32:
        token = secrets.token_hex(16)
    request._device_token = token
    return token


def device_hash(request: HttpRequest) -> str:
    return digest(device_token(request))


def address_hash(request: HttpRequest) -> str:
    return digest("ip:" + client_address(request))


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
