"""小哥报到: check-in points with their stored poster tokens, campaigns, couriers' check-ins
and moves between points, and the 6I volunteer categories the check-in form asks about."""

from __future__ import annotations

import re
import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from couriers.models import Community, Courier, Town
from couriers.scoping import TownScopedQuerySet
from stations import geo


def new_poster_token() -> str:
    """A random poster token: 192 bits, URL-safe, nothing to do with SECRET_KEY."""
    return secrets.token_urlsafe(24)


# What a token can look like: a random one, or a signed one printed before tokens were stored
# ("<id>.<signature>"). Anything else (a NUL byte, which PostgreSQL refuses in a query, an
# overlong string) is not looked up at all.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def looks_like_poster_token(value: str) -> bool:
    return bool(value) and _TOKEN_SHAPE.fullmatch(value) is not None


class SixI(models.TextChoices):
    """The "6I" volunteer categories of the 共治聚新 programme."""

    LEARN = "learn", _("I学理论")
    SEE = "see", _("I看奉贤")
    GOVERN = "govern", _("I管贤治")
    SAFETY = "safety", _("I护平安")
    CHARITY = "charity", _("I做公益")
    HEALTH = "health", _("I享健康")


class CheckinPoint(models.Model):
    """小哥报到点: where couriers register (报到备案) by scanning the point's QR code."""

    class Kind(models.TextChoices):
        PARTY_SITE = "party_site", _("党群服务阵地")
        COMMUNITY = "community", _("社区")
        OTHER = "other", _("其他")

    name = models.CharField(_("报到点名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.PARTY_SITE)
    town = models.ForeignKey(
        Town, on_delete=models.PROTECT, related_name="checkin_points", verbose_name=_("街镇")
    )
    community = models.ForeignKey(
        Community,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="checkin_points",
        verbose_name=_("村居委"),
    )
    address = models.CharField(_("地址"), max_length=200)
    latitude = models.FloatField(_("纬度"), null=True, blank=True)
    longitude = models.FloatField(_("经度"), null=True, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=20, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    target = models.PositiveIntegerField(
        _("报到目标人数"), default=30, help_text=_("本报到季期望报到的小哥人数")
    )
    is_active = models.BooleanField(_("启用"), default=True)
    # What the poster's QR code carries. Stored, not derived from SECRET_KEY, so rotating the
    # key voids no printed poster; staff replace it (重新生成二维码) to void one point's posters.
    poster_token = models.CharField(
        _("海报二维码令牌"), max_length=64, unique=True, default=new_poster_token, editable=False
    )

    town_lookup = "town"
    objects = TownScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("小哥报到点")
        verbose_name_plural = _("小哥报到点")
        ordering = ["town__sort_order", "name"]
        permissions = [("import_checkinpoint", _("可导入报到点名单"))]
        constraints = [
            models.UniqueConstraint(fields=["town", "name"], name="checkin_point_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        has_lat, has_lng = self.latitude is not None, self.longitude is not None
        if has_lat != has_lng or (has_lat and not geo.in_fengxian(self.latitude, self.longitude)):
            raise ValidationError(_("坐标不完整或不在奉贤区范围内。"))

    @property
    def token(self) -> str:
        """What the poster's QR code carries: the point's random token."""
        return self.poster_token

    def rotate_poster_token(self) -> None:
        """Void every poster printed so far: the point gets a new random token."""
        self.poster_token = new_poster_token()
        self.save(update_fields=["poster_token"])


class CampaignQuerySet(models.QuerySet):
    def current(self) -> Campaign | None:
        return self.filter(is_current=True).first()


class Campaign(models.Model):
    """报到季: a registration campaign; exactly one is current."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    is_current = models.BooleanField(_("当前报到季"), default=False)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = _("报到季")
        verbose_name_plural = _("报到季")
        ordering = ["-starts_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"],
                condition=Q(is_current=True),
                name="campaign_one_current",
                violation_error_message=_("只能有一个当前报到季。"),
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="campaign_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CheckIn(models.Model):
    """A courier's registration (报到备案) at a point in a campaign: one per courier per
    campaign, enforced by the database; moving to another point keeps the history."""

    # A bare fact: kept, pointing at the anonymous courier, when a person's data is erased.
    KEEP_ON_ERASURE = True

    courier = models.ForeignKey(
        Courier, on_delete=models.CASCADE, related_name="checkins", verbose_name=_("快递小哥")
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="checkins", verbose_name=_("报到季")
    )
    point = models.ForeignKey(
        CheckinPoint, on_delete=models.PROTECT, related_name="checkins", verbose_name=_("报到点")
    )
    interests = models.JSONField(
        _("感兴趣的志愿服务"), default=list, blank=True, help_text=_("6I 类别")
    )
    privacy_consent_at = models.DateTimeField(_("同意个人信息告知时间"))
    sensitive_consent_at = models.DateTimeField(
        _("同意处理敏感信息时间"),
        null=True,
        blank=True,
        help_text=_("政治面貌属敏感个人信息，须单独同意"),
    )
    created_at = models.DateTimeField(_("报到时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    town_lookup = "point__town"
    objects = TownScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("报到记录")
        verbose_name_plural = _("报到记录")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["courier", "campaign"],
                name="checkin_once_per_campaign",
                violation_error_message=_("该小哥本报到季已报到。"),
            ),
        ]
        indexes = [
            # Progress by point and by day.
            models.Index(fields=["point", "created_at"], name="checkin_point_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.courier.name} @ {self.point}"

    def interest_labels(self) -> list[str]:
        labels = dict(SixI.choices)
        return [str(labels[value]) for value in self.interests if value in labels]


class CheckInMove(models.Model):
    """History: a registration moved from one point to another."""

    # A bare fact: kept, pointing at the anonymous courier, when a person's data is erased.
    KEEP_ON_ERASURE = True

    checkin = models.ForeignKey(
        CheckIn, on_delete=models.CASCADE, related_name="moves", verbose_name=_("报到记录")
    )
    from_point = models.ForeignKey(
        CheckinPoint, on_delete=models.PROTECT, related_name="+", verbose_name=_("原报到点")
    )
    to_point = models.ForeignKey(
        CheckinPoint, on_delete=models.PROTECT, related_name="+", verbose_name=_("新报到点")
    )
    moved_at = models.DateTimeField(_("变更时间"), default=timezone.now)

    town_lookup = "checkin__point__town"
    objects = TownScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("报到点变更")
        verbose_name_plural = _("报到点变更")
        ordering = ["-moved_at"]

    def __str__(self) -> str:
        return f"{self.from_point} → {self.to_point}"
