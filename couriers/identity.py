"""A courier signed in on the web: a session key, not a staff account.

A courier proves their phone with a one-time code and is then signed in on that browser;
`current_courier()` is the only way views learn who it is, so no URL carries a courier id.
"""

from __future__ import annotations

import inspect
from functools import wraps
from urllib.parse import urlsplit

from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import Resolver404, resolve

from couriers.models import Courier

SESSION_KEY = "courier_id"


def sign_in(request: HttpRequest, courier: Courier) -> None:
    if request.session.get(SESSION_KEY) != courier.pk:
        request.session.cycle_key()  # a new session id on sign-in (no session fixation)
        request.session[SESSION_KEY] = courier.pk
        # The usual length, even if the session was cut short for an unverified check-in.
        request.session.set_expiry(None)
    request._courier = courier


def sign_out(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()
    request._courier = None


def current_courier(request: HttpRequest) -> Courier | None:
    if not hasattr(request, "_courier"):
        pk = request.session.get(SESSION_KEY)
        request._courier = (
            Courier.objects.filter(pk=pk).select_related("work_town", "brand", "outlet").first()
            if pk
            else None
        )
    return request._courier


def courier_on_public_page(request: HttpRequest) -> Courier | None:
    """The signed-in courier on a page the public cache may store (fengxian.public_cache). A
    visitor without a session cookie cannot be one, and asking his empty session would mark the
    page personal (Vary: Cookie) and keep it out of the cache for everyone."""
    if not request.session.session_key:
        return None
    return current_courier(request)


# What the sign-in page says when the page the courier came from gives no reason of its own.
GENERAL_REASON = "登录后可以查看你的报到记录、认领的岗位、报名的活动和积分。"


def courier_required(view=None, *, reason: str = ""):
    """Send a signed-out visitor to the sign-in page, which tells him `reason` (see
    `signin_reason`). Usable bare (@courier_required) or with a reason."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if current_courier(request) is None:
                return redirect(f"/me/signin/?next={request.path}")
            return view(request, *args, **kwargs)

        if reason:
            wrapper.signin_reason = reason
        return wrapper

    return decorate(view) if view is not None else decorate


def signin_reason(reason: str):
    """Mark a view whose page links to sign-in (a post, an activity) with why signing in is
    needed there; the sign-in page shows it for `?next=` that view."""

    def mark(view):
        view.signin_reason = reason
        return view

    return mark


def why_sign_in(next_path: str) -> str:
    """The reason the view at `next_path` declared. Only our own views' fixed texts are shown,
    never anything taken from the URL, so a crafted link cannot put words on the page."""
    try:
        match = resolve(urlsplit(next_path).path or "/")
    except Resolver404:
        return GENERAL_REASON
    return getattr(match.func, "signin_reason", "") or GENERAL_REASON


def allowed_methods(view) -> set[str] | None:
    """The methods a view's require_http_methods (require_POST, …) lets through, or None when
    it has no such decorator. Django keeps the list only in the decorator's closure; tests
    (test_signin_context) pin that it is still found there."""
    while view is not None:
        try:
            methods = inspect.getclosurevars(view).nonlocals.get("request_method_list")
        except TypeError:  # not a plain function (a class instance, a builtin)
            methods = None
        if methods is not None:
            return set(methods)
        view = getattr(view, "__wrapped__", None)
    return None


def page_after_sign_in(next_path: str) -> str:
    """Where to go once signed in: `next_path`, unless its view takes only POST (a 报名 or 认领
    button pressed while signed out sends the button's URL): then the nearest page above it
    that can be opened (/activities/5/signup/ → /activities/5/). "" when there is none: the
    caller goes to 「我的」."""
    path = urlsplit(next_path).path
    candidate = path
    while candidate.strip("/"):
        try:
            view = resolve(candidate).func
        except Resolver404:
            view = None
        if view is not None:
            methods = allowed_methods(view)
            if methods is None or "GET" in methods:
                return next_path if candidate == path else candidate
        candidate = candidate.rstrip("/").rsplit("/", 1)[0] + "/"
    return ""
