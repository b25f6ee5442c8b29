"""Service partnerships (快递进厂 / 快递进村) with their yearly figures, and role-model stories."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from couriers.models import Courier, Town
from couriers.privacy.images import PhotoField
from couriers.privacy.masking import mask_name
from couriers.privacy.storage import private_storage
from couriers.scoping import TownScopedQuerySet


class Partnership(models.Model):
    """An express enterprise serving a factory (快递进厂) or a village's produce (快递进村)."""

    class Kind(models.TextChoices):
        FACTORY = "factory", _("快递进厂")
        VILLAGE = "village", _("快递进村")

    class Mode(models.TextChoices):
        INBOUND = "inbound", _("入厂物流")
        WAREHOUSE = "warehouse", _("仓储+配送")
        LAST_MILE = "last_mile", _("订单末端配送")

    enterprise = models.ForeignKey(
        "couriers.Enterprise",
        on_delete=models.PROTECT,
        related_name="partnerships",
        verbose_name=_("快递企业"),
    )
    partner = models.CharField(_("合作方"), max_length=100, help_text=_("工厂、合作社或农场"))
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    mode = models.CharField(
        _("进厂方式"), max_length=10, choices=Mode.choices, blank=True, help_text=_("快递进厂必填")
    )
    produce = models.CharField(
        _("农产品"), max_length=50, blank=True, help_text=_("快递进村必填，如：黄桃、蜜梨")
    )
    town = models.ForeignKey(
        Town, on_delete=models.PROTECT, related_name="partnerships", verbose_name=_("街镇")
    )
    since = models.DateField(_("合作开始"))
    note = models.CharField(_("备注"), max_length=200, blank=True)

    town_lookup = "town"
    objects = TownScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("服务合作")
        verbose_name_plural = _("服务合作")
        ordering = ["town__sort_order", "kind", "partner"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "partner", "kind"],
                name="partnership_unique",
                violation_error_message=_("这家企业与该合作方的合作已登记。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise.name} · {self.partner}"

    @property
    def detail(self) -> str:
        return self.get_mode_display() if self.kind == self.Kind.FACTORY else self.produce

    def clean(self) -> None:
        if self.kind == self.Kind.FACTORY:
            if not self.mode:
                raise ValidationError({"mode": _("快递进厂请选择进厂方式。")})
            if self.produce:
                raise ValidationError({"produce": _("农产品只在快递进村时填写。")})
        elif self.kind == self.Kind.VILLAGE:
            if not self.produce.strip():
                raise ValidationError({"produce": _("快递进村请填写农产品，如：黄桃。")})
            if self.mode:
                raise ValidationError({"mode": _("进厂方式只在快递进厂时选择。")})


class PartnershipYear(models.Model):
    """One year's figures of a partnership."""

    partnership = models.ForeignKey(
        Partnership, on_delete=models.CASCADE, related_name="years", verbose_name=_("合作")
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    items = models.PositiveBigIntegerField(_("寄递件数"))
    output_value = models.PositiveBigIntegerField(_("带动产值（元）"))

    town_lookup = "partnership__town"
    objects = TownScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("年度数据")
        verbose_name_plural = _("年度数据")
        ordering = ["-year", "partnership"]
        constraints = [
            models.UniqueConstraint(
                fields=["partnership", "year"],
                name="partnership_year_unique",
                violation_error_message=_("这一年的数据已经填写。"),
            ),
            models.CheckConstraint(
                condition=Q(year__gte=2000, year__lte=2100), name="partnership_year_sane"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partnership} {self.year}"


# --- role models (先进典型) ---------------------------------------------------------------------


class StoryQuerySet(TownScopedQuerySet):
    def public(self, today: datetime.date | None = None) -> StoryQuerySet:
        """Published (date reached) stories whose courier agreed to publication."""
        today = today or timezone.localdate()
        return self.filter(published_on__lte=today, consent_given_at__isnull=False)


class Story(models.Model):
    """A model courier's story, published only with their recorded consent."""

    title = models.CharField(_("标题"), max_length=100)
    summary = models.CharField(_("摘要"), max_length=200, blank=True)
    body = models.TextField(_("正文"))
    photo = PhotoField(_("照片"), upload_to="stories/", storage=private_storage, blank=True)
    courier = models.ForeignKey(
        Courier, on_delete=models.PROTECT, related_name="stories", verbose_name=_("快递小哥")
    )
    display_name = models.CharField(
        _("公开署名"),
        max_length=30,
        blank=True,
        help_text=_("小哥同意公开的称呼，如“顺丰小哥 王师傅”；留空则显示遮挡后的姓名"),
    )
    consent_given_at = models.DateTimeField(
        _("同意公开时间"), null=True, blank=True, help_text=_("小哥同意公开事迹和照片的时间")
    )
    consent_note = models.CharField(
        _("同意方式"), max_length=200, blank=True, help_text=_("如：签署书面同意书，存档于街镇")
    )
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("同意登记人"),
    )
    published_on = models.DateField(_("发布日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    town_lookup = "courier__work_town"
    objects = StoryQuerySet.as_manager()

    class Meta:
        verbose_name = _("先进典型")
        verbose_name_plural = _("先进典型")
        ordering = ["-published_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(published_on__isnull=True) | Q(consent_given_at__isnull=False),
                name="story_published_with_consent",
                violation_error_message=_("小哥尚未同意公开，不能发布。"),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def public_name(self) -> str:
        return self.display_name or mask_name(self.courier.name)

    def clean(self) -> None:
        if self.published_on and not self.consent_given_at:
            raise ValidationError({"published_on": _("小哥尚未同意公开，不能发布。")})
        if self.consent_given_at and not self.consent_note.strip():
            raise ValidationError({"consent_note": _("请写明小哥是如何同意的（如书面同意书）。")})
