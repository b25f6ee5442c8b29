"""Admin screens for the registry. Every town-owned model's admin is a `TownScopedAdmin`."""

from __future__ import annotations

import re

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from import_export.admin import ExportMixin
from import_export.formats import base_formats

from couriers.admin_scoping import TownScopedAdmin
from couriers.casework import pipeline
from couriers.casework.admin import PartyStageInline, VisitLinksMixin, WorklistFilter
from couriers.imports.admin import SheetImportMixin
from couriers.imports.resources import CourierResource
from couriers.messaging import admin as messaging_admin  # noqa: F401 (the outbox's admin)
from couriers.messaging.broadcast_admin import BroadcastActions
from couriers.models import (
    Brand,
    Community,
    Courier,
    Enterprise,
    ErasureRequest,
    ImportJob,
    Outlet,
    PartyOrganization,
    StaffProfile,
    Town,
    Verification,
)
from couriers.privacy import audit, personal_data
from couriers.privacy.masking import mask_phone
from couriers.references import MergeRefused, brand_id_of, merge_into
from couriers.scoping import scoped, staff_object_or_404
from couriers.validators import normalize_id_number, normalize_phone


@admin.register(Town)
class TownAdmin(TownScopedAdmin):
    list_display = ("name", "short_name", "kind", "sort_order")
    search_fields = ("name", "short_name")
    ordering = ("sort_order",)


@admin.register(Community)
class CommunityAdmin(TownScopedAdmin):
    list_display = ("name", "town", "kind")
    list_filter = ("town", "kind")
    list_select_related = ("town",)
    search_fields = ("name",)


@admin.register(PartyOrganization)
class PartyOrganizationAdmin(TownScopedAdmin):
    list_display = ("name", "level", "town", "parent")
    list_filter = ("town", "level")
    list_select_related = ("town", "parent")
    search_fields = ("name",)
    autocomplete_fields = ("parent",)


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ("name", "alias_summary", "sort_order")
    search_fields = ("name", "aliases")

    @admin.display(description="别名")
    def alias_summary(self, brand: Brand) -> str:
        return "、".join(brand.alias_list())


class MergeForm(forms.Form):
    target = forms.ModelChoiceField(queryset=None, label="合并到", empty_label=None)

    def __init__(self, *args, targets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = targets


class VerificationActionsMixin:
    """待核实 enterprises and outlets (registered by a survey import): a list filter, and two
    actions — 核实 (mark verified) and 合并 (merge into the record it really is, on a page
    choosing the target among the user's own town's records of the same brand)."""

    actions = ["mark_verified", "merge"]

    @admin.action(description="核实：标记为已核实", permissions=["change"])
    def mark_verified(self, request, queryset):
        done = 0
        for record in queryset.filter(verification=Verification.PENDING):
            record.verification = Verification.VERIFIED
            record.save(update_fields=["verification"])  # one audit entry each
            done += 1
        self.message_user(request, f"已核实 {done} 个{self.opts.verbose_name}。")

    @admin.action(description="合并到另一个同品牌的记录……", permissions=["change"])
    def merge(self, request, queryset):
        sources = list(queryset)
        brands = {brand_id_of(record) for record in sources}
        targets = scoped(self.model.objects.all(), request.user).exclude(
            pk__in=[record.pk for record in sources]
        )
        brand_path = "enterprise__brand" if self.model is Outlet else "brand"
        targets = targets.filter(**{f"{brand_path}__in": brands})
        form = MergeForm(request.POST if "target" in request.POST else None, targets=targets)
        if form.is_valid():
            target = form.cleaned_data["target"]
            try:
                with transaction.atomic():
                    moved = sum(merge_into(record, target, request.user) for record in sources)
            except MergeRefused as refusal:
                self.message_user(request, f"未合并：{refusal}", messages.ERROR)
                return None
            self.message_user(
                request,
                f"已将 {len(sources)} 个{self.opts.verbose_name}合并到“{target}”，"
                f"转入 {moved} 条记录。",
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": f"合并{self.opts.verbose_name}",
            "opts": self.opts,
            "sources": sources,
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/couriers/merge_references.html", context)


@admin.register(Enterprise)
class EnterpriseAdmin(VerificationActionsMixin, VisitLinksMixin, SheetImportMixin, TownScopedAdmin):
    visit_target = "enterprise"
    import_kind = ImportJob.Kind.ENTERPRISES
    list_display = (
        "name",
        "brand",
        "town",
        "credit_code",
        "contact_person",
        "contact_phone_masked",
        "verification",
    )
    list_filter = ("verification", "town", "brand")
    readonly_fields = ("verification",)
    list_select_related = ("brand", "town")
    search_fields = ("name", "credit_code")
    autocomplete_fields = ("brand",)

    @admin.display(description="联系电话", ordering="contact_phone")
    def contact_phone_masked(self, enterprise: Enterprise) -> str:
        return mask_phone(enterprise.contact_phone)


@admin.register(Outlet)
class OutletAdmin(VerificationActionsMixin, VisitLinksMixin, TownScopedAdmin):
    visit_target = "outlet"
    list_display = ("name", "enterprise", "brand", "town", "community", "verification")
    list_filter = ("verification", "town", "enterprise__brand")
    readonly_fields = ("verification",)
    list_select_related = ("enterprise__brand", "town", "community__town")
    search_fields = ("name", "address")
    autocomplete_fields = ("enterprise", "community")

    @admin.display(description="品牌", ordering="enterprise__brand")
    def brand(self, outlet: Outlet) -> Brand:
        return outlet.enterprise.brand


class MaskedIdCourierForm(forms.ModelForm):
    """The ID number field is write-only: staff can enter or replace a number; the stored one
    is shown masked and kept when the field is left empty. Staff who may see full numbers get
    a link that shows it, and that look is recorded in the audit log.
    """

    reveal_url = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("id_number")
        if field is not None and self.instance.id_number:
            self.initial["id_number"] = ""
            field.help_text = f"已登记：{self.instance.masked_id_number}；留空则保持不变"
            if self.reveal_url:
                field.help_text = format_html(
                    '{} <a href="{}">查看完整号码（将记入审计日志）</a>',
                    field.help_text,
                    self.reveal_url,
                )

    def clean_id_number(self) -> str:
        value = self.cleaned_data.get("id_number", "")
        return value or self.instance.id_number


@admin.register(Courier)
class CourierAdmin(
    BroadcastActions, VisitLinksMixin, SheetImportMixin, ExportMixin, TownScopedAdmin
):
    visit_target = "courier"
    inlines = [PartyStageInline]
    import_kind = ImportJob.Kind.COURIERS
    resource_classes = [CourierResource]
    formats = [base_formats.XLSX, base_formats.CSV]
    list_display = (
        "name",
        "phone_masked",
        "id_number_masked",
        "brand",
        "outlet",
        "work_town",
        "political_status",
        "is_mobile_party_member",
        "education",
        "employment_status",
    )
    list_filter = (
        WorklistFilter,
        "work_town",
        "brand",
        "political_status",
        "party_stage",
        "is_mobile_party_member",
        "education",
        "is_business_backbone",
        "employment_status",
    )
    list_select_related = ("brand", "outlet", "work_town", "managing_organization")
    search_fields = ("name", "phone")
    search_help_text = "按姓名、手机号码（全号或开头几位）或身份证号码查找"
    autocomplete_fields = (
        "brand",
        "enterprise",
        "outlet",
        "managing_organization",
        "residence_community",
    )
    ordering = ("-id",)
    list_per_page = 50
    readonly_fields = (
        "party_stage",
        "party_stage_since",
        "sensitive_consent_withdrawn_at",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (
            "基本信息",
            {
                "fields": (
                    "name",
                    "gender",
                    "phone",
                    "id_number",
                    "birth_date",
                    "education",
                    "employment_status",
                )
            },
        ),
        (
            "从业情况",
            {"fields": ("brand", "enterprise", "outlet", "work_town", "residence_community")},
        ),
        (
            "政治面貌",
            {
                "fields": (
                    "political_status",
                    "sensitive_consent_withdrawn_at",
                    ("party_stage", "party_stage_since"),
                    "is_mobile_party_member",
                    "membership_location",
                    "managing_organization",
                    "last_organization_contact",
                    "is_business_backbone",
                )
            },
        ),
        ("其他", {"fields": ("notes", "created_at", "updated_at")}),
    )

    @admin.display(description="手机号码", ordering="phone")
    def phone_masked(self, courier: Courier) -> str:
        return courier.masked_phone

    @admin.display(description="身份证号码")
    def id_number_masked(self, courier: Courier) -> str:
        return courier.masked_id_number

    def get_form(self, request, obj=None, change=False, **kwargs):
        reveal = ""
        if obj is not None and request.user.has_perm("couriers.view_full_id_number"):
            reveal = reverse("admin:couriers_courier_id_number", args=[obj.pk])
        kwargs["form"] = type("CourierForm", (MaskedIdCourierForm,), {"reveal_url": reveal})
        return super().get_form(request, obj, change, **kwargs)

    def get_urls(self):
        return [
            path(
                "<int:pk>/id-number/",
                self.admin_site.admin_view(self.id_number_view),
                name="couriers_courier_id_number",
            ),
            *super().get_urls(),
        ]

    def id_number_view(self, request, pk: int):
        """A courier's full ID number, for staff allowed to see it; every look is logged."""
        if not request.user.has_perm("couriers.view_full_id_number"):
            raise PermissionDenied
        courier = staff_object_or_404(request.user, self.get_queryset(request), pk=pk)
        audit.log_access(request, courier, "身份证号码")
        context = {
            **self.admin_site.each_context(request),
            "title": f"{courier.name} 的身份证号码",
            "opts": self.model._meta,
            "original": courier,
            "courier": courier,
        }
        return TemplateResponse(request, "admin/couriers/id_number.html", context)

    def get_export_data(self, file_format, request, queryset, **kwargs):
        data = super().get_export_data(file_format, request, queryset, **kwargs)
        if request.user.has_perm("couriers.view_full_id_number"):
            # An export with full ID numbers is a look at every one of them.
            audit.log_access(request, Courier, f"身份证号码（导出 {queryset.count()} 人）")
        return data

    def get_search_results(self, request, queryset, search_term):
        """Searches that use an index: a whole phone or ID number is an exact match."""
        term = search_term.strip()
        if not term:
            return queryset, False
        for normalize, field in ((normalize_phone, "phone"), (normalize_id_number, "id_number")):
            try:
                return queryset.filter(**{field: normalize(term)}), False
            except ValidationError:
                pass
        digits = re.sub(r"[\s\-]", "", term)
        if digits.isdigit():
            return queryset.filter(phone__startswith=digits), False
        return queryset.filter(name__contains=term), False

    def get_list_display(self, request):
        extra = WorklistFilter.COLUMNS.get(request.GET.get(WorklistFilter.parameter_name, ""), ())
        return (*super().get_list_display(request), *extra)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        pipeline.sync(form.instance)  # the status follows the latest recorded stage

    def get_export_resource_kwargs(self, request, **kwargs):
        return {"user": request.user}

    def get_export_queryset(self, request):
        return (
            super()
            .get_export_queryset(request)
            .select_related("enterprise", "managing_organization", "residence_community")
        )


@admin.register(ImportJob)
class ImportJobAdmin(TownScopedAdmin):
    """The record of every import: who, which file, when, and what it did."""

    list_display = ("filename", "kind", "user", "town", "stage", "status", "summary", "created_at")
    list_filter = ("kind", "status", "town")
    list_select_related = ("user", "town")
    search_fields = ("filename", "user__username")
    date_hierarchy = None
    # The uploaded file sits in private storage, which has no URL: say whether it is held.
    exclude = ("file",)
    readonly_fields = ("file_held",)

    @admin.display(description="待导入文件")
    def file_held(self, job: ImportJob) -> str:
        return "已保存，确认导入或放弃后删除" if job.file else "无（导入完成后已删除）"

    @admin.display(description="结果")
    def summary(self, job: ImportJob) -> str:
        if not job.report:
            return ""
        report = job.report
        if report.get("file_error"):
            return report["file_error"]
        return (
            f"新增 {report['new']}，更新 {report['updated']}，无变化 {report['unchanged']}，"
            f"错误 {len(report['errors'])}" + ("（已写入）" if report.get("written") else "")
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class StaffProfileInline(admin.StackedInline):
    model = StaffProfile
    can_delete = False
    verbose_name_plural = "负责范围"


admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    inlines = (StaffProfileInline,)
    list_display = ("username", "first_name", "is_staff", "is_superuser", "town")
    # One 姓名 (kept in first_name): it is what the admin shows instead of the login.
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("个人信息", {"fields": ("first_name", "email")}),
        *UserAdmin.fieldsets[2:],
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "first_name", "usable_password", "password1", "password2"),
            },
        ),
    )

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "first_name" in form.base_fields:
            name = form.base_fields["first_name"]
            name.label, name.required = "姓名", True
            name.help_text = "在走访记录、审计日志等处代替登录名显示"
        return form

    list_select_related = ("staff_profile__town",)

    @admin.display(description="负责街镇", ordering="staff_profile__town")
    def town(self, user: User) -> str:
        profile = getattr(user, "staff_profile", None)
        if profile is None:
            return "未设置（无权查看数据）"
        return profile.town.name if profile.town else "全区"


@admin.register(ErasureRequest)
class ErasureRequestAdmin(TownScopedAdmin):
    """Couriers ask on their 「我的」 page; staff of their town complete the erasure here."""

    list_display = ("courier", "town", "requested_at", "reason", "completed_at", "completed_by")
    list_filter = (("completed_at", admin.EmptyFieldListFilter), "town")
    list_select_related = ("courier", "town", "completed_by")
    readonly_fields = ("courier", "town", "reason", "requested_at", "completed_at", "completed_by")
    actions = ["complete"]

    def has_add_permission(self, request) -> bool:
        return False  # only the courier asks

    @admin.action(description="完成注销（删除或匿名化其全部个人信息）", permissions=["change"])
    def complete(self, request, queryset):
        done = 0
        for open_request in queryset.filter(completed_at__isnull=True):
            personal_data.complete_erasure(open_request, request.user)
            done += 1
        self.message_user(request, f"已完成 {done} 份注销申请。")
