"""The outbox: every text message the portal sends is a row here first.

A message is written in the same transaction as the change that causes it
(`couriers.messaging.notify`), so a rolled-back change sends nothing and a committed one is
never lost; the background worker sends it later (`couriers.messaging.tasks`). The unique
`why` — (event, record, recipient, occasion) — makes a redelivered task or a double click
send one message, not two.
"""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from couriers.messaging.templates import Kind
from couriers.models.registry import Courier
from couriers.privacy.masking import mask_numbers, mask_phone
from couriers.scoping import TownScopedQuerySet

ERASED = "收信人已注销"


class MessageQuerySet(TownScopedQuerySet):
    def due(self, now=None):
        """Pending messages whose time has come, in the order they go out: urgent ones (codes,
        same-day changes) first, so a code never waits behind a broadcast; then oldest first."""
        now = now or timezone.now()
        return self.filter(state=Message.State.PENDING, send_after__lte=now).order_by(
            "-urgent", "send_after", "id"
        )


class Message(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        DELIVERED = "delivered", _("已送达")
        FAILED = "failed", _("失败")
        CANCELLED = "cancelled", _("已取消")

    class Channel(models.TextChoices):
        SMS = "sms", _("短信")

    courier = models.ForeignKey(
        Courier,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("收信人"),
    )
    # Only for messages to a phone that need not belong to a courier (one-time codes); a
    # courier's message is sent to the courier's phone as it is when the message goes out.
    phone = models.CharField(_("手机号码"), max_length=11, blank=True)
    channel = models.CharField(
        _("渠道"), max_length=10, choices=Channel.choices, default=Channel.SMS
    )
    template = models.CharField(_("模板"), max_length=40)
    params = models.JSONField(_("模板参数"), default=dict, blank=True)
    event = models.CharField(_("事件"), max_length=40)
    about_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("相关记录类型"),
    )
    about_id = models.PositiveBigIntegerField(_("相关记录编号"), null=True, blank=True)
    about = GenericForeignKey("about_type", "about_id")
    # Tells apart messages for the same event, record and recipient that are each due (the
    # second change of an activity's time, a reminder 2 hours before after the evening one).
    occasion = models.CharField(_("场次"), max_length=40, blank=True, default="")
    urgent = models.BooleanField(
        _("立即发送"), default=False, help_text=_("不受免打扰时段限制（验证码、当天变更）")
    )
    # A message that only makes sense before a moment (a reminder, before its activity
    # starts) is cancelled rather than sent late, when quiet hours, the daily cap or a
    # provider outage hold it past that moment.
    send_before = models.DateTimeField(
        _("最迟发送时间"), null=True, blank=True, help_text=_("过时不再发送（如活动开始后的提醒）")
    )
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("发送次数"), default=0)
    send_after = models.DateTimeField(_("最早发送时间"), default=timezone.now)
    last_error = models.CharField(_("最近错误"), max_length=300, blank=True)
    provider = models.CharField(_("短信通道"), max_length=40, blank=True)
    provider_message_id = models.CharField(_("通道消息编号"), max_length=80, blank=True)
    segments = models.PositiveSmallIntegerField(
        _("计费条数"), default=0, help_text=_("发送时按短信长度计算（含签名），用于估算费用")
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)

    # Town staff see the messages of their town's couriers; codes (no courier) only district staff.
    town_lookup = "courier__work_town"
    objects = MessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("短信")
        verbose_name_plural = _("短信发件箱")
        ordering = ["-created_at", "-id"]
        constraints = [
            # Exactly once per (event, record, recipient, occasion). NULLs never clash in a
            # unique index, so codes (no courier) are kept apart by their occasion.
            models.UniqueConstraint(
                fields=["event", "about_type", "about_id", "courier", "occasion"],
                name="message_once_per_why",
            ),
        ]
        indexes = [
            # The worker: pending messages whose time has come, in order (MessageQuerySet.due).
            models.Index(
                fields=["-urgent", "send_after", "id"],
                name="message_due_idx",
                condition=models.Q(state="pending"),
            ),
            # A courier's daily cap and their 「我的」 list.
            models.Index(fields=["courier", "-created_at"], name="message_courier_recent_idx"),
        ]

    def __str__(self) -> str:
        who = self.courier.name if self.courier_id else mask_phone(self.phone)
        return f"{self.template} → {who}（{self.get_state_display()}）"

    @property
    def recipient_phone(self) -> str:
        """Where it goes: the courier's phone as it is now, or the phone it was written to."""
        return self.courier.phone if self.courier_id else self.phone

    @classmethod
    def erase_personal_data(cls, messages) -> None:
        """An erased courier's messages (couriers.privacy.personal_data): what was said to them
        and where is removed; the bare fact that a message was sent (and billed) is kept.
        Anything still waiting is cancelled, so nothing goes to them afterwards."""
        now = timezone.now()
        waiting = list(messages.filter(state=cls.State.PENDING).values_list("pk", flat=True))
        messages.filter(pk__in=waiting).update(state=cls.State.CANCELLED, last_error=ERASED)
        MessageLog.objects.bulk_create(
            MessageLog(message_id=pk, at=now, what=MessageLog.What.CANCELLED, note=ERASED)
            for pk in waiting
        )
        messages.update(params={}, phone="", provider_message_id="")

    def log(self, what: str, note: str = "", by=None, at=None) -> MessageLog:
        """One line of this message's history (numbers in the note masked: providers' errors
        can quote the number they refused)."""
        return MessageLog.objects.create(
            message=self,
            at=at or timezone.now(),
            what=what,
            note=mask_numbers(note)[:300],
            by=by,
        )


class MessageLog(models.Model):
    """What happened to a message, one line per step, for staff who open it in the outbox."""

    class What(models.TextChoices):
        SENT = "sent", _("已发送")
        RETRY = "retry", _("发送失败，稍后重试")
        FAILED = "failed", _("发送失败")
        DEFERRED = "deferred", _("推迟发送")
        CANCELLED = "cancelled", _("已取消")
        RESENT = "resent", _("重新发送")
        DELIVERED = "delivered", _("已送达")

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="history", verbose_name=_("短信")
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)
    what = models.CharField(_("经过"), max_length=10, choices=What.choices)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    by = models.ForeignKey(
        "auth.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
        help_text=_("工作人员的操作（重发、取消）；空白为系统"),
    )

    class Meta:
        verbose_name = _("短信发送记录")
        verbose_name_plural = _("短信发送记录")
        ordering = ["message_id", "at", "id"]
        indexes = [
            # A message's history, in order (the outbox admin's change view).
            models.Index(fields=["message", "at"], name="messagelog_message_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.get_what_display()}"

    @classmethod
    def erase_personal_data(cls, entries) -> None:
        entries.update(note="")


class MessagePreference(models.Model):
    """What a courier has chosen not to be told (on 「我的」, or by replying TD to a message).
    Codes are never refused: signing in needs them."""

    courier = models.OneToOneField(
        Courier,
        on_delete=models.CASCADE,
        related_name="message_preference",
        verbose_name=_("快递小哥"),
    )
    muted_kinds = models.JSONField(
        _("不接收的消息类型"),
        default=list,
        blank=True,
        help_text=_("见 couriers.messaging.templates.Kind"),
    )
    stopped_at = models.DateTimeField(
        _("回复退订时间"), null=True, blank=True, help_text=_("退订后只收验证码")
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("消息偏好")
        verbose_name_plural = _("消息偏好")
        ordering = ["courier_id"]

    def __str__(self) -> str:
        return f"{self.courier.name}的消息偏好"

    def allows(self, kind: str) -> bool:
        if kind == Kind.CODE:
            return True
        return self.stopped_at is None and kind not in self.muted_kinds
