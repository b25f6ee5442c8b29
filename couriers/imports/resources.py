"""Spreadsheet export of the registry (django-import-export).

The courier export uses the survey's own column headers and value words, so an exported file
can be imported again unchanged. Rows come from the admin changelist, so they carry its town
scoping, search and filters. Phone and ID numbers are exported in full only to staff with the
permission to see them, and no cell can start a formula in Excel.
"""

import re

from import_export import fields, resources

from couriers.imports.survey import COLUMNS
from couriers.models import Courier, Need, Visit

HEADERS = {column.key: column.header for column in COLUMNS}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[-+]?\d+(\.\d+)?")  # a plain signed number is data, not a formula


def escape_formula(value):
    """Prefix an apostrophe to text Excel or LibreOffice would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


def _column(key: str, attribute: str | None = None) -> fields.Field:
    return fields.Field(attribute=attribute or key, column_name=HEADERS[key])


class SafeExportResource(resources.ModelResource):
    """Base for the portal's exports: knows who exports (for masking) and escapes formulae."""

    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user

    def may(self, permission: str) -> bool:
        """Whether the exporting user has `permission` ("app_label.codename")."""
        return self.user is not None and self.user.has_perm(permission)

    def export_field(self, field, instance, **kwargs):
        return escape_formula(super().export_field(field, instance, **kwargs))


class CourierResource(SafeExportResource):
    name = _column("name")
    gender = _column("gender", "get_gender_display")
    phone = _column("phone")
    id_number = _column("id_number")
    birth_date = _column("birth_date")
    education = _column("education", "get_education_display")
    political_status = _column("political_status", "get_political_status_display")
    is_mobile_party_member = _column("is_mobile_party_member")
    membership_location = _column("membership_location")
    managing_organization = _column("managing_organization", "managing_organization__name")
    is_business_backbone = _column("is_business_backbone")
    brand = _column("brand", "brand__name")
    enterprise = _column("enterprise", "enterprise__name")
    outlet = _column("outlet", "outlet__name")
    work_town = _column("work_town", "work_town__name")
    residence_community = _column("residence_community")
    employment_status = _column("employment_status", "get_employment_status_display")

    class Meta:
        model = Courier
        fields = tuple(HEADERS)
        export_order = tuple(HEADERS)

    def dehydrate_phone(self, courier: Courier) -> str:
        return courier.phone if self.may("couriers.view_full_phone") else courier.masked_phone

    def dehydrate_id_number(self, courier: Courier) -> str:
        return (
            courier.id_number
            if self.may("couriers.view_full_id_number")
            else courier.masked_id_number
        )

    def dehydrate_is_mobile_party_member(self, courier: Courier) -> str:
        return "是" if courier.is_mobile_party_member else "否"

    def dehydrate_is_business_backbone(self, courier: Courier) -> str:
        return "是" if courier.is_business_backbone else "否"

    def dehydrate_residence_community(self, courier: Courier) -> str:
        return str(courier.residence_community) if courier.residence_community else ""


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


class VisitResource(SafeExportResource):
    """三送三问 visits, as listed in the admin (town-scoped, filtered)."""

    date = fields.Field(attribute="date", column_name="走访日期")
    town = fields.Field(attribute="town__name", column_name="街镇")
    kind = fields.Field(column_name="对象类型")
    target = fields.Field(column_name="走访对象")
    staff = fields.Field(attribute="staff__username", column_name="走访工作人员")
    policy_note = fields.Field(attribute="policy_note", column_name="送政策")
    service_note = fields.Field(attribute="service_note", column_name="送服务")
    warmth_note = fields.Field(attribute="warmth_note", column_name="送温暖")
    needs_answer = fields.Field(attribute="needs_answer", column_name="问需求")
    opinions_answer = fields.Field(attribute="opinions_answer", column_name="问意见")
    ideas_answer = fields.Field(attribute="ideas_answer", column_name="问计策")

    class Meta:
        model = Visit
        fields = (
            "date",
            "town",
            "kind",
            "target",
            "staff",
            "policy_note",
            "service_note",
            "warmth_note",
            "needs_answer",
            "opinions_answer",
            "ideas_answer",
        )
        export_order = fields

    def dehydrate_kind(self, visit: Visit) -> str:
        return "小哥" if visit.courier_id else "网点" if visit.outlet_id else "企业"

    def dehydrate_target(self, visit: Visit) -> str:
        # Couriers appear as name and masked phone (their __str__), never the full number.
        return str(visit.target)


class NeedResource(SafeExportResource):
    """Needs raised on visits, with where each stands."""

    town = fields.Field(attribute="visit__town__name", column_name="街镇")
    visit_date = fields.Field(attribute="visit__date", column_name="走访日期")
    target = fields.Field(column_name="走访对象")
    category = fields.Field(attribute="get_category_display", column_name="类别")
    description = fields.Field(attribute="description", column_name="需求内容")
    responsible = fields.Field(attribute="responsible", column_name="责任部门/责任人")
    deadline = fields.Field(attribute="deadline", column_name="办理期限")
    status = fields.Field(attribute="get_status_display", column_name="办理状态")
    overdue = fields.Field(column_name="是否逾期")
    resolution = fields.Field(attribute="resolution", column_name="办理结果")
    reason = fields.Field(attribute="reason", column_name="不能解决的原因")
    closed_on = fields.Field(attribute="closed_on", column_name="办结日期")
    courier_informed = fields.Field(column_name="已告知小哥")
    informed_on = fields.Field(attribute="informed_on", column_name="告知日期")

    class Meta:
        model = Need
        fields = (
            "town",
            "visit_date",
            "target",
            "category",
            "description",
            "responsible",
            "deadline",
            "status",
            "overdue",
            "resolution",
            "reason",
            "closed_on",
            "courier_informed",
            "informed_on",
        )
        export_order = fields

    def dehydrate_target(self, need: Need) -> str:
        return str(need.visit.target)

    def dehydrate_overdue(self, need: Need) -> str:
        return _yes_no(need.is_overdue())

    def dehydrate_courier_informed(self, need: Need) -> str:
        return _yes_no(need.courier_informed)
