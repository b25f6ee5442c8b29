"""Admin for activities and classes, their sign-ups and attendance (all town-scoped but the
department list)."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Exists, OuterRef
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from import_export import fields
from import_export.admin import ExportMixin
from import_export.formats import base_formats

from activities import points
from activities.models import (
    Activity,
    Attendance,
    Department,
    SignUp,
)
from activities.programmes import attendance, notices, signups
from couriers.admin_scoping import TownScopedAdmin, scoped
from couriers.imports.resources import SafeExportResource
from couriers.messaging.broadcast_admin import BroadcastActions
from couriers.scoping import staff_object_or_404
from fengxian.links import public_url
from stations.models.checkin import new_poster_token
from stations.posters import render_poster


def _unmark(model_admin, request, record: Attendance) -> bool:
    """Untick an attendance; when its points were already spent (the reversal would take the
    balance below zero) it stays, and staff are told why."""
    try:
        attendance.unmark(record, request.user)
    except points.PointsError as problem:
        model_admin.message_user(request, f"{record}：未取消。{problem}", messages.ERROR)
        return False
    return True


class ExportForUser(ExportMixin):
    """Exports know who asks, so phones are masked for staff without the permission."""

    formats = [base_formats.XLSX, base_formats.CSV]

    def get_export_resource_kwargs(self, request, **kwargs):
        return {"user": request.user}


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "sort_order")
    list_editable = ("sort_order",)
    search_fields = ("name",)


class ScopedInlineMixin:
    """Foreign-key choices in an inline limited to the staff user's town, like the admin."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and hasattr(field, "queryset"):
            field.queryset = scoped(field.queryset, request.user)
        return field


class SignUpInline(admin.TabularInline):
    model = SignUp
    extra = 0
    can_delete = False
    fields = ("courier", "status", "created_at", "promoted_at", "cancelled_at")
    readonly_fields = fields
    ordering = ("status", "created_at", "id")
    verbose_name_plural = "报名名单（取消报名请到“活动报名”列表操作）"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("courier")


class AttendanceInline(ScopedInlineMixin, admin.TabularInline):
    model = Attendance
    extra = 0
    fields = ("courier", "via", "walk_in", "at", "recorded_by")
    readonly_fields = ("via", "walk_in", "at", "recorded_by")
    autocomplete_fields = ("courier",)
    verbose_name_plural = "签到名单（添加即登记出席并发放积分；删除会冲正积分）"

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("courier", "recorded_by")


class CopyForm(forms.Form):
    date = forms.DateField(
        label="新日期",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="留空则复制到一周后的同一时间；填写则复制到这一天的同一时间",
    )


def copy_activity(activity: Activity, date: datetime.date | None) -> Activity:
    """A new activity like `activity` (same hours, departments and venue), without sign-ups."""
    start = timezone.localtime(activity.starts_at)
    if date is None:
        shift = datetime.timedelta(days=7)
    else:
        shift = datetime.datetime.combine(date, start.time(), start.tzinfo) - start
    organisers, partners = list(activity.organisers.all()), list(activity.partners.all())
    copy = Activity.objects.get(pk=activity.pk)
    copy.pk = None
    copy._state.adding = True
    copy.attendance_token = new_poster_token()  # its own 签到码, not the original's
    copy.is_cancelled, copy.cancel_note = False, ""  # a new date is a new chance
    copy.starts_at = activity.starts_at + shift
    copy.ends_at = activity.ends_at + shift
    if activity.signup_deadline:
        copy.signup_deadline = activity.signup_deadline + shift
    copy.save()
    copy.organisers.set(organisers)
    copy.partners.set(partners)
    return copy


@admin.register(Activity)
class ActivityAdmin(TownScopedAdmin):
    list_display = (
        "title",
        "kind",
        "town",
        "starts_at",
        "places",
        "waiting_count",
        "attended_count",
        "lists",
        "is_published",
    )
    list_filter = ("kind", "town", "is_published", "is_cancelled", "topic")
    list_select_related = ("town",)
    search_fields = ("title",)
    date_hierarchy = "starts_at"
    autocomplete_fields = ("station", "checkin_point")
    filter_horizontal = ("organisers", "partners")
    inlines = [SignUpInline, AttendanceInline]
    actions = ["copy_activities"]
    fieldsets = (
        (None, {"fields": ("title", "kind", "topic", "description", "town", "is_published")}),
        ("取消", {"fields": ("is_cancelled", "cancel_note")}),
        (
            "时间与名额",
            {"fields": ("starts_at", "ends_at", "signup_deadline", "capacity", "points")},
        ),
        (
            "地点",
            {
                "fields": ("station", "checkin_point", "address", "online_url"),
                "description": "选一个站点或报到点，或填写地址；云端课堂只填线上链接。",
            },
        ),
        ("主办与协办", {"fields": ("organisers", "partners")}),
    )

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "online_url":
            kwargs["assume_scheme"] = "https"  # meeting links typed without a scheme
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .with_counts()
            .annotate(attended=Count("attendances", distinct=True))
        )

    @admin.display(description="已报名 / 名额", ordering="confirmed")
    def places(self, activity: Activity) -> str:
        return f"{activity.confirmed} / {activity.capacity}"

    @admin.display(description="候补", ordering="waiting")
    def waiting_count(self, activity: Activity) -> int:
        return activity.waiting

    @admin.display(description="签到", ordering="attended")
    def attended_count(self, activity: Activity) -> int:
        return activity.attended

    @admin.display(description="名单")
    def lists(self, activity: Activity) -> str:
        return format_html(
            '<a href="{}">报名</a> · <a href="{}">签到</a> · '
            '<a href="{}" target="_blank">签到码</a>',
            reverse("admin:activities_signup_changelist") + f"?activity__id__exact={activity.pk}",
            reverse("admin:activities_attendance_changelist")
            + f"?activity__id__exact={activity.pk}",
            reverse("admin:activities_activity_qr", args=[activity.pk]),
        )

    def save_model(self, request, obj, form, change):
        # The admin saves in a transaction: with the row locked, `before` is what couriers
        # were last told, and a double-submitted form finds nothing changed the second time.
        before = Activity.objects.select_for_update().get(pk=obj.pk) if change else None
        super().save_model(request, obj, form, change)
        if change and "capacity" in form.changed_data:
            signups.refill(obj)  # more places: the waiting list moves up
        if before is not None:
            notices.tell_activity_saved(before, obj)  # moved or cancelled: everyone signed up

    def save_formset(self, request, form, formset, change):
        if formset.model is not Attendance:
            return super().save_formset(request, form, formset, change)
        # Ticking and unticking go through the attendance workflow, which pays and reverses
        # the activity's points.
        for row in formset.deleted_forms:
            if row.instance.pk:
                _unmark(self, request, row.instance)
        for row in formset.forms:
            if row in formset.deleted_forms or not row.has_changed() or row.instance.pk:
                continue
            attendance.mark(
                form.instance,
                row.cleaned_data["courier"],
                via=Attendance.Via.STAFF,
                by=request.user,
            )
        formset.new_objects = formset.changed_objects = formset.deleted_objects = []
        return None

    @admin.action(description="复制活动（如每周的课堂）", permissions=["add"])
    def copy_activities(self, request, queryset):
        form = CopyForm(request.POST if "confirm" in request.POST else None)
        if form.is_valid():
            with transaction.atomic():
                copies = [copy_activity(a, form.cleaned_data["date"]) for a in queryset]
            self.message_user(
                request,
                f"已复制 {len(copies)} 个活动（不含报名）：" + "、".join(str(c) for c in copies),
                messages.SUCCESS,
            )
            return None
        return TemplateResponse(
            request,
            "admin/activities/copy_activities.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "form": form,
                "activities": queryset,
                "title": "复制活动",
                "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            },
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/qr/", wrap(self.qr_view), name="activities_activity_qr"),
            *super().get_urls(),
        ]

    def qr_view(self, request, pk: int):
        """An A4 sheet with the activity's attendance QR code, to put up at the venue."""
        activity = staff_object_or_404(request.user, Activity.objects.select_related("town"), pk=pk)
        opens, closes = attendance.window(activity)
        return render_poster(
            request,
            title="活动签到",
            subtitle=f"{timezone.localtime(activity.starts_at):%Y年%m月%d日 %H:%M} 开始",
            name=activity.title,
            steps=[
                "打开微信或手机相机，扫描上方二维码",
                "用手机号登录（已登录可直接签到）",
                f"点“确认签到”，{timezone.localtime(opens):%H:%M}–"
                f"{timezone.localtime(closes):%H:%M} 有效",
            ],
            address=f"{activity.town.name} · {activity.venue}",
            url=public_url(
                reverse("activities:attend", args=[attendance.token(activity)]), request
            ),
        )


class SignUpResource(SafeExportResource):
    activity = fields.Field(attribute="activity__title", column_name="活动")
    starts_at = fields.Field(column_name="开始时间")
    name = fields.Field(attribute="courier__name", column_name="姓名")
    phone = fields.Field(column_name="手机号码")
    town = fields.Field(attribute="courier__work_town__name", column_name="工作街镇")
    status = fields.Field(attribute="get_status_display", column_name="状态")
    created_at = fields.Field(column_name="报名时间")
    promoted = fields.Field(column_name="候补转正")
    attended = fields.Field(column_name="签到")

    class Meta:
        model = SignUp
        fields = (
            "activity",
            "starts_at",
            "name",
            "phone",
            "town",
            "status",
            "created_at",
            "promoted",
            "attended",
        )
        export_order = fields

    def dehydrate_starts_at(self, signup: SignUp) -> str:
        return f"{timezone.localtime(signup.activity.starts_at):%Y-%m-%d %H:%M}"

    def dehydrate_phone(self, signup: SignUp) -> str:
        courier = signup.courier
        return courier.phone if self.may("couriers.view_full_phone") else courier.masked_phone

    def dehydrate_created_at(self, signup: SignUp) -> str:
        return f"{timezone.localtime(signup.created_at):%Y-%m-%d %H:%M}"

    def dehydrate_promoted(self, signup: SignUp) -> str:
        return "是" if signup.promoted_at else ""

    def dehydrate_attended(self, signup: SignUp) -> str:
        return "是" if getattr(signup, "attended", False) else "否"


@admin.register(SignUp)
class SignUpAdmin(BroadcastActions, ExportForUser, TownScopedAdmin):
    resource_classes = [SignUpResource]
    list_display = (
        "courier",
        "phone",
        "activity",
        "status",
        "created_at",
        "promoted_at",
        "attended_flag",
    )
    list_filter = ("status", "activity__kind", "activity__town")
    list_select_related = ("courier__work_town", "activity__town")
    search_fields = ("courier__name", "courier__phone", "activity__title")
    readonly_fields = ("activity", "courier", "status", "created_at", "promoted_at", "cancelled_at")
    actions = ["mark_attended", "unmark_attended", "confirm_signups", "cancel_signups"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                attended=Exists(
                    Attendance.objects.filter(
                        activity=OuterRef("activity"), courier=OuterRef("courier")
                    )
                )
            )
        )

    def has_add_permission(self, request) -> bool:
        return False  # couriers sign up on the site; staff record who came as attendance

    @admin.display(description="手机号码")
    def phone(self, signup: SignUp) -> str:
        return signup.courier.masked_phone

    @admin.display(description="签到", boolean=True, ordering="attended")
    def attended_flag(self, signup: SignUp) -> bool:
        return signup.attended

    def _need(self, request, permission: str) -> None:
        if not request.user.has_perm(permission):
            raise PermissionDenied

    @admin.action(description="登记出席（发放活动积分）")
    def mark_attended(self, request, queryset):
        self._need(request, "activities.add_attendance")
        new = 0
        for signup in queryset.exclude(status=SignUp.Status.CANCELLED).select_related(
            "activity", "courier"
        ):
            new += attendance.mark(
                signup.activity, signup.courier, via=Attendance.Via.STAFF, by=request.user
            )[1]
        self.message_user(request, f"已登记 {new} 人出席。", messages.SUCCESS)

    @admin.action(description="取消出席登记（冲正积分）")
    def unmark_attended(self, request, queryset):
        self._need(request, "activities.delete_attendance")
        done = 0
        for signup in queryset:
            record = Attendance.objects.filter(
                activity_id=signup.activity_id, courier_id=signup.courier_id
            ).first()
            if record is not None and _unmark(self, request, record):
                done += 1
        self.message_user(request, f"已取消 {done} 人的出席登记。", messages.SUCCESS)

    @admin.action(description="取消所选报名（须写明原因，短信告知；候补自动递补）")
    def cancel_signups(self, request, queryset):
        self._need(request, "activities.change_signup")
        reason = request.POST.get("reason", "").strip()
        if "confirm" not in request.POST or not reason:
            return TemplateResponse(
                request,
                "admin/activities/cancel_signups.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.opts,
                    "signups": queryset.select_related("courier", "activity"),
                    "title": "取消报名",
                    "reason": reason,
                    "error": "请写明取消原因。" if "confirm" in request.POST else "",
                    "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
                },
            )
        done = sum(signups.staff_cancel(signup, reason) for signup in queryset)
        self.message_user(request, f"已取消 {done} 条报名，已短信告知小哥。", messages.SUCCESS)
        return None

    @admin.action(description="确认所选候补报名（名额已满时增加名额；短信告知）")
    def confirm_signups(self, request, queryset):
        self._need(request, "activities.change_signup")
        done = 0
        for signup in queryset.filter(status=SignUp.Status.WAITING):
            try:
                done += signups.staff_confirm(signup)
            except signups.SignUpRefused as problem:
                self.message_user(request, f"{signup}：{problem}", messages.ERROR)
        self.message_user(request, f"已确认 {done} 条候补报名，已短信告知小哥。", messages.SUCCESS)


class AttendanceResource(SafeExportResource):
    activity = fields.Field(attribute="activity__title", column_name="活动")
    name = fields.Field(attribute="courier__name", column_name="姓名")
    phone = fields.Field(column_name="手机号码")
    town = fields.Field(attribute="courier__work_town__name", column_name="工作街镇")
    via = fields.Field(attribute="get_via_display", column_name="方式")
    walk_in = fields.Field(column_name="现场参加")
    at = fields.Field(column_name="签到时间")

    class Meta:
        model = Attendance
        fields = ("activity", "name", "phone", "town", "via", "walk_in", "at")
        export_order = fields

    def dehydrate_phone(self, record: Attendance) -> str:
        courier = record.courier
        return courier.phone if self.may("couriers.view_full_phone") else courier.masked_phone

    def dehydrate_walk_in(self, record: Attendance) -> str:
        return "是" if record.walk_in else "否"

    def dehydrate_at(self, record: Attendance) -> str:
        return f"{timezone.localtime(record.at):%Y-%m-%d %H:%M}"


@admin.register(Attendance)
class AttendanceAdmin(ExportForUser, TownScopedAdmin):
    resource_classes = [AttendanceResource]
    list_display = ("courier", "activity", "via", "walk_in", "at", "recorded_by")
    list_filter = ("via", "walk_in", "activity__kind", "activity__town")
    list_select_related = ("courier", "activity", "recorded_by")
    search_fields = ("courier__name", "activity__title")
    autocomplete_fields = ("activity", "courier")
    fields = ("activity", "courier")

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a record paid points: remove it (reversing them) and add it again

    def save_model(self, request, obj, form, change):
        record, _new = attendance.mark(
            obj.activity, obj.courier, via=Attendance.Via.STAFF, by=request.user
        )
        obj.pk, obj.at, obj.via = record.pk, record.at, record.via

    def delete_model(self, request, obj):
        _unmark(self, request, obj)

    def response_delete(self, request, obj_display, obj_id):
        if Attendance.objects.filter(pk=obj_id).exists():  # kept: _unmark said why
            return HttpResponseRedirect(reverse("admin:activities_attendance_changelist"))
        return super().response_delete(request, obj_display, obj_id)

    def delete_queryset(self, request, queryset):
        for record in queryset:
            _unmark(self, request, record)
