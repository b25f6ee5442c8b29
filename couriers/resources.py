"""Spreadsheet export of the registry (django-import-export), with Chinese column names.

Exported rows come from the admin changelist, so they carry its town scoping, search and
filters. ID numbers are exported in full only to staff allowed to see them.
"""

from import_export import fields, resources

from couriers.models import Courier


def _display(name: str) -> fields.Field:
    """An exported column showing a choice field's Chinese label."""
    return fields.Field(
        attribute=f"get_{name}_display", column_name=str(Courier._meta.get_field(name).verbose_name)
    )


class CourierResource(resources.ModelResource):
    name = fields.Field(attribute="name", column_name="姓名")
    gender = _display("gender")
    phone = fields.Field(attribute="phone", column_name="手机号码")
    id_number = fields.Field(attribute="id_number", column_name="身份证号码")
    birth_date = fields.Field(attribute="birth_date", column_name="出生日期")
    education = _display("education")
    political_status = _display("political_status")
    is_mobile_party_member = fields.Field(
        attribute="is_mobile_party_member", column_name="是否流动党员"
    )
    membership_location = fields.Field(
        attribute="membership_location", column_name="组织关系所在地"
    )
    managing_organization = fields.Field(
        attribute="managing_organization__name", column_name="管理党组织"
    )
    is_business_backbone = fields.Field(attribute="is_business_backbone", column_name="业务骨干")
    brand = fields.Field(attribute="brand__name", column_name="快递品牌")
    enterprise = fields.Field(attribute="enterprise__name", column_name="加盟企业")
    outlet = fields.Field(attribute="outlet__name", column_name="网点名称")
    work_town = fields.Field(attribute="work_town__name", column_name="工作街镇")
    residence_community = fields.Field(
        attribute="residence_community__name", column_name="居住村居委"
    )
    employment_status = _display("employment_status")
    notes = fields.Field(attribute="notes", column_name="备注")

    class Meta:
        model = Courier
        fields = (
            "name",
            "gender",
            "phone",
            "id_number",
            "birth_date",
            "education",
            "political_status",
            "is_mobile_party_member",
            "membership_location",
            "managing_organization",
            "is_business_backbone",
            "brand",
            "enterprise",
            "outlet",
            "work_town",
            "residence_community",
            "employment_status",
            "notes",
        )
        export_order = fields

    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user

    def dehydrate_id_number(self, courier: Courier) -> str:
        if self.user is not None and self.user.has_perm("couriers.view_full_id_number"):
            return courier.id_number
        return courier.masked_id_number

    def dehydrate_is_mobile_party_member(self, courier: Courier) -> str:
        return "是" if courier.is_mobile_party_member else "否"

    def dehydrate_is_business_backbone(self, courier: Courier) -> str:
        return "是" if courier.is_business_backbone else "否"
