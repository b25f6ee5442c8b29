"""Whole-page caching of public pages for anonymous visitors, correct by construction.

A page is served from the shared cache only to a visitor who carries no session or messages
cookie (nothing about them can be on it), and a rendered page is stored only when rendering
touched no session, set no cookie and put no CSRF token in it. Entries live PUBLIC_PAGE_CACHE
seconds (a minute by default), so "open now", places left and counts are never staler than
that. Identified couriers and staff always get a freshly rendered page.
"""

from __future__ import annotations

import hashlib
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

PERSONAL_COOKIES = (settings.SESSION_COOKIE_NAME, "messages")
# Headers that belong to one response, not to the page.
NOT_REPLAYED = {"set-cookie", "date", "content-length"}


def public_page(view):
    """Mark `view` as a public page that anonymous visitors may be served from the cache."""
    view.public_page = True
    return view


def _anonymous(request: HttpRequest) -> bool:
    return request.method in ("GET", "HEAD") and not any(
        name in request.COOKIES for name in PERSONAL_COOKIES
    )


def _public_view(request: HttpRequest) -> bool:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return getattr(match.func, "public_page", False)


def _storable(request: HttpRequest, response: HttpResponse) -> bool:
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and "cookie" not in response.get("Vary", "").lower()
    )


def cache_key(request: HttpRequest) -> str:
    path = request.get_full_path().encode()
    return f"page:{request.get_host()}:{hashlib.sha256(path).hexdigest()}"


class PublicPageCacheMiddleware:
    """Serves and stores public pages (see the module docstring).

    It sits near the top of the middleware list: a stored page is answered before sessions,
    authentication, CSRF and the audit log are set up, and a rendered one is stored with the
    headers the inner middleware gave it. The security and CSP middleware above it add their
    headers to both.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        seconds = settings.PUBLIC_PAGE_CACHE
        if not (seconds and _anonymous(request) and _public_view(request)):
            return self.get_response(request)
        key = cache_key(request)
        hit = cache.get(key)
        if hit is not None:
            content, headers = hit
            response = HttpResponse(content)
            for name, value in headers:
                response[name] = value
            return response
        response = self.get_response(request)
        if _storable(request, response):
            headers = [(k, v) for k, v in response.items() if k.lower() not in NOT_REPLAYED]
            cache.set(key, (response.content, headers), seconds)
        return response


def _same_origin(request: HttpRequest) -> bool:
    own = f"{request.scheme}://{request.get_host()}"
    trusted = {own, *settings.CSRF_TRUSTED_ORIGINS}
    origin = request.headers.get("Origin")
    if origin:
        return origin in trusted
    referer = request.headers.get("Referer", "")
    return any(referer.startswith(f"{site}/") for site in trusted)


def same_origin_post(view):
    """For a form on a cached page, which cannot carry a per-visitor CSRF token: the POST is
    accepted only from this site's own pages, told by the Origin header browsers send (or the
    Referer, from older ones) — the standard header check that stands in for the token."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "POST" and not _same_origin(request):
            return HttpResponse("请从本站页面提交。", status=403, content_type="text/plain")
        return view(request, *args, **kwargs)

    wrapper.csrf_exempt = True
    return wrapper
