"""Staff casework: 三送三问 visits, the needs they raise (followed to closure), each courier's
party-pipeline history, and the answers about their status that staff must verify. Imported
by `couriers.models`; the rules that span several records live in `couriers.casework.workflow`
and `couriers.casework.pipeline`."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from couriers.models.registry import Courier, Enterprise, Outlet, PipelineStage, Town
from couriers.scoping import TownScopedQuerySet

VISIT_NOTES = ("policy_note", "service_note", "warmth_note")
VISIT_ANSWERS = ("needs_answer", "opinions_answer", "ideas_answer")


class Visit(models.Model):
    """A 三送三问 contact visit to one courier, outlet or enterprise."""

    town = models.ForeignKey(
        Town,
        on_delete=models.PROTECT,
        related_name="visits",
        verbose_name=_("街镇"),
        help_text=_("留空时取走访对象所在街镇"),
        blank=True,
    )
    courier = models.ForeignKey(
        Courier,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="visits",
        verbose_name=_("走访小哥"),
    )
    outlet = models.ForeignKey(
        Outlet,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="visits",
        verbose_name=_("走访网点"),
    )
    enterprise = models.ForeignKey(
        Enterprise,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="visits",
        verbose_name=_("走访企业"),
    )
    date = models.DateField(_("走访日期"), default=datetime.date.today)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("走访工作人员"),
    )
    policy_note = models.TextField(_("送政策"), blank=True, help_text=_("宣讲了哪些政策"))
    service_note = models.TextField(_("送服务"), blank=True, help_text=_("提供了哪些服务"))
    warmth_note = models.TextField(_("送温暖"), blank=True, help_text=_("送去了哪些关爱"))
    needs_answer = models.TextField(_("问需求"), blank=True, help_text=_("小哥提出的需求"))
    opinions_answer = models.TextField(_("问意见"), blank=True, help_text=_("提出的意见"))
    ideas_answer = models.TextField(_("问计策"), blank=True, help_text=_("提出的建议"))
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    town_lookup = "town"
    objects = TownScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("三送三问走访")
        verbose_name_plural = _("三送三问走访")
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(courier__isnull=False, outlet__isnull=True, enterprise__isnull=True)
                    | Q(courier__isnull=True, outlet__isnull=False, enterprise__isnull=True)
                    | Q(courier__isnull=True, outlet__isnull=True, enterprise__isnull=False)
                ),
                name="visit_exactly_one_target",
                violation_error_message=_("走访对象须是一名小哥、一个网点或一家企业（只选一项）。"),
            ),
            # One visit per staff member, target and day: a double-submitted form adds nothing.
            *(
                models.UniqueConstraint(
                    fields=["staff", "date", target],
                    condition=Q(**{f"{target}__isnull": False}),
                    name=f"visit_once_a_day_{target}",
                )
                for target in ("courier", "outlet", "enterprise")
            ),
        ]
        indexes = [
            # The dashboard's "visits this month" per town.
            models.Index(fields=["town", "date"], name="visit_town_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.target}"

    @property
    def target(self) -> Courier | Outlet | Enterprise | None:
        return self.courier or self.outlet or self.enterprise

    @property
    def target_town_id(self) -> int | None:
        if self.courier_id:
            return self.courier.work_town_id
        if self.outlet_id:
            return self.outlet.town_id
        if self.enterprise_id:
            return self.enterprise.town_id
        return None

    def duplicate(self) -> Visit | None:
        """The same staff member's visit to the same target on the same day, if recorded."""
        if not (self.staff_id and self.date and self.target):
            return None
        return (
            Visit.objects.filter(
                staff_id=self.staff_id,
                date=self.date,
                courier_id=self.courier_id,
                outlet_id=self.outlet_id,
                enterprise_id=self.enterprise_id,
            )
            .exclude(pk=self.pk)
            .first()
        )

    def clean(self) -> None:
        targets = [self.courier_id, self.outlet_id, self.enterprise_id]
        if sum(t is not None for t in targets) != 1:
            raise ValidationError(_("请选择一个走访对象：小哥、网点或企业，只选一项。"))
        if not self.town_id:
            self.town_id = self.target_town_id
        elif self.town_id != self.target_town_id:
            raise ValidationError({"town": _("走访对象不在所选街镇。")})
        if not any(getattr(self, name).strip() for name in VISIT_NOTES + VISIT_ANSWERS):
            raise ValidationError(_("请至少填写一项“三送”或“三问”的内容。"))
        if self.date and self.date > timezone.localdate():
            raise ValidationError({"date": _("走访日期不能晚于今天。")})
        if self.duplicate() is not None:
            raise ValidationError(_("这次走访已登记过（同一工作人员、同一对象、同一天）。"))


class NeedQuerySet(TownScopedQuerySet):
    def open(self) -> NeedQuerySet:
        return self.filter(status__in=Need.Status.open_values())

    def closed(self) -> NeedQuerySet:
        return self.exclude(status__in=Need.Status.open_values())

    def overdue(self, today: datetime.date | None = None) -> NeedQuerySet:
        """Still open after the deadline."""
        return self.open().filter(deadline__lt=today or timezone.localdate())


class Need(models.Model):
    """A need or opinion raised on a visit, as a ticket followed to closure."""

    class Category(models.TextChoices):
        RIGHTS = "rights", _("劳动权益")
        REST = "rest", _("休息场所")
        HOUSING = "housing", _("住房居住")
        CHILDREN = "children", _("子女教育")
        HEALTH = "health", _("医疗健康")
        TRAFFIC = "traffic", _("交通出行")
        TRAINING = "training", _("技能培训")
        OPINION = "opinion", _("意见建议")
        OTHER = "other", _("其他")

    class Status(models.TextChoices):
        OPEN = "open", _("待办")
        IN_PROGRESS = "in_progress", _("办理中")
        RESOLVED = "resolved", _("已解决")
        UNRESOLVABLE = "unresolvable", _("不能解决")

        @classmethod
        def open_values(cls) -> list[str]:
            return [cls.OPEN, cls.IN_PROGRESS]

    visit = models.ForeignKey(
        Visit, on_delete=models.CASCADE, related_name="needs", verbose_name=_("来自走访")
    )
    category = models.CharField(_("类别"), max_length=10, choices=Category.choices)
    description = models.TextField(_("需求内容"))
    responsible = models.CharField(
        _("责任部门/责任人"), max_length=100, help_text=_("如：区总工会 王科长")
    )
    deadline = models.DateField(_("办理期限"))
    status = models.CharField(
        _("办理状态"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    resolution = models.TextField(_("办理结果"), blank=True, help_text=_("已解决时必填"))
    reason = models.TextField(_("不能解决的原因"), blank=True, help_text=_("不能解决时必填"))
    closed_on = models.DateField(_("办结日期"), null=True, blank=True, editable=False)
    courier_informed = models.BooleanField(
        _("已告知小哥"), default=False, help_text=_("办结后是否已把结果告诉小哥")
    )
    informed_on = models.DateField(_("告知日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    town_lookup = "visit__town"
    objects = NeedQuerySet.as_manager()

    class Meta:
        verbose_name = _("走访需求")
        verbose_name_plural = _("走访需求")
        ordering = ["deadline", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="resolved") | ~Q(resolution=""),
                name="need_resolved_has_resolution",
                violation_error_message=_("已解决的需求须填写办理结果。"),
            ),
            models.CheckConstraint(
                condition=~Q(status="unresolvable") | ~Q(reason=""),
                name="need_unresolvable_has_reason",
                violation_error_message=_("不能解决的需求须写明原因。"),
            ),
            models.CheckConstraint(
                condition=Q(courier_informed=False)
                | (Q(status__in=["resolved", "unresolvable"]) & Q(informed_on__isnull=False)),
                name="need_informed_after_closing",
                violation_error_message=_("办结后才能告知小哥结果，并须填写告知日期。"),
            ),
        ]
        indexes = [
            # Open and overdue needs (dashboard, 已逾期 filter): only the open rows.
            models.Index(
                fields=["deadline"],
                name="need_open_deadline_idx",
                condition=Q(status__in=["open", "in_progress"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()}：{self.description[:30]}"

    @property
    def is_open(self) -> bool:
        return self.status in self.Status.open_values()

    def is_overdue(self, today: datetime.date | None = None) -> bool:
        return self.is_open and self.deadline < (today or timezone.localdate())

    def clean(self) -> None:
        errors = {}
        if self.status == self.Status.RESOLVED and not self.resolution.strip():
            errors["resolution"] = _("已解决的需求须填写办理结果。")
        if self.status == self.Status.UNRESOLVABLE and not self.reason.strip():
            errors["reason"] = _("不能解决的需求须写明原因。")
        if self.courier_informed and self.is_open:
            errors["courier_informed"] = _("办结后才能告知小哥结果。")
        if self.courier_informed and not self.informed_on:
            self.informed_on = timezone.localdate()
        if (
            self.visit_id
            and self.description
            and Need.objects.filter(visit_id=self.visit_id, description=self.description)
            .exclude(pk=self.pk)
            .exists()
        ):
            # A double-submitted form, or the same need entered twice for one visit.
            errors["description"] = _("这次走访已登记过这条需求。")
        if errors:
            raise ValidationError(errors)


class PartyStage(models.Model):
    """One step of a courier's way into the party (有入党意愿 … 正式党员), with its date."""

    courier = models.ForeignKey(
        Courier, on_delete=models.CASCADE, related_name="party_stages", verbose_name=_("快递小哥")
    )
    stage = models.CharField(_("阶段"), max_length=16, choices=PipelineStage.choices)
    date = models.DateField(_("日期"))
    note = models.CharField(_("说明"), max_length=200, blank=True)

    town_lookup = "courier__work_town"
    objects = TownScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("入党进程")
        verbose_name_plural = _("入党进程")
        ordering = ["courier", "date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["courier", "stage"],
                name="party_stage_once_per_courier",
                violation_error_message=_("该阶段已登记。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} {self.date}"


class StatusCheckQuerySet(TownScopedQuerySet):
    def open(self) -> StatusCheckQuerySet:
        return self.filter(resolved_at__isnull=True)


class StatusCheck(models.Model):
    """政治面貌待核实: a courier's own answer (at check-in) that differs from the status their
    stage history gives. The registry keeps the history's status; the town's staff verify and,
    where the courier is right, record a stage (couriers.casework.pipeline)."""

    Status = Courier.PoliticalStatus

    courier = models.ForeignKey(
        Courier, on_delete=models.CASCADE, related_name="status_checks", verbose_name=_("快递小哥")
    )
    answered = models.CharField(_("小哥填写"), max_length=16, choices=Status.choices)
    registered = models.CharField(_("登记的政治面貌"), max_length=16, choices=Status.choices)
    stage = models.CharField(_("入党进程最新阶段"), max_length=16, choices=PipelineStage.choices)
    source = models.CharField(_("来源"), max_length=20, default="小哥报到")
    raised_at = models.DateTimeField(_("提出时间"), default=timezone.now)
    resolved_at = models.DateTimeField(_("核实时间"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("核实人"),
    )
    note = models.TextField(_("核实说明"), blank=True)

    town_lookup = "courier__work_town"
    objects = StatusCheckQuerySet.as_manager()

    class Meta:
        verbose_name = _("政治面貌待核实")
        verbose_name_plural = _("政治面貌待核实")
        ordering = ["-raised_at", "-id"]
        constraints = [
            # A courier answering again updates their open item instead of adding one.
            models.UniqueConstraint(
                fields=["courier"],
                condition=Q(resolved_at__isnull=True),
                name="status_check_one_open_per_courier",
            ),
        ]

    def __str__(self) -> str:
        answered, registered = self.get_answered_display(), self.get_registered_display()
        return f"{self.courier}：填写“{answered}”，登记为“{registered}”"
