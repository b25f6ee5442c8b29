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
    that the noise of a shared machine falls on all three alike. Before every insert the
    courier table is emptied together with every row that points at a courier (the demo's
    check-ins, sign-ups, claims, points …; some protect their courier from a plain delete): one
    ``TRUNCATE … CASCADE`` on PostgreSQL, a DELETE of the same tables on SQLite. On PostgreSQL
    the table is ``VACUUM ANALYZE``-d after every bulk change (outside the clock), the state
    autovacuum reaches soon after a real import. The ratios use the BEST (fastest) run of each
    measurement; medians are printed too. Targets: import new >= 0.5x and re-import >= 0.3x
    the baseline's rows/s.

    Timed code runs with ``DEBUG=False`` as in production (with DEBUG on, Django keeps the
    text of every query, which for 2,000-row INSERTs is megabytes). ``load_demo`` runs with
    the development default ``DEBUG=True``.

    Memory: a ``--memory-rows`` file (default 100,000 rows) is imported as new rows, written, in
    a fresh Python process (bench/survey_memory.py) that sets up Django against the same
    database. It reports its RSS right after ``django.setup()`` (with the importer imported and
    the database connection open, before reading the file) and its peak RSS (``ru_maxrss``)
    after the import; the difference is the import's own share. Target: peak RSS under 300 MB
    (MB here = MiB). With ``--tracemalloc`` a second child run reports the peak of Python
    allocations too (off by default: tracemalloc makes the import 4-5 times slower; calamine's
    own Rust buffers are not seen by it).

    The generated sheet (bench/survey_sheets.py) is messy the way real ones are: a merged title
    line and a 填报单位 line above the header; canonical headers and aliases in a shuffled (seeded)
    order plus 序号 and 备注 columns; phones as Excel numbers, with spaces, dashes, +86 or
    full-width digits; about half with a checksum-valid ID number (some with a lower-case x);
    birth dates as Excel date cells, 1990.05, 1990年5月, 1990/5/21 … (consistent with the ID, or
    blank); everyday words for political status and education; brand aliases; towns with and
    without 镇/街道; real outlets with their enterprise and town; yes/no as 是/否/√/×/Y/N/1/0/blank;
    a blank line in the middle and a trailing 合计 line. Every row is valid: any import error, a
    wrong count or imported values that differ from the generated ones make the script exit 1.

    Two more workbooks of the same number of rows go through the same interleaved runs (new,
    then re-import), against the same baseline (bench/survey_sheets.py): one sheet per town
    (4 town sheets of --rows/4 couriers, each with its title line and 合计, plus a 填表说明 sheet
    without a header, to be skipped), and a roster with 快递品牌/加盟企业/网点名称/工作街镇 merged
    down each block of couriers of one outlet (the value in the top cell only). Each must
    import every row with the generated values; a shape that does not (its reader is wrong) is
    reported NOT MEASURED and the script exits 1 after printing the other figures. A third
    shape is the messy survey with 5% of its rows naming outlets the registry lacks (a few per
    brand and town, some with full-width digits): the import creates each once, 待核实 (they
    are deleted again before each import of new rows). ``--no-shapes`` skips all three.

How to run it (from the project folder, with PostgreSQL running)
    .venv/bin/python bench/import_survey.py

    BENCH_DATABASE_URL (or ``--database-url``) chooses the database, default
    postgres://postgres@127.0.0.1:5432/fengxian_bench_import. The script drops and re-creates
    that database, migrates it, runs ``load_demo`` (then empties the courier table) and drops it
    again at the end, so name a scratch database only. SQLite works too
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
import gc
import io
import json
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import common
from common import BenchError, timed
from survey_memory import run_memory_child
from survey_sheets import (
    COMPARED_COLUMNS,
    FILENAME,
    Person,
    ReferenceData,
    build_merged_survey,
    build_survey,
    build_survey_with_new_outlets,
    build_town_sheets,
    delete_new_outlets,
    resolve_new_outlets,
)

if TYPE_CHECKING:
    from couriers.imports.sheet_import import ImportReport

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fengxian_bench_import"
ROWS = 20_000
MEMORY_ROWS = 100_000
RUNS = 3
BATCH_SIZE = 2000  # the baseline's bulk_create batch size, as in CourierSurveyImporter.write()
SEED = 20250301
TARGET_RATIO = 0.5
TARGET_RATIO_REIMPORT = 0.3
TARGET_PEAK_MB = 300
TOWN_SHEETS = 4  # the multi-sheet workbook: this many town sheets of --rows / TOWN_SHEETS rows


# --- the courier table ----------------------------------------------------------------------


def clear_couriers() -> None:
    """Empty the courier table for the next insert (outside the clock), with every row that
    points at a courier: the demo's check-ins, sign-ups, claims, visits, points … (some protect
    their courier, so ``Courier.objects.all().delete()`` refuses). One TRUNCATE … CASCADE on
    PostgreSQL; the reference rows the import resolves (brands, towns, outlets …) stay."""
    from couriers.models import Courier

    common.empty_tables(Courier)
    if Courier.objects.exists():
        raise BenchError("couriers remain after emptying the table")
    vacuum_analyze()


def vacuum_analyze() -> None:
    common.vacuum_analyze("couriers_courier")


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


def run_import(data: bytes) -> ImportReport:
    from couriers.imports.survey import CourierSurveyImporter

    return CourierSurveyImporter(user=None).run(data, FILENAME)


@dataclasses.dataclass
class Shape:
    """A workbook of another shape, imported new and again in the same interleaved runs: one
    sheet per town, or merged cells. `problem` holds why it stopped being measured (a wrong
    count or value: the reader of that shape is not right), reported and exit status 1."""

    label: str
    data: bytes
    people: list[Person]
    detail: str
    # Shapes whose import creates outlets: undo it before each import of new rows, and point
    # the people at what it created before their values are compared.
    reset: Callable[[], None] | None = None
    resolve: Callable[[list[Person]], None] | None = None
    new: Timings = dataclasses.field(init=False)
    again: Timings = dataclasses.field(init=False)
    problem: str = ""

    def __post_init__(self) -> None:
        self.new = Timings(f"{self.label}: import new", len(self.people))
        self.again = Timings(f"{self.label}: re-import", len(self.people))

    def measure(self, run: int) -> None:
        if self.problem:
            return
        rows = len(self.people)
        try:
            clear_couriers()
            if self.reset is not None:
                self.reset()
            seconds, report = timed(partial(run_import, self.data))
            _print_sheets(self.label, report)
            check_report(report, rows, new=rows, unchanged=0, written=True)
            self.new.seconds.append(seconds)
            if run == 0:
                if self.resolve is not None:
                    self.resolve(self.people)
                verify_values(self.people)
            vacuum_analyze()
            seconds, report = timed(partial(run_import, self.data))
            check_report(report, rows, new=0, unchanged=rows, written=False)
            self.again.seconds.append(seconds)
        except BenchError as error:
            self.problem = str(error).splitlines()[0]
            print(f"  {self.label}: NOT MEASURED: {self.problem}", flush=True)


def _print_sheets(label: str, report: ImportReport) -> None:
    """The rows read, and each sheet's counts where the report has them."""
    sheets = getattr(report, "sheets", None) or []
    shown = (
        "; "
        + "、".join(
            f"{sheet.name} {sheet.rows:,} 行" if not sheet.skipped else f"{sheet.name} 跳过"
            for sheet in sheets
        )
        if len(sheets) > 1
        else ""
    )
    print(f"  {label}: the import read {report.rows:,} rows{shown}", flush=True)


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


def measure(
    data: bytes, people: list[Person], runs: int, shapes: list[Shape] = ()
) -> list[Timings]:
    from django.test.utils import override_settings

    from couriers.models import Courier

    rows = len(people)
    new = Timings("import new", rows)
    again = Timings("re-import unchanged", rows)
    baseline = Timings(f"baseline bulk_create (batch {BATCH_SIZE})", rows)
    with override_settings(DEBUG=False):
        for run in range(runs):
            # The shapes go before the main three on every other run, so that neither side
            # always meets the database right after the baseline's bulk insert.
            if run % 2:
                for shape in shapes:
                    shape.measure(run)
            clear_couriers()
            seconds, report = timed(partial(run_import, data))
            check_report(report, rows, new=rows, unchanged=0, written=True)
            new.seconds.append(seconds)
            if run == 0:
                verify_values(people)
            vacuum_analyze()

            seconds, report = timed(partial(run_import, data))
            try:
                check_report(report, rows, new=0, unchanged=rows, written=False)
            except BenchError as error:
                raise BenchError(f"re-import of the same file: {error}\n{diagnose(data)}") from None
            again.seconds.append(seconds)

            clear_couriers()
            objs = [person.courier() for person in people]
            seconds, _ = timed(partial(Courier.objects.bulk_create, objs, batch_size=BATCH_SIZE))
            if Courier.objects.count() != rows:
                raise BenchError(f"baseline wrote {Courier.objects.count()} rows, not {rows}")
            baseline.seconds.append(seconds)
            del objs
            if not run % 2:
                for shape in shapes:
                    shape.measure(run)
            shown = "".join(
                f", {shape.label} {shape.new.seconds[-1]:.2f} s / {shape.again.seconds[-1]:.2f} s"
                for shape in shapes
                if not shape.problem
            )
            print(
                f"  run {run + 1}/{runs}: import new {new.seconds[-1]:.2f} s, "
                f"re-import {again.seconds[-1]:.2f} s, baseline {baseline.seconds[-1]:.2f} s"
                + shown,
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
    common.database_option(parser, DEFAULT_URL)
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
        "--no-shapes",
        dest="shapes",
        action="store_false",
        help="skip the multi-sheet and merged-cell workbooks",
    )
    args = parser.parse_args()
    if args.rows < 1 or args.runs < 1 or args.memory_rows < 0:
        parser.error("--rows and --runs must be positive, --memory-rows not negative")
    return args


def run(args: argparse.Namespace) -> int:
    import django
    from django.db import connection

    began = started = time.perf_counter()
    common.migrate_and_load_demo()
    clear_couriers()
    vendor = connection.vendor
    server = f" {connection.pg_version}" if vendor == "postgresql" else ""
    print(f"Python {sys.version.split()[0]}, Django {django.get_version()}, {vendor}{server}")
    elapsed = time.perf_counter() - started
    print(f"setup (migrate, load_demo, empty the courier table): {elapsed:.1f} s")

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

    shapes = build_shapes(args.rows, refs) if args.shapes else []
    timings = measure(data, people, args.runs, shapes)
    if args.profile:
        profile_import(data, args.rows)
    del data, people
    clear_couriers()

    memory = None
    if args.memory_rows:
        memory = measure_memory(args.memory_rows, refs, args.database_url, trace=args.tracemalloc)
    summary = print_report(timings, memory, args.memory_rows, vendor, args.runs)
    summary["shapes"] = report_shapes(shapes, timings[2])
    print(f"total time {time.perf_counter() - began:.0f} s")
    print(json.dumps(summary, ensure_ascii=False))
    # A shape whose rows or values came out wrong is broken, not slow.
    return 1 if any(shape.problem for shape in shapes) else 0


def build_shapes(rows: int, refs: ReferenceData) -> list[Shape]:
    """The multi-sheet and merged-cell workbooks of `rows` couriers in all."""
    started = time.perf_counter()
    per_sheet = rows // TOWN_SHEETS
    data, people, names = build_town_sheets(per_sheet, TOWN_SHEETS, refs, SEED + 2)
    sheets = Shape(
        f"{TOWN_SHEETS} town sheets",
        data,
        people,
        f"{TOWN_SHEETS} sheets ({'、'.join(names)}) x {per_sheet:,} rows + a sheet without header",
    )
    data, people, merges = build_merged_survey(rows, refs, SEED + 3)
    merged = Shape(
        "merged cells", data, people, f"{rows:,} rows, {merges:,} merged ranges down the blocks"
    )
    data, people, outlets = build_survey_with_new_outlets(rows, refs, SEED + 4)
    new_outlets = Shape(
        "new outlets",
        data,
        people,
        f"{rows:,} rows, 5% naming {outlets} outlets the registry lacks (created 待核实)",
        reset=delete_new_outlets,
        resolve=resolve_new_outlets,
    )
    shapes = [sheets, merged, new_outlets]
    for shape in shapes:
        print(f"generated {shape.label}: {shape.detail}, {len(shape.data) / 2**20:.1f} MB")
    print(f"  in {time.perf_counter() - started:.1f} s", flush=True)
    return shapes


def report_shapes(shapes: list[Shape], baseline: Timings) -> list[dict[str, Any]]:
    figures = []
    for shape in shapes:
        entry: dict[str, Any] = {"shape": shape.label, "rows": len(shape.people)}
        if shape.problem:
            print(f"{shape.label}: NOT MEASURED ({shape.problem})")
            entry["problem"] = shape.problem
        else:
            ratio = shape.new.best_rate / baseline.best_rate
            ratio_again = shape.again.best_rate / baseline.best_rate
            print(
                f"{shape.label} ({shape.detail}): import new {shape.new.best_rate:,.0f} rows/s "
                f"({ratio:.2f}x baseline, target >= {TARGET_RATIO}), re-import "
                f"{shape.again.best_rate:,.0f} rows/s ({ratio_again:.2f}x, target >= "
                f"{TARGET_RATIO_REIMPORT})"
            )
            entry |= {
                "import_new_rows_per_s": round(shape.new.best_rate),
                "reimport_rows_per_s": round(shape.again.best_rate),
                "ratio": round(ratio, 3),
                "ratio_reimport": round(ratio_again, 3),
            }
        figures.append(entry)
    return figures


def print_error(error: BenchError) -> None:
    """The last line is JSON whatever happens: here, the error's first line."""
    print(json.dumps({"error": str(error).splitlines()[0]}, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    sys.exit(common.main(run, parse_args, broken=print_error))
