"""The messy courier survey (排摸登记表) that bench/import_survey.py imports: an .xlsx written
the way real ones are, with the typed values each row should become.

The sheet: a merged title line and a 填报单位 line above the header; canonical headers and
aliases in a shuffled (seeded) order plus 序号 and 备注 columns; phones as Excel numbers, with
spaces, dashes, +86 or full-width digits; about half with a checksum-valid ID number (some with
a lower-case x); birth dates as Excel date cells, 1990.05, 1990年5月, 1990/5/21 … (consistent
with the ID, or blank); everyday words for political status and education; brand aliases;
towns with and without 镇/街道; real outlets with their enterprise and town; yes/no as
是/否/√/×/Y/N/1/0/blank; a blank line in the middle and a trailing 合计 line. Every row is
valid.

``build_survey`` writes it from the demo district's reference rows (``ReferenceData``); each
``Person`` is one row as the registry should hold it after the import.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import random
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from common import BenchError

if TYPE_CHECKING:
    from couriers.models import (
        Brand,
        Community,
        Courier,
        Enterprise,
        Outlet,
        PartyOrganization,
        Town,
    )

FILENAME = "survey.xlsx"
TITLE = "奉贤区快递从业人员排摸登记表"
PHONE_PREFIXES = [
    str(n) for n in (*range(135, 140), 150, 151, 152, 157, 158, 159, 166, 177, *range(180, 190))
]
FULLWIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")
NOTES = ["新入职", "夜班", "兼职", "电话已核实", "住宿舍", "春节返乡", "骑手转岗", "已参加培训"]


@dataclasses.dataclass
class Person:
    """One courier as the registry should hold it after the import (the typed truth)."""

    name: str
    gender: str
    phone: str
    id_number: str
    birth_date: datetime.date | None
    education: str
    political_status: str
    is_mobile_party_member: bool
    membership_location: str
    managing_organization: PartyOrganization | None
    is_business_backbone: bool
    brand: Brand
    enterprise: Enterprise
    outlet: Outlet | None
    work_town: Town
    residence_community: Community | None
    employment_status: str

    def courier(self) -> Courier:
        from couriers.models import Courier

        return Courier(
            **{field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        )

    def compared(self) -> tuple[Any, ...]:
        """The values to compare with the database, foreign keys as ids."""
        return tuple(
            getattr(value, "pk", value)
            for value in (getattr(self, field.name) for field in dataclasses.fields(self))
        )


COMPARED_COLUMNS = [
    "name",
    "gender",
    "phone",
    "id_number",
    "birth_date",
    "education",
    "political_status",
    "is_mobile_party_member",
    "membership_location",
    "managing_organization_id",
    "is_business_backbone",
    "brand_id",
    "enterprise_id",
    "outlet_id",
    "work_town_id",
    "residence_community_id",
    "employment_status",
]


@dataclasses.dataclass
class ReferenceData:
    """What the generator draws from: the demo district's real reference rows."""

    outlets: list[Outlet]
    ambiguous_outlets: set[str]
    communities: list[Community]
    communities_by_town: dict[int, list[Community]]
    ambiguous_communities: set[str]
    branches_by_town: dict[int, PartyOrganization]
    brand_words: dict[int, list[str]]

    @classmethod
    def load(cls) -> ReferenceData:
        from collections import Counter

        from couriers.models import Brand, Community, Outlet, PartyOrganization

        outlets = list(Outlet.objects.select_related("enterprise__brand", "town").order_by("id"))
        communities = list(Community.objects.select_related("town").order_by("id"))
        if not outlets or not communities:
            raise BenchError("load_demo made no outlets or communities")
        by_town: dict[int, list[Community]] = {}
        for community in communities:
            by_town.setdefault(community.town_id, []).append(community)
        branches = {
            org.town_id: org
            for org in PartyOrganization.objects.filter(parent__isnull=False).order_by("id")
        }
        brand_words = {}
        for brand in Brand.objects.order_by("id"):
            words = [brand.name, *brand.alias_list()]
            # People also type the Latin aliases in lower case (sf顺丰, j&t极兔).
            words += [w.lower() for w in words if w.lower() != w]
            brand_words[brand.pk] = words
        outlet_names = Counter(o.name for o in outlets)
        community_names = Counter(c.name for c in communities)
        return cls(
            outlets=outlets,
            ambiguous_outlets={name for name, n in outlet_names.items() if n > 1},
            communities=communities,
            communities_by_town=by_town,
            ambiguous_communities={name for name, n in community_names.items() if n > 1},
            branches_by_town=branches,
            brand_words=brand_words,
        )


def _pick(rng: random.Random, weighted: list[tuple[Any, float]]) -> Any:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


def _phone_cell(rng: random.Random, phone: str) -> Any:
    style = _pick(
        rng,
        [
            ("number", 35),
            ("text", 20),
            ("spaces", 10),
            ("dashes", 10),
            ("+86", 8),
            ("+86-dashes", 4),
            ("86", 3),
            ("fullwidth", 6),
            ("padded", 4),
        ],
    )
    a, b, c = phone[:3], phone[3:7], phone[7:]
    return {
        "number": int(phone),
        "text": phone,
        "spaces": f"{a} {b} {c}",
        "dashes": f"{a}-{b}-{c}",
        "+86": f"+86 {phone}",
        "+86-dashes": f"+86-{a}-{b}-{c}",
        "86": f"86{phone}",
        "fullwidth": phone.translate(FULLWIDTH_DIGITS),
        "padded": f" {phone} ",
    }[style]


def _id_cell(rng: random.Random, id_number: str) -> str:
    if id_number.endswith("X") and rng.random() < 0.5:
        id_number = id_number[:-1] + "x"
    if rng.random() < 0.05:
        return f"{id_number[:6]} {id_number[6:14]} {id_number[14:]}"
    return id_number


def _birth_cell(
    rng: random.Random, born: datetime.date, with_id: bool, month_dates_with_id: bool
) -> tuple[Any, bool]:
    """(the cell, whether it gives the day): with an ID number a month is aligned to the ID."""
    months = 1 if month_dates_with_id or not with_id else 0
    style = _pick(
        rng,
        [
            ("blank", 40 if with_id else 12),
            ("date", 25),
            ("dot", 10 * months),
            ("cn", 10 * months),
            ("slash", 8),
            ("iso", 5),
            ("number", 3 * months),
            ("digits", 3),
        ],
    )
    if style == "number" and not with_id and born.month in (1, 10):
        # 1985.1 as a number could be January or October (1985.10 stored as a number): the
        # import refuses it without an ID number to settle it, so offices must type it.
        style = "dot"
    if style == "blank":
        return None, False
    return {
        "date": (born, True),
        "dot": (f"{born.year}.{born.month:02d}", False),
        "cn": (f"{born.year}年{born.month}月", False),
        "slash": (f"{born.year}/{born.month}/{born.day}", True),
        "iso": (born.isoformat(), True),
        "number": (float(f"{born.year}.{born.month:02d}"), False),  # 1990.05 typed as a number
        "digits": (born.strftime("%Y%m%d"), True),
    }[style]


YES_WORDS: list[Any] = ["是", "是", "√", "Y", "y", "1", 1]
NO_WORDS: list[Any] = ["否", "否", "×", "N", "n", "0", 0, None, None, None]


def _yes_no_cell(rng: random.Random, value: bool) -> Any:
    return rng.choice(YES_WORDS if value else NO_WORDS)


def _choices() -> dict[str, Any]:
    from couriers.models import Courier

    status, education = Courier.PoliticalStatus, Courier.Education
    return {
        "status": [
            (status.MASSES, 80),
            (status.LEAGUE, 12),
            (status.APPLICANT, 3),
            (status.ACTIVIST, 1.5),
            (status.MEMBER, 1.2),
            (status.PROBATIONARY, 0.3),
        ],
        "status_words": {
            status.MASSES: ["群众", "群众", "群众", None, None, "无", "普通群众", "无党派"],
            status.LEAGUE: ["团员", "共青团员", "共青团"],
            status.APPLICANT: ["有入党意愿", "申请入党", "入党申请人"],
            status.ACTIVIST: ["积极分子", "入党积极分子"],
            status.MEMBER: ["党员", "中共党员", "共产党员"],
            status.PROBATIONARY: ["预备党员", "中共预备党员"],
        },
        "education": [
            (education.PRIMARY_OR_LESS, 30),
            (education.SENIOR, 38),
            (education.COLLEGE, 20),
            (education.BACHELOR, 10),
            (education.POSTGRADUATE, 2),
        ],
        "education_words": {
            education.PRIMARY_OR_LESS: ["初中", "初中", "初中及以下", "小学"],
            education.SENIOR: ["高中", "高中", "中专", "高中/中专", "职高", "技校"],
            education.COLLEGE: ["大专", "大专", "专科", "高职"],
            education.BACHELOR: ["本科", "本科", "大学本科", "大学"],
            education.POSTGRADUATE: ["硕士", "研究生"],
        },
    }


def generate_people(
    count: int,
    refs: ReferenceData,
    rng: random.Random,
    month_dates_with_id: bool = True,
    start: int = 0,
    used_ids: set[str] | None = None,
) -> Iterator[tuple[Person, dict[str, Any]]]:
    """`count` valid, distinct couriers: each as the typed truth and as messy sheet cells.
    Calls that share a file give each its own `start` (phones) and one `used_ids` set."""
    from couriers import validators
    from couriers.demo import GIVEN, HOME_REGIONS, SURNAMES
    from couriers.models import Courier

    member_values = set(Courier.PoliticalStatus.member_values())
    choices = _choices()
    used_ids = set() if used_ids is None else used_ids
    today = datetime.date.today()
    for i in range(start, start + count):
        cells: dict[str, Any] = {"序号": i + 1}
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))
        cells["name"] = f" {name} " if rng.random() < 0.03 else name
        # 7919 is coprime to 10^8: distinct rows get distinct 8-digit tails, whatever prefix.
        phone = f"{rng.choice(PHONE_PREFIXES)}{(i * 7919 + 3_000_017) % 10**8:08d}"
        cells["phone"] = _phone_cell(rng, phone)

        male = rng.random() < 0.86
        region, home = rng.choice(HOME_REGIONS)
        born = datetime.date(rng.randint(1966, 2005), rng.randint(1, 12), rng.randint(1, 28))
        born = min(born, today)
        id_number = ""
        if rng.random() < 0.5:
            while True:
                seq = rng.randint(0, 499) * 2 + (1 if male else 0)  # 17th digit: odd is male
                body = f"{region}{born:%Y%m%d}{seq:03d}"
                id_number = body + validators.id_check_char(body)
                if id_number not in used_ids:
                    break
                born = born.replace(day=rng.randint(1, 28))
            used_ids.add(id_number)
            cells["id_number"] = _id_cell(rng, id_number)
        gender = "M" if male else "F"
        if id_number and rng.random() < 0.3:
            cells["gender"] = None  # the importer takes it from the ID number
        elif rng.random() < 0.08:
            cells["gender"], gender = None, ""
        else:
            cells["gender"] = rng.choice(["男", "男", "男性"] if male else ["女", "女", "女性"])
        cells["birth_date"], has_day = _birth_cell(rng, born, bool(id_number), month_dates_with_id)
        if id_number:
            birth_date: datetime.date | None = born
        elif cells["birth_date"] is None:
            birth_date = None
        else:
            birth_date = born if has_day else born.replace(day=1)

        education = ""
        if rng.random() < 0.9:
            education = _pick(rng, choices["education"])
            cells["education"] = rng.choice(choices["education_words"][education])
        status = _pick(rng, choices["status"])
        cells["political_status"] = rng.choice(choices["status_words"][status])
        member = status in member_values
        mobile = member and region != "310120" and rng.random() < 0.4
        cells["is_mobile_party_member"] = _yes_no_cell(rng, mobile)
        location = f"{home}党员服务中心党支部" if mobile else ""
        cells["membership_location"] = location or None
        backbone = rng.random() < (0.4 if member else 0.05)
        cells["is_business_backbone"] = _yes_no_cell(rng, backbone)

        outlet = rng.choice(refs.outlets)
        enterprise, brand, town = outlet.enterprise, outlet.enterprise.brand, outlet.town
        organization = refs.branches_by_town.get(town.pk) if member and rng.random() < 0.7 else None
        cells["managing_organization"] = organization.name if organization else None
        cells["brand"] = rng.choice(refs.brand_words[brand.pk]) if rng.random() < 0.9 else None
        show_outlet = rng.random() < 0.96
        show_enterprise = (
            not show_outlet or outlet.name in refs.ambiguous_outlets or rng.random() < 0.85
        )
        cells["enterprise"] = enterprise.name if show_enterprise else None
        cells["outlet"] = outlet.name if show_outlet else None
        cells["work_town"] = _pick(
            rng,
            [
                (town.name, 55),
                (town.short_name, 35),
                (f" {town.name} ", 5),
                (f"\u3000{town.short_name}", 5),
            ],
        )
        community = None
        if rng.random() < 0.6:
            pool = refs.communities_by_town.get(town.pk) if rng.random() < 0.7 else None
            community = rng.choice(pool or refs.communities)
            qualified = community.name in refs.ambiguous_communities or rng.random() < 0.2
            cells["residence_community"] = str(community) if qualified else community.name
        employment = _pick(rng, [("在职", 50), (None, 40), ("在岗", 5), ("离职", 3), ("已离职", 2)])
        cells["employment_status"] = employment
        left = employment in ("离职", "已离职")
        cells["备注"] = rng.choice(NOTES) if rng.random() < 0.15 else None

        person = Person(
            name=name,
            gender=gender if not id_number else validators.id_gender(id_number),
            phone=phone,
            id_number=id_number,
            birth_date=birth_date,
            education=education,
            political_status=status,
            is_mobile_party_member=mobile,
            membership_location=location,
            managing_organization=organization,
            is_business_backbone=backbone,
            brand=brand,
            enterprise=enterprise,
            outlet=outlet if show_outlet else None,
            work_town=town,
            residence_community=community,
            employment_status=Courier.EmploymentStatus.LEFT
            if left
            else Courier.EmploymentStatus.ACTIVE,
        )
        yield person, cells


def _layout(rng: random.Random) -> list[tuple[str, str]]:
    """(key, header as written) for every column, in a shuffled order, 序号 first or not."""
    from couriers.imports.survey import COLUMNS

    layout = []
    for column in COLUMNS:
        header = (
            column.header
            if rng.random() < 0.5 or not column.aliases
            else rng.choice(column.aliases)
        )
        if column.required:
            header = _pick(rng, [(header, 6), (f"*{header}", 2), (f"{header}（必填）", 2)])
        layout.append((column.key, header))
    layout.append(("备注", "备注"))
    rng.shuffle(layout)
    if rng.random() < 0.8:
        return [("序号", "序号"), *layout]
    layout.insert(rng.randrange(len(layout)), ("序号", "序号"))
    return layout


def build_survey(
    count: int,
    refs: ReferenceData,
    seed: int,
    keep_people: bool,
    month_dates_with_id: bool = True,
) -> tuple[bytes, list[Person]]:
    """The .xlsx bytes of a `count`-row survey, and (if asked) the people it holds."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    rng = random.Random(seed)
    layout = _layout(rng)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("排摸登记表")
    sheet.merged_cells.add(f"A1:{get_column_letter(len(layout))}1")
    sheet.append([TITLE])
    sheet.append(
        [
            "填报单位（盖章）：奉贤区快递物流行业党委",
            *[None] * (len(layout) - 4),
            "填报日期：2025年3月1日",
        ]
    )
    sheet.append([header for _, header in layout])
    people: list[Person] = []
    blank_at = count // 2
    for i, (person, cells) in enumerate(generate_people(count, refs, rng, month_dates_with_id)):
        if i == blank_at:
            sheet.append([None] * len(layout))
        sheet.append([cells.get(key) for key, _ in layout])
        if keep_people:
            people.append(person)
    total = [None] * len(layout)
    total[0], total[1] = "合计", f"共 {count} 人"
    sheet.append(total)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), people


# --- workbooks of other shapes (issue 15): a sheet per town, and merged cells -------------------


def _header_lines(sheet, layout: list[tuple[str, str]], title: str = TITLE) -> None:
    from openpyxl.utils import get_column_letter

    sheet.append([title])
    sheet.merge_cells(f"A1:{get_column_letter(len(layout))}1")
    sheet.append([header for _, header in layout])


def build_town_sheets(
    per_sheet: int, sheets: int, refs: ReferenceData, seed: int, keep_people: bool = True
) -> tuple[bytes, list[Person], list[str]]:
    """One sheet per town (as a district office collects the towns' returns into one
    workbook): `sheets` towns with the most outlets, `per_sheet` couriers each, the same
    messy cells and column layout as build_survey; then an empty 说明 sheet with no header,
    which the import must skip. Returns the bytes, the people and the data sheets' names."""
    from collections import Counter

    from openpyxl import Workbook

    rng = random.Random(seed)
    layout = _layout(rng)
    by_town = Counter(outlet.town_id for outlet in refs.outlets)
    towns = [town_id for town_id, _ in by_town.most_common(sheets)]
    if len(towns) < sheets:
        raise BenchError(f"the demo has outlets in {len(towns)} towns, not {sheets}")
    workbook = Workbook(write_only=True)
    people: list[Person] = []
    names: list[str] = []
    used_ids: set[str] = set()
    for n, town_id in enumerate(towns):
        town_refs = dataclasses.replace(
            refs, outlets=[o for o in refs.outlets if o.town_id == town_id]
        )
        town = town_refs.outlets[0].town
        sheet = workbook.create_sheet(town.name)
        names.append(town.name)
        sheet.append([f"{TITLE}（{town.name}）"])
        sheet.append([header for _, header in layout])
        generated = generate_people(
            per_sheet, town_refs, rng, start=n * per_sheet, used_ids=used_ids
        )
        for person, cells in generated:
            sheet.append([cells.get(key) for key, _ in layout])
            if keep_people:
                people.append(person)
        sheet.append(["合计", f"共 {per_sheet} 人"])
    notes = workbook.create_sheet("填表说明")
    notes.append(["请按街镇分别填写，每个街镇一张工作表。"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), people, names


MERGED_KEYS = ("brand", "enterprise", "outlet", "work_town")


def build_merged_survey(
    count: int, refs: ReferenceData, seed: int, keep_people: bool = True
) -> tuple[bytes, list[Person], int]:
    """A survey sorted by outlet with 快递品牌, 加盟企业, 网点名称 and 工作街镇 merged down each
    block of couriers of one outlet (blocks of 3 to 40 rows), the value in the block's top cell
    only — how offices lay out a roster. Returns the bytes, the people (each with the block's
    outlet, enterprise and brand: what a merged cell says for every row) and the number of
    merged ranges."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    rng = random.Random(seed)
    layout = _layout(rng)
    generated = list(generate_people(count, refs, rng))
    generated.sort(key=lambda item: (item[0].enterprise.pk, item[0].work_town.pk))
    workbook = Workbook()  # merged ranges need the normal (not write-only) workbook
    sheet = workbook.active
    sheet.title = "排摸登记表"
    _header_lines(sheet, layout)
    positions = {key: i + 1 for i, (key, _) in enumerate(layout) if key in MERGED_KEYS}
    first_data_row = 3
    people: list[Person] = []
    merges = 0
    at = 0
    while at < len(generated):
        top_person, top_cells = generated[at]
        size = rng.randint(3, 40)
        block = [top_person]
        end = at + 1
        while (
            end < len(generated)
            and len(block) < size
            and generated[end][0].enterprise.pk == top_person.enterprise.pk
            and generated[end][0].work_town.pk == top_person.work_town.pk
        ):
            block.append(generated[end][0])
            end += 1
        outlet = next(
            (
                o
                for o in refs.outlets
                if o.enterprise_id == top_person.enterprise.pk
                and o.town_id == top_person.work_town.pk
            ),
            None,
        )
        top_cells = {**top_cells, "enterprise": top_person.enterprise.name}
        top_cells["outlet"] = outlet.name if outlet is not None else None
        top_cells["work_town"] = top_person.work_town.name
        start_row = first_data_row + at
        for offset in range(len(block)):
            _, cells = generated[at + offset]
            row = [cells.get(key) for key, _ in layout]
            for key, column in positions.items():
                row[column - 1] = top_cells.get(key) if offset == 0 else None
            sheet.append(row)
            person = block[offset]
            person.outlet = outlet
            if keep_people:
                people.append(person)
        if len(block) > 1:
            for column in positions.values():
                letter = get_column_letter(column)
                sheet.merge_cells(f"{letter}{start_row}:{letter}{start_row + len(block) - 1}")
                merges += 1
        at = end
    sheet.append(["合计", f"共 {count} 人"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), people, merges


def build_survey_with_new_outlets(
    count: int, refs: ReferenceData, seed: int, share: float = 0.05, per_town: int = 4
) -> tuple[bytes, list[Person], int]:
    """The messy survey of build_survey where `share` of the rows name an outlet the registry
    lacks (up to `per_town` new ones per brand and town, a third of their rows writing the
    digit full-width, 新１部 for 新1部), with their brand and no enterprise: the import creates
    each once, 待核实, under the brand's placeholder enterprise of the town. Each such person's
    outlet and enterprise are unsaved stand-ins (name, town, brand) until
    ``resolve_new_outlets`` finds what the import created. Returns the bytes, the people and
    the number of distinct new outlets."""
    from openpyxl import Workbook

    from couriers.imports.new_references import placeholder_name
    from couriers.models import Enterprise, Outlet

    rng = random.Random(seed)
    layout = _layout(rng)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("排摸登记表")
    sheet.append([TITLE])
    sheet.append([header for _, header in layout])
    people: list[Person] = []
    new_names: set[str] = set()
    stand_ins: dict[tuple[int, int], Enterprise] = {}
    for person, cells in generate_people(count, refs, rng):
        if rng.random() < share:
            brand, town = person.brand, person.work_town
            number = rng.randint(1, per_town)
            name = f"{brand.name}{town.short_name}新{number}部"
            written = name if rng.random() < 0.67 else name.translate(FULLWIDTH_DIGITS)
            cells |= {"brand": brand.name, "enterprise": None, "outlet": written}
            enterprise = stand_ins.setdefault(
                (brand.pk, town.pk), Enterprise(name=placeholder_name(brand, town), brand=brand)
            )
            person.enterprise = enterprise
            person.outlet = Outlet(name=name, town=town, enterprise=enterprise)
            new_names.add(name)
        sheet.append([cells.get(key) for key, _ in layout])
        people.append(person)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), people, len(new_names)


def resolve_new_outlets(people: list[Person]) -> None:
    """Point the stand-ins of build_survey_with_new_outlets at the outlets the import made."""
    from couriers.models import Outlet, Verification

    made = {
        (o.name, o.town_id): o
        for o in Outlet.objects.filter(verification=Verification.PENDING).select_related(
            "enterprise"
        )
    }
    for person in people:
        if person.outlet is not None and person.outlet.pk is None:
            found = made.get((person.outlet.name, person.work_town.pk))
            if found is None:
                raise BenchError(f"the import did not create the outlet {person.outlet.name}")
            person.outlet, person.enterprise = found, found.enterprise


def delete_new_outlets() -> None:
    """Remove what an import of build_survey_with_new_outlets created (couriers first)."""
    from couriers.models import Enterprise, Outlet, Verification

    Outlet.objects.filter(verification=Verification.PENDING).delete()
    Enterprise.objects.filter(verification=Verification.PENDING).delete()
