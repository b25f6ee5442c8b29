"""Admin for posts, claims, services, the points ledger and photo reports (all town-scoped)."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, Value, When
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from import_export import fields
from import_export.admin import ExportMixin
from import_export.formats import base_formats

from activities import points, reports
from activities.claims import refill
from activities.models import (
    Claim,
    PhotoReport,
    PhotoReportEvent,
    PointsEntry,
    ServiceRecord,
    VolunteerPost,
)

# Activities and classes, partnerships and stories have their admin in their own rooms.
from activities.programmes import admin as programmes_admin  # noqa: F401
from activities.rewards import admin as rewards_admin  # noqa: F401
from activities.services import pay_service, record_service
from activities.showcase import admin as showcase_admin  # noqa: F401
from couriers.admin_scoping import TownScopedAdmin
from couriers.imports.resources import SafeExportResource
from couriers.messaging.broadcast_admin import BroadcastActions


@admin.register(VolunteerPost)
class VolunteerPostAdmin(TownScopedAdmin):
    list_display = (
        "title",
        "category",
        "town",
        "capacity",
        "claimed_count",
        "points_per_service",
        "is_active",
    )
    list_filter = ("category", "town", "is_active")
    list_select_related = ("town",)
    search_fields = ("title",)
    autocomplete_fields = ("community", "checkin_point")

    def get_queryset(self, request):
        return super().get_queryset(request).with_claim_counts()

    @admin.display(description="已认领", ordering="claimed")
    def claimed_count(self, post: VolunteerPost) -> int:
        return post.claimed

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        refill(obj)  # more places: the waiting couriers move up at once


class ServiceForm(forms.Form):
    date = forms.DateField(
        label="服务日期",
        initial=datetime.date.today,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    hours = forms.DecimalField(
        label="时长（小时）", min_value=0.5, max_value=24, initial=2, decimal_places=1
    )
    note = forms.CharField(label="说明", required=False, max_length=200)


class ClaimForm(forms.ModelForm):
    """Staff may claim on a courier's behalf, within the post's places like everyone."""

    class Meta:
        model = Claim
        fields = ["post", "courier", "status"]

    def clean(self):
        data = super().clean()
        post = data.get("post")
        becomes_active = data.get("status") == Claim.Status.ACTIVE and (
            self.instance.pk is None or self.instance.status != Claim.Status.ACTIVE
        )
        if post is not None and becomes_active and post.places_left <= 0:
            self.add_error("post", "名额已满。")
        return data


@admin.register(Claim)
class ClaimAdmin(BroadcastActions, TownScopedAdmin):
    form = ClaimForm
    list_display = ("courier", "post", "town", "status", "created_at", "services")
    list_filter = ("status", "post__town", "post__category")
    list_select_related = ("courier", "post__town")
    search_fields = ("courier__name", "post__title")
    autocomplete_fields = ("courier", "post")
    actions = ["confirm_service"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        refill(obj.post)  # a claim ended by staff frees its place for the waiting list

    @admin.display(description="街镇")
    def town(self, claim: Claim) -> str:
        return claim.post.town.name

    @admin.display(description="服务记录")
    def services(self, claim: Claim) -> str:
        url = reverse("admin:activities_servicerecord_changelist") + f"?claim__id__exact={claim.pk}"
        return format_html('<a href="{}">查看</a>', url)

    @admin.action(description="登记服务（批量确认）", permissions=["change"])
    def confirm_service(self, request, queryset):
        if not request.user.has_perm("activities.add_servicerecord"):
            raise PermissionDenied
        form = ServiceForm(request.POST if "confirm" in request.POST else None)
        if form.is_valid():
            done = skipped = 0
            for claim in queryset.filter(status=Claim.Status.ACTIVE).select_related(
                "courier", "post"
            ):
                data = form.cleaned_data
                if record_service(claim, data["date"], data["hours"], data["note"], request.user):
                    done += 1
                else:
                    skipped += 1
            self.message_user(
                request,
                f"已登记 {done} 条服务并发放积分"
                + (f"；{skipped} 条当天已登记，跳过" if skipped else "")
                + "。",
                messages.SUCCESS,
            )
            return None
        return TemplateResponse(
            request,
            "admin/activities/confirm_service.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "form": form,
                "claims": queryset.select_related("courier", "post"),
                "title": "登记服务",
                "action": "confirm_service",
                "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            },
        )


@admin.register(ServiceRecord)
class ServiceRecordAdmin(TownScopedAdmin):
    list_display = ("claim", "date", "hours", "confirmed_by", "confirmed_at")
    list_filter = ("claim__post__town",)
    list_select_related = ("claim__courier", "claim__post", "confirmed_by")
    autocomplete_fields = ("claim",)
    exclude = ("confirmed_by", "confirmed_at")

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a service paid points; corrections go through the ledger

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            obj.confirmed_by = request.user
            super().save_model(request, obj, form, change)
            pay_service(obj, request.user)


class PointsResource(SafeExportResource):
    name = fields.Field(attribute="courier__name", column_name="姓名")
    town = fields.Field(attribute="courier__work_town__name", column_name="街镇")
    amount = fields.Field(attribute="amount", column_name="积分")
    reason = fields.Field(attribute="reason", column_name="原因")
    source = fields.Field(attribute="get_source_display", column_name="来源")
    created_at = fields.Field(column_name="时间")
    created_by = fields.Field(attribute="created_by__username", column_name="经办人")

    class Meta:
        model = PointsEntry
        fields = ("name", "town", "amount", "reason", "source", "created_at", "created_by")
        export_order = fields

    def dehydrate_created_at(self, entry: PointsEntry) -> str:
        return f"{timezone.localtime(entry.created_at):%Y-%m-%d %H:%M}"


class AdjustmentForm(forms.ModelForm):
    """Staff add a manual adjustment (the only way to write the ledger by hand)."""

    class Meta:
        model = PointsEntry
        fields = ["courier", "amount", "reason"]
        help_texts = {"reason": "必填：为什么调整", "amount": "正数加分，负数扣分"}

    def clean(self):
        data = super().clean()
        if data.get("amount") == 0:
            self.add_error("amount", "调整的积分不能为 0。")
        if not (data.get("reason") or "").strip():
            self.add_error("reason", "人工调整必须填写原因。")
        courier, amount = data.get("courier"), data.get("amount")
        if courier is not None and amount is not None and amount < 0:
            left = points.balance(courier)
            if left + amount < 0:  # checked again under a lock when it is written
                self.add_error(
                    "amount", f"积分余额不足：当前余额 {left} 分，不能扣除 {-amount} 分。"
                )
        return data


@admin.register(PointsEntry)
class PointsEntryAdmin(ExportMixin, TownScopedAdmin):
    resource_classes = [PointsResource]
    formats = [base_formats.XLSX, base_formats.CSV]
    form = AdjustmentForm
    list_display = ("courier", "amount", "reason", "source", "created_by", "created_at")
    list_filter = ("source", "courier__work_town")
    list_select_related = ("courier", "created_by")
    search_fields = ("courier__name", "reason")
    autocomplete_fields = ("courier",)
    actions = ["reverse_entries"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # append-only

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        if request.user.has_perm("activities.add_pointsentry"):
            return actions
        actions.pop("reverse_entries", None)
        return actions

    def save_model(self, request, obj, form, change):
        entry = points.adjust(obj.courier, obj.amount, obj.reason, request.user)
        obj.pk, obj.created_by, obj.created_at = entry.pk, entry.created_by, entry.created_at

    @admin.action(description="冲正所选记录（需填写原因）")
    def reverse_entries(self, request, queryset):
        reason = request.POST.get("reason", "").strip()
        if "confirm" not in request.POST:
            return TemplateResponse(
                request,
                "admin/activities/reverse_points.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.opts,
                    "entries": queryset.select_related("courier"),
                    "title": "冲正积分",
                    "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
                },
            )
        done = 0
        for entry in queryset:
            try:
                points.correct(entry, reason, request.user)
                done += 1
            except points.PointsError as problem:
                self.message_user(request, f"{entry}：{problem}", messages.ERROR)
        if done:
            self.message_user(request, f"已冲正 {done} 条记录。", messages.SUCCESS)
        return None


class EventInline(admin.TabularInline):
    model = PhotoReportEvent
    extra = 0
    can_delete = False
    readonly_fields = ("status", "note", "by", "at")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class WorkflowForm(forms.ModelForm):
    next_status = forms.ChoiceField(label="处理", required=False)
    note = forms.CharField(
        label="答复 / 原因",
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="不予受理时必填；会显示在小哥的“我的”页面",
    )

    class Meta:
        model = PhotoReport
        fields = ["is_published"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = PhotoReport.NEXT.get(self.instance.status, [])
        self.fields["next_status"].choices = [("", "（不变）")] + [
            (s, PhotoReport.Status(s).label) for s in allowed
        ]

    def clean(self):
        data = super().clean()
        status = data.get("next_status") or self.instance.status
        if data.get("is_published") and status != PhotoReport.Status.RESOLVED:
            self.add_error("is_published", "只有已办结的报告可以公开展示。")
        if data.get("next_status") == PhotoReport.Status.REJECTED and not data.get("note"):
            self.add_error("note", "不予受理必须写明原因。")
        return data


@admin.register(PhotoReport)
class PhotoReportAdmin(TownScopedAdmin):
    form = WorkflowForm
    inlines = [EventInline]
    list_display = (
        "category",
        "address",
        "town",
        "status_badge",
        "created_at",
        "courier_name",
        "is_published",
    )
    list_filter = ("status", "category", "town", "is_published")
    list_select_related = ("town", "courier")
    search_fields = ("address", "description")
    readonly_fields = (
        "photo_preview",
        "category",
        "description",
        "address",
        "town",
        "created_at",
        "status",
        "reply",
        "courier_name",
    )
    fields = (
        "photo_preview",
        "category",
        "description",
        "address",
        "town",
        "courier_name",
        "created_at",
        "status",
        "reply",
        "next_status",
        "note",
        "is_published",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def get_ordering(self, request):
        # The queue: reports waiting to be accepted first, then those in hand, oldest first.
        steps = [
            PhotoReport.Status.SUBMITTED,
            PhotoReport.Status.ACCEPTED,
            PhotoReport.Status.IN_PROGRESS,
        ]
        queue = Case(
            *(When(status=status, then=Value(i)) for i, status in enumerate(steps)),
            default=Value(len(steps)),
        )
        return [queue.asc(), "created_at"]

    @admin.display(description="报告人")
    def courier_name(self, report: PhotoReport) -> str:
        return report.courier.name

    @admin.display(description="状态", ordering="status")
    def status_badge(self, report: PhotoReport) -> str:
        if report.is_overdue:
            return format_html(
                '<strong class="report-overdue">{}（已超期）</strong>', report.get_status_display()
            )
        return report.get_status_display()

    @admin.display(description="照片")
    def photo_preview(self, report: PhotoReport) -> str:
        url = reverse("activities:report_photo", args=[report.pk])
        return format_html(
            '<a href="{0}" target="_blank"><img src="{0}" class="report-photo" alt="报告照片"></a>',
            url,
        )

    def save_model(self, request, obj, form, change):
        status = form.cleaned_data.get("next_status")
        if status:
            try:
                reports.advance(obj, status, request.user, form.cleaned_data.get("note", ""))
            except reports.WorkflowError as problem:
                raise ValidationError(str(problem)) from problem
            obj.refresh_from_db()
            obj.is_published = form.cleaned_data.get("is_published", False)
        elif form.cleaned_data.get("note", "").strip():
            # A reply without a new status: saved, and sent to the reporter.
            obj.reply = reports.reply(obj, form.cleaned_data["note"]).reply
        super().save_model(request, obj, form, change)
