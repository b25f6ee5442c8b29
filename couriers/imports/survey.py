"""The courier survey (排摸登记表): columns, reference matching and the upsert by phone.

Rules beyond the cell parsers:
- a courier is identified by the normalised phone: an existing courier is updated, never
  duplicated; re-importing the same file changes nothing;
- a blank cell does not erase what is already recorded (except yes/no columns, where blank
  means 否); a blank 政治面貌 is 群众 for a new courier and leaves an existing one as it was;
- town staff may import only their own town's rows and never overwrite another town's courier;
  a phone or ID number held outside their town is refused without saying by whom or where;
- the model's own rules (`Courier.clean()`: outlet of the enterprise, mobile members, birth
  date against the ID number) apply to every row, with the same Chinese messages as the admin.
"""

from __future__ import annotations

import contextlib
import dataclasses

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from couriers import validators
from couriers.casework.pipeline import status_for
from couriers.imports import cell_values
from couriers.imports.new_references import NewReferences, Problem
from couriers.imports.sheet_import import (
    OTHER_TOWN,
    Column,
    ImportReport,
    Record,
    SheetImporter,
    chunked,
)
from couriers.models import (
    Brand,
    Courier,
    PipelineStage,
)
from couriers.privacy.masking import mask_id_number, mask_phone
from couriers.references import References

# The survey's columns, in the template's order. The export uses the same headers, so an
# export can be imported again.
COLUMNS = [
    Column(
        "name",
        "姓名",
        cell_values.person_name,
        aliases=("名字", "快递员姓名", "从业人员姓名", "员工姓名", "快递小哥姓名"),
        required=True,
        help="必填。",
    ),
    Column("gender", "性别", cell_values.gender, help="男 / 女；留空时按身份证号码判断。"),
    Column(
        "phone",
        "手机号码",
        cell_values.phone,
        takes_cell=True,
        aliases=("联系电话", "手机号", "手机", "联系方式", "电话", "移动电话", "联系手机"),
        required=True,
        mask=mask_phone,
        help="必填，11 位大陆手机号；可带空格、横线或 +86。按手机号码识别同一人。",
    ),
    Column(
        "id_number",
        "身份证号码",
        cell_values.id_number,
        takes_cell=True,
        aliases=("身份证号", "身份证", "公民身份号码", "身份证件号码", "证件号码", "身份号码"),
        mask=mask_id_number,
        help="选填，18 位，最后一位可为 X。",
    ),
    Column(
        "birth_date",
        "出生日期",
        cell_values.birth_date,
        takes_cell=True,
        aliases=("出生年月", "出生年月日", "生日", "出生时间"),
        help="如 1990-05-21、1990/5/21、1990.05、1990年5月；留空时按身份证号码填写。",
    ),
    Column(
        "education",
        "文化程度",
        cell_values.education,
        aliases=("学历", "最高学历", "文化"),
        help="初中及以下 / 高中/中专 / 大专 / 大学本科 / 研究生（本科、专科、硕士等亦可）。",
    ),
    Column(
        "political_status",
        "政治面貌",
        cell_values.political_status,
        aliases=("政治面目",),
        help="中共党员 / 中共预备党员 / 入党积极分子 / 有入党意愿 / 共青团员 / 群众"
        "（党员、团员、积极分子等亦可）；新登记人员留空或“无”视为群众。",
    ),
    Column(
        "is_mobile_party_member",
        "是否流动党员",
        cell_values.yes_no,
        aliases=("流动党员", "是否为流动党员"),
        help="是 / 否（√、×、Y、N、1、0 亦可），留空为否。",
    ),
    Column(
        "membership_location",
        "组织关系所在地",
        aliases=("组织关系所在单位", "党组织关系所在地", "组织关系所在党组织", "组织关系"),
        help="流动党员必填：组织关系所在的党组织或地区。",
    ),
    Column(
        "managing_organization",
        "管理党组织",
        aliases=("属地党组织", "所在党组织", "所属党组织"),
        help="纳入管理的属地党组织全称，须已在系统中登记。",
    ),
    Column(
        "is_business_backbone",
        "是否业务骨干",
        cell_values.yes_no,
        aliases=("业务骨干", "是否为业务骨干"),
        help="是 / 否，留空为否。",
    ),
    Column(
        "brand",
        "快递品牌",
        aliases=("所属快递品牌", "品牌", "所属品牌", "快递公司品牌", "快递企业品牌"),
        help="如 顺丰、京东、中国邮政、中通、圆通、申通、韵达、极兔"
        "（别名亦可，如 顺丰速运、邮政EMS）。",
    ),
    Column(
        "enterprise",
        "加盟企业",
        aliases=("企业名称", "所属企业", "所在企业", "公司名称", "所属公司", "加盟公司"),
        help="加盟企业全称；未登记的企业导入时新建为“待核实”（须填写快递品牌）。",
    ),
    Column(
        "outlet",
        "网点名称",
        aliases=("网点", "所属网点", "所在网点", "营业网点"),
        help="未登记的网点导入时新建为“待核实”（须填写快递品牌或加盟企业）；"
        "同名网点请同时填写加盟企业。",
    ),
    Column(
        "work_town",
        "工作街镇",
        aliases=(
            "所在街镇",
            "街镇",
            "工作所在街镇",
            "镇（街道）",
            "街道（镇）",
            "所属街镇",
            "镇/街道",
            "街道/镇",
            "工作地街镇",
        ),
        required=True,
        help="必填，如 南桥镇 或 南桥（可不写“镇/街道”）。",
    ),
    Column(
        "residence_community",
        "居住村居委",
        aliases=(
            "居住社区",
            "居住地村居委",
            "居住村（居）委",
            "居住村居",
            "居住地",
            "居住村居委会",
            "居住村（居）",
            "现居住地",
            "现居住村居",
            "所在村居",
        ),
        help="如 浦江居委会，或 西渡·浦江居委会。",
    ),
    Column(
        "employment_status",
        "从业状态",
        cell_values.employment_status,
        aliases=("在职状态", "是否在职", "在岗状态"),
        help="在职 / 离职，留空为在职。",
    ),
]
# A second telephone column (a landline beside the mobile): kept as a line of the courier's
# 备注. Not exported, so not in COLUMNS (the export's headers).
CONTACT_COLUMN = Column(
    "contact_note",
    "其他联系电话",
    aliases=("固定电话", "座机", "座机号码", "办公电话"),
    mask=mask_phone,
    max_length=40,
    help="选填，如座机号码；记在备注中。",
)
# 快递公司 is the brand in some offices' sheets and the enterprise in others: its values say.
SHARED_HEADERS = {"快递公司": ("brand", "enterprise"), "快递企业": ("brand", "enterprise")}
CONTACT_NOTE = "其他联系电话："

# Columns stored as they are on the courier (the rest are references resolved by name).
PLAIN_FIELDS = [
    "name",
    "gender",
    "id_number",
    "birth_date",
    "education",
    "political_status",
    "is_mobile_party_member",
    "membership_location",
    "is_business_backbone",
    "employment_status",
]
REFERENCE_FIELDS = [
    "brand",
    "enterprise",
    "outlet",
    "work_town",
    "residence_community",
    "managing_organization",
]
YES_NO_FIELDS = {"is_mobile_party_member", "is_business_backbone"}
# Attribute names compared to decide whether an existing courier changed.
COMPARED_FIELDS = [*PLAIN_FIELDS, "notes", *(f"{name}_id" for name in REFERENCE_FIELDS)]


@dataclasses.dataclass
class SurveyPlan:
    new: list[Courier] = dataclasses.field(default_factory=list)
    updated: list[Courier] = dataclasses.field(default_factory=list)
    changed_fields: set[str] = dataclasses.field(default_factory=set)


class CourierSurveyImporter(SheetImporter):
    columns = [*COLUMNS, CONTACT_COLUMN]
    shared_headers = SHARED_HEADERS
    model = Courier
    title = "奉贤区快递从业人员排摸登记表"
    sheet_name = "排摸登记表"

    def split_columns(
        self, column: Column, labels: dict[int, str], values: dict[int, list]
    ) -> dict[int, Column] | None:
        """Two phone columns (手机号码 and a landline 联系电话): the phone is the one whose first
        values are all mobile numbers while the other's are not (with no values at all to
        tell, the one called 手机…); the other is kept as a contact note. Two columns of
        mobile numbers stay one column too many: which is the courier's would be a guess."""
        if column.key != "phone" or len(labels) != 2:
            return None

        def all_mobile(position: int) -> bool:
            return bool(values[position]) and all(map(cell_values.is_mobile, values[position]))

        first, second = labels
        if not values[first] and not values[second]:
            by_name = [position for position in labels if "手机" in labels[position]]
            phones = by_name if len(by_name) == 1 else []
        else:
            phones = [position for position in labels if all_mobile(position)]
        if len(phones) != 1:
            return None
        (phone,) = phones
        return {phone: column, (second if phone == first else first): CONTACT_COLUMN}

    def choose_column(self, label: str, candidates: list[Column], values: list) -> Column | None:
        """快递公司: the brand when its first values are all brand names, the enterprise when
        none is; mixed or blank values leave it unknown (and the preview warns)."""
        if not values:
            return None
        keys = {key for brand in Brand.objects.all() for key in brand.match_keys()}
        brands = [
            any("".join(n.split()).casefold() in keys for n in cell_values.brand_names(v))
            for v in values
        ]
        wanted = "brand" if all(brands) else "enterprise" if not any(brands) else None
        return next((c for c in candidates if c.key == wanted), None)

    def start(self, report: ImportReport) -> None:
        self.refs = References(self.town_id)
        self.new_refs = NewReferences(self.refs, report)
        self.now = timezone.now()

    def new_plan(self, records: list[Record], report: ImportReport) -> SurveyPlan:
        self.duplicates(records, "phone", report, "手机号码")
        self.duplicates(records, "id_number", report, "身份证号码")
        phones = [r.values["phone"] for r in records if r.values.get("phone")]
        self.existing = self._existing(phones)
        id_numbers = [r.values["id_number"] for r in records if r.values.get("id_number")]
        self.id_owners = self._id_owners(id_numbers)
        return SurveyPlan()

    def _existing(self, phones: list[str]) -> dict[str, Courier]:
        found: dict[str, Courier] = {}
        for chunk in chunked(phones):
            for courier in Courier.objects.filter(phone__in=chunk):
                found[courier.phone] = courier
        return found

    def _id_owners(self, id_numbers: list[str]) -> dict[str, Courier]:
        owners: dict[str, Courier] = {}
        for chunk in chunked(id_numbers):
            for courier in Courier.objects.filter(id_number__in=chunk).only(
                "id_number", "phone", "work_town_id"
            ):
                owners[courier.id_number] = courier
        return owners

    def plan_row(self, record: Record, report: ImportReport, plan: SurveyPlan) -> str | None:
        values = record.values
        resolved = self._resolve(record, report)
        phone = values.get("phone")
        courier = self.existing.get(phone)
        self.check_editable(record, courier, report, "phone")
        self._settle_birth_month(record, report, courier)
        owner = self.id_owners.get(values.get("id_number"))
        if phone and owner is not None and owner.phone != phone:
            # Within the user's town the holder may be named (masked); outside it, not even
            # that the number is held.
            held = f"该身份证号码已登记在 {mask_phone(owner.phone)} 名下"
            self.fail(record, "id_number", report, held if self.editable(owner) else OTHER_TOWN)
        if record.failed or not phone:
            return None

        wanted = self._wanted_values(values, resolved, is_new=courier is None)
        if courier is None:
            courier = Courier(phone=phone, created_at=self.now, updated_at=self.now, **wanted)
            before = None
        else:
            self._attach_related(courier)
            before = {name: getattr(courier, name) for name in COMPARED_FIELDS}
            for name, value in wanted.items():
                setattr(courier, name, value)
        self._align_birth_date(courier, values)
        if values.get("contact_note"):
            courier.notes = _with_line(courier.notes, CONTACT_NOTE + values["contact_note"])
        if courier.party_stage and courier.political_status != status_for(courier.party_stage):
            # With a pipeline history the status follows the latest stage
            # (couriers.casework.pipeline).
            stage = PipelineStage(courier.party_stage).label
            self.fail(
                record,
                "political_status",
                report,
                f"该小哥有入党进程记录（最新阶段：{stage}），政治面貌请在入党进程中登记新阶段",
            )
            return None
        try:
            courier.clean()
        except ValidationError as problem:
            for field, messages in problem.message_dict.items():
                self.fail(record, field, report, messages[0])
            return None
        # A record this import creates has no id yet: naming it is a change in itself.
        created = {n for n in ("outlet", "enterprise") if self.new_refs.is_new(resolved.get(n))}
        if before is None:
            plan.new.append(courier)
            self.new_refs.count(resolved.get("outlet"), resolved.get("enterprise"))
            return "new"
        changed = {name for name, value in before.items() if getattr(courier, name) != value}
        changed |= {f"{name}_id" for name in created}
        if not changed:
            return "unchanged"
        self.new_refs.count(resolved.get("outlet"), resolved.get("enterprise"))
        courier.updated_at = self.now
        plan.updated.append(courier)
        plan.changed_fields |= {name.removesuffix("_id") for name in changed}
        return "updated"

    def _resolve(self, record: Record, report: ImportReport) -> dict:
        values, resolved, refs = record.values, {}, self.refs

        def fail(key: str, message: str) -> None:
            self.fail(record, key, report, message)

        resolved["work_town"] = self.town_of(record, "work_town", report, "只能导入本街镇的人员")
        if values.get("brand"):
            # 中通快递, 韵达速递: the name as typed, then less the words offices add after it.
            names = cell_values.brand_names(values["brand"])
            brand = next((found for name in names if (found := refs.brand(name))), None)
            if brand is None:
                fail("brand", "无法识别的快递品牌")
            resolved["brand"] = brand
        self._resolve_enterprise_and_outlet(record, report, resolved)
        if values.get("residence_community"):
            found = refs.communities.get(values["residence_community"], [])
            if len(found) != 1:
                fail(
                    "residence_community",
                    "未登记的村居委" if not found else "有多个同名村居委，请写成“街镇·村居委”",
                )
            resolved["residence_community"] = found[0] if len(found) == 1 else None
        if values.get("managing_organization"):
            organization = refs.organizations.get(values["managing_organization"])
            if organization is None:
                fail("managing_organization", "未登记的党组织（或不在本街镇）")
            resolved["managing_organization"] = organization
        return resolved

    def _resolve_enterprise_and_outlet(
        self, record: Record, report: ImportReport, resolved: dict
    ) -> None:
        """The row's enterprise and outlet: registered ones by exact name, else near-duplicates
        or new 待核实 records in the row's work town (couriers.imports.new_references)."""
        values, refs, town = record.values, self.refs, resolved.get("work_town")
        brand, enterprise, new = resolved.get("brand"), None, self.new_refs
        new.sheet = self._sheet_names[self._sheet_index]
        # A row that failed already (its town, its brand …) says nothing new to create.
        may_create = town is not None and not record.failed
        if values.get("enterprise"):
            enterprise = refs.enterprises.get(values["enterprise"])
            if enterprise is None and may_create:
                try:
                    enterprise = new.enterprise(values["enterprise"], brand, town, record.row)
                except Problem as problem:
                    self.fail(record, "enterprise", report, str(problem))
            resolved["enterprise"] = enterprise
            if enterprise is None:
                return
        name = values.get("outlet")
        if not name:
            return
        named = refs.outlets.get(name, [])
        candidates = named
        if enterprise is not None:
            candidates = [o for o in named if o.enterprise_id == enterprise.pk]
        if len(candidates) > 1:
            self.fail(record, "outlet", report, "有多个同名网点，请同时填写加盟企业")
        elif candidates:
            resolved["outlet"] = candidates[0]
        elif named:
            owners = "、".join(f"“{o.enterprise.name}”" for o in named)
            self.fail(record, "outlet", report, f"该网点属于{owners}，与所填加盟企业不符")
        elif may_create:
            try:
                outlet = new.outlet(name, enterprise, brand, town, record.row)
            except Problem as problem:
                self.fail(record, "outlet", report, str(problem))
            else:
                resolved["outlet"] = outlet
                resolved["enterprise"] = enterprise or outlet.enterprise

    @staticmethod
    def _wanted_values(values: dict, resolved: dict, is_new: bool) -> dict:
        """Field values to set, by attribute name: ids for references, except the outlet and
        enterprise that Courier.clean() reads as objects."""
        wanted = {}
        for name in PLAIN_FIELDS:
            if name not in values:
                continue
            value = values[name]
            if name in YES_NO_FIELDS or value not in ("", None):
                wanted[name] = value
            elif is_new and name == "political_status":
                wanted[name] = Courier.PoliticalStatus.MASSES
        for name, value in resolved.items():
            if value is None:
                continue
            if name in ("outlet", "enterprise"):
                wanted[name] = value
            else:
                wanted[f"{name}_id"] = value.pk
        return wanted

    def _settle_birth_month(self, record: Record, report: ImportReport, courier) -> None:
        """A birth month the number cell leaves open (1988.1: January or October) is settled by
        the ID number of the row, or else of the courier as recorded; failing both, the row is
        refused with the reason: no month is stored on a guess."""
        born = record.values.get("birth_date")
        if not isinstance(born, cell_values.UncertainMonth):
            return
        id_number = record.values.get("id_number") or (courier.id_number if courier else "")
        from_id = None
        if id_number:
            with contextlib.suppress(ValueError):
                from_id = validators.id_birth_date(id_number)
        if from_id is not None and born.settled_by(from_id):
            record.values["birth_date"] = from_id
        else:
            self.fail(record, "birth_date", report, born.reason())

    @staticmethod
    def _align_birth_date(courier: Courier, values: dict) -> None:
        """A month-precision birth date (1990.05) takes its day from the ID number."""
        born, id_number = values.get("birth_date"), courier.id_number
        if born and id_number and born.day == 1:
            from_id = validators.id_birth_date(id_number)
            if (from_id.year, from_id.month) == (born.year, born.month):
                courier.birth_date = from_id

    def _attach_related(self, courier: Courier) -> None:
        """Fill the related-object caches clean() reads, from memory instead of queries."""
        refs = self.refs
        if courier.outlet_id in refs.outlet_by_id:
            courier.outlet = refs.outlet_by_id[courier.outlet_id]
        if courier.enterprise_id in refs.enterprise_by_id:
            courier.enterprise = refs.enterprise_by_id[courier.enterprise_id]

    def write(self, plan: SurveyPlan) -> None:
        self.new_refs.save()
        fields = [Courier._meta.get_field(name) for name in ("outlet", "enterprise")]
        for courier in (*plan.new, *plan.updated):
            # Couriers of a record created just now hold it, not yet its id.
            for field in fields:
                related = field.get_cached_value(courier, None)
                if related is not None and getattr(courier, field.attname) is None:
                    setattr(courier, field.attname, related.pk)
        if connection.vendor == "postgresql":
            _copy_new_couriers(plan.new)
        else:
            Courier.objects.bulk_create(plan.new, batch_size=2000)
        if plan.updated:
            fields = [*sorted(plan.changed_fields), "updated_at"]
            Courier.objects.bulk_update(plan.updated, fields, batch_size=500)


def _with_line(notes: str, line: str) -> str:
    """The notes with this line added at the end, unless they hold it already (a re-import
    changes nothing)."""
    lines = notes.splitlines()
    return notes if line in lines else "\n".join([*lines, line])


def _copy_new_couriers(couriers: list[Courier]) -> None:
    """Insert new couriers with PostgreSQL's COPY: several times faster than the INSERTs of
    bulk_create for a survey's thousands of rows. The values are already clean (validated by
    the importer and Courier.clean()) and of types psycopg sends as they are."""
    if not couriers:
        return
    fields = [f for f in Courier._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(Courier._meta.db_table)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for courier in couriers:
            copy.write_row([getattr(courier, f.attname) for f in fields])
