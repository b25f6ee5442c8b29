"""Admin for 小哥报到: campaigns, check-in points (posters, list import, progress against
targets) and check-ins (town-scoped, masked export)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from import_export import fields
from import_export.admin import ExportMixin
from import_export.formats import base_formats

from couriers.admin_scoping import TownScopedAdmin
from couriers.imports.admin import SheetImportMixin
from couriers.imports.resources import SafeExportResource
from couriers.models import ImportJob
from couriers.scoping import staff_object_or_404
from fengxian.links import public_url
from stations.checkin.flow import point_token
from stations.models import (
    Campaign,
    CheckIn,
    CheckInMove,
    CheckinPoint,
)
from stations.posters import render_poster


class CheckInMoveInline(admin.TabularInline):
    model = CheckInMove
    extra = 0
    can_delete = False
    readonly_fields = ("from_point", "to_point", "moved_at")
    verbose_name_plural = "报到点变更记录"

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "starts_on", "ends_on", "is_current")
    list_filter = ("is_current",)


@admin.register(CheckinPoint)
class CheckinPointAdmin(SheetImportMixin, TownScopedAdmin):
    import_kind = ImportJob.Kind.CHECKIN_POINTS
    ordering = ("town__sort_order", "name")
    list_display = (
        "name",
        "kind",
        "town",
        "community",
        "target",
        "checkins_current",
        "is_active",
        "poster_link",
    )
    list_filter = ("town", "kind", "is_active")
    list_select_related = ("town", "community")
    search_fields = ("name", "address")
    autocomplete_fields = ("community",)
    actions = ["rotate_poster_token"]

    @admin.action(description="重新生成二维码（旧海报作废）", permissions=["change"])
    def rotate_poster_token(self, request, queryset) -> None:
        """For a poster misused or copied where it should not be: its points get new tokens,
        every poster printed so far stops working, and staff print new ones. The queryset is
        the user's own town's points only (TownScopedAdmin)."""
        points = list(queryset)
        for point in points:
            point.rotate_poster_token()
        self.message_user(
            request,
            f"已为 {len(points)} 个报到点重新生成二维码，旧海报已作废，请重新打印海报。",
            messages.SUCCESS,
        )

    def get_queryset(self, request):
        campaign = Campaign.objects.current()
        return (
            super()
            .get_queryset(request)
            .annotate(current_count=Count("checkins", filter=Q(checkins__campaign=campaign)))
        )

    @admin.display(description="本季报到", ordering="current_count")
    def checkins_current(self, point: CheckinPoint) -> str:
        return f"{point.current_count} / {point.target}"

    @admin.display(description="海报")
    def poster_link(self, point: CheckinPoint) -> str:
        return format_html(
            '<a href="{}" target="_blank">打印海报</a>',
            reverse("admin:stations_checkinpoint_poster", args=[point.pk]),
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/poster/", wrap(self.poster_view), name="stations_checkinpoint_poster"),
            path("progress/", wrap(self.progress_view), name="stations_checkinpoint_progress"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "extra_links": [(reverse("admin:stations_checkinpoint_progress"), "报到进度")],
        }
        return super().changelist_view(request, extra_context)

    def poster_view(self, request, pk: int):
        point = staff_object_or_404(
            request.user, CheckinPoint.objects.select_related("town"), pk=pk
        )
        return render_poster(
            request,
            title="你好小哥，欢迎回家",
            subtitle="小哥报到季 · 扫码报到",
            name=point.name,
            steps=[
                "打开微信或手机相机，扫描上方二维码",
                "填写姓名、手机号等信息，输入短信验证码",
                "完成报到，认领志愿服务岗位，参加关爱活动",
            ],
            address=f"{point.town.name} · {point.address}",
            url=public_url(reverse("checkin:start", args=[point_token(point)]), request),
        )

    def progress_view(self, request):
        """Check-ins of the current campaign per point and per town against the targets,
        and by day."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        campaign = Campaign.objects.current()
        points = (
            CheckinPoint.objects.for_user(request.user)
            .select_related("town")
            .annotate(n=Count("checkins", filter=Q(checkins__campaign=campaign)))
            .order_by("town__sort_order", "name")
        )
        towns: dict[str, list[int]] = {}
        for point in points:
            towns.setdefault(point.town.name, [0, 0])
            towns[point.town.name][0] += point.n
            towns[point.town.name][1] += point.target if point.is_active else 0
        checkins = CheckIn.objects.for_user(request.user).filter(campaign=campaign)
        by_day = list(
            checkins.annotate(day=TruncDate("created_at"))
            .values("day")
            .annotate(n=Count("id"))
            .order_by("day")
        )
        running = 0
        for row in by_day:
            running += row["n"]
            row["total"] = running
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "报到进度",
            "campaign": campaign,
            "points": points,
            "by_day": by_day,
            "towns": [
                (name, n, target, int(100 * n / target) if target else 0)
                for name, (n, target) in towns.items()
            ],
            "total": sum(p.n for p in points),
            "target": sum(p.target for p in points if p.is_active),
        }
        return TemplateResponse(request, "admin/stations/checkin_progress.html", context)


class CheckInResource(SafeExportResource):
    """Check-ins for export: scoped like the changelist, phone masked unless permitted."""

    courier_name = fields.Field(attribute="courier__name", column_name="姓名")
    phone = fields.Field(attribute="courier__phone", column_name="手机号码")
    town = fields.Field(attribute="point__town__name", column_name="街镇")
    point = fields.Field(attribute="point__name", column_name="报到点")
    campaign = fields.Field(attribute="campaign__name", column_name="报到季")
    created_at = fields.Field(attribute="created_at", column_name="报到时间")
    interests = fields.Field(column_name="想参加的志愿服务")

    class Meta:
        model = CheckIn
        fields = ("courier_name", "phone", "town", "point", "campaign", "created_at", "interests")
        export_order = fields

    def dehydrate_phone(self, checkin: CheckIn) -> str:
        if self.may("couriers.view_full_phone"):
            return checkin.courier.phone
        return checkin.courier.masked_phone

    def dehydrate_created_at(self, checkin: CheckIn) -> str:
        return f"{timezone.localtime(checkin.created_at):%Y-%m-%d %H:%M}"

    def dehydrate_interests(self, checkin: CheckIn) -> str:
        return "、".join(checkin.interest_labels())


@admin.register(CheckIn)
class CheckInAdmin(ExportMixin, TownScopedAdmin):
    resource_classes = [CheckInResource]
    formats = [base_formats.XLSX, base_formats.CSV]
    list_display = ("courier", "point", "town", "campaign", "created_at", "sensitive_consent")
    list_filter = ("campaign", "point__town", "point")
    list_select_related = ("courier", "point__town", "campaign")
    search_fields = ("courier__name", "point__name")
    autocomplete_fields = ("courier", "point")
    readonly_fields = ("privacy_consent_at", "sensitive_consent_at", "created_at")
    inlines = [CheckInMoveInline]

    @admin.display(description="街镇", ordering="point__town")
    def town(self, checkin: CheckIn) -> str:
        return checkin.point.town.name

    @admin.display(description="敏感信息同意", boolean=True)
    def sensitive_consent(self, checkin: CheckIn) -> bool:
        return checkin.sensitive_consent_at is not None

    def get_export_resource_kwargs(self, request, **kwargs):
        return {"user": request.user}

    def get_search_results(self, request, queryset, search_term):
        from couriers.validators import normalize_phone

        if not search_term.strip():
            return queryset, False
        try:  # a whole phone number finds the courier's check-in through the index
            return queryset.filter(courier__phone=normalize_phone(search_term)), False
        except ValidationError:
            return super().get_search_results(request, queryset, search_term)
