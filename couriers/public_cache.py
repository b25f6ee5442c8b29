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

PERSONAL_COOKIES = (settings.SESSION_COOKIE_NAME, "messages")


def _anonymous(request: HttpRequest) -> bool:
    return request.method in ("GET", "HEAD") and not any(
        name in request.COOKIES for name in PERSONAL_COOKIES
    )


def _storable(request: HttpRequest, response: HttpResponse) -> bool:
    session = getattr(request, "session", None)
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and not (session is not None and session.accessed)
        and "Cookie" not in response.get("Vary", "")
    )


def cache_key(request: HttpRequest) -> str:
    path = request.get_full_path().encode()
    return f"page:{request.get_host()}:{hashlib.sha256(path).hexdigest()}"


def public_page(view):
    """Serve `view` from the shared cache to anonymous visitors; see the module docstring."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        seconds = settings.PUBLIC_PAGE_CACHE
        if not seconds or not _anonymous(request):
            return view(request, *args, **kwargs)
        key = cache_key(request)
        hit = cache.get(key)
        if hit is not None:
            content, content_type = hit
            return HttpResponse(content, content_type=content_type)
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and not response.is_rendered:
            response.render()
        if _storable(request, response):
            cache.set(key, (response.content, response["Content-Type"]), seconds)
        return response

    return wrapper


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
