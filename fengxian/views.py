"""The portal's home page: headline figures from every part of the portal that exists."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static

from activities.models import Claim, VolunteerPost
from couriers.models import Courier, Enterprise, Outlet
from couriers.public_cache import public_page
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


@public_page
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"figures": headline_figures()})


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages without HTML (a report photo opened on its own)."""
    return redirect(static("img/favicon.svg"), permanent=True)
