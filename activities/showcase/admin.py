"""Admin for service partnerships with their yearly figures, and role-model stories (whose
publication needs the courier's recorded consent); both town-scoped."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from activities.models import (
    Partnership,
    PartnershipYear,
    Story,
)
from couriers.admin_scoping import TownScopedAdmin


class PartnershipYearFormSet(forms.BaseInlineFormSet):
    def get_unique_error_message(self, unique_check) -> str:
        return "同一年度只能填写一次，请合并重复的年度。"


class PartnershipYearInline(admin.TabularInline):
    model = PartnershipYear
    formset = PartnershipYearFormSet
    extra = 1
    fields = ("year", "items", "output_value")


@admin.register(Partnership)
class PartnershipAdmin(TownScopedAdmin):
    inlines = [PartnershipYearInline]
    list_display = ("partner", "enterprise", "kind", "detail", "town", "since")
    list_filter = ("kind", "mode", "town")
    list_select_related = ("enterprise", "town")
    search_fields = ("partner", "enterprise__name", "produce")
    autocomplete_fields = ("enterprise",)

    @admin.display(description="方式 / 农产品")
    def detail(self, partnership: Partnership) -> str:
        return partnership.detail


class StoryForm(forms.ModelForm):
    class Meta:
        model = Story
        fields = [
            "title",
            "summary",
            "body",
            "photo",
            "courier",
            "display_name",
            "consent_given_at",
            "consent_note",
            "published_on",
        ]


@admin.register(Story)
class StoryAdmin(TownScopedAdmin):
    form = StoryForm
    list_display = ("title", "courier", "has_consent", "published_on", "is_public")
    list_filter = ("published_on",)
    list_select_related = ("courier",)
    search_fields = ("title", "courier__name")
    autocomplete_fields = ("courier",)
    readonly_fields = ("consent_recorded_by",)
    actions = ["publish", "unpublish"]
    fieldsets = (
        (None, {"fields": ("title", "summary", "body", "photo")}),
        (
            "小哥与同意",
            {
                "fields": (
                    "courier",
                    "display_name",
                    "consent_given_at",
                    "consent_note",
                    "consent_recorded_by",
                )
            },
        ),
        ("发布", {"fields": ("published_on",)}),
    )

    @admin.display(description="已同意公开", boolean=True)
    def has_consent(self, story: Story) -> bool:
        return story.consent_given_at is not None

    @admin.display(description="公开中", boolean=True)
    def is_public(self, story: Story) -> bool:
        return bool(
            story.consent_given_at
            and story.published_on
            and story.published_on <= timezone.localdate()
        )

    def save_model(self, request, obj, form, change):
        if "consent_given_at" in form.changed_data:
            obj.consent_recorded_by = request.user if obj.consent_given_at else None
        super().save_model(request, obj, form, change)

    @admin.action(description="发布所选事迹（今天）", permissions=["change"])
    def publish(self, request, queryset):
        refused = list(queryset.filter(consent_given_at__isnull=True))
        done = queryset.filter(consent_given_at__isnull=False, published_on__isnull=True).update(
            published_on=timezone.localdate()
        )
        if refused:
            self.message_user(
                request,
                "小哥尚未同意公开，不能发布：" + "、".join(s.title for s in refused),
                messages.ERROR,
            )
        if done:
            self.message_user(request, f"已发布 {done} 篇。", messages.SUCCESS)

    @admin.action(description="撤下所选事迹", permissions=["change"])
    def unpublish(self, request, queryset):
        done = queryset.update(published_on=None)
        self.message_user(request, f"已撤下 {done} 篇。", messages.SUCCESS)
