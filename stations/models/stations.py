"""骑乐融融 rest stations: where they are, when they open, what they offer, and what couriers
report and do there."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from couriers.models import Community, Courier, Town
from couriers.privacy.images import PhotoField
from couriers.scoping import TownScopedQuerySet
from stations import geo, hours


class Service(models.Model):
    """One thing a station offers (饮水, 充电 …): a list staff manage."""

    name = models.CharField(_("名称"), max_length=20, unique=True)
    icon = models.CharField(_("图标"), max_length=4, blank=True, help_text=_("一个表情符号，如 💧"))
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("服务项目")
        verbose_name_plural = _("服务项目")
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


class StationQuerySet(TownScopedQuerySet):
    def active(self) -> StationQuerySet:
        return self.filter(is_active=True)

    def for_finder(self) -> StationQuerySet:
        """Everything the finder shows, in a fixed handful of queries however many stations."""
        return self.select_related("town", "community").prefetch_related(
            "services",
            Prefetch("hours", queryset=OpeningHours.objects.order_by("weekday", "opens")),
        )


class Station(models.Model):
    class HostType(models.TextChoices):
        PARTY_SERVICE = "party_service", _("党群服务站点")
        CIVILIZATION = "civilization", _("新时代文明实践中心")
        RELAY = "relay", _("户外职工爱心接力站")
        YOUTH = "youth", _("青年中心")
        WOMEN = "women", _("妇女之家")
        OTHER = "other", _("其他")

    name = models.CharField(_("站点名称"), max_length=100)
    host_type = models.CharField(
        _("承载阵地"), max_length=16, choices=HostType.choices, default=HostType.PARTY_SERVICE
    )
    town = models.ForeignKey(
        Town, on_delete=models.PROTECT, related_name="stations", verbose_name=_("街镇")
    )
    community = models.ForeignKey(
        Community,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stations",
        verbose_name=_("村居委"),
    )
    address = models.CharField(_("地址"), max_length=200)
    latitude = models.FloatField(
        _("纬度"),
        validators=[
            MinValueValidator(geo.FENGXIAN_BOUNDS["lat"][0]),
            MaxValueValidator(geo.FENGXIAN_BOUNDS["lat"][1]),
        ],
        help_text=_("WGS-84（手机定位所用的坐标）"),
    )
    longitude = models.FloatField(
        _("经度"),
        validators=[
            MinValueValidator(geo.FENGXIAN_BOUNDS["lng"][0]),
            MaxValueValidator(geo.FENGXIAN_BOUNDS["lng"][1]),
        ],
    )
    phone = models.CharField(
        _("联系电话"), max_length=20, blank=True, help_text=_("站点的公开电话，如 021-57123456")
    )
    open_24_hours = models.BooleanField(_("24小时开放"), default=False)
    services = models.ManyToManyField(
        Service, blank=True, related_name="stations", verbose_name=_("服务项目")
    )
    is_demonstration = models.BooleanField(_("示范站点"), default=False)
    # A picture of a public place shown on public pages: public MEDIA, once cleaned.
    photo = PhotoField(_("照片"), upload_to="stations/", blank=True)
    is_active = models.BooleanField(
        _("启用"), default=True, help_text=_("停用的站点不在公众页面显示")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    town_lookup = "town"
    objects = StationQuerySet.as_manager()

    class Meta:
        verbose_name = _("骑乐融融站点")
        verbose_name_plural = _("骑乐融融站点")
        permissions = [("import_station", _("可导入站点名单"))]
        ordering = ["town__sort_order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["town", "name"], name="station_unique_name_in_town"),
        ]
        indexes = [
            # The finder lists active stations of a town.
            models.Index(
                fields=["town", "name"], name="station_active_town_idx", condition=Q(is_active=True)
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if (
            self.latitude is not None
            and self.longitude is not None
            and not geo.in_fengxian(self.latitude, self.longitude)
        ):
            raise ValidationError(
                _("坐标不在奉贤区范围内，请核对（纬度约 30.8–31.0，经度约 121.3–121.8）。")
            )
        if self.community_id and self.town_id and self.community.town_id != self.town_id:
            raise ValidationError({"community": _("村居委不在所选街镇内。")})

    def hour_ranges(self) -> list[tuple[int, datetime.time, datetime.time]]:
        """From the rows the finder read (`finder_hours`), else the prefetched hours: no query
        when the station came from search_stations() or for_finder()."""
        ranges = getattr(self, "finder_hours", None)
        if ranges is not None:
            return ranges
        return [(h.weekday, h.opens, h.closes) for h in self.hours.all()]

    @property
    def service_list(self) -> list:
        """Its services, from the finder's rows (`finder_services`) when it set them."""
        offered = getattr(self, "finder_services", None)
        return offered if offered is not None else list(self.services.all())

    def status(self, now: datetime.datetime | None = None) -> hours.Status:
        now = timezone.localtime(now or timezone.now())
        return hours.status_at(self.hour_ranges(), now, all_day=self.open_24_hours)

    def distance_from(self, lat: float, lng: float) -> float:
        return geo.distance_m(lat, lng, self.latitude, self.longitude)

    def week(self) -> list[tuple[str, str]]:
        """(weekday, "08:00–12:00、14:00–20:00" or 休息) for each day of the week."""
        if self.open_24_hours:
            return [(day, "24小时") for day in hours.WEEKDAYS]
        days: dict[int, list[str]] = {}
        for weekday, opens, closes in self.hour_ranges():
            nextday = "次日" if closes <= opens else ""
            days.setdefault(weekday, []).append(f"{opens:%H:%M}–{nextday}{closes:%H:%M}")
        return [
            (name, "、".join(days.get(i, [])) or "休息") for i, name in enumerate(hours.WEEKDAYS)
        ]

    def navigation_links(self) -> dict[str, str]:
        """Deep links to start navigation in the apps couriers use, in each app's coordinates."""
        from urllib.parse import quote

        name = quote(self.name)
        gcj_lat, gcj_lng = geo.wgs84_to_gcj02(self.latitude, self.longitude)
        bd_lat, bd_lng = geo.gcj02_to_bd09(gcj_lat, gcj_lng)
        return {
            "amap": f"https://uri.amap.com/navigation?to={gcj_lng:.6f},{gcj_lat:.6f},{name}"
            f"&mode=ride&coordinate=gaode&callnative=1&src=fengxian-couriers",
            "baidu": f"https://api.map.baidu.com/direction?destination=latlng:{bd_lat:.6f},"
            f"{bd_lng:.6f}|name:{name}&mode=riding&coord_type=bd09ll&region=上海"
            f"&output=html&src=fengxian-couriers",
            "apple": f"https://maps.apple.com/?daddr={gcj_lat:.6f},{gcj_lng:.6f}&dirflg=d&q={name}",
        }


class OpeningHours(models.Model):
    station = models.ForeignKey(
        Station, on_delete=models.CASCADE, related_name="hours", verbose_name=_("站点")
    )
    weekday = models.PositiveSmallIntegerField(
        _("星期"),
        choices=list(enumerate(hours.WEEKDAYS)),
        validators=[MaxValueValidator(6)],
    )
    opens = models.TimeField(_("开门"))
    closes = models.TimeField(_("关门"), help_text=_("早于开门时间表示次日关门（跨过午夜）"))

    town_lookup = "station__town"
    objects = TownScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("开放时间")
        verbose_name_plural = _("开放时间")
        ordering = ["weekday", "opens"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(opens=F("closes")),
                name="opening_hours_not_empty",
                violation_error_message=_("开门和关门时间不能相同；全天开放请勾选“24小时开放”。"),
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="opening_hours_weekday"),
        ]

    def __str__(self) -> str:
        return f"{hours.WEEKDAYS[self.weekday]} {self.opens:%H:%M}–{self.closes:%H:%M}"


class StatusReportQuerySet(TownScopedQuerySet):
    def open(self) -> StatusReportQuerySet:
        return self.filter(cleared_at__isnull=True)

    def recent(self, hours: int = 24) -> StatusReportQuerySet:
        return self.filter(created_at__gte=timezone.now() - datetime.timedelta(hours=hours))


class StatusReport(models.Model):
    """A courier's one-tap report on a station: still open, out of water, charger broken …"""

    class Kind(models.TextChoices):
        OPEN = "open", _("还开着")
        NO_WATER = "no_water", _("没水了")
        CHARGER_BROKEN = "charger_broken", _("充电坏了")
        CLOSED = "closed", _("关门了")

        @property
        def is_problem(self) -> bool:
            return self != StatusReport.Kind.OPEN

    station = models.ForeignKey(
        Station, on_delete=models.CASCADE, related_name="reports", verbose_name=_("站点")
    )
    kind = models.CharField(_("情况"), max_length=16, choices=Kind.choices)
    created_at = models.DateTimeField(_("报告时间"), default=timezone.now, db_index=True)
    device = models.CharField(
        _("设备标识"),
        max_length=64,
        editable=False,
        help_text=_("匿名设备标识的摘要，用于限制频率"),
    )
    address = models.CharField(
        _("网络地址标识"),
        max_length=64,
        editable=False,
        help_text=_("客户端地址的摘要，用于限制频率"),
    )
    cleared_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("处理人"),
    )

    town_lookup = "station__town"
    objects = StatusReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("站点情况报告")
        verbose_name_plural = _("站点情况报告")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The station page: its latest uncleared reports.
            models.Index(
                fields=["station", "-created_at"],
                name="report_station_recent_idx",
                condition=Q(cleared_at__isnull=True),
            ),
            # The rate limits: one device's, and one address's, recent reports.
            models.Index(fields=["device", "-created_at"], name="report_device_recent_idx"),
            models.Index(fields=["address", "-created_at"], name="report_address_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.station}：{self.get_kind_display()}"


class StationVisit(models.Model):
    """A scan of a station's poster: where couriers actually rest, and when."""

    # A bare fact: kept, pointing at the anonymous courier, when a person's data is erased.
    KEEP_ON_ERASURE = True

    station = models.ForeignKey(
        Station, on_delete=models.CASCADE, related_name="visits", verbose_name=_("站点")
    )
    courier = models.ForeignKey(
        Courier,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="station_visits",
        verbose_name=_("快递小哥"),
        help_text=_("已识别身份的小哥；匿名扫码为空"),
    )
    visited_at = models.DateTimeField(_("到访时间"), default=timezone.now)
    device = models.CharField(_("设备标识"), max_length=64, editable=False)

    town_lookup = "station__town"
    objects = TownScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("站点到访")
        verbose_name_plural = _("站点到访")
        ordering = ["-visited_at", "-id"]
        indexes = [
            # Usage counts per station over a period.
            models.Index(fields=["station", "visited_at"], name="visit_station_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.station} {timezone.localtime(self.visited_at):%Y-%m-%d %H:%M}"
