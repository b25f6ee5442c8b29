"""What couriers do: 6I volunteer posts and claims, the points ledger, and 拍贤城 photo reports."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from couriers.masking import mask_name
from couriers.models import Community, Courier, Town
from couriers.scoping import TownScopedQuerySet
from couriers.storage import private_storage
from stations.models import CheckinPoint, SixI


class VolunteerPostQuerySet(TownScopedQuerySet):
    def active(self) -> VolunteerPostQuerySet:
        return self.filter(is_active=True)

    def with_claim_counts(self) -> VolunteerPostQuerySet:
        return self.annotate(
            claimed=Count("claims", filter=Q(claims__status=Claim.Status.ACTIVE), distinct=True)
        )


class VolunteerPost(models.Model):
    """志愿服务岗位: a post couriers claim, in one of the six 6I categories."""

    title = models.CharField(_("岗位名称"), max_length=100)
    category = models.CharField(_("6I 类别"), max_length=10, choices=SixI.choices)
    description = models.TextField(_("岗位说明"), blank=True)
    town = models.ForeignKey(
        Town, on_delete=models.PROTECT, related_name="posts", verbose_name=_("街镇")
    )
    community = models.ForeignKey(
        Community,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="posts",
        verbose_name=_("村居委"),
    )
    checkin_point = models.ForeignKey(
        CheckinPoint,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="posts",
        verbose_name=_("报到点"),
    )
    capacity = models.PositiveIntegerField(_("名额"), default=5)
    schedule = models.CharField(
        _("服务时间"), max_length=100, blank=True, help_text=_("如：每周六上午 9:00-11:00")
    )
    starts_on = models.DateField(_("开始日期"), null=True, blank=True)
    ends_on = models.DateField(_("结束日期"), null=True, blank=True)
    points_per_service = models.PositiveIntegerField(_("每次服务积分"), default=5)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    town_lookup = "town"
    objects = VolunteerPostQuerySet.as_manager()

    class Meta:
        verbose_name = _("志愿服务岗位")
        verbose_name_plural = _("志愿服务岗位")
        ordering = ["town__sort_order", "category", "title"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="post_capacity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} · {self.title}"

    @property
    def places_left(self) -> int:
        """From with_claim_counts() when annotated; otherwise one query."""
        claimed = getattr(self, "claimed", None)
        if claimed is None:
            claimed = self.claims.filter(status=Claim.Status.ACTIVE).count()
        return max(self.capacity - claimed, 0)

    def clean(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("结束日期不能早于开始日期。")})
        if self.community_id and self.town_id and self.community.town_id != self.town_id:
            raise ValidationError({"community": _("村居委不在所选街镇内。")})


class Claim(models.Model):
    """A courier's claim (认领) of a volunteer post."""

    # A bare fact: kept, pointing at the anonymous courier, when a person's data is erased.
    KEEP_ON_ERASURE = True

    class Status(models.TextChoices):
        ACTIVE = "active", _("已认领")
        WITHDRAWN = "withdrawn", _("已退出")

    post = models.ForeignKey(
        VolunteerPost, on_delete=models.PROTECT, related_name="claims", verbose_name=_("岗位")
    )
    courier = models.ForeignKey(
        Courier, on_delete=models.CASCADE, related_name="claims", verbose_name=_("快递小哥")
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    created_at = models.DateTimeField(_("认领时间"), default=timezone.now)
    withdrawn_at = models.DateTimeField(_("退出时间"), null=True, blank=True)

    town_lookup = "post__town"
    objects = TownScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("岗位认领")
        verbose_name_plural = _("岗位认领")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "courier"],
                condition=Q(status="active"),
                name="claim_one_active_per_courier",
                violation_error_message=_("你已认领这个岗位。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.courier.name} · {self.post.title}"


class ServiceRecord(models.Model):
    """A service done under a claim, confirmed by staff; confirming awards the post's points."""

    # A bare fact: kept, pointing at the anonymous courier, when a person's data is erased.
    KEEP_ON_ERASURE = True

    claim = models.ForeignKey(
        Claim, on_delete=models.PROTECT, related_name="services", verbose_name=_("认领")
    )
    date = models.DateField(_("服务日期"), default=datetime.date.today)
    hours = models.DecimalField(_("时长（小时）"), max_digits=4, decimal_places=1, default=2)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("确认人"),
    )
    confirmed_at = models.DateTimeField(_("确认时间"), default=timezone.now)

    town_lookup = "claim__post__town"
    objects = TownScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("服务记录")
        verbose_name_plural = _("服务记录")
        ordering = ["-date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["claim", "date"],
                name="service_once_per_day",
                violation_error_message=_("这一天的服务已经登记。"),
            ),
            models.CheckConstraint(condition=Q(hours__gt=0), name="service_hours_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.claim} {self.date}"


class PointsEntry(models.Model):
    """One line of the append-only points ledger. Nothing edits an entry: a correction is a
    reversing entry with its own reason."""

    # A bare fact: kept, pointing at the anonymous courier, when a person's data is erased.
    KEEP_ON_ERASURE = True

    class Source(models.TextChoices):
        SERVICE = "service", _("志愿服务")
        PHOTO = "photo", _("拍贤城")
        ACTIVITY = "activity", _("活动参与")
        MANUAL = "manual", _("人工调整")

    courier = models.ForeignKey(
        Courier, on_delete=models.PROTECT, related_name="points", verbose_name=_("快递小哥")
    )
    amount = models.IntegerField(_("积分"))
    reason = models.CharField(_("原因"), max_length=200)
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices)
    source_id = models.PositiveBigIntegerField(_("来源记录"), null=True, blank=True)
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        verbose_name=_("冲正的记录"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("经办人"),
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    town_lookup = "courier__work_town"
    objects = TownScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("积分记录")
        verbose_name_plural = _("积分记录")
        ordering = ["-created_at", "-id"]
        indexes = [
            # Balances, caps and the monthly leaderboard.
            models.Index(fields=["courier", "created_at"], name="points_courier_time_idx"),
            models.Index(fields=["created_at"], name="points_time_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="points_amount_not_zero"),
            # One award per source record (a service or photo report is paid once).
            models.UniqueConstraint(
                fields=["source", "source_id"],
                name="points_once_per_source",
                condition=Q(source_id__isnull=False, reverses__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.courier.name} {self.amount:+d} {self.reason}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.pop("_allow_update", False):
            raise ValidationError(_("积分记录不能修改；如需更正，请添加一条冲正记录。"))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("积分记录不能删除；如需更正，请添加一条冲正记录。"))


class PhotoReport(models.Model):
    """拍贤城: a courier's photo of a city problem, followed by staff to closure."""

    class Category(models.TextChoices):
        CITY = "city", _("市容环境")
        TRAFFIC = "traffic", _("交通安全")
        FACILITY = "facility", _("设施损坏")
        HAZARD = "hazard", _("安全隐患")
        OTHER = "other", _("其他")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("待受理")
        ACCEPTED = "accepted", _("已受理")
        IN_PROGRESS = "in_progress", _("处置中")
        RESOLVED = "resolved", _("已办结")
        REJECTED = "rejected", _("不予受理")

    # The workflow: from each status, the statuses staff may move a report to.
    NEXT = {
        Status.SUBMITTED: [Status.ACCEPTED, Status.REJECTED],
        Status.ACCEPTED: [Status.IN_PROGRESS, Status.RESOLVED],
        Status.IN_PROGRESS: [Status.RESOLVED],
        Status.RESOLVED: [],
        Status.REJECTED: [],
    }

    courier = models.ForeignKey(
        Courier, on_delete=models.PROTECT, related_name="photo_reports", verbose_name=_("报告人")
    )
    town = models.ForeignKey(
        Town, on_delete=models.PROTECT, related_name="photo_reports", verbose_name=_("街镇")
    )
    category = models.CharField(_("类别"), max_length=10, choices=Category.choices)
    description = models.TextField(_("情况描述"), max_length=500)
    address = models.CharField(_("地点"), max_length=200)
    latitude = models.FloatField(_("纬度"), null=True, blank=True)
    longitude = models.FloatField(_("经度"), null=True, blank=True)
    photo = models.ImageField(_("照片"), upload_to="reports/", storage=private_storage)
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.SUBMITTED
    )
    reply = models.TextField(_("答复"), blank=True, help_text=_("小哥可在“我的”页面看到"))
    is_published = models.BooleanField(
        _("公开展示"), default=False, help_text=_("已办结的报告可在公开页面展示（不含个人信息）")
    )
    created_at = models.DateTimeField(_("报告时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    town_lookup = "town"
    objects = TownScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("拍贤城报告")
        verbose_name_plural = _("拍贤城报告")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The staff queue: reports waiting, oldest first.
            models.Index(fields=["town", "status", "created_at"], name="report_queue_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_published=False) | Q(status="resolved"),
                name="photo_report_publish_resolved_only",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} · {self.address}"

    @classmethod
    def erase_personal_data(cls, reports) -> None:
        """The reporter's data erased: the photo (it may show them) and their own words go;
        where and what the problem was, and how it was handled, stay on the record."""
        for report in reports:
            if report.photo:
                report.photo.delete(save=False)
        reports.update(photo="", description="（报告人已注销，照片和描述已删除）")

    @property
    def is_overdue(self) -> bool:
        """Waiting for acceptance longer than PHOTO_REPORT_ACCEPT_DAYS."""
        limit = datetime.timedelta(days=settings.PHOTO_REPORT_ACCEPT_DAYS)
        return self.status == self.Status.SUBMITTED and timezone.now() - self.created_at > limit


class PhotoReportEvent(models.Model):
    """Each step of a report's workflow: which status, who, when, and the note given."""

    # A bare fact: kept, pointing at the anonymous courier, when a person's data is erased.
    KEEP_ON_ERASURE = True

    report = models.ForeignKey(
        PhotoReport, on_delete=models.CASCADE, related_name="events", verbose_name=_("报告")
    )
    status = models.CharField(_("状态"), max_length=12, choices=PhotoReport.Status.choices)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("经办人"),
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)

    town_lookup = "report__town"
    objects = TownScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("报告处理记录")
        verbose_name_plural = _("报告处理记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_status_display()} {self.at:%Y-%m-%d %H:%M}"


# --- activities and training classes (四季关爱, 流动课堂 / 云端课堂 …) ---------------------------


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
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    town_lookup = "town"
    objects = ActivityQuerySet.as_manager()

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
        return self.is_published and now < self.deadline and now < self.starts_at

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("结束时间必须晚于开始时间。")
        if self.signup_deadline and self.starts_at and self.signup_deadline > self.starts_at:
            errors["signup_deadline"] = _("报名截止不能晚于开始时间。")
        if self.kind and Activity.Kind(self.kind).is_class and not self.topic:
            errors["topic"] = _("课堂请选择培训主题。")
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
    photo = models.ImageField(_("照片"), upload_to="stories/", storage=private_storage, blank=True)
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
