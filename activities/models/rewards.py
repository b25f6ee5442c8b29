"""积分兑换: partners who offer rewards, the rewards catalogue, and the vouchers couriers redeem.

Spending points is a debit in the points ledger (source 积分兑换) pointing at its voucher;
cancelling or expiring a voucher adds the reversing entry. Nothing here edits the ledger.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from activities.models.programmes import Department
from couriers.models import Courier, Enterprise, Town
from couriers.privacy.images import PhotoField
from couriers.privacy.masking import mask_name
from couriers.scoping import TownScopedQuerySet
from stations.models import CheckinPoint, Station


class Partner(models.Model):
    """合作方: who offers rewards and hands them out (a station host, an enterprise, a union,
    a department, a shop such as a 爱心超市)."""

    class Kind(models.TextChoices):
        STATION = "station", _("站点主办方")
        ENTERPRISE = "enterprise", _("企业")
        UNION = "union", _("工会")
        DEPARTMENT = "department", _("部门")
        SHOP = "shop", _("爱心商户")

    name = models.CharField(_("名称"), max_length=100, unique=True)
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    town = models.ForeignKey(
        Town,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reward_partners",
        verbose_name=_("街镇"),
        help_text=_("留空为全区"),
    )
    station = models.ForeignKey(
        Station, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("站点")
    )
    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("企业")
    )
    department = models.ForeignKey(
        Department, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("部门")
    )
    contact = models.CharField(_("联系方式"), max_length=100, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    town_lookup = "town"
    objects = TownScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("兑换合作方")
        verbose_name_plural = _("兑换合作方")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PartnerMember(models.Model):
    """A staff account that works at a partner's counter: it sees that partner's rewards and
    vouchers and nothing of the registry (its rights come from this link, not from groups)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="partner_membership",
        verbose_name=_("账号"),
    )
    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="members", verbose_name=_("合作方")
    )

    class Meta:
        verbose_name = _("合作方账号")
        verbose_name_plural = _("合作方账号")

    def __str__(self) -> str:
        return f"{self.partner} · {self.user}"


class RewardQuerySet(TownScopedQuerySet):
    def on_offer(self, today: datetime.date | None = None) -> RewardQuerySet:
        """Active, within its dates, from an active partner (stock is shown, not filtered)."""
        today = today or timezone.localdate()
        return self.filter(
            Q(available_from__isnull=True) | Q(available_from__lte=today),
            Q(available_until__isnull=True) | Q(available_until__gte=today),
            is_active=True,
            partner__is_active=True,
        )


class Reward(models.Model):
    """A reward in the catalogue: goods, a service or a place, for a price in points."""

    class Kind(models.TextChoices):
        GOODS = "goods", _("实物")
        SERVICE = "service", _("服务")
        PLACE = "place", _("活动名额")

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    description = models.TextField(_("说明"), blank=True)
    picture = PhotoField(_("图片"), upload_to="rewards/", blank=True)
    price = models.PositiveIntegerField(_("所需积分"))
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="rewards", verbose_name=_("提供方")
    )
    town = models.ForeignKey(
        Town,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rewards",
        verbose_name=_("街镇"),
        help_text=_("留空为全区"),
    )
    station = models.ForeignKey(
        Station,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("领取站点"),
    )
    checkin_point = models.ForeignKey(
        CheckinPoint,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("领取报到点"),
    )
    address = models.CharField(
        _("领取地址"), max_length=200, blank=True, help_text=_("不在站点或报到点领取时填写")
    )
    collect_hours = models.CharField(
        _("领取时间"), max_length=100, blank=True, help_text=_("如：工作日 9:00-17:00")
    )
    stock = models.PositiveIntegerField(
        _("库存"), null=True, blank=True, help_text=_("剩余数量；留空为不限量")
    )
    monthly_limit = models.PositiveSmallIntegerField(
        _("每人每月限兑"), null=True, blank=True, help_text=_("留空为不限")
    )
    total_limit = models.PositiveSmallIntegerField(
        _("每人累计限兑"), null=True, blank=True, help_text=_("留空为不限")
    )
    available_from = models.DateField(_("开始日期"), null=True, blank=True)
    available_until = models.DateField(_("截止日期"), null=True, blank=True)
    is_active = models.BooleanField(_("上架"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    town_lookup = "town"
    objects = RewardQuerySet.as_manager()

    class Meta:
        verbose_name = _("兑换奖品")
        verbose_name_plural = _("兑换奖品")
        ordering = ["price", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=1), name="reward_price_positive"),
            # The database, not only the code, refuses an oversold reward.
            models.CheckConstraint(
                condition=Q(stock__isnull=True) | Q(stock__gte=0), name="reward_stock_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        dates = self.available_from and self.available_until
        if dates and self.available_until < self.available_from:
            raise ValidationError({"available_until": _("截止日期不能早于开始日期。")})
        if not (self.station_id or self.checkin_point_id or self.address.strip()):
            raise ValidationError({"address": _("请填写领取地点：站点、报到点或地址。")})

    def is_on_offer(self, today: datetime.date) -> bool:
        """As RewardQuerySet.on_offer, for one reward already loaded with its partner."""
        return (
            self.is_active
            and self.partner.is_active
            and (self.available_from is None or self.available_from <= today)
            and (self.available_until is None or self.available_until >= today)
        )

    @property
    def place(self) -> str:
        """Where it is collected, in words."""
        if self.station_id:
            return f"{self.station.name}（{self.station.address}）"
        if self.checkin_point_id:
            return f"{self.checkin_point.name}（{self.checkin_point.address}）"
        return self.address

    @property
    def position(self) -> tuple[float, float] | None:
        for place in (self.station, self.checkin_point):
            if place is not None and place.latitude is not None:
                return place.latitude, place.longitude
        return None

    @property
    def in_stock(self) -> bool:
        return self.stock is None or self.stock > 0


class VoucherQuerySet(TownScopedQuerySet):
    def open(self) -> VoucherQuerySet:
        return self.filter(state=Voucher.State.ISSUED)


class Voucher(models.Model):
    """A redeemed reward waiting at the counter: a one-time code, used once, or cancelled or
    expired (both give the stock and the points back)."""

    # A bare fact (who took what, for settling with the partner): kept, pointing at the
    # anonymous courier, when a person's data is erased.
    KEEP_ON_ERASURE = True

    class State(models.TextChoices):
        ISSUED = "issued", _("待使用")
        USED = "used", _("已使用")
        CANCELLED = "cancelled", _("已取消")
        EXPIRED = "expired", _("已过期")

    code = models.CharField(_("券码"), max_length=12, unique=True)
    reward = models.ForeignKey(
        Reward, on_delete=models.PROTECT, related_name="vouchers", verbose_name=_("奖品")
    )
    courier = models.ForeignKey(
        Courier, on_delete=models.PROTECT, related_name="vouchers", verbose_name=_("快递小哥")
    )
    points = models.PositiveIntegerField(_("积分"))
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.ISSUED)
    issued_at = models.DateTimeField(_("兑换时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("有效期至"))
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("核销人"),
    )
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("取消人"),
    )
    cancel_reason = models.CharField(_("取消原因"), max_length=200, blank=True)

    town_lookup = "reward__town"
    objects = VoucherQuerySet.as_manager()

    class Meta:
        verbose_name = _("兑换券")
        verbose_name_plural = _("兑换券")
        ordering = ["-issued_at", "-id"]
        indexes = [
            # The expiry sweep, per-courier limits, and partners' monthly statements.
            models.Index(fields=["state", "expires_at"], name="voucher_expiry_idx"),
            models.Index(fields=["courier", "reward", "issued_at"], name="voucher_limit_idx"),
            models.Index(fields=["reward", "used_at"], name="voucher_statement_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(points__gte=1), name="voucher_points_positive"),
            models.CheckConstraint(
                condition=~Q(state="used") | Q(used_at__isnull=False),
                name="voucher_used_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reward} · {self.masked_code}"

    @property
    def masked_code(self) -> str:
        """Enough to tell vouchers apart in lists; the full code is the courier's alone."""
        return f"••••{self.code[-3:]}"

    @property
    def display_code(self) -> str:
        return f"{self.code[:5]}-{self.code[5:]}"

    @property
    def courier_masked_name(self) -> str:
        return mask_name(self.courier.name)

    @property
    def is_usable(self) -> bool:
        return self.state == self.State.ISSUED and self.expires_at > timezone.now()
