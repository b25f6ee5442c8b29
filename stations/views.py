"""Public station pages: the finder (list and map), a station's page, one-tap status reports,
poster scans and the printable poster."""

from __future__ import annotations

import dataclasses
import datetime

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from couriers import identity
from couriers.models import Town
from couriers.scoping import staff_object_or_404
from fengxian.links import public_url
from fengxian.public_cache import public_page, same_origin_post
from stations import devices, geo, hours
from stations.finder import active_filters, back_link, finder_query, markers, page_of
from stations.models import OpeningHours, Service, Station, StatusReport
from stations.posters import render_poster
from stations.reports import AlreadyReported, TooManyReports, submit_report
from stations.visits import record_visit


def _plausible_id(value: str) -> bool:
    """False for an integer no 64-bit column holds (either sign): SQLite would overflow."""
    try:
        number = int(value.strip())
    except ValueError:
        return True  # not a number at all: the field refuses it as usual
    return -(2**63) <= number < 2**63


class FinderForm(forms.Form):
    service = forms.ModelMultipleChoiceField(
        queryset=Service.objects.all(),
        required=False,
        label="需要的服务",
        widget=forms.CheckboxSelectMultiple,
    )
    town = forms.ModelChoiceField(
        queryset=Town.objects.all(), required=False, label="街镇", empty_label="全部街镇"
    )
    open = forms.BooleanField(required=False, label="只看现在开放的")
    lat = forms.FloatField(required=False, widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, widget=forms.HiddenInput)

    def __init__(self, data=None, *args, **kwargs):
        if data is not None:
            # Ids that are no database id (past 64 bits) are no choice: SQLite would overflow.
            data = data.copy()
            for name in ("service", "town"):
                if hasattr(data, "setlist"):
                    data.setlist(name, [v for v in data.getlist(name) if _plausible_id(v)])
                elif isinstance(data.get(name), str) and not _plausible_id(data[name]):
                    data.pop(name)
                elif isinstance(data.get(name), list):
                    data[name] = [v for v in data[name] if _plausible_id(str(v))]
        super().__init__(data, *args, **kwargs)

    def clean(self):
        data = super().clean()
        lat, lng = data.get("lat"), data.get("lng")
        # A position far outside the district (or half of one) sorts nothing.
        if lat is None or lng is None or abs(lat) > 90 or abs(lng) > 180:
            data["lat"] = data["lng"] = None
        return data


@dataclasses.dataclass
class Entry:
    station: Station
    status: hours.Status
    distance: float | None

    @property
    def distance_text(self) -> str:
        return geo.format_distance(self.distance) if self.distance is not None else ""


def search_stations(
    *,
    town=None,
    services=(),
    open_only: bool = False,
    lat: float | None = None,
    lng: float | None = None,
) -> list[Entry]:
    """Active stations matching the filters, nearest first when a position is given.

    One query each for the stations, their hours, their services and the service list,
    however many stations there are; opening status and distance are computed in memory.
    Hours and services are read as plain rows, not prefetched: with 1,000 stations a prefetch
    built some 24,000 model instances and took the finder's answer past a second.
    """
    found = Station.objects.active()
    if town is not None:
        found = found.filter(town=town)
    stations = list(found.select_related("town", "community"))
    ranges: dict[int, list] = {s.pk: [] for s in stations}
    for station_id, *span in (
        OpeningHours.objects.filter(station__in=found)
        .order_by("weekday", "opens")
        .values_list("station_id", "weekday", "opens", "closes")
    ):
        ranges[station_id].append(tuple(span))
    every_service = {service.pk: service for service in Service.objects.all()}
    offered: dict[int, list[Service]] = {s.pk: [] for s in stations}
    for station_id, service_id in (
        Station.services.through.objects.filter(station__in=found)
        .order_by("service__sort_order", "service__name")
        .values_list("station_id", "service_id")
    ):
        offered[station_id].append(every_service[service_id])
    wanted = {service.pk for service in services}
    now = timezone.localtime()
    entries = []
    for station in stations:
        station.finder_hours, station.finder_services = ranges[station.pk], offered[station.pk]
        if wanted and not wanted <= {s.pk for s in station.finder_services}:
            continue
        status = station.status(now)
        if open_only and not status.is_open:
            continue
        distance = station.distance_from(lat, lng) if lat is not None else None
        entries.append(Entry(station, status, distance))
    if lat is not None:
        entries.sort(key=lambda e: e.distance)
    return entries


def find_stations(form: FinderForm) -> list[Entry]:
    """The finder's search, from its form."""
    data = {}
    if form.is_bound:
        form.is_valid()  # cleaned_data keeps every valid field: one bad field drops only itself
        data = form.cleaned_data
    return search_stations(
        town=data.get("town"),
        services=data.get("service") or (),
        open_only=bool(data.get("open")),
        lat=data.get("lat"),
        lng=data.get("lng"),
    )


def _located(form: FinderForm) -> bool:
    return bool(form.is_bound and form.is_valid() and form.cleaned_data.get("lat") is not None)


@public_page
def finder(request: HttpRequest) -> HttpResponse:
    form = FinderForm(request.GET or None)
    entries = find_stations(form)
    shown, more = page_of(entries, request.GET)
    return render(
        request,
        "stations/finder.html",
        {
            "form": form,
            "entries": shown,
            "total": len(entries),
            "more": more,
            "located": _located(form),
            "query": finder_query(request.GET),
            "card_query": finder_query(request.GET),
            "active_filters": active_filters(form),
        },
    )


@public_page
def station_map(request: HttpRequest) -> HttpResponse:
    """The map page itself carries the first 20 cards; the markers come as JSON."""
    form = FinderForm(request.GET or None)
    entries = find_stations(form)
    shown, more = page_of(entries, request.GET)
    query = finder_query(request.GET)
    return render(
        request,
        "stations/map.html",
        {
            "form": form,
            "entries": shown,
            "total": len(entries),
            "more": more,
            "markers_url": reverse("stations:markers") + (f"?{query}" if query else ""),
            "query": query,
            "card_query": finder_query(request.GET | {"view": ["map"]}),
            "active_filters": active_filters(form),
            "located": _located(form),
            "map_config": {
                "tiles": settings.MAP_TILE_URL,
                "labels": settings.MAP_TILE_LABELS_URL,
                "attribution": settings.MAP_TILE_ATTRIBUTION,
                "position": _position_on_map(form),
            },
        },
    )


@public_page
def station_markers(request: HttpRequest) -> HttpResponse:
    """Every station matching the map's filters, as compact JSON for its markers."""
    entries = find_stations(FinderForm(request.GET or None))
    data = markers(entries, to_map=_tile_coordinates())
    return JsonResponse(data, json_dumps_params={"separators": (",", ":")})


def _tile_coordinates():
    """WGS-84 → the tiles' coordinate system: 高德's tiles are drawn in GCJ-02."""
    return geo.wgs84_to_gcj02 if settings.MAP_TILE_COORDINATES == "gcj02" else None


def _position_on_map(form: FinderForm) -> list[float] | None:
    """The courier's position (from 离我最近) where the map's tiles put it, or None."""
    if not _located(form):
        return None
    lat, lng = form.cleaned_data["lat"], form.cleaned_data["lng"]
    to_map = _tile_coordinates()
    if to_map is not None:
        lat, lng = to_map(lat, lng)
    return [round(lat, 6), round(lng, 6)]


@public_page
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    station = get_object_or_404(Station.objects.active().for_finder(), pk=pk)
    return _detail_page(request, station)


def _detail_page(request: HttpRequest, station: Station, status: int = 200) -> HttpResponse:
    reports = [
        (r, ago(r.created_at))
        for r in StatusReport.objects.open().recent().filter(station=station)[:5]
    ]
    back_url, back_label = back_link(request.GET)
    return render(
        request,
        "stations/detail.html",
        {
            "station": station,
            "status": station.status(),
            "week": station.week(),
            "links": station.navigation_links(),
            "reports": reports,
            "report_kinds": StatusReport.Kind.choices,
            "today": timezone.localtime().weekday(),
            "finder_query": finder_query(request.GET),
            "back_url": back_url,
            "back_label": back_label,
        },
        status=status,
    )


def ago(moment: datetime.datetime) -> str:
    """刚刚, 5 分钟前, 3 小时前."""
    seconds = (timezone.now() - moment).total_seconds()
    if seconds < 60:
        return "刚刚"
    if seconds < 3600:
        return f"{int(seconds // 60)} 分钟前"
    return f"{int(seconds // 3600)} 小时前"


@same_origin_post
@require_POST
def report(request: HttpRequest, pk: int) -> HttpResponse:
    station = get_object_or_404(Station.objects.active(), pk=pk)
    query = finder_query(request.GET)  # the finder's state rides along on the form's action
    back_here = reverse("stations:detail", args=[pk]) + (f"?{query}" if query else "")
    kind = request.POST.get("kind", "")
    if kind not in StatusReport.Kind.values:
        messages.error(request, "请选择要报告的情况。")
        return redirect(back_here)
    try:
        submit_report(
            station,
            kind,
            devices.device_hash(request),
            devices.address_hash(request),
            device_known=devices.is_known(request),
        )
    except AlreadyReported as repeat:
        # A second tap on the same button: the first report stands; say so on the page.
        messages.info(request, str(repeat))
        return devices.remember_device(request, redirect(back_here))
    except TooManyReports as refused:
        messages.error(request, str(refused))
        station = Station.objects.active().for_finder().get(pk=pk)
        return devices.remember_device(request, _detail_page(request, station, status=429))
    messages.success(request, f"谢谢！已报告“{StatusReport.Kind(kind).label}”。")
    return devices.remember_device(request, redirect(back_here))


def scan(request: HttpRequest, pk: int) -> HttpResponse:
    """The poster's QR code lands here: count a visit (see stations/visits.py)."""
    station = get_object_or_404(Station.objects.active(), pk=pk)
    visit = record_visit(
        station,
        device=devices.device_hash(request),
        device_known=devices.is_known(request),
        address=devices.address_hash(request),
        courier=identity.current_courier(request),
    )
    if visit is not None:
        messages.success(request, f"欢迎来到{station.name}，歇歇脚吧！")
    return devices.remember_device(request, redirect("stations:detail", pk=pk))


def poster(request: HttpRequest, pk: int) -> HttpResponse:
    """An A4 poster to print and hang at the station; its QR code opens `scan`. Staff may
    print one before the station opens, for a station of their own town."""
    stations = Station.objects.select_related("town")
    station = stations.active().filter(pk=pk).first()
    if station is None:
        station = staff_object_or_404(request.user, stations, pk=pk)
    return render_poster(
        request,
        title="骑乐融融",
        subtitle="快递小哥歇脚点 · 欢迎进来坐坐",
        name=station.name,
        steps=[
            "打开微信或手机相机，扫描上方二维码",
            "查看开放时间、饮水充电等服务，一键导航",
            "站点没水了、充电坏了？点一下告诉大家",
        ],
        address=f"{station.town.name} · {station.address}",
        url=public_url(reverse("stations:scan", args=[station.pk]), request),
    )
