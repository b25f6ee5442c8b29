"""Admin for partners, rewards and vouchers, and the partners' monthly statements.

Town staff see their town's records through TownScopedAdmin like everywhere else. A partner
account (a staff user with a PartnerMember link and no staff profile) sees only its own
partner, rewards and vouchers, read-only: its rights come from that link in the methods
below, so it holds no model permission at all and every registry admin refuses it (403).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from activities.models import Partner, PartnerMember, Reward, Voucher
from activities.months import recent_months
from activities.rewards import statements, vouchers
from activities.rewards.partners import partner_of
from couriers.admin_scoping import TownScopedAdmin
from couriers.scoping import ALL_TOWNS, staff_town_id


class PartnerScopedAdmin(TownScopedAdmin):
    """Town scoping for staff; for a partner account, its own partner's records, read-only."""

    partner_path = "partner"

    def get_queryset(self, request):
        partner = partner_of(request.user)
        if partner is None:
            return super().get_queryset(request)
        # Skip the town scoping (a partner account has no town) for the partner's own records.
        base = super(TownScopedAdmin, self).get_queryset(request)
        return base.filter(**{self.partner_path: partner.pk})

    def has_module_permission(self, request) -> bool:
        return partner_of(request.user) is not None or super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        # Objects outside the partner are not found: get_queryset above is the only source.
        return partner_of(request.user) is not None or super().has_view_permission(request, obj)

    def has_add_permission(self, request) -> bool:
        return partner_of(request.user) is None and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return partner_of(request.user) is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return partner_of(request.user) is None and super().has_delete_permission(request, obj)


class PartnerMemberInline(admin.TabularInline):
    """Which staff accounts work at the partner's counter; district staff decide."""

    model = PartnerMember
    extra = 0
    raw_id_fields = ("user",)

    def _district(self, request) -> bool:
        return staff_town_id(request.user) is ALL_TOWNS

    def has_add_permission(self, request, obj=None) -> bool:
        return self._district(request) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._district(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._district(request) and super().has_delete_permission(request, obj)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._district(request)


@admin.register(Partner)
class PartnerAdmin(PartnerScopedAdmin):
    partner_path = "pk"
    list_display = ("name", "kind", "town", "is_active", "statement_link")
    list_filter = ("kind", "town", "is_active")
    list_select_related = ("town",)
    search_fields = ("name",)
    autocomplete_fields = ("station", "enterprise")
    inlines = [PartnerMemberInline]

    @admin.display(description="月度结算单")
    def statement_link(self, partner: Partner) -> str:
        url = reverse("admin:activities_partner_statement", args=[partner.pk])
        return format_html('<a href="{}">查看</a>', url)

    def get_urls(self):
        own = [
            path(
                "<int:pk>/statement/",
                self.admin_site.admin_view(self.statement_view),
                name="activities_partner_statement",
            )
        ]
        return own + super().get_urls()

    def statement_view(self, request, pk: int):
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        partner = get_object_or_404(self.get_queryset(request), pk=pk)  # outside scope: 404
        today = timezone.localdate()
        month = statements.parse_month(request.GET.get("month", ""), today)
        statement = statements.build(partner, month)
        if request.GET.get("format") == "xlsx":
            response = HttpResponse(
                statements.to_xlsx(statement),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            response["Content-Disposition"] = (
                f'attachment; filename="statement-{partner.pk}-{month:%Y-%m}.xlsx"'
            )
            return response
        return TemplateResponse(
            request,
            "admin/activities/partner_statement.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": f"{partner.name} · {month:%Y年%m月} 兑换结算单",
                "statement": statement,
                "month_value": f"{month:%Y-%m}",
                "months": recent_months(today, month),
            },
        )


class RewardForm(forms.ModelForm):
    class Meta:
        model = Reward
        fields = [
            "name",
            "kind",
            "description",
            "picture",
            "price",
            "partner",
            "town",
            "station",
            "checkin_point",
            "address",
            "collect_hours",
            "stock",
            "monthly_limit",
            "total_limit",
            "available_from",
            "available_until",
            "is_active",
        ]


@admin.register(Reward)
class RewardAdmin(PartnerScopedAdmin):
    form = RewardForm
    list_display = ("name", "kind", "partner", "town", "price", "stock", "is_active")
    list_filter = ("kind", "partner", "town", "is_active")
    list_select_related = ("partner", "town")
    search_fields = ("name", "partner__name")
    autocomplete_fields = ("partner", "station", "checkin_point")


class CancelForm(forms.Form):
    reason = forms.CharField(label="取消原因", max_length=150)


@admin.register(Voucher)
class VoucherAdmin(PartnerScopedAdmin):
    partner_path = "reward__partner"
    list_display = (
        "masked_code",
        "reward",
        "partner",
        "town",
        "courier_name",
        "points",
        "state",
        "issued_at",
        "expires_at",
        "used_at",
    )
    list_filter = ("state", "reward__partner", "reward__town")
    list_select_related = ("reward__partner", "reward__town", "courier")
    date_hierarchy = "issued_at"  # by month
    search_fields = ("reward__name",)
    actions = ["cancel_vouchers"]
    # The full code is the courier's: whoever sees it could use the voucher.
    fields = (
        "masked_code",
        "reward",
        "courier_name",
        "points",
        "state",
        "issued_at",
        "expires_at",
        "used_at",
        "used_by",
        "cancelled_at",
        "cancelled_by",
        "cancel_reason",
    )
    readonly_fields = fields

    @admin.display(description="券码")
    def masked_code(self, voucher: Voucher) -> str:
        return voucher.masked_code

    @admin.display(description="兑换人")
    def courier_name(self, voucher: Voucher) -> str:
        return voucher.courier_masked_name

    @admin.display(description="提供方")
    def partner(self, voucher: Voucher) -> str:
        return voucher.reward.partner.name

    @admin.display(description="街镇")
    def town(self, voucher: Voucher) -> str:
        return voucher.reward.town.name if voucher.reward.town_id else "全区"

    def has_add_permission(self, request) -> bool:
        return False  # issued by redeeming only

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a fact for settling; cancel instead

    @admin.action(description="取消所选兑换券，退回积分（需填写原因）", permissions=["change"])
    def cancel_vouchers(self, request, queryset):
        form = CancelForm(request.POST if "confirm" in request.POST else None)
        if not form.is_valid():
            return TemplateResponse(
                request,
                "admin/activities/cancel_vouchers.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.opts,
                    "form": form,
                    "vouchers": queryset.select_related("reward", "courier"),
                    "title": "取消兑换券",
                    "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
                },
            )
        done = 0
        for voucher in queryset:
            try:
                vouchers.cancel(voucher, form.cleaned_data["reason"], by=request.user)
                done += 1
            except vouchers.VoucherRefused as refused:
                self.message_user(request, f"{voucher}：{refused}", messages.WARNING)
        if done:
            self.message_user(request, f"已取消 {done} 张兑换券，积分已退回。", messages.SUCCESS)
        return None
