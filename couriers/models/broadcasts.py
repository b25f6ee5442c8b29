"""Broadcasts: one notice that staff send to a selection of couriers (「高温预警：…」).

A broadcast is the record of who asked to tell whom what, and of its approval; its messages
are ordinary outbox rows (`Message`, `about` = the broadcast), written in one bulk insert
(`couriers.messaging.bulk.notify_many`) once it may go: at once, or — above
SMS_BROADCAST_APPROVAL_OVER recipients — when district staff approve it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from couriers.models.registry import Town
from couriers.scoping import TownScopedQuerySet

# The broadcast template is 「通知：${title}，${content}」: each is one template variable, and
# Aliyun allows 35 characters a variable (Tencent fewer for some signatures), so the fields
# are limited here rather than shortened on the way out.
TITLE_MAX = 10
CONTENT_MAX = 35


class Broadcast(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PENDING_APPROVAL = "pending_approval", _("待审批")
        APPROVED = "approved", _("已批准")
        SENDING = "sending", _("发送中")
        DONE = "done", _("已完成")
        REJECTED = "rejected", _("已驳回")

    town_lookup = "town"

    title = models.CharField(_("标题"), max_length=TITLE_MAX)
    content = models.CharField(_("内容"), max_length=CONTENT_MAX)
    town = models.ForeignKey(
        Town,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="broadcasts",
        verbose_name=_("发送范围"),
        help_text=_("留空表示区级发送（全区）"),
    )
    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.DRAFT)
    # The couriers staff selected (ids), kept until the messages are written: a broadcast
    # waiting for approval has no messages yet. Opt-outs are applied again when it goes.
    audience = models.JSONField(_("所选快递小哥"), default=list, blank=True)
    recipients = models.PositiveIntegerField(
        _("收信人数"), default=0, help_text=_("已排除退订和已注销的快递小哥")
    )
    segments = models.PositiveSmallIntegerField(_("每条计费条数"), default=1)
    estimated_cost = models.DecimalField(
        _("预计费用（元）"), max_digits=12, decimal_places=3, default=0
    )
    # The confirm form's one-time key: a double-submitted confirm finds this and adds nothing.
    token = models.UUIDField(_("提交编号"), default=uuid.uuid4, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="broadcasts",
        verbose_name=_("发起人"),
    )
    created_at = models.DateTimeField(_("发起时间"), default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审批人"),
    )
    approved_at = models.DateTimeField(_("审批时间"), null=True, blank=True)

    objects = TownScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("群发通知")
        verbose_name_plural = _("群发通知")
        ordering = ["-created_at", "-id"]
        permissions = [("approve_broadcast", _("可审批群发通知（区级）"))]
        constraints = [
            # An approval (or a rejection) always names who made it.
            models.CheckConstraint(
                condition=models.Q(approved_at__isnull=True) | models.Q(approved_by__isnull=False),
                name="broadcast_decision_has_a_decider",
            ),
        ]
        indexes = [
            # The district's approval queue.
            models.Index(
                fields=["created_at"],
                name="broadcast_awaiting_idx",
                condition=models.Q(state="pending_approval"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title}（{self.get_state_display()}）"

    @property
    def scope_name(self) -> str:
        return self.town.name if self.town_id else "全区"
