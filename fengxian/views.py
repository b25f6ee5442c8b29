"""The portal's home page (headline figures from every part of the portal that exists), the
health check for the proxy and monitoring, and the benchmark's trivial view."""

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache

from activities.models import Claim, VolunteerPost
from activities.programmes import signups
from couriers import identity
from couriers.models import Courier, Enterprise, Outlet
from fengxian.public_cache import public_page
from stations.models import CheckIn, CheckinPoint, Station


def headline_figures() -> list[dict]:
    """The home page's figures, a fixed handful of queries however large the registry grows."""
    registry = Courier.objects.headline_figures()
    return [
        {"value": registry["couriers"], "label": "登记快递小哥"},
        {
            "value": registry["party_members"],
            "label": "快递行业党员",
            "note": f"{registry['managed_members']} 名纳入属地党组织管理",
        },
        {"value": Enterprise.objects.count(), "label": "加盟企业"},
        {"value": Outlet.objects.count(), "label": "快递网点"},
        {"value": Station.objects.active().count(), "label": "骑乐融融站点"},
        {
            "value": CheckIn.objects.filter(campaign__is_current=True).count(),
            "label": "小哥报到",
            "note": f"{CheckinPoint.objects.filter(is_active=True).count()} 个报到点",
        },
        {
            "value": Claim.objects.filter(status=Claim.Status.ACTIVE).count(),
            "label": "志愿岗位认领",
            "note": f"{VolunteerPost.objects.active().count()} 个 6I 岗位",
        },
    ]


def coming_up(courier: Courier) -> dict:
    """What a signed-in courier has ahead (his next sign-ups and claimed posts), for the first
    screen: a few of each, the rest is on 我的."""
    return {
        "signups": list(signups.upcoming_for(courier)[:3]),
        "claims": list(
            Claim.objects.filter(courier=courier, status=Claim.Status.ACTIVE)
            .select_related("post__town")
            .order_by("-id")[:3]
        ),
    }


@public_page
def home(request: HttpRequest) -> HttpResponse:
    courier = identity.courier_on_public_page(request)
    return render(
        request,
        "home.html",
        {
            "figures": headline_figures(),
            "courier": courier,
            "coming_up": coming_up(courier) if courier else None,
        },
    )


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages without HTML (a report photo opened on its own)."""
    return redirect(static("img/favicon.svg"), permanent=True)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the app can reach its database, else 503, for the proxy and monitoring.

    Touches neither the session nor the user, so a probe every few seconds writes nothing. The
    reason for a failure goes to the log only: a public URL must not show host names or users.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logging.getLogger(__name__).exception("health check: database unavailable")
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


def trivial(request: HttpRequest) -> HttpResponse:
    """The benchmark's baseline (bench/pages.py): the cheapest response the stack can give.

    Mounted only when BENCH_TRIVIAL_VIEW is set, never in production."""
    return HttpResponse("ok", content_type="text/plain")
