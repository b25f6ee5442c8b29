"""Broadcasts in the admin: the 「发送通知短信」 action on lists of couriers (and of sign-ups
and claims, whose rows belong to couriers), its compose-preview-confirm page, and the
broadcasts' own admin (delivery figures; approval by district staff).

The action only opens the page; the page posts the selected couriers' ids back, so every
post is checked again against the user's town (`broadcasts.out_of_scope`) before anything
is previewed or sent.
"""

from __future__ import annotations

import uuid

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from couriers.admin_scoping import TownScopedAdmin
from couriers.messaging import broadcasts
from couriers.models import Broadcast, Courier
from couriers.models.broadcasts import CONTENT_MAX, TITLE_MAX
from couriers.scoping import staff_town_id

COMPOSE_TEMPLATE = "admin/couriers/broadcast_compose.html"


class BroadcastForm(forms.Form):
    title = forms.CharField(
        label="标题",
        max_length=TITLE_MAX,
        help_text=f"不超过 {TITLE_MAX} 个字，如“高温预警”",
        error_messages={"max_length": f"标题不能超过 {TITLE_MAX} 个字。"},
    )
    content = forms.CharField(
        label="内容",
        max_length=CONTENT_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": CONTENT_MAX}),
        help_text=f"不超过 {CONTENT_MAX} 个字（短信模板变量的长度上限）",
        error_messages={
            "max_length": f"内容不能超过 {CONTENT_MAX} 个字（短信模板变量的长度上限）。"
        },
    )
    couriers = forms.CharField(widget=forms.HiddenInput)
    token = forms.UUIDField(widget=forms.HiddenInput)

    def clean_couriers(self) -> list[int]:
        try:
            ids = [int(part) for part in self.cleaned_data["couriers"].split(",") if part]
        except ValueError:
            raise forms.ValidationError("收信人名单无效。") from None
        if not ids:
            raise forms.ValidationError("没有选中任何快递小哥。")
        return ids


def _ids_text(ids) -> str:
    return ",".join(str(pk) for pk in sorted(set(ids)))


def may_broadcast(request) -> bool:
    return staff_town_id(request.user) is not None and request.user.has_perm(
        "couriers.add_broadcast"
    )


def compose_page(request, form: BroadcastForm, *, preview=None, left_out_of_town: int = 0):
    opts = Broadcast._meta
    return TemplateResponse(
        request,
        COMPOSE_TEMPLATE,
        {
            **admin.site.each_context(request),
            "title": "发送通知短信",
            "opts": opts,
            "form": form,
            "preview": preview,
            "selected": len(form["couriers"].value().split(",")) if form["couriers"].value() else 0,
            "left_out_of_town": left_out_of_town,
            "needs_approval_over": settings.SMS_BROADCAST_APPROVAL_OVER,
            "compose_url": reverse("admin:couriers_broadcast_compose"),
        },
    )


@admin.action(description="发送通知短信")
def send_notice(modeladmin, request, queryset):
    """Open the compose page for the couriers of the selected rows (within the user's
    town: a sign-up list may hold couriers of other towns, who are left out and counted)."""
    if not may_broadcast(request):
        raise PermissionDenied
    field = "pk" if queryset.model is Courier else "courier_id"
    rows = queryset.order_by().values(field)
    mine = Courier.objects.for_user(request.user).filter(pk__in=rows)
    ids = list(mine.order_by("pk").values_list("pk", flat=True))
    chosen = rows.distinct().count()
    if not ids:
        modeladmin.message_user(request, "所选记录中没有您负责范围内的快递小哥。", messages.WARNING)
        return None
    form = BroadcastForm(initial={"couriers": _ids_text(ids), "token": uuid.uuid4()})
    return compose_page(request, form, left_out_of_town=chosen - len(ids))


class BroadcastActions:
    """Adds 「发送通知短信」 to a list whose rows are couriers or belong to one (a `courier`
    foreign key), for staff who may send broadcasts."""

    def get_actions(self, request):
        actions = super().get_actions(request)
        if may_broadcast(request):
            actions["send_notice"] = (send_notice, "send_notice", send_notice.short_description)
        return actions


@admin.register(Broadcast)
class BroadcastAdmin(TownScopedAdmin):
    list_display = (
        "title",
        "scope",
        "state",
        "recipients",
        "segments",
        "estimated_cost",
        "created_by",
        "created_at",
        "approved_by",
    )
    list_filter = ("state", "town")
    list_select_related = ("town", "created_by", "approved_by")
    search_fields = ("title", "content")
    fields = (
        "title",
        "content",
        "text",
        "scope",
        "state",
        "recipients",
        "segments",
        "estimated_cost",
        "delivery",
        "created_by",
        "created_at",
        "approved_by",
        "approved_at",
    )
    readonly_fields = fields
    actions = ["approve", "reject"]

    def has_add_permission(self, request) -> bool:
        return False  # a broadcast starts from a list of couriers: 「发送通知短信」

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # the record of what was sent: read only

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_approve_permission(self, request) -> bool:
        return broadcasts.may_approve(request.user)

    def get_object(self, request, object_id, from_field=None):
        broadcast = super().get_object(request, object_id, from_field)
        if broadcast is not None:
            broadcasts.refresh_state(broadcast)
        return broadcast

    @admin.display(description="发送范围", ordering="town")
    def scope(self, broadcast: Broadcast) -> str:
        return broadcast.scope_name

    @admin.display(description="短信内容（含签名）")
    def text(self, broadcast: Broadcast) -> str:
        return broadcasts.rendered(broadcast.title, broadcast.content)

    @admin.display(description="发送情况")
    def delivery(self, broadcast: Broadcast) -> str:
        rows = broadcasts.figures(broadcast)
        return format_html(
            '<ul class="broadcast-figures">{}</ul>',
            format_html_join("", "<li>{}：{}</li>", ((label, n) for label, n in rows)),
        )

    @admin.action(description="批准并发送所选群发通知", permissions=["approve"])
    def approve(self, request, queryset):
        done = sum(broadcasts.approve(b, request.user) for b in queryset)
        self.message_user(request, f"已批准 {done} 条群发通知，短信将陆续发出。", messages.SUCCESS)

    @admin.action(description="驳回所选群发通知", permissions=["approve"])
    def reject(self, request, queryset):
        done = sum(broadcasts.reject(b, request.user) for b in queryset)
        self.message_user(request, f"已驳回 {done} 条群发通知。", messages.SUCCESS)

    def get_urls(self):
        return [
            path(
                "compose/",
                self.admin_site.admin_view(self.compose_view),
                name="couriers_broadcast_compose",
            ),
            *super().get_urls(),
        ]

    def compose_view(self, request):
        """The compose page's posts: 预览 shows the figures, 修改 goes back to the text,
        确认发送 records the broadcast (once per page: its token)."""
        if not may_broadcast(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:couriers_courier_changelist"))
        form = BroadcastForm(request.POST)
        if not form.is_valid():
            return compose_page(request, form)
        data = form.cleaned_data
        if broadcasts.out_of_scope(request.user, data["couriers"]):
            raise PermissionDenied("所选快递小哥不在您的负责范围内。")
        if "edit" in request.POST:
            return compose_page(request, form)
        if "confirm" not in request.POST:
            shown = broadcasts.preview(data["couriers"], data["title"], data["content"])
            return compose_page(request, form, preview=shown)
        broadcast, created = broadcasts.submit(
            user=request.user,
            courier_ids=data["couriers"],
            title=data["title"],
            content=data["content"],
            token=data["token"],
        )
        if not created:
            self.message_user(request, "这条通知刚刚已经提交过，没有重复发送。", messages.WARNING)
        elif broadcast.state == Broadcast.State.PENDING_APPROVAL:
            self.message_user(
                request,
                f"收信人超过 {settings.SMS_BROADCAST_APPROVAL_OVER} 人，"
                "已提交区级审批，批准后发送。",
                messages.WARNING,
            )
        else:
            self.message_user(
                request, f"已提交，{broadcast.recipients} 条短信将陆续发出。", messages.SUCCESS
            )
        return HttpResponseRedirect(reverse("admin:couriers_broadcast_change", args=[broadcast.pk]))
