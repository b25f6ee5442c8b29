"""CSRF_FAILURE_VIEW: a form posted after its CSRF cookie expired (a check-in form left open
on a phone, say) answers in Chinese, 「页面已过期，请重新提交」, instead of Django's technical page.

When the post comes from one of the site's own pages (the Origin header, which a browser sets
and no other site can), it was the courier's own form and only the cookie was missing: the
page keeps what was typed and resubmits it with a fresh token in one tap. A post from another
site (or without Origin) is never echoed back with a token — that would hand a forged request
the token it lacked — and gets only the message and a link back to the form.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

NOT_KEPT = ("csrfmiddlewaretoken",)


def _own_origins(request: HttpRequest) -> set[str]:
    return {f"{request.scheme}://{request.get_host()}", *settings.CSRF_TRUSTED_ORIGINS}


def _back(request: HttpRequest, own: set[str]) -> str:
    """The page the form was on when the Referer says it was ours, else the posted path."""
    referer = urlsplit(request.headers.get("Referer", ""))
    if f"{referer.scheme}://{referer.netloc}" in own and referer.path.startswith("/"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return request.path


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    own = _own_origins(request)
    ours = request.method == "POST" and request.headers.get("Origin") in own
    fields = []
    if ours:
        fields = [
            (name, value)
            for name, values in request.POST.lists()
            if name not in NOT_KEPT and "password" not in name
            for value in values
        ]
    context = {
        "fields": fields,
        "had_files": ours and bool(request.FILES),
        "action": request.path,
        "back": _back(request, own),
    }
    return render(request, "csrf_failure.html", context, status=403)
