"""Staff sessions end when left idle."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

SEEN_KEY = "_staff_seen"
# Refresh the last-seen time at most this often: a session write on every request would cost
# every page a database write.
SEEN_RESOLUTION = 60


def note_login(sender, request, user, **kwargs) -> None:
    # Logging in writes the session anyway; starting the idle clock then saves a write later.
    if request is not None and hasattr(request, "session"):
        request.session[SEEN_KEY] = int(time.time())


class StaffIdleTimeoutMiddleware:
    """Signs staff out after STAFF_IDLE_TIMEOUT_MINUTES without a request.

    A staff session unlocks personal data of a whole town; an office PC left open should not
    keep it unlocked. Couriers' own sessions (their phone) are not affected.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_prefix = "/" + settings.ADMIN_URL

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Staff powers are used in the admin; public pages need not read the session at all.
        if not request.path.startswith(self.admin_prefix):
            return self.get_response(request)
        user = request.user
        if user.is_authenticated and user.is_staff:
            now = int(time.time())
            seen = request.session.get(SEEN_KEY)
            if seen is not None and now - seen > settings.STAFF_IDLE_TIMEOUT_MINUTES * 60:
                logout(request)
                messages.info(request, "您已长时间未操作，为保护个人信息已自动退出，请重新登录。")
            elif seen is None or now - seen >= SEEN_RESOLUTION:
                request.session[SEEN_KEY] = now
        return self.get_response(request)
