"""6I volunteer posts and claims, service records, the points ledger, and 拍贤城 photo reports."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from couriers.models import Community, Courier, Town
from couriers.privacy.images import PhotoField
from couriers.privacy.storage import private_storage
from couriers.scoping import TownScopedQuerySet
from stations.models import CheckinPoint, SixI


class VolunteerPostQuerySet(TownScopedQuerySet):
    def active(self) -> VolunteerPostQuerySet:
        return self.filter(is_active=True)

    def with_claim_counts(self) -> VolunteerPostQuerySet:
        return self.annotate(
            claimed=Count("claims", filter=Q(claims__status=Claim.Status.ACTIVE), distinct=True),
            waiting=Count("claims", filter=Q(claims__status=Claim.Status.WAITING), distinct=True),
        )

    def with_places(self) -> VolunteerPostQuerySet:
        """Only posts with a place left (after with_claim_counts())."""
        return self.filter(claimed__lt=F("capacity"))


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

    @property
    def meeting_place(self) -> str:
        """Where a courier who claimed the post goes, in words."""
        point = self.checkin_point
        if point is not None:
            return f"{point.name}（{point.address}）"
        if self.community_id:
            return f"{self.town.name} · {self.community.name}（具体地点由工作人员告知）"
        return f"{self.town.name}（具体地点由工作人员告知）"

    @property
    def contact(self) -> str:
        """Whom the courier contacts: the check-in point's contact when it has one."""
        point = self.checkin_point
        if point is not None and (point.contact_name or point.contact_phone):
            return " ".join(p for p in (point.contact_name, point.contact_phone) if p)
        return ""

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
        # On the post's waiting list: promoted to ACTIVE, first come first served, when a
        # place frees (activities.claims.fill_places).
        WAITING = "waiting", _("候补")
        WITHDRAWN = "withdrawn", _("已退出")

    LIVE = (Status.ACTIVE, Status.WAITING)

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
    promoted_at = models.DateTimeField(
        _("候补转正时间"), null=True, blank=True, help_text=_("有人退出后自动从候补转为认领")
    )

    town_lookup = "post__town"
    objects = TownScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("岗位认领")
        verbose_name_plural = _("岗位认领")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One live claim (held or waiting) per courier per post.
            models.UniqueConstraint(
                fields=["post", "courier"],
                condition=Q(status__in=["active", "waiting"]),
                name="claim_one_live_per_courier",
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
        # Spending, not earning: a voucher's debit (and its reversal); "earned" figures such as
        # the leaderboard leave this source out.
        REDEEM = "redeem", _("积分兑换")

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
    photo = PhotoField(_("照片"), upload_to="reports/", storage=private_storage)
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
