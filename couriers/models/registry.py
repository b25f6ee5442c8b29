"""The registry: towns and communities, party organisations, brands, enterprises, outlets and
couriers, plus each staff user's town."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from couriers import validators
from couriers.fields import CreditCodeField, IdNumberField, PhoneNumberField
from couriers.privacy.masking import mask_id_number, mask_phone
from couriers.scoping import TownScopedQuerySet


class Town(models.Model):
    """One of Fengxian's 8 towns and 3 subdistricts (seeded by a data migration)."""

    class Kind(models.TextChoices):
        TOWN = "town", _("镇")
        SUBDISTRICT = "subdistrict", _("街道")

    name = models.CharField(_("名称"), max_length=20, unique=True)
    short_name = models.CharField(
        _("简称"), max_length=10, unique=True, help_text=_("不带“镇/街道”，用于匹配表格中的写法")
    )
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    town_lookup = "pk"
    objects = TownScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("街镇")
        verbose_name_plural = _("街镇")
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name


class Community(models.Model):
    """村居委: a village or residents' committee within a town."""

    class Kind(models.TextChoices):
        VILLAGE = "village", _("村委会")
        RESIDENTS = "residents", _("居委会")

    town = models.ForeignKey(
        Town, on_delete=models.PROTECT, related_name="communities", verbose_name=_("所属街镇")
    )
    name = models.CharField(_("名称"), max_length=50)
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices, default=Kind.RESIDENTS)

    town_lookup = "town"
    objects = TownScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("村居委")
        verbose_name_plural = _("村居委")
        ordering = ["town__sort_order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["town", "name"], name="community_unique_name_in_town"),
        ]

    def __str__(self) -> str:
        return f"{self.town.short_name}·{self.name}"


class PartyOrganization(models.Model):
    """属地党组织: the local party organisation that manages members working in its area."""

    class Level(models.TextChoices):
        COMMITTEE = "committee", _("党委")
        GENERAL_BRANCH = "general_branch", _("党总支")
        BRANCH = "branch", _("党支部")

    name = models.CharField(_("名称"), max_length=80, unique=True)
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices)
    town = models.ForeignKey(
        Town,
        on_delete=models.PROTECT,
        related_name="party_organizations",
        verbose_name=_("所属街镇"),
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("上级党组织"),
    )

    town_lookup = "town"
    objects = TownScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("属地党组织")
        verbose_name_plural = _("属地党组织")
        ordering = ["town__sort_order", "name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=models.F("pk")), name="party_org_not_own_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.parent_id and self.pk and self.parent_id == self.pk:
            raise ValidationError({"parent": _("上级党组织不能是自己。")})


class BrandQuerySet(models.QuerySet):
    def match(self, text: str) -> Brand | None:
        """The brand whose name or alias equals `text` (case and spaces ignored)."""
        wanted = _brand_key(text)
        if not wanted:
            return None
        for brand in self:
            if wanted in brand.match_keys():
                return brand
        return None


def _brand_key(text: str) -> str:
    return "".join(str(text or "").split()).casefold()


class Brand(models.Model):
    """快递品牌, with the aliases people write for it (顺丰速运, SF顺丰, …)."""

    name = models.CharField(_("品牌名称"), max_length=20, unique=True)
    aliases = models.TextField(
        _("别名"), blank=True, help_text=_("每行一个，导入表格时按名称或别名匹配，如“顺丰速运”“SF”")
    )
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    objects = BrandQuerySet.as_manager()

    class Meta:
        verbose_name = _("快递品牌")
        verbose_name_plural = _("快递品牌")
        ordering = ["sort_order", "name"]

    def __str__(self) -> str:
        return self.name

    def alias_list(self) -> list[str]:
        return [line.strip() for line in self.aliases.splitlines() if line.strip()]

    def match_keys(self) -> set[str]:
        return {_brand_key(self.name), *(_brand_key(a) for a in self.alias_list())}


class Verification(models.TextChoices):
    """Whether staff have confirmed an enterprise or outlet: a survey import registers the ones
    its rows name that the registry does not hold yet as 待核实 (couriers.imports.new_references);
    staff then mark them verified or merge them into the record they really are."""

    VERIFIED = "verified", _("已核实")
    PENDING = "pending", _("待核实")


def _verification_field():
    return models.CharField(
        _("核实状态"),
        max_length=10,
        choices=Verification.choices,
        default=Verification.VERIFIED,
        help_text=_("排摸导入时新发现的为“待核实”：请核实，或合并到同一家的原有记录"),
    )


class Enterprise(models.Model):
    """加盟企业: a franchise express company operating in the district."""

    name = models.CharField(_("企业名称"), max_length=100, unique=True)
    brand = models.ForeignKey(
        Brand, on_delete=models.PROTECT, related_name="enterprises", verbose_name=_("品牌")
    )
    credit_code = CreditCodeField(_("统一社会信用代码"), blank=True)
    town = models.ForeignKey(
        Town, on_delete=models.PROTECT, related_name="enterprises", verbose_name=_("所在街镇")
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    contact_person = models.CharField(_("联系人"), max_length=20, blank=True)
    contact_phone = PhoneNumberField(_("联系电话"), blank=True)
    verification = _verification_field()

    town_lookup = "town"
    objects = TownScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("加盟企业")
        verbose_name_plural = _("加盟企业")
        ordering = ["name"]
        permissions = [("import_enterprise", _("可导入企业网点名单"))]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~Q(credit_code=""),
                name="enterprise_unique_credit_code",
                violation_error_message=_("该统一社会信用代码已登记。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Outlet(models.Model):
    """网点: a delivery outlet of an enterprise."""

    name = models.CharField(_("网点名称"), max_length=100)
    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.PROTECT, related_name="outlets", verbose_name=_("所属企业")
    )
    town = models.ForeignKey(
        Town, on_delete=models.PROTECT, related_name="outlets", verbose_name=_("所在街镇")
    )
    community = models.ForeignKey(
        Community,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="outlets",
        verbose_name=_("所在村居委"),
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    verification = _verification_field()

    town_lookup = "town"
    objects = TownScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("网点")
        verbose_name_plural = _("网点")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "name"], name="outlet_unique_name_in_enterprise"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.community_id and self.town_id and self.community.town_id != self.town_id:
            raise ValidationError({"community": _("村居委不在所选街镇内。")})


class PipelineStage(models.TextChoices):
    """入党进程: the stages on the way to full membership, in order.

    Shared by `PartyStage` (the history) and `Courier.party_stage` (the latest stage, kept in
    step by `couriers.casework.pipeline`). Each stage implies a political status; 发展对象 has no
    status of its own and counts as 入党积极分子.
    """

    WILLING = "willing", _("有入党意愿")
    ACTIVIST = "activist", _("入党积极分子")
    CANDIDATE = "candidate", _("发展对象")
    PROBATIONARY = "probationary", _("预备党员")
    MEMBER = "member", _("正式党员")

    @property
    def rank(self) -> int:
        return list(PipelineStage).index(self)

    @property
    def political_status(self) -> str:
        return {
            PipelineStage.WILLING: "willing",
            PipelineStage.ACTIVIST: "activist",
            PipelineStage.CANDIDATE: "activist",
            PipelineStage.PROBATIONARY: "probationary",
            PipelineStage.MEMBER: "member",
        }[self]

    @classmethod
    def waiting_values(cls) -> list[str]:
        """Stages where a courier waits for the next step (stall list); 预备党员 has a fixed
        one-year probation and 正式党员 is the end."""
        return [cls.WILLING, cls.ACTIVIST, cls.CANDIDATE]


# An erased courier's phone column holds this prefix and its id: never a phone number.
ERASED_PHONE_PREFIX = "X"


class CourierQuerySet(TownScopedQuerySet):
    def erased(self) -> CourierQuerySet:
        """The anonymous shells erasure leaves behind (couriers.privacy.personal_data)."""
        return self.filter(phone__startswith=ERASED_PHONE_PREFIX)

    def party_members(self) -> CourierQuerySet:
        return self.filter(political_status__in=Courier.PoliticalStatus.member_values())

    def unmanaged_members(self) -> CourierQuerySet:
        """Party members not yet managed by a local party organisation."""
        return self.party_members().filter(managing_organization__isnull=True)

    def mobile_without_recent_contact(self, today: datetime.date | None = None) -> CourierQuerySet:
        """流动党员 with no organisational life nearby in MOBILE_MEMBER_CONTACT_DAYS."""
        return self.filter(is_mobile_party_member=True).filter(
            Q(last_organization_contact__isnull=True)
            | Q(last_organization_contact__lt=contact_cutoff(today))
        )

    def stalled_in_pipeline(self, today: datetime.date | None = None) -> CourierQuerySet:
        """Couriers at one waiting stage for longer than PIPELINE_STALL_DAYS."""
        return self.filter(
            party_stage__in=PipelineStage.waiting_values(),
            party_stage_since__lt=stall_cutoff(today),
        )

    def willing_backbones(self) -> CourierQuerySet:
        """业务骨干 who have said they wish to join the party."""
        return self.filter(
            is_business_backbone=True, political_status=Courier.PoliticalStatus.APPLICANT
        )

    def status_to_verify(self) -> CourierQuerySet:
        """Couriers whose own answer about their status differs from their stage history and
        awaits staff (an open StatusCheck; at most one each)."""
        return self.filter(status_checks__resolved_at__isnull=True)

    def headline_figures(self) -> dict[str, int]:
        """Registered couriers, party members and those managed locally, in one query."""
        # Public figures: a courier who withdrew the sensitive-data consent is not counted by
        # their political status.
        members = Q(political_status__in=Courier.PoliticalStatus.member_values()) & Q(
            sensitive_consent_withdrawn_at__isnull=True
        )
        return self.aggregate(
            couriers=Count("pk"),
            party_members=Count("pk", filter=members),
            managed_members=Count("pk", filter=members & Q(managing_organization__isnull=False)),
            mobile_members=Count("pk", filter=members & Q(is_mobile_party_member=True)),
        )


def contact_cutoff(today: datetime.date | None = None) -> datetime.date:
    """Contacts before this date are not recent (MOBILE_MEMBER_CONTACT_DAYS)."""
    today = today or timezone.localdate()
    return today - datetime.timedelta(days=settings.MOBILE_MEMBER_CONTACT_DAYS)


def stall_cutoff(today: datetime.date | None = None) -> datetime.date:
    """A waiting stage reached before this date has stalled (PIPELINE_STALL_DAYS)."""
    today = today or timezone.localdate()
    return today - datetime.timedelta(days=settings.PIPELINE_STALL_DAYS)


class Courier(models.Model):
    """快递小哥: one courier working in the district."""

    class Gender(models.TextChoices):
        MALE = "M", _("男")
        FEMALE = "F", _("女")

    class Education(models.TextChoices):
        PRIMARY_OR_LESS = "junior", _("初中及以下")
        SENIOR = "senior", _("高中/中专")
        COLLEGE = "college", _("大专")
        BACHELOR = "bachelor", _("大学本科")
        POSTGRADUATE = "postgraduate", _("研究生")

        @classmethod
        def highly_educated_values(cls) -> list[str]:
            # 高学历: the district counts 大专 and above.
            return [cls.COLLEGE, cls.BACHELOR, cls.POSTGRADUATE]

    class PoliticalStatus(models.TextChoices):
        MEMBER = "member", _("中共党员")
        PROBATIONARY = "probationary", _("中共预备党员")
        ACTIVIST = "activist", _("入党积极分子")
        APPLICANT = "willing", _("有入党意愿")
        LEAGUE = "league", _("共青团员")
        MASSES = "masses", _("群众")

        @classmethod
        def member_values(cls) -> list[str]:
            return [cls.MEMBER, cls.PROBATIONARY]

    class EmploymentStatus(models.TextChoices):
        ACTIVE = "active", _("在职")
        LEFT = "left", _("离职")

    name = models.CharField(_("姓名"), max_length=30)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices, blank=True)
    phone = PhoneNumberField(
        _("手机号码"), help_text=_("大陆手机号，可带空格、横线或 +86，保存为 11 位")
    )
    id_number = IdNumberField(
        _("身份证号码"), blank=True, help_text=_("选填；按 GB 11643 校验，重复登记会被发现")
    )
    birth_date = models.DateField(
        _("出生日期"), null=True, blank=True, help_text=_("留空时按身份证号码填写")
    )
    education = models.CharField(
        _("文化程度"), max_length=16, choices=Education.choices, blank=True
    )
    political_status = models.CharField(
        _("政治面貌"),
        max_length=16,
        choices=PoliticalStatus.choices,
        default=PoliticalStatus.MASSES,
        help_text=_("有入党进程记录时随最新阶段变化，请在“入党进程”中登记新阶段"),
    )
    is_mobile_party_member = models.BooleanField(
        _("流动党员"), default=False, help_text=_("组织关系在外地、在奉贤工作的党员")
    )
    membership_location = models.CharField(
        _("组织关系所在地"), max_length=100, blank=True, help_text=_("流动党员必填")
    )
    managing_organization = models.ForeignKey(
        PartyOrganization,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_couriers",
        verbose_name=_("管理党组织"),
        help_text=_("纳入管理的属地党组织"),
    )
    last_organization_contact = models.DateField(
        _("最近参加组织生活"),
        null=True,
        blank=True,
        help_text=_("流动党员最近一次就近参加组织生活的日期"),
    )
    is_business_backbone = models.BooleanField(
        _("业务骨干"), default=False, help_text=_("作为入党培养对象的业务骨干")
    )
    # The latest stage of the party pipeline and since when; written only by
    # couriers.casework.pipeline from the PartyStage history (empty without a history).
    party_stage = models.CharField(
        _("入党进程阶段"),
        max_length=16,
        choices=PipelineStage.choices,
        blank=True,
        default="",
        editable=False,
    )
    party_stage_since = models.DateField(_("进入该阶段日期"), null=True, blank=True, editable=False)
    brand = models.ForeignKey(
        Brand,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="couriers",
        verbose_name=_("品牌"),
    )
    enterprise = models.ForeignKey(
        Enterprise,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="couriers",
        verbose_name=_("加盟企业"),
    )
    outlet = models.ForeignKey(
        Outlet,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="couriers",
        verbose_name=_("网点"),
    )
    work_town = models.ForeignKey(
        Town, on_delete=models.PROTECT, related_name="couriers", verbose_name=_("工作街镇")
    )
    residence_community = models.ForeignKey(
        Community,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="residents",
        verbose_name=_("居住村居委"),
    )
    employment_status = models.CharField(
        _("从业状态"),
        max_length=10,
        choices=EmploymentStatus.choices,
        default=EmploymentStatus.ACTIVE,
    )
    notes = models.TextField(_("备注"), blank=True)
    show_on_leaderboard = models.BooleanField(
        _("出现在积分榜"), default=True, help_text=_("小哥可在“我的”页面选择不出现在公开积分榜")
    )
    # The courier withdrew the separate consent to process their political status (a sensitive
    # personal datum): it then counts in nothing public (headline figures) and staff see it.
    sensitive_consent_withdrawn_at = models.DateTimeField(
        _("撤回敏感信息同意时间"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("小哥在“我的”页面撤回了对处理政治面貌的单独同意"),
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    town_lookup = "work_town"
    objects = CourierQuerySet.as_manager()

    class Meta:
        verbose_name = _("快递小哥")
        verbose_name_plural = _("快递小哥")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("view_full_id_number", _("可查看完整身份证号码")),
            ("view_full_phone", _("可导出完整手机号码")),
            ("import_courier", _("可导入排摸登记表")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["phone"],
                name="courier_unique_phone",
                violation_error_message=_("该手机号码已登记。"),
            ),
            models.UniqueConstraint(
                fields=["id_number"],
                condition=~Q(id_number=""),
                name="courier_unique_id_number",
                violation_error_message=_("该身份证号码已登记。"),
            ),
            models.CheckConstraint(
                condition=Q(is_mobile_party_member=False)
                | Q(political_status__in=["member", "probationary"]),
                name="courier_mobile_member_is_member",
                violation_error_message=_("只有党员（含预备党员）可标记为流动党员。"),
            ),
        ]
        indexes = [
            # Town staff's changelist: WHERE work_town_id = … ORDER BY id DESC LIMIT 100.
            models.Index(fields=["work_town", "-id"], name="courier_town_recent_idx"),
            # Phone search by prefix ("1381234…") on PostgreSQL: LIKE 'x%' needs pattern ops.
            models.Index(
                fields=["phone"], name="courier_phone_prefix_idx", opclasses=["varchar_pattern_ops"]
            ),
            # Party-member counts and lists (home page, dashboard) touch only these rows.
            models.Index(
                fields=["work_town"],
                name="courier_party_member_idx",
                condition=Q(political_status__in=["member", "probationary"]),
            ),
            # The dashboard's one pass over all couriers (GROUP BY town, brand, status, backbone
            # with a count of the highly educated) reads this index alone, in group order.
            models.Index(
                fields=[
                    "work_town",
                    "brand",
                    "political_status",
                    "is_business_backbone",
                    "education",
                ],
                name="courier_dashboard_idx",
            ),
            # The dashboard's pipeline figures and the stall list: only couriers with a history.
            models.Index(
                fields=["party_stage", "party_stage_since"],
                name="courier_pipeline_idx",
                condition=~Q(party_stage=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{mask_phone(self.phone)}）"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def is_party_member(self) -> bool:
        return self.political_status in self.PoliticalStatus.member_values()

    @property
    def is_highly_educated(self) -> bool:
        return self.education in self.Education.highly_educated_values()

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.outlet_id:
            if self.enterprise_id and self.outlet.enterprise_id != self.enterprise_id:
                errors["outlet"] = _("该网点不属于所选加盟企业。")
            elif not self.enterprise_id:
                self.enterprise = self.outlet.enterprise
        if self.enterprise_id:
            if self.brand_id and self.enterprise.brand_id != self.brand_id:
                errors["brand"] = _("所选加盟企业属于“%s”品牌。") % self.enterprise.brand
            elif not self.brand_id:
                self.brand = self.enterprise.brand
        if self.is_mobile_party_member:
            if not self.is_party_member:
                errors["is_mobile_party_member"] = _("只有党员（含预备党员）可标记为流动党员。")
            if not self.membership_location.strip():
                errors["membership_location"] = _("流动党员请填写组织关系所在地。")
        born = self._id_birth_date()
        if born is not None:
            if self.birth_date is None:
                self.birth_date = born
            elif self.birth_date != born:
                errors["birth_date"] = _("出生日期与身份证号码不一致（应为 %s）。") % born
            gender = validators.id_gender(self.id_number)
            if not self.gender:
                self.gender = gender
            elif self.gender != gender:
                errors["gender"] = _("性别与身份证号码不一致。")
        if errors:
            raise ValidationError(errors)

    def _id_birth_date(self) -> datetime.date | None:
        """The birth date in a well-formed ID number (clean_fields reports a malformed one)."""
        if not (self.id_number and validators.ID_SHAPE_RE.fullmatch(self.id_number)):
            return None
        try:
            return validators.id_birth_date(self.id_number)
        except ValueError:
            return None


class StaffProfile(models.Model):
    """Which town a staff user works for; no town means the whole district."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_profile",
        verbose_name=_("用户"),
    )
    town = models.ForeignKey(
        Town,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("负责街镇"),
        help_text=_("留空表示区级工作人员，可查看全区数据"),
    )

    class Meta:
        verbose_name = _("工作人员范围")
        verbose_name_plural = _("工作人员范围")
        ordering = ["user__username"]

    def __str__(self) -> str:
        return f"{self.user}：{self.town or _('全区')}"


class ErasureRequest(models.Model):
    """A courier's request, made on their 「我的」 page, that everything held about them be
    erased; staff of their town complete it (couriers.privacy.personal_data.erase)."""

    # The request and its completion stay as the record that the right was honoured; the
    # courier's own words go (erase_personal_data).

    courier = models.ForeignKey(
        Courier,
        on_delete=models.PROTECT,
        related_name="erasure_requests",
        verbose_name=_("快递小哥"),
    )
    town = models.ForeignKey(
        Town, on_delete=models.PROTECT, related_name="+", verbose_name=_("工作街镇")
    )
    reason = models.CharField(_("说明"), max_length=200, blank=True)
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("经办人"),
    )

    town_lookup = "town"
    objects = TownScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("注销申请")
        verbose_name_plural = _("注销申请")
        ordering = ["completed_at", "-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["courier"],
                condition=Q(completed_at__isnull=True),
                name="erasure_one_open_per_courier",
                violation_error_message=_("已提交注销申请，请等待工作人员处理。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.courier.name} · {timezone.localtime(self.requested_at):%Y-%m-%d}"

    @classmethod
    def erase_personal_data(cls, requests) -> None:
        requests.update(reason="")
