"""The partner's counter page: scan or type a voucher's code, see the reward and the courier's
masked name, tap 确认兑换.

Only partner accounts (staff users with a PartnerMember link) get in, and only their own
partner's vouchers are found. Code lookups are counted in the database per account and per
address (the public-form limits skip staff, so the counter counts its own): a partner cannot
try codes until one fits.
"""

from __future__ import annotations

import time
from functools import wraps
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from activities.rewards import vouchers
from activities.rewards.partners import partner_of
from couriers.security.ratelimit import client_address, digest, hit, too_many_requests

LOOKUP_PERIOD = 600  # seconds; REWARD_COUNTER_LOOKUPS per account and per address in each
# The counter page, alone on the site, may use the camera (to scan the voucher's QR code).
COUNTER_PERMISSIONS_POLICY = "geolocation=(self), camera=(self), microphone=(), payment=(), usb=()"


def partner_required(view):
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            login = f"/{settings.ADMIN_URL}login/?next={quote(request.get_full_path())}"
            return redirect(login)
        partner = partner_of(request.user)
        if partner is None or not partner.is_active:
            return render(request, "rewards/counter_refused.html", status=403)
        request.partner = partner
        return view(request, *args, **kwargs)

    return wrapper


def lookup_wait(request: HttpRequest) -> int:
    """Count one code lookup; seconds to wait when this account or address is over its limit."""
    limit = settings.REWARD_COUNTER_LOOKUPS
    for kind, ident in (("user", str(request.user.pk)), ("address", client_address(request))):
        if hit(digest("rewards:counter", kind, ident), LOOKUP_PERIOD) > limit:
            return LOOKUP_PERIOD - int(time.time()) % LOOKUP_PERIOD
    return 0


@partner_required
def counter(request: HttpRequest) -> HttpResponse:
    partner = request.partner
    code = (request.POST.get("code") if request.method == "POST" else request.GET.get("code")) or ""
    voucher = None
    error = ""
    if code:
        wait = lookup_wait(request)
        if wait:
            return too_many_requests(request, wait)
        try:
            if request.method == "POST" and "confirm" in request.POST:
                used = vouchers.use(code, partner, request.user)
                messages.success(
                    request,
                    f"已核销：{used.reward.name}（{used.courier_masked_name}），"
                    f"券码尾号 {used.code[-3:]}。",
                )
                return redirect("rewards:counter")
            voucher = vouchers.look_up(code, partner)
            error = vouchers.state_message(voucher)
        except vouchers.VoucherRefused as refused:
            error = str(refused)
    response = render(
        request,
        "rewards/counter.html",
        {"partner": partner, "voucher": voucher, "error": error, "code": code[:40]},
        status=200 if not error else 400,
    )
    response["Permissions-Policy"] = COUNTER_PERMISSIONS_POLICY
    return response
