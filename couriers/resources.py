"""Spreadsheet export of the registry (django-import-export).

The courier export uses the survey's own column headers and value words, so an exported file
can be imported again unchanged. Rows come from the admin changelist, so they carry its town
scoping, search and filters. Phone and ID numbers are exported in full only to staff with the
permission to see them, and no cell can start a formula in Excel.
"""

import re

from import_export import fields, resources

from couriers.models import Courier
from couriers.survey import COLUMNS

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
