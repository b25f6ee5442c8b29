"""Activities and training classes (四季关爱, 流动课堂 / 云端课堂 …): departments, sign-ups with a
waiting list, and attendance."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from couriers.models import Courier, Town
from couriers.scoping import TownScopedQuerySet
from stations.models import CheckinPoint
from stations.models.checkin import new_poster_token


class Department(models.Model):
    """A district department that organises or partners in activities (a list staff keep)."""

    name = models.CharField(_("名称"), max_length=50, unique=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=100)

    class Meta:
        verbose_name = _("主办 / 协办部门")
        verbose_name_plural = _("主办 / 协办部门")
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


class ActivityQuerySet(TownScopedQuerySet):
    def published(self) -> ActivityQuerySet:
        return self.filter(is_published=True)

    def with_counts(self) -> ActivityQuerySet:
        live = SignUp.Status
        return self.annotate(
            confirmed=Count("signups", filter=Q(signups__status=live.CONFIRMED), distinct=True),
            waiting=Count("signups", filter=Q(signups__status=live.WAITING), distinct=True),
        )

    def upcoming_first(self, now: datetime.datetime | None = None) -> ActivityQuerySet:
        """Coming and running activities by start (soonest first), then past ones, latest first."""
        now = now or timezone.now()
        past = models.Case(
            models.When(ends_at__lt=now, then=models.Value(1)), default=models.Value(0)
        )
        return self.annotate(
            is_past=past,
            coming_start=models.Case(models.When(ends_at__gte=now, then="starts_at")),
            past_start=models.Case(models.When(ends_at__lt=now, then="starts_at")),
        ).order_by(
            "is_past",
            models.F("coming_start").asc(nulls_last=True),
            models.F("past_start").desc(nulls_last=True),
            "pk",
        )


class Activity(models.Model):
    """An activity or training class couriers sign up for and attend."""

    class Kind(models.TextChoices):
        SUMMER = "summer", _("夏送清凉")
        WINTER = "winter", _("冬送温暖")
        SPRING_FESTIVAL = "spring_festival", _("春节关爱")
        MID_AUTUMN = "mid_autumn", _("中秋关爱")
        CARE = "care", _("其他关爱活动")
        MOBILE_CLASS = "mobile_class", _("流动课堂")
        ONLINE_CLASS = "online_class", _("云端课堂")
        NIGHT_SCHOOL = "night_school", _("青年夜校")
        HEALTH_BAR = "health_bar", _("行走的健康吧")
        WORK_CIRCLE = "work_circle", _("友好工作圈")
        GATHERING = "gathering", _("议事 / 团建")

        @property
        def is_class(self) -> bool:
            return self in (Activity.Kind.MOBILE_CLASS, Activity.Kind.ONLINE_CLASS)

    class Topic(models.TextChoices):
        CONTEST = "contest", _("技能创新大赛")
        RIGHTS = "rights", _("劳动权益讲座")
        TRAFFIC = "traffic", _("交通安全")
        FOOD = "food", _("食品安全")
        LAW = "law", _("法律知识")
        OTHER = "other", _("其他")

    title = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    topic = models.CharField(
        _("培训主题"),
        max_length=10,
        choices=Topic.choices,
        blank=True,
        help_text=_("流动课堂、云端课堂必填"),
    )
    description = models.TextField(_("活动介绍"), blank=True)
    organisers = models.ManyToManyField(
        Department, related_name="organised", blank=True, verbose_name=_("主办部门")
    )
    partners = models.ManyToManyField(
        Department, related_name="partnered", blank=True, verbose_name=_("协办部门")
    )
    town = models.ForeignKey(
        Town, on_delete=models.PROTECT, related_name="activities", verbose_name=_("街镇")
    )
    station = models.ForeignKey(
        "stations.Station",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="activities",
        verbose_name=_("骑乐融融站点"),
    )
    checkin_point = models.ForeignKey(
        CheckinPoint,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="activities",
        verbose_name=_("报到点"),
    )
    address = models.CharField(
        _("地址"),
        max_length=200,
        blank=True,
        help_text=_("不在站点或报到点举办时填写；在站点举办时可补充房间、楼层"),
    )
    online_url = models.URLField(_("线上链接"), blank=True, help_text=_("云端课堂的直播或会议链接"))
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    signup_deadline = models.DateTimeField(
        _("报名截止"), null=True, blank=True, help_text=_("留空则开始前都可报名")
    )
    capacity = models.PositiveIntegerField(_("名额"), default=30)
    points = models.PositiveIntegerField(_("参加积分"), default=5, help_text=_("出席后发放"))
    is_published = models.BooleanField(_("公开"), default=True)
    # Cancelled, not unpublished: couriers who signed up (or added it to their calendar) still
    # find the page, and it tells them it will not take place.
    is_cancelled = models.BooleanField(
        _("已取消"), default=False, help_text=_("活动取消后页面仍可查看，显示取消说明，不再报名")
    )
    cancel_note = models.CharField(
        _("取消说明"), max_length=200, blank=True, help_text=_("如：因台风预警取消，另行通知")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    # What the printed 签到码 carries: random and stored, not signed with SECRET_KEY, so a new
    # key voids no attendance poster (the same scheme as check-in points' poster tokens).
    attendance_token = models.CharField(
        _("签到码令牌"), max_length=64, unique=True, default=new_poster_token, editable=False
    )

    town_lookup = "town"
    objects = ActivityQuerySet.as_manager()

    class Phase(models.TextChoices):
        """Where the activity stands now; pages say what fits each (not stored)."""

        UPCOMING = "upcoming", _("未开始")
        ONGOING = "ongoing", _("进行中")
        PAST = "past", _("已结束")
        CANCELLED = "cancelled", _("已取消")

    class Meta:
        verbose_name = _("活动 / 课堂")
        verbose_name_plural = _("活动 / 课堂")
        ordering = ["-starts_at", "-id"]
        indexes = [
            # The public list: published activities by time, optionally one kind.
            models.Index(fields=["is_published", "ends_at"], name="activity_public_time_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="activity_capacity_positive"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="activity_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title}（{timezone.localtime(self.starts_at):%Y-%m-%d}）"

    def phase_at(self, now: datetime.datetime | None = None) -> Activity.Phase:
        now = now or timezone.now()
        if self.is_cancelled:
            return self.Phase.CANCELLED
        if now >= self.ends_at:
            return self.Phase.PAST
        if now >= self.starts_at:
            return self.Phase.ONGOING
        return self.Phase.UPCOMING

    @property
    def phase(self) -> Activity.Phase:
        return self.phase_at()

    @property
    def is_online(self) -> bool:
        return self.kind == self.Kind.ONLINE_CLASS

    @property
    def venue(self) -> str:
        """Where it happens, in words."""
        if self.is_online:
            return "线上（云端课堂）"
        place = self.station or self.checkin_point
        parts = [place.name if place else "", self.address]
        return " · ".join(p for p in parts if p)

    @property
    def places_left(self) -> int:
        """From with_counts() when annotated; otherwise one query."""
        confirmed = getattr(self, "confirmed", None)
        if confirmed is None:
            confirmed = self.signups.filter(status=SignUp.Status.CONFIRMED).count()
        return max(self.capacity - confirmed, 0)

    @property
    def deadline(self) -> datetime.datetime:
        return self.signup_deadline or self.starts_at

    def signup_open(self, now: datetime.datetime | None = None) -> bool:
        now = now or timezone.now()
        return (
            self.is_published
            and not self.is_cancelled
            and now < self.deadline
            and now < self.starts_at
        )

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("结束时间必须晚于开始时间。")
        if self.signup_deadline and self.starts_at and self.signup_deadline > self.starts_at:
            errors["signup_deadline"] = _("报名截止不能晚于开始时间。")
        if self.kind and Activity.Kind(self.kind).is_class and not self.topic:
            errors["topic"] = _("课堂请选择培训主题。")
        if self.is_cancelled and not self.cancel_note.strip():
            # It is what the couriers signed up are told, by text message.
            errors["cancel_note"] = _("取消活动请填写取消说明（会短信告知已报名的小哥）。")
        places = [p for p in (self.station_id, self.checkin_point_id) if p]
        if self.is_online:
            if not self.online_url:
                errors["online_url"] = _("云端课堂请填写线上链接。")
            if places or self.address:
                errors["address"] = _("云端课堂在线上举办，不填站点、报到点或地址。")
        else:
            if self.online_url:
                errors["online_url"] = _("只有云端课堂填写线上链接。")
            if len(places) > 1:
                errors["checkin_point"] = _("站点和报到点只选一个。")
            elif not places and not self.address.strip():
                errors["address"] = _("请选择站点或报到点，或填写地址。")
        if self.town_id:
            if self.station_id and self.station.town_id != self.town_id:
                errors["station"] = _("站点不在所选街镇内。")
            if self.checkin_point_id and self.checkin_point.town_id != self.town_id:
                errors["checkin_point"] = _("报到点不在所选街镇内。")
        if errors:
            raise ValidationError(errors)


class SignUp(models.Model):
    """A courier's sign-up for an activity: confirmed, on the waiting list, or cancelled."""

    # A bare fact: kept, pointing at the anonymous courier, when a person's data is erased.
    KEEP_ON_ERASURE = True

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("已报名")
        WAITING = "waiting", _("候补")
        CANCELLED = "cancelled", _("已取消")

    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="signups", verbose_name=_("活动")
    )
    courier = models.ForeignKey(
        Courier, on_delete=models.CASCADE, related_name="signups", verbose_name=_("快递小哥")
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices)
    created_at = models.DateTimeField(_("报名时间"), default=timezone.now)
    promoted_at = models.DateTimeField(
        _("候补转正时间"), null=True, blank=True, help_text=_("有人取消后自动从候补转为报名")
    )
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)

    town_lookup = "activity__town"
    objects = TownScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("活动报名")
        verbose_name_plural = _("活动报名")
        ordering = ["activity", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "courier"],
                condition=~Q(status="cancelled"),
                name="signup_one_live_per_courier",
                violation_error_message=_("你已报名这个活动。"),
            ),
        ]
        indexes = [
            # The waiting list in order, and counting places taken.
            models.Index(fields=["activity", "status", "created_at"], name="signup_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.courier.name} · {self.activity.title}"


class Attendance(models.Model):
    """A courier was at an activity: scanned its QR code there, or staff ticked them."""

    # A bare fact: kept, pointing at the anonymous courier, when a person's data is erased.
    KEEP_ON_ERASURE = True

    class Via(models.TextChoices):
        SCAN = "scan", _("现场扫码")
        STAFF = "staff", _("工作人员登记")

    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="attendances", verbose_name=_("活动")
    )
    courier = models.ForeignKey(
        Courier, on_delete=models.CASCADE, related_name="attendances", verbose_name=_("快递小哥")
    )
    via = models.CharField(_("方式"), max_length=10, choices=Via.choices, default=Via.STAFF)
    walk_in = models.BooleanField(
        _("现场参加"), default=False, help_text=_("未报名（或在候补中）直接到场")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("登记人"),
    )
    at = models.DateTimeField(_("签到时间"), default=timezone.now)

    town_lookup = "activity__town"
    objects = TownScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("活动签到")
        verbose_name_plural = _("活动签到")
        ordering = ["activity", "at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "courier"],
                name="attendance_once_per_courier",
                violation_error_message=_("这位小哥已经签到。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.courier.name} · {self.activity.title}"


# --- service partnerships (快递进厂 / 快递进村) --------------------------------------------------
