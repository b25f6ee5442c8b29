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
from couriers.privacy.masking import mask_phone


class MessageQuerySet(models.QuerySet):
    def due(self, now=None):
        """Pending messages whose time has come, oldest first (the order they go out in)."""
        now = now or timezone.now()
        return self.filter(state=Message.State.PENDING, send_after__lte=now).order_by(
            "send_after", "id"
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
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("发送次数"), default=0)
    send_after = models.DateTimeField(_("最早发送时间"), default=timezone.now)
    last_error = models.CharField(_("最近错误"), max_length=300, blank=True)
    provider = models.CharField(_("短信通道"), max_length=40, blank=True)
    provider_message_id = models.CharField(_("通道消息编号"), max_length=80, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)

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
            # The worker: pending messages whose time has come, in order.
            models.Index(
                fields=["send_after", "id"],
                name="message_due_idx",
                condition=models.Q(state="pending"),
            ),
            # A courier's daily cap and their 「我的」 list.
            models.Index(fields=["courier", "-created_at"], name="message_courier_recent_idx"),
        ]

    def __str__(self) -> str:
        who = self.courier.name if self.courier_id else mask_phone(self.phone)
        return f"{self.template} → {who}（{self.get_state_display()}）"


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
