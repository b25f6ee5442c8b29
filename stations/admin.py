"""Admin for stations: town-scoped, with easy coordinate entry, opening hours inline, posters,
status reports to clear, and usage counts from poster scans."""

from __future__ import annotations

import datetime

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.db.models.functions import ExtractHour
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from couriers.admin_scoping import TownScopedAdmin
from couriers.imports.admin import SheetImportMixin
from couriers.models import ImportJob
from stations import geo
from stations.models import (
    OpeningHours,
    Service,
    Station,
    StationVisit,
    StatusReport,
)


class StationForm(forms.ModelForm):
    coordinates = forms.CharField(
        label="粘贴坐标",
        required=False,
        help_text="粘贴“纬度,经度”（如 30.918,121.474）或高德坐标拾取器给出的“经度,纬度”，"
        "保存时自动填入纬度、经度；也可在下方地图上点选。",
        widget=forms.TextInput(attrs={"size": 40, "placeholder": "30.918,121.474"}),
    )

    class Meta:
        model = Station
        fields = [
            "name",
            "host_type",
            "town",
            "community",
            "address",
            "phone",
            "latitude",
            "longitude",
            "open_24_hours",
            "services",
            "is_demonstration",
            "photo",
            "is_active",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("latitude", "longitude"):
            if name in self.fields:
                self.fields[name].required = False
        self.fields["coordinates"].widget.attrs["data-tiles"] = settings.MAP_TILE_URL
        # On 高德's GCJ-02 tiles the picker shifts clicks back to the WGS-84 that is stored.
        self.fields["coordinates"].widget.attrs["data-coordinates"] = settings.MAP_TILE_COORDINATES

    def clean(self):
        data = super().clean()
        pasted = data.get("coordinates", "").strip()
        if pasted:
            try:
                data["latitude"], data["longitude"] = geo.parse_coordinates(pasted)
            except ValueError as problem:
                self.add_error("coordinates", str(problem))
                return data
            self.errors.pop("latitude", None)
            self.errors.pop("longitude", None)
        if data.get("latitude") is None or data.get("longitude") is None:
            self.add_error("coordinates", "请填写坐标：粘贴“纬度,经度”，或分别填写纬度和经度。")
        return data

    class Media:
        css = {"all": ["leaflet/leaflet.css"]}
        js = ["leaflet/leaflet.js", "js/admin_coordinate_picker.js"]


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 1
    verbose_name_plural = "开放时间（每天可有多段；勾选“24小时开放”时不用填写）"


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "icon", "sort_order")
    list_editable = ("sort_order",)
    search_fields = ("name",)


@admin.register(Station)
class StationAdmin(SheetImportMixin, TownScopedAdmin):
    import_kind = ImportJob.Kind.STATIONS
    form = StationForm
    inlines = [OpeningHoursInline]
    list_display = (
        "name",
        "town",
        "host_type",
        "is_demonstration",
        "is_active",
        "open_reports",
        "visits_30_days",
        "poster_link",
    )
    list_filter = ("town", "host_type", "is_demonstration", "is_active", "services")
    list_select_related = ("town",)
    search_fields = ("name", "address")
    autocomplete_fields = ("community",)
    filter_horizontal = ("services",)
    fieldsets = (
        (None, {"fields": ("name", "host_type", "town", "community", "address", "phone")}),
        ("位置", {"fields": ("coordinates", "latitude", "longitude")}),
        (
            "开放与服务",
            {"fields": ("open_24_hours", "services", "is_demonstration", "photo", "is_active")},
        ),
    )

    def get_queryset(self, request):
        month_ago = timezone.now() - datetime.timedelta(days=30)
        return (
            super()
            .get_queryset(request)
            .annotate(
                open_report_count=Count(
                    "reports", filter=Q(reports__cleared_at__isnull=True), distinct=True
                ),
                visit_count=Count(
                    "visits", filter=Q(visits__visited_at__gte=month_ago), distinct=True
                ),
            )
        )

    @admin.display(description="待处理反馈", ordering="open_report_count")
    def open_reports(self, station: Station) -> int:
        return station.open_report_count

    @admin.display(description="近30天到访", ordering="visit_count")
    def visits_30_days(self, station: Station) -> int:
        return station.visit_count

    @admin.display(description="海报")
    def poster_link(self, station: Station) -> str:
        return format_html(
            '<a href="{}" target="_blank">打印海报</a>',
            reverse("stations:poster", args=[station.pk]),
        )

    def get_urls(self):
        return [
            path(
                "usage/", self.admin_site.admin_view(self.usage_view), name="stations_station_usage"
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "extra_links": [(reverse("admin:stations_station_usage"), "使用情况")],
        }
        return super().changelist_view(request, extra_context)

    def usage_view(self, request):
        """Poster scans per station and per hour of day, over a chosen number of days."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            days = max(1, min(int(request.GET.get("days", 30)), 365))
        except ValueError:
            days = 30
        since = timezone.now() - datetime.timedelta(days=days)
        visits = StationVisit.objects.for_user(request.user).filter(visited_at__gte=since)
        by_station = (
            visits.values("station__name", "station__town__name")
            .annotate(n=Count("id"))
            .order_by("-n")
        )
        by_hour = dict(
            visits.annotate(hour=ExtractHour("visited_at"))
            .values_list("hour")
            .annotate(n=Count("id"))
            .values_list("hour", "n")
        )
        peak = max(by_hour.values(), default=0)
        hours_table = [
            (h, by_hour.get(h, 0), int(100 * by_hour.get(h, 0) / peak) if peak else 0)
            for h in range(24)
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "站点使用情况",
            "days": days,
            "by_station": by_station,
            "hours_table": hours_table,
            "total": sum(by_hour.values()),
        }
        return TemplateResponse(request, "admin/stations/usage.html", context)


@admin.register(StatusReport)
class StatusReportAdmin(TownScopedAdmin):
    list_display = ("station", "kind", "created_at", "cleared_at", "cleared_by")
    list_filter = (("cleared_at", admin.EmptyFieldListFilter), "kind", "station__town")
    list_select_related = ("station", "cleared_by")
    search_fields = ("station__name",)
    actions = ["clear_reports"]
    readonly_fields = ("station", "kind", "created_at", "cleared_at", "cleared_by")

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="标记为已处理", permissions=["change"])
    def clear_reports(self, request, queryset):
        count = queryset.filter(cleared_at__isnull=True).update(
            cleared_at=timezone.now(), cleared_by=request.user
        )
        self.message_user(request, f"已处理 {count} 条反馈。", messages.SUCCESS)


@admin.register(StationVisit)
class StationVisitAdmin(TownScopedAdmin):
    list_display = ("station", "visited_at", "courier")
    list_filter = ("station__town",)
    list_select_related = ("station", "courier")
    search_fields = ("station__name",)
    date_hierarchy = "visited_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# The check-in points, campaigns and check-ins have their admin beside the check-in flow.
from stations.checkin import admin as checkin_admin  # noqa: E402, F401
