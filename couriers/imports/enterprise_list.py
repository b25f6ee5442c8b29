"""The enterprises and outlets list (企业网点名单): one row per outlet, with its enterprise.

Enterprises are matched by name and outlets by (enterprise, outlet name), across the district;
town staff may change a matched enterprise or outlet only where it is now in their town
(`check_editable`), whatever town the row gives it. The same machinery as the courier survey
reads the file, reports errors and writes all or nothing. Rows that name an enterprise without
an outlet register the enterprise alone.
"""

from __future__ import annotations

import dataclasses

from couriers import validators
from couriers.imports.sheet_import import Column, ImportReport, Record, SheetImporter
from couriers.models import Enterprise, Outlet
from couriers.privacy.masking import mask_phone
from couriers.references import References
from couriers.scoping import ALL_TOWNS

COLUMNS = [
    Column(
        "enterprise",
        "企业名称",
        aliases=("加盟企业", "企业", "公司名称"),
        required=True,
        max_length=100,
        help="必填，加盟企业全称；按名称识别同一企业。",
    ),
    Column(
        "brand",
        "快递品牌",
        aliases=("品牌", "所属快递品牌", "所属品牌"),
        help="新企业必填，如 顺丰、中通（别名亦可）。",
    ),
    Column(
        "credit_code",
        "统一社会信用代码",
        validators.normalize_uscc,
        takes_cell=True,
        aliases=("信用代码",),
        help="18 位，按国家标准校验。",
    ),
    Column(
        "town",
        "企业所在街镇",
        aliases=("企业街镇", "所在街镇", "街镇"),
        required=True,
        help="必填，如 南桥镇 或 南桥。",
    ),
    Column("address", "企业地址", aliases=("地址", "注册地址")),
    Column("contact_person", "联系人", aliases=("负责人",)),
    Column(
        "contact_phone",
        "联系电话",
        validators.normalize_phone,
        takes_cell=True,
        aliases=("联系人电话", "手机号码"),
        help="11 位手机号。",
        mask=mask_phone,
    ),
    Column("outlet", "网点名称", aliases=("网点",), help="留空则只登记企业。", max_length=100),
    Column("outlet_town", "网点所在街镇", aliases=("网点街镇",), help="留空为企业所在街镇。"),
    Column("outlet_community", "网点所在村居委", aliases=("网点村居委", "所在村居委")),
    Column("outlet_address", "网点地址", max_length=200),
]
ENTERPRISE_FIELDS = ["brand", "credit_code", "town", "address", "contact_person", "contact_phone"]


@dataclasses.dataclass
class ListPlan:
    new_enterprises: list[Enterprise] = dataclasses.field(default_factory=list)
    updated_enterprises: list[Enterprise] = dataclasses.field(default_factory=list)
    new_outlets: list[Outlet] = dataclasses.field(default_factory=list)
    updated_outlets: list[Outlet] = dataclasses.field(default_factory=list)


class EnterpriseListImporter(SheetImporter):
    columns = COLUMNS
    model = Enterprise
    title = "奉贤区快递加盟企业及网点名单"
    sheet_name = "企业网点名单"

    def start(self, report: ImportReport) -> None:
        self.refs = References(ALL_TOWNS)  # names are unique district-wide; scope checked below
        self.enterprises = {e.name: e for e in Enterprise.objects.select_related("brand")}
        self.outlets = {(o.enterprise_id, o.name): o for o in Outlet.objects.all()}
        self.planned: dict[str, Enterprise] = {}  # enterprises met in this file, by name
        self.enterprise_rows: dict[str, int] = {}
        self.outlet_rows: dict[tuple[str, str], int] = {}

    def new_plan(self, records: list[Record], report: ImportReport) -> ListPlan:
        return ListPlan()

    def plan_row(self, record: Record, report: ImportReport, plan: ListPlan) -> list[str]:
        values = record.values
        town = self.town_of(record, "town", report)
        outlet_town = self.town_of(record, "outlet_town", report) or town
        brand = None
        if values.get("brand"):
            brand = self.refs.brand(values["brand"])
            if brand is None:
                self.fail(record, "brand", report, "无法识别的快递品牌")
        name = values.get("enterprise")
        if not name or record.failed:
            return []
        wanted = {"town": town, "brand": brand}
        wanted |= {
            k: values[k]
            for k in ENTERPRISE_FIELDS
            if k in values and values[k] and k not in ("town", "brand")
        }
        wanted = {k: v for k, v in wanted.items() if v}
        statuses = []
        enterprise = self.planned.get(name)
        if enterprise is not None:
            clash = [k for k, v in wanted.items() if getattr(enterprise, _attname(k)) != _pk(v)]
            if clash:
                self.fail(
                    record,
                    clash[0],
                    report,
                    f"与第 {self.enterprise_rows[name]} 行的企业信息不一致",
                )
                return []
        else:
            enterprise = self.enterprises.get(name)
            if not self.check_editable(record, enterprise, report, "enterprise"):
                return []
            if enterprise is None:
                if brand is None:
                    self.fail(record, "brand", report, "新企业须填写快递品牌")
                    return []
                enterprise = Enterprise(name=name)
            changed = [k for k, v in wanted.items() if getattr(enterprise, _attname(k)) != _pk(v)]
            for key in changed:
                setattr(enterprise, key, wanted[key])
            if enterprise.pk is None:
                plan.new_enterprises.append(enterprise)
                statuses.append("new")
            elif changed:
                plan.updated_enterprises.append(enterprise)
                statuses.append("updated")
            else:
                statuses.append("unchanged")
            self.planned[name] = enterprise
            self.enterprise_rows[name] = record.row
        if not self.may_edit(enterprise.town_id):
            self.fail(record, "town", report, "只能导入本街镇的企业和网点")
            return []
        outlet_status = self._plan_outlet(record, enterprise, outlet_town, plan, report)
        return statuses + ([outlet_status] if outlet_status else [])

    def _plan_outlet(self, record, enterprise, town, plan, report) -> str | None:
        values = record.values
        name = values.get("outlet")
        if not name:
            return None
        key = (enterprise.name, name)
        if key in self.outlet_rows:
            self.fail(record, "outlet", report, f"与第 {self.outlet_rows[key]} 行的网点重复")
            return None
        self.outlet_rows[key] = record.row
        if not self.may_edit(town.pk):
            self.fail(record, "outlet_town", report, "只能导入本街镇的网点")
            return None
        community = self.community_of(record, "outlet_community", town, report)
        if record.failed:
            return None
        outlet = self.outlets.get((enterprise.pk, name)) if enterprise.pk else None
        if not self.check_editable(record, outlet, report, "outlet"):
            return None
        wanted = {
            "town": town,
            "community": community,
            "address": values.get("outlet_address") or None,
        }
        wanted = {k: v for k, v in wanted.items() if v is not None}
        if outlet is None:
            plan.new_outlets.append(Outlet(name=name, enterprise=enterprise, **wanted))
            return "new"
        changed = [k for k, v in wanted.items() if getattr(outlet, _attname(k)) != _pk(v)]
        for key in changed:
            setattr(outlet, key, wanted[key])
        if changed:
            plan.updated_outlets.append(outlet)
            return "updated"
        return "unchanged"

    def write(self, plan: ListPlan) -> None:
        Enterprise.objects.bulk_create(plan.new_enterprises)
        if plan.updated_enterprises:
            Enterprise.objects.bulk_update(plan.updated_enterprises, ENTERPRISE_FIELDS)
        # Django fills each new outlet's enterprise_id from its now-saved enterprise.
        Outlet.objects.bulk_create(plan.new_outlets)
        if plan.updated_outlets:
            Outlet.objects.bulk_update(plan.updated_outlets, ["town", "community", "address"])


def _attname(key: str) -> str:
    return f"{key}_id" if key in ("town", "community", "brand") else key


def _pk(value):
    return getattr(value, "pk", value)
