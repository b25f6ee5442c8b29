"""A courier signed in on the web: a session key, not a staff account.

A courier proves their phone with a one-time code and is then signed in on that browser;
`current_courier()` is the only way views learn who it is, so no URL carries a courier id.
"""

from __future__ import annotations

from functools import wraps

from django.http import HttpRequest
from django.shortcuts import redirect

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


def courier_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if current_courier(request) is None:
            return redirect(f"/me/signin/?next={request.path}")
        return view(request, *args, **kwargs)

    return wrapper
