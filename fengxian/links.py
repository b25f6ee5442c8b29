"""Public links: every address the portal hands out to be opened elsewhere (a poster's QR code,
an .ics file, a text message) is built from PUBLIC_BASE_URL, never from the host the staff
member happened to use: a poster printed from an intranet address must still work on the
street. In development, without PUBLIC_BASE_URL, the request's own host is used."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest


def public_url(path: str, request: HttpRequest | None = None) -> str:
    """The absolute public address of `path` (which starts with "/")."""
    base = settings.PUBLIC_BASE_URL
    if base:
        return base.rstrip("/") + path
    if request is None:
        return path
    return request.build_absolute_uri(path)


def public_host(request: HttpRequest | None = None) -> str:
    """The public host name (no port), e.g. for .ics UIDs."""
    if settings.PUBLIC_BASE_URL:
        return urlsplit(settings.PUBLIC_BASE_URL).hostname or ""
    return request.get_host().split(":")[0] if request is not None else "localhost"
