"""Benchmark: importing the courier survey (排摸登记表) against a plain bulk_create, and the
import's peak memory at 100,000 rows.

What it measures
    The exact code path of the admin and of ``python manage.py import_survey FILE``:
    ``CourierSurveyImporter(user=None).run(data, "survey.xlsx")`` — reading the .xlsx with
    python-calamine, finding the header row, parsing and normalising every cell, resolving
    brands, towns, enterprises, outlets, communities and party organisations, the model's
    ``clean()``, the upsert by phone and the bulk write in one transaction. Timed with
    ``time.perf_counter`` around ``run()`` only; generating the file is not timed.

    - import new: ``--rows`` rows (default 20,000) into an empty courier table
      (the report must say new == rows, written);
    - re-import unchanged: the same file again (unchanged == rows, nothing written);
    - baseline: the same rows as already-typed ``Courier(...)`` objects (normalised phone,
      related objects, dates …), built before the clock starts, written by one
      ``Courier.objects.bulk_create(objs, batch_size=2000)`` — the batch size the importer's
      own ``write()`` uses.

    Each is run ``--runs`` times (default 3), interleaved (new, re-import, baseline, new, …) so
    that the noise of a shared machine falls on all three alike. The courier table is emptied
    with ``Courier.objects.all().delete()`` before every insert and, on PostgreSQL,
    ``VACUUM ANALYZE``-d after every bulk change (outside the clock), the state autovacuum
    reaches soon after a real import. The ratios use the BEST (fastest) run of each
    measurement; medians are printed too. Targets: import new >= 0.5x and re-import >= 0.3x
    the baseline's rows/s.

    Timed code runs with ``DEBUG=False`` as in production (with DEBUG on, Django keeps the
    text of every query, which for 2,000-row INSERTs is megabytes). ``load_demo`` runs with
    the development default ``DEBUG=True``.

    Memory: a ``--memory-rows`` file (default 100,000 rows) is imported as new rows, written,
    in a fresh Python process (this script with ``--_memory-child``) that sets up Django
    against the same database. It reports its RSS right after ``django.setup()`` (with the
    importer imported and the database connection open, before reading the file) and its peak
    RSS (``ru_maxrss``) after the import; the difference is the import's own share. Target:
    peak RSS under 300 MB (MB here = MiB). With ``--tracemalloc`` a second child run reports the
    peak of Python allocations too (off by default: tracemalloc makes the import 4-5 times
    slower; calamine's own Rust buffers are not seen by it).

    The generated sheet is messy the way real ones are: a merged title line and a 填报单位
    line above the header; canonical headers and aliases in a shuffled (seeded) order plus 序号
    and 备注 columns; phones as Excel numbers, with spaces, dashes, +86 or full-width digits;
    about half with a checksum-valid ID number (some with a lower-case x); birth dates as Excel
    date cells, 1990.05, 1990年5月, 1990/5/21 … (consistent with the ID, or blank); everyday
    words for political status and education; brand aliases; towns with and without 镇/街道;
    real outlets with their enterprise and town; yes/no as 是/否/√/×/Y/N/1/0/blank; a blank line
    in the middle and a trailing 合计 line. Every row is valid: any import error, a wrong count
    or imported values that differ from the generated ones make the script exit 1.

How to run it (from the project folder, with PostgreSQL running)
    .venv/bin/python bench/import_survey.py

    BENCH_DATABASE_URL (or ``--database-url``) chooses the database, default
    postgres://postgres@127.0.0.1:5432/fengxian_bench_import. The script drops and re-creates
    that database, migrates it, runs ``load_demo`` (then deletes the demo couriers) and drops
    it again at the end, so name a scratch database only. SQLite works too
    (``--database-url sqlite:////tmp/bench.sqlite3``; the file is deleted before and after).
    Options: ``--rows N``, ``--memory-rows N`` (0 skips the memory measurement), ``--runs N``,
    ``--tracemalloc``, ``--profile`` (cProfile of one extra import of new rows),
    ``--full-dates-with-id`` (beside an ID number, only birth dates with a day: month-only
    dates such as 1990.05 next to an ID number are taken as changed by a re-import — the
    script then stops, naming the fields — so this option measures around that).

    Output: a readable table, then, as the last line, one JSON object with the figures
    (``ratio`` = import new rows/s ÷ baseline rows/s). Exit status 0 whether or not the
    targets are met; 1 when something is broken.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import datetime
import gc
import io
import json
import os
import pstats
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import environ
import psycopg
from psycopg import sql

if TYPE_CHECKING:
    from couriers.imports.sheet_import import ImportReport
    from couriers.models import (
        Brand,
        Community,
        Courier,
        Enterprise,
        Outlet,
        PartyOrganization,
        Town,
    )

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fengxian_bench_import"
ROWS = 20_000
MEMORY_ROWS = 100_000
RUNS = 3
BATCH_SIZE = 2000  # the baseline's bulk_create batch size, as in CourierSurveyImporter.write()
SEED = 20250301
TARGET_RATIO = 0.5
TARGET_RATIO_REIMPORT = 0.3
TARGET_PEAK_MB = 300
FILENAME = "survey.xlsx"
TITLE = "奉贤区快递从业人员排摸登记表"
PHONE_PREFIXES = [
    str(n) for n in (*range(135, 140), 150, 151, 152, 157, 158, 159, 166, 177, *range(180, 190))
]
FULLWIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")
NOTES = ["新入职", "夜班", "兼职", "电话已核实", "住宿舍", "春节返乡", "骑手转岗", "已参加培训"]


class BenchError(RuntimeError):
    """The import is broken (errors, wrong counts, wrong values), not merely slow."""


# --- the scratch database -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Database:
    url: str

    @property
    def is_sqlite(self) -> bool:
        return urlsplit(self.url).scheme.startswith("sqlite")

    def _pg_names(self) -> tuple[str, str]:
        """(database name, URL of the maintenance database `postgres` on the same server)."""
        parts = urlsplit(self.url)
        name = parts.path.lstrip("/")
        if not name or name in ("postgres", "template0", "template1"):
            raise SystemExit(f"the bench database must be a scratch database, not {name!r}")
        return name, urlunsplit(parts._replace(path="/postgres"))

    def _sqlite_files(self) -> list[Path]:
        name = environ.Env.db_url_config(self.url)["NAME"]
        if not name or name == ":memory:":
            raise SystemExit("an SQLite bench database must be a file")
        path = Path(name)
        return [path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")]

    def drop(self) -> None:
        if self.is_sqlite:
            for path in self._sqlite_files():
                path.unlink(missing_ok=True)
            return
        name, maintenance_url = self._pg_names()
        with psycopg.connect(maintenance_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def recreate(self) -> None:
        self.drop()
        if self.is_sqlite:
            return
        name, maintenance_url = self._pg_names()
        with psycopg.connect(maintenance_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "fengxian.settings"
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    import django

    # The static files are not collected here; WhiteNoise's warning about it is noise.
    warnings.filterwarnings("ignore", message=r"No directory at: .*staticfiles")
    django.setup()


def vacuum_analyze() -> None:
    """On PostgreSQL, bring the courier table to the state autovacuum reaches after a change."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE couriers_courier")


def clear_couriers() -> None:
    from couriers.models import Courier

    Courier.objects.all().delete()
    if Courier.objects.exists():
        raise BenchError("couriers remain after delete()")
    vacuum_analyze()


# --- the generated survey -------------------------------------------------------------------


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
    count: int, refs: ReferenceData, rng: random.Random, month_dates_with_id: bool = True
) -> Iterator[tuple[Person, dict[str, Any]]]:
    """`count` valid, distinct couriers: each as the typed truth and as messy sheet cells."""
    from couriers import validators
    from couriers.demo import GIVEN, HOME_REGIONS, SURNAMES
    from couriers.models import Courier

    member_values = set(Courier.PoliticalStatus.member_values())
    choices = _choices()
    used_ids: set[str] = set()
    today = datetime.date.today()
    for i in range(count):
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


# --- timing ---------------------------------------------------------------------------------


@dataclasses.dataclass
class Timings:
    label: str
    rows: int
    seconds: list[float] = dataclasses.field(default_factory=list)

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def best_rate(self) -> float:
        return self.rows / self.best

    @property
    def median_rate(self) -> float:
        return self.rows / self.median


def _timed(work: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def run_import(data: bytes) -> ImportReport:
    from couriers.imports.survey import CourierSurveyImporter

    return CourierSurveyImporter(user=None).run(data, FILENAME)


def check_report(
    report: ImportReport, rows: int, *, new: int, unchanged: int, written: bool
) -> None:
    if not report.ok:
        shown = "\n".join(f"  {error}" for error in report.errors[:20])
        raise BenchError(
            f"the import reports {len(report.errors)} errors {report.file_error}"
            f"\n{report.summary()}\n{shown}"
        )
    got = (report.rows, report.new, report.updated, report.unchanged, report.written)
    wanted = (rows, new, 0, unchanged, written)
    if got != wanted:
        raise BenchError(
            f"report (rows, new, updated, unchanged, written) = {got}, expected {wanted}: "
            f"{report.summary()}"
        )


def verify_values(people: list[Person]) -> None:
    """The imported couriers hold exactly the generated values."""
    from couriers.models import Courier

    stored = {row[2]: row for row in Courier.objects.values_list(*COMPARED_COLUMNS)}
    if len(stored) != len(people):
        raise BenchError(f"{len(stored)} couriers in the table, expected {len(people)}")
    wrong = []
    for person in people:
        expected, found = person.compared(), stored.get(person.phone)
        if expected != found:
            diff = {
                column: (e, f)
                for column, e, f in zip(
                    COMPARED_COLUMNS, expected, found or (None,) * 17, strict=True
                )
                if e != f
            }
            wrong.append(f"  {person.phone}: {diff}")
    if wrong:
        raise BenchError(
            f"{len(wrong)} imported couriers differ from the generated rows (expected, found):\n"
            + "\n".join(wrong[:10])
        )


def diagnose(data: bytes) -> str:
    """Which fields a re-import takes as changed, with a few rows' cells (a dry run)."""
    from couriers.imports.sheet_import import ImportReport
    from couriers.imports.spreadsheets import read_rows
    from couriers.imports.survey import CourierSurveyImporter

    try:
        importer, report = CourierSurveyImporter(user=None), ImportReport()
        rows = read_rows(data, FILENAME)
        header_row, mapping = importer.locate_header(rows, report)
        records = importer.parse(rows, header_row, mapping, report, None)
        plan = importer.plan(records, report)
        by_phone = {record.values.get("phone"): record for record in records}
        fields = sorted(plan.changed_fields)
        lines = [f"fields the re-import would write: {fields}; for example:"]
        for courier in plan.updated[:5]:
            raw = by_phone[courier.phone].raw
            shown = {field: raw.get(field) for field in fields}
            lines.append(f"  {courier.phone}: cells {shown}, id_number {raw.get('id_number')!r}")
        return "\n".join(lines)
    except Exception as problem:  # diagnosis only: never hide the original error
        return f"(no diagnosis: {problem!r})"


def measure(data: bytes, people: list[Person], runs: int) -> list[Timings]:
    from django.test.utils import override_settings

    from couriers.models import Courier

    rows = len(people)
    new = Timings("import new", rows)
    again = Timings("re-import unchanged", rows)
    baseline = Timings(f"baseline bulk_create (batch {BATCH_SIZE})", rows)
    with override_settings(DEBUG=False):
        for run in range(runs):
            clear_couriers()
            seconds, report = _timed(partial(run_import, data))
            check_report(report, rows, new=rows, unchanged=0, written=True)
            new.seconds.append(seconds)
            if run == 0:
                verify_values(people)
            vacuum_analyze()

            seconds, report = _timed(partial(run_import, data))
            try:
                check_report(report, rows, new=0, unchanged=rows, written=False)
            except BenchError as error:
                raise BenchError(f"re-import of the same file: {error}\n{diagnose(data)}") from None
            again.seconds.append(seconds)

            clear_couriers()
            objs = [person.courier() for person in people]
            seconds, _ = _timed(partial(Courier.objects.bulk_create, objs, batch_size=BATCH_SIZE))
            if Courier.objects.count() != rows:
                raise BenchError(f"baseline wrote {Courier.objects.count()} rows, not {rows}")
            baseline.seconds.append(seconds)
            del objs
            print(
                f"  run {run + 1}/{runs}: import new {new.seconds[-1]:.2f} s, "
                f"re-import {again.seconds[-1]:.2f} s, baseline {baseline.seconds[-1]:.2f} s",
                flush=True,
            )
    return [new, again, baseline]


def profile_import(data: bytes, rows: int, top: int = 35) -> None:
    from django.test.utils import override_settings

    clear_couriers()
    profiler = cProfile.Profile()
    with override_settings(DEBUG=False):
        gc.collect()
        profiler.enable()
        report = run_import(data)
        profiler.disable()
    check_report(report, rows, new=rows, unchanged=0, written=True)
    for order in ("cumulative", "tottime"):
        print(f"\ncProfile of one import of {rows:,} new rows, top {top} by {order}:")
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).strip_dirs().sort_stats(order).print_stats(top)
        print(stream.getvalue().rstrip())


# --- memory ---------------------------------------------------------------------------------


def _current_rss_kb() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return _max_rss_kb()


def _max_rss_kb() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # bytes on macOS, KB on Linux


def memory_child(path: str, url: str, trace: bool) -> int:
    """Run in a fresh process: import the file as new rows, print one JSON line of figures."""
    import tracemalloc

    setup_django(url)
    from django.db import connection
    from django.test.utils import override_settings

    from couriers.imports.survey import CourierSurveyImporter

    connection.ensure_connection()
    gc.collect()
    figures: dict[str, Any] = {
        "baseline_rss_kb": _current_rss_kb(),
        "baseline_maxrss_kb": _max_rss_kb(),
    }
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    data = Path(path).read_bytes()
    with override_settings(DEBUG=False):
        report = CourierSurveyImporter(user=None).run(data, FILENAME)
    figures["seconds"] = time.perf_counter() - started
    if trace:
        figures["tracemalloc_peak_kb"] = tracemalloc.get_traced_memory()[1] // 1024
        tracemalloc.stop()
    figures["peak_maxrss_kb"] = _max_rss_kb()
    figures.update(
        rows=report.rows,
        new=report.new,
        updated=report.updated,
        unchanged=report.unchanged,
        written=report.written,
        errors=[str(error) for error in report.errors[:20]],
        error_count=len(report.errors),
        file_error=report.file_error,
    )
    connection.close()
    print(json.dumps(figures))
    return 0


def run_memory_child(path: Path, url: str, rows: int, trace: bool) -> dict[str, Any]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--_memory-child",
        str(path),
        "--database-url",
        url,
    ]
    if trace:
        command.append("--_traced-child")
    done = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_DIR, check=False)
    if done.returncode != 0:
        raise BenchError(
            f"memory child exited {done.returncode}:\n{done.stderr[-3000:]}{done.stdout[-2000:]}"
        )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    if figures["error_count"] or figures["file_error"]:
        raise BenchError(
            f"memory child: {figures['error_count']} errors {figures['file_error']}\n"
            + "\n".join(figures["errors"])
        )
    got = (figures["rows"], figures["new"], figures["updated"], figures["written"])
    if got != (rows, rows, 0, True):
        raise BenchError(f"memory child: (rows, new, updated, written) = {got}, rows {rows}")
    return figures


def measure_memory(rows: int, refs: ReferenceData, url: str, trace: bool) -> dict[str, Any]:
    started = time.perf_counter()
    data, _ = build_survey(rows, refs, SEED + 1, keep_people=False)
    print(
        f"generated the {rows:,}-row file ({len(data) / 2**20:.1f} MB) in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    with tempfile.NamedTemporaryFile(prefix="survey-", suffix=".xlsx", delete=False) as file:
        file.write(data)
        path = Path(file.name)
    del data
    try:
        clear_couriers()
        figures = run_memory_child(path, url, rows, trace=False)
        print(
            f"  fresh process: {rows:,} new rows imported in {figures['seconds']:.1f} s, "
            f"peak RSS {figures['peak_maxrss_kb'] / 1024:.0f} MB",
            flush=True,
        )
        if trace:
            clear_couriers()
            traced = run_memory_child(path, url, rows, trace=True)
            figures["tracemalloc_peak_kb"] = traced["tracemalloc_peak_kb"]
            figures["tracemalloc_seconds"] = traced["seconds"]
            print(
                f"  with tracemalloc: peak of Python allocations "
                f"{traced['tracemalloc_peak_kb'] / 1024:.0f} MB ({traced['seconds']:.1f} s)",
                flush=True,
            )
    finally:
        path.unlink(missing_ok=True)
    return figures


# --- report ---------------------------------------------------------------------------------


def _mb(kb: float | None) -> float | None:
    return None if kb is None else round(kb / 1024, 1)


def print_report(
    timings: list[Timings], memory: dict[str, Any] | None, memory_rows: int, vendor: str, runs: int
) -> dict[str, Any]:
    new, again, baseline = timings
    print()
    header = (
        f"{'measurement':<36}{'rows':>8}{'best s':>9}{'median s':>10}"
        f"{'best rows/s':>13}{'median rows/s':>15}{'vs baseline':>13}"
    )
    print(header)
    print("-" * len(header))
    for timing in timings:
        print(
            f"{timing.label:<36}{timing.rows:>8,}{timing.best:>9.3f}{timing.median:>10.3f}"
            f"{timing.best_rate:>13,.0f}{timing.median_rate:>15,.0f}"
            f"{timing.best_rate / baseline.best_rate:>12.2f}x"
        )
    print(f"(best and median of {runs} interleaved runs on {vendor}; ratios from the best runs)")
    ratio = new.best_rate / baseline.best_rate
    ratio_reimport = again.best_rate / baseline.best_rate
    print(
        f"ratio import new / baseline: {ratio:.2f} (target >= {TARGET_RATIO}: "
        f"{'meets' if ratio >= TARGET_RATIO else 'MISSES'}); median runs "
        f"{new.median_rate / baseline.median_rate:.2f}"
    )
    print(
        f"ratio re-import / baseline:  {ratio_reimport:.2f} (target >= {TARGET_RATIO_REIMPORT}: "
        f"{'meets' if ratio_reimport >= TARGET_RATIO_REIMPORT else 'MISSES'}); median runs "
        f"{again.median_rate / baseline.median_rate:.2f}"
    )
    peak = baseline_rss = traced = None
    if memory is not None:
        peak = _mb(memory["peak_maxrss_kb"])
        baseline_rss = _mb(memory["baseline_rss_kb"])
        traced = _mb(memory.get("tracemalloc_peak_kb"))
        print(
            f"memory, {memory_rows:,} new rows in a fresh process: RSS after django.setup() "
            f"{baseline_rss} MB, peak RSS {peak} MB, the import's share "
            f"{round(peak - baseline_rss, 1)} MB"
            + (f", tracemalloc peak {traced} MB" if traced is not None else "")
            + f" (target peak < {TARGET_PEAK_MB} MB: "
            f"{'meets' if peak < TARGET_PEAK_MB else 'MISSES'}); "
            f"{memory_rows / memory['seconds']:,.0f} rows/s"
        )
    return {
        "rows": new.rows,
        "database": vendor,
        "runs": runs,
        "statistic": "best",
        "baseline_batch_size": BATCH_SIZE,
        "import_new_rows_per_s": round(new.best_rate),
        "reimport_rows_per_s": round(again.best_rate),
        "baseline_rows_per_s": round(baseline.best_rate),
        "ratio": round(ratio, 3),
        "ratio_reimport": round(ratio_reimport, 3),
        "ratio_median": round(new.median_rate / baseline.median_rate, 3),
        "ratio_reimport_median": round(again.median_rate / baseline.median_rate, 3),
        "memory_rows": memory_rows if memory is not None else 0,
        "peak_rss_mb_100k": peak,
        "baseline_rss_mb_100k": baseline_rss,
        "import_share_mb_100k": None if peak is None else round(peak - baseline_rss, 1),
        "tracemalloc_peak_mb_100k": traced,
        "targets": {
            f"ratio>={TARGET_RATIO}": ratio >= TARGET_RATIO,
            f"ratio_reimport>={TARGET_RATIO_REIMPORT}": ratio_reimport >= TARGET_RATIO_REIMPORT,
            f"peak<{TARGET_PEAK_MB}MB": None if peak is None else peak < TARGET_PEAK_MB,
        },
    }


# --- main -----------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL),
        help=f"scratch database (default $BENCH_DATABASE_URL or {DEFAULT_URL})",
    )
    parser.add_argument("--rows", type=int, default=ROWS, help=f"rows timed (default {ROWS})")
    parser.add_argument(
        "--memory-rows",
        type=int,
        default=MEMORY_ROWS,
        help=f"rows of the memory measurement, 0 to skip (default {MEMORY_ROWS})",
    )
    parser.add_argument("--runs", type=int, default=RUNS, help=f"runs of each (default {RUNS})")
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="a second memory run under tracemalloc (4-5 times slower)",
    )
    parser.add_argument(
        "--full-dates-with-id",
        action="store_true",
        help="beside an ID number, write birth dates with their day (or blank), never a month "
        "alone (1990.05): a re-import reports such rows as updated (see the docstring)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile of one extra import of new rows"
    )
    parser.add_argument(
        "--_memory-child", dest="memory_child", metavar="FILE", help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--_traced-child", dest="traced_child", action="store_true", help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.rows < 1 or args.runs < 1 or args.memory_rows < 0:
        parser.error("--rows and --runs must be positive, --memory-rows not negative")
    return args


def run(args: argparse.Namespace) -> dict[str, Any]:
    import django
    from django.core.management import call_command
    from django.db import connection

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("load_demo", stdout=io.StringIO())
    clear_couriers()
    vendor = connection.vendor
    server = f" {connection.pg_version}" if vendor == "postgresql" else ""
    print(f"Python {sys.version.split()[0]}, Django {django.get_version()}, {vendor}{server}")
    elapsed = time.perf_counter() - started
    print(f"setup (migrate, load_demo, delete demo couriers): {elapsed:.1f} s")

    refs = ReferenceData.load()
    started = time.perf_counter()
    data, people = build_survey(
        args.rows, refs, SEED, keep_people=True, month_dates_with_id=not args.full_dates_with_id
    )
    print(
        f"generated the {args.rows:,}-row file ({len(data) / 2**20:.1f} MB, "
        f"{len(refs.outlets)} outlets) in {time.perf_counter() - started:.1f} s",
        flush=True,
    )

    timings = measure(data, people, args.runs)
    if args.profile:
        profile_import(data, args.rows)
    del data, people
    clear_couriers()

    memory = None
    if args.memory_rows:
        memory = measure_memory(args.memory_rows, refs, args.database_url, trace=args.tracemalloc)
    return print_report(timings, memory, args.memory_rows, vendor, args.runs)


def main() -> int:
    args = parse_args()
    if args.memory_child:
        return memory_child(args.memory_child, args.database_url, args.traced_child)
    database = Database(args.database_url)
    started = time.perf_counter()
    database.recreate()
    try:
        setup_django(args.database_url)
        summary = run(args)
    except BenchError as error:
        sys.stdout.flush()
        print(f"BROKEN: {error}", file=sys.stderr, flush=True)
        print(json.dumps({"error": str(error).splitlines()[0]}, ensure_ascii=False), flush=True)
        return 1
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        database.drop()
    print(f"total time {time.perf_counter() - started:.0f} s")
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
