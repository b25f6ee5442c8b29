"""An anonymous, per-browser identity for rate limits and visit counts: a random token in a
long-lived cookie that the server signs (couriers.security.ratelimit reads it back). Only a
hash of it (and of the client's address) is stored."""

from __future__ import annotations

import functools
import secrets

from django.http import HttpRequest, HttpResponse

from couriers.security.ratelimit import (
    DEVICE_COOKIE,
    client_address,
    digest,
    issued_device,
    sign_device,
)

COOKIE = DEVICE_COOKIE
COOKIE_AGE = 2 * 365 * 24 * 3600


def device_token(request: HttpRequest) -> str:
    """This browser's token: the one we issued it, else a new one (set on the response by
    `remember_device`)."""
    token = getattr(request, "_device_token", None) or issued_device(request)
    if not token:
        token = secrets.token_hex(16)
    request._device_token = token
    return token


def device_hash(request: HttpRequest) -> str:
    """This browser's device as recorded: the hash of its token (a new one when it brought
    none of ours, which `remember_device` then gives it)."""
    return digest(device_token(request))


def is_known(request: HttpRequest) -> bool:
    """Whether the browser brought a device cookie we issued. Without one, limits that count
    devices count its address instead, so a missing or made-up cookie gains nothing."""
    return bool(issued_device(request))


def address_hash(request: HttpRequest) -> str:
    return digest("ip:" + client_address(request))


def remember_device(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    token = getattr(request, "_device_token", None)
    if token and issued_device(request) != token:
        response.set_cookie(
            COOKIE,
            sign_device(token),
            max_age=COOKIE_AGE,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response


def remembers_device(view):
    """For a view that uses the device (`device_hash`): its response gives a browser that has
    none of our cookies its new one."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return remember_device(request, view(request, *args, **kwargs))

    return wrapped
