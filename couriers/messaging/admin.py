"""The outbox in the admin (短信发件箱): every message with its state, recipient (masked), why it
was sent and its history. Read-only, but for two actions, each written to the message's history
and the audit log with the staff member who took it: send a failed message again (a new
attempt: back to 待发送), and cancel one still waiting.

Town staff see their own couriers' messages only (TownScopedAdmin: list, filters, change view,
actions); one-time codes belong to no courier and only district staff see them, never with the
code. Lookups on the phone (`?phone=`, `?courier__phone__startswith=`) are refused like on
every admin (couriers.privacy.admin).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from couriers.admin_scoping import TownScopedAdmin
from couriers.messaging import sending, tasks, templates
from couriers.models import Message, MessageLog
from couriers.privacy import audit
from couriers.privacy.masking import mask_phone

HIDDEN = "******"


def shown_text(message: Message) -> str:
    """The text as the courier read it; a code's digits are never shown."""
    template = templates.get(message.template)
    params = dict(message.params)
    if template.kind == templates.Kind.CODE:
        params = {key: HIDDEN for key in template.params}
    return template.render(params)


@admin.register(Message)
class MessageAdmin(TownScopedAdmin):
    list_display = (
        "id",
        "state",
        "title",
        "recipient",
        "town",
        "event",
        "attempts",
        "created_at",
        "sent_at",
    )
    list_display_links = ("id", "title")
    list_filter = (
        "state",
        "event",
        "courier__work_town",
        ("created_at", admin.DateFieldListFilter),
        "urgent",
    )
    date_hierarchy = "created_at"
    list_select_related = ("courier__work_town",)
    search_fields = ("courier__name",)
    search_help_text = "按收信人姓名查找"
    ordering = ("-created_at", "-id")
    list_per_page = 50
    actions = ("resend", "cancel_pending")
    fields = (
        "state",
        "title",
        "recipient",
        "text",
        "event",
        "about",
        "occasion",
        "urgent",
        "attempts",
        "send_after",
        "last_error",
        "provider",
        "provider_message_id",
        "segments",
        "created_at",
        "sent_at",
        "delivered_at",
        "history_table",
    )
    readonly_fields = fields
    change_form_template = "admin/couriers/message_change_form.html"

    @admin.display(description="模板")
    def title(self, message: Message) -> str:
        return templates.get(message.template).title

    @admin.display(description="收信人")
    def recipient(self, message: Message) -> str:
        if message.courier_id:
            return f"{message.courier.name}（{mask_phone(message.courier.phone)}）"
        return mask_phone(message.phone) or "（号码已清除）"

    @admin.display(description="街镇", ordering="courier__work_town")
    def town(self, message: Message) -> str:
        return message.courier.work_town.name if message.courier_id else "—"

    @admin.display(description="短信内容")
    def text(self, message: Message) -> str:
        return templates.signed(shown_text(message))

    @admin.display(description="相关记录")
    def about(self, message: Message) -> str:
        if message.about_type_id is None:
            return "—"
        return f"{message.about_type.name} #{message.about_id}"

    @admin.display(description="发送经过")
    def history_table(self, message: Message) -> str:
        rows = [
            (
                timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M:%S"),
                entry.get_what_display(),
                entry.note,
                entry.by.get_username() if entry.by_id else "系统",
            )
            for entry in message.history.select_related("by")
        ]
        if not rows:
            return "尚未发送"
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
        return format_html(
            '<table class="message-history"><thead><tr><th>时间</th><th>经过</th><th>说明</th>'
            "<th>操作人</th></tr></thead><tbody>{}</tbody></table>",
            body,
        )

    # Read-only: the outbox is written by the system; staff act through the two actions.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_act_permission(self, request) -> bool:
        return request.user.has_perm("couriers.change_message")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "may_act": self.has_act_permission(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _act(self, request, queryset, state, act) -> int:
        """Apply `act` to each message of `queryset` still in `state`, locked (a message the
        worker is sending right now is skipped); returns how many."""
        done = 0
        for pk in queryset.filter(state=state).values_list("pk", flat=True):
            with transaction.atomic():
                message = sending.locking(
                    Message.objects.filter(pk=pk, state=state).select_related("courier")
                ).first()
                if message is not None and act(message):
                    done += 1
        return done

    def _back(self, request, queryset):
        """From a message's own page, back to it; from the list, the list (the default)."""
        if request.POST.get("_from") == "change" and queryset.count() == 1:
            pk = queryset.values_list("pk", flat=True).get()
            return HttpResponseRedirect(reverse("admin:couriers_message_change", args=[pk]))
        return None

    @admin.action(description="重新发送所选失败短信", permissions=["act"])
    def resend(self, request, queryset):
        def again(message: Message) -> bool:
            if templates.get(message.template).kind == templates.Kind.CODE:
                return False  # its code is gone (and expired): the courier asks for a new one
            message.state, message.attempts = Message.State.PENDING, 0
            message.send_after, message.last_error = timezone.now(), ""
            message.save(update_fields=["state", "attempts", "send_after", "last_error"])
            message.log(MessageLog.What.RESENT, "工作人员重新发送", by=request.user)
            audit.log_staff_action(request, message, {"状态": ["失败", "待发送（重新发送）"]})
            transaction.on_commit(tasks.wake, robust=True)
            return True

        done = self._act(request, queryset, Message.State.FAILED, again)
        skipped = queryset.count() - done
        self.message_user(request, f"已重新排队发送 {done} 条。", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} 条未重发：只有“失败”的短信可以重发，验证码须由本人重新获取。",
                messages.WARNING,
            )
        return self._back(request, queryset)

    @admin.action(description="取消所选待发送短信", permissions=["act"])
    def cancel_pending(self, request, queryset):
        def stop(message: Message) -> bool:
            sending.cancel(message, "工作人员取消", by=request.user)
            audit.log_staff_action(request, message, {"状态": ["待发送", "已取消"]})
            return True

        done = self._act(request, queryset, Message.State.PENDING, stop)
        skipped = queryset.count() - done
        self.message_user(request, f"已取消 {done} 条。", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"{skipped} 条未取消：只有“待发送”的短信可以取消。", messages.WARNING
            )
        return self._back(request, queryset)
