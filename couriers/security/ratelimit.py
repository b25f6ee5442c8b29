"""Rate limits for public forms, counted in the database so they hold across workers.

Every POST to a public page (anything outside the staff admin) is counted per browser and per
client address in fixed windows; past the limit the client gets HTTP 429 with a Chinese
message, while other clients carry on. A view may set its own limits with `rate_limit`.

Who the client is, here and for every other limit and log: its address is `client_address`
(X-Forwarded-For is believed only from TRUSTED_PROXIES), its browser is `issued_device` (the
device cookie counts only when the server signed it).
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import random
import re
import time

from django.conf import settings
from django.core import signing
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from couriers.models import RateCounter

DEVICE_COOKIE = "fx_device"  # issued, signed, by stations.devices for anonymous visitors
_DEVICE_SALT = "fengxian.device-cookie"
_DEVICE_TOKEN = re.compile(r"[0-9a-f]{32}")


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


@functools.lru_cache(maxsize=4)
def _networks(proxies: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def client_address(request: HttpRequest) -> str:
    """The client's address (also django-axes' and the audit log's).

    REMOTE_ADDR, unless that is one of our own proxies (TRUSTED_PROXIES): then X-Forwarded-For
    is walked from the right past our proxies to the first address that is not ours. Whatever
    a client writes into that header itself sits further left and is never reached, so nobody
    chooses the address their requests count against."""
    address = _ip(request.META.get("REMOTE_ADDR", ""))
    if address is None:
        return ""
    ours = _networks(tuple(settings.TRUSTED_PROXIES))
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(hops):
        if not any(address in network for network in ours):
            break
        forwarded = _ip(hop)
        if forwarded is None:
            break  # junk where the client should be: keep the nearest address we know
        address = forwarded
    return str(address)


def sign_device(token: str) -> str:
    """The device cookie's value for `token`, signed so that only the server can make one."""
    return signing.Signer(salt=_DEVICE_SALT).sign(token)


def issued_device(request: HttpRequest) -> str:
    """The token of the device cookie the server issued this browser, else "": a made-up,
    unsigned or tampered cookie is no cookie, and limits count that browser by its address."""
    try:
        token = signing.Signer(salt=_DEVICE_SALT).unsign(request.COOKIES.get(DEVICE_COOKIE, ""))
    except signing.BadSignature:
        return ""
    return token if _DEVICE_TOKEN.fullmatch(token) else ""


def digest(*parts: str) -> str:
    """A keyed hash of the parts: what is stored instead of a device token or an address."""
    raw = ":".join((settings.SECRET_KEY, *parts))
    return hashlib.sha256(raw.encode()).hexdigest()


def hit(key: str, period: int) -> int:
    """Count one request for `key` in the current window of `period` seconds; the count so
    far. One atomic statement, so concurrent workers never lose a hit."""
    window = int(time.time()) // period * period
    q = connection.ops.quote_name
    table, key_col, window_col, hits = (
        q(RateCounter._meta.db_table),
        q("key"),
        q("window"),
        q("hits"),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({key_col}, {window_col}, {hits}) VALUES (%s, %s, 1) "
            f"ON CONFLICT ({key_col}, {window_col}) DO UPDATE SET {hits} = {table}.{hits} + 1 "
            f"RETURNING {hits}",
            [key, window],
        )
        hits = cursor.fetchone()[0]
    if random.random() < 0.01:  # now and then, forget windows older than a day
        RateCounter.objects.filter(window__lt=window - 86_400).delete()
    return hits


def over_limit(request: HttpRequest, scope: str, limits: dict | None = None) -> int:
    """Seconds to wait when this request is over one of its limits, else 0."""
    limits = limits or settings.PUBLIC_POST_LIMITS
    address = client_address(request)
    # A browser without our cookie counts by its address, so dropping or inventing cookies
    # gains nothing.
    device = issued_device(request) or f"ip:{address}"
    for kind, ident in (("device", device), ("address", address)):
        if kind not in limits:
            continue
        count, period = limits[kind]
        if hit(digest(scope, kind, ident), period) > count:
            return period - int(time.time()) % period
    return 0


def too_many_requests(request: HttpRequest, retry_after: int) -> HttpResponse:
    minutes = max(1, (retry_after + 59) // 60)
    response = render(request, "rate_limited.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def rate_limit(**limits: tuple[int, int]):
    """Own limits for a view's POSTs, e.g. @rate_limit(device=(5, 3600), address=(50, 3600))."""

    def decorate(view):
        view.rate_limits = limits  # read by PublicFormRateLimitMiddleware
        return view

    return decorate


class PublicFormRateLimitMiddleware:
    """Counts POSTs outside the staff admin; see the module docstring."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_prefix = "/" + settings.ADMIN_URL

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view, args, kwargs):
        if request.method != "POST" or request.path.startswith(self.admin_prefix):
            return None
        if getattr(request, "user", None) is not None and request.user.is_staff:
            return None
        limits = getattr(view, "rate_limits", None)
        scope = getattr(request.resolver_match, "view_name", "") or request.path
        wait = over_limit(request, scope, limits)
        if wait:
            return too_many_requests(request, wait)
        return None
