"""Benchmark: the admin courier changelist at 1,000 and at 200,000 couriers, on PostgreSQL.

What it measures
    The full request/response time (Django test client: middleware, session, auth, the admin's
    ChangeList, its queries and template rendering) of four requests to
    /admin/couriers/courier/:

    - the first changelist page, as the superuser ``admin`` (whole district);
    - a search by one courier's full 11-digit phone number (``?q=1381234…``), as ``admin``;
    - the same two requests as the town staff user ``nanqiao`` (南桥镇 only).

    Each request is warmed up, then timed ``--runs`` times (default 25) with
    ``time.perf_counter``, the four cases taking turns so that machine noise falls on all of
    them alike. Reported per case: the median and fastest time, the median time spent in SQL
    queries (an execute wrapper), and the number of queries of one request
    (``CaptureQueriesContext``).

    The courier table is first brought to exactly 1,000 rows (load_demo makes 1,826), then grown
    to 200,000 with PostgreSQL COPY (bench/courier_rows.py), and the same four requests are
    timed again. The issue's target: at 200,000 couriers a page takes at most 1.5x as long as at
    1,000. The script prints whether each ratio meets it but exits 0 either way; it exits 1 only
    when something is broken (a non-200 response, a wrong number of rows on the page, a search
    that does not show its courier).

    Requests are timed with ``DEBUG=False`` (as in production, so Django does not record every
    query); ``load_demo`` itself runs with the development default ``DEBUG=True``. After each
    bulk change the table is ``VACUUM ANALYZE``-d, the state autovacuum reaches shortly after a
    real import, so that the figures do not depend on when autovacuum happens to run.

How to run it (from the project folder, with PostgreSQL running)
    .venv/bin/python bench/admin_changelist.py        # or: make bench

    BENCH_DATABASE_URL (or ``--database-url``) chooses the server and database (default
    postgres://postgres@127.0.0.1:5432/fengxian_bench). The script drops and re-creates that
    database, migrates it, runs ``load_demo``, and drops the database again at the end, so
    point it at a scratch database name only. Options: ``--runs N`` (timed runs per case),
    ``--large N`` (rows for the large measurement), ``--show-queries`` (print each captured
    query with its time).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import common
from common import BenchError
from courier_rows import grow_and_vacuum

if TYPE_CHECKING:
    from django.http import HttpResponse

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fengxian_bench"
CHANGELIST_URL = "/admin/couriers/courier/"
SMALL = 1_000
LARGE = 200_000
RUNS = 25
TARGET_RATIO = 1.5
PER_PAGE = 50  # CourierAdmin.list_per_page
STAFF_USERNAME = "nanqiao"
STAFF_TOWN = "南桥镇"
# Prefix of the generated phones: one that demo.py never draws, so they cannot collide.
GENERATED_PREFIX = "198"
ROW_MARKER = 'class="action-select"'  # one checkbox per result row


@dataclass
class Case:
    label: str
    username: str
    url: str
    expected_rows: int
    must_contain: str = ""


Result = common.Result[Case]


# --- the courier table ----------------------------------------------------------------------


def trim_couriers(rows: int) -> None:
    """Keep the `rows` oldest couriers (load_demo makes 1,826)."""
    from couriers.models import Courier

    ids = list(Courier.objects.order_by("id").values_list("id", flat=True))
    if len(ids) < rows:
        raise BenchError(f"load_demo made only {len(ids)} couriers, fewer than {rows}")
    if len(ids) > rows:
        Courier.objects.filter(id__gt=ids[rows - 1]).delete()


# --- timing ---------------------------------------------------------------------------------


def build_cases() -> list[Case]:
    """The four requests, with what each page must show at the current table size."""
    from couriers.models import Courier, Town

    town = Town.objects.get(name=STAFF_TOWN)
    courier = Courier.objects.filter(work_town=town).order_by("id").first()
    if courier is None:
        raise BenchError(f"no demo courier works in {STAFF_TOWN}")
    total = Courier.objects.count()
    in_town = Courier.objects.filter(work_town=town).count()
    search = f"{CHANGELIST_URL}?q={courier.phone}"
    return [
        Case("first page", "admin", CHANGELIST_URL, min(PER_PAGE, total)),
        Case("phone search", "admin", search, 1, courier.masked_phone),
        Case("first page", STAFF_USERNAME, CHANGELIST_URL, min(PER_PAGE, in_town)),
        Case("phone search", STAFF_USERNAME, search, 1, courier.masked_phone),
    ]


def _check(case: Case, response: HttpResponse) -> None:
    if response.status_code != 200:
        raise BenchError(f"{case.username} GET {case.url}: HTTP {response.status_code}")
    body = response.content.decode()
    rows = body.count(ROW_MARKER)
    if rows != case.expected_rows:
        raise BenchError(
            f"{case.username} GET {case.url}: {rows} rows, expected {case.expected_rows}"
        )
    if case.must_contain and case.must_contain not in body:
        raise BenchError(f"{case.username} GET {case.url}: {case.must_contain} not shown")


def measure_all(runs: int, show_queries: bool) -> list[Result]:
    """Time the four cases in interleaved rounds, so machine noise spreads over all of them."""
    cases = build_cases()
    return common.measure(
        cases,
        [common.signed_in_client(case.username) for case in cases],
        runs,
        check=_check,
        label=lambda case: f"{case.label} ({case.username})",
        show_queries=show_queries,
    )


# --- report ---------------------------------------------------------------------------------


def _who(username: str) -> str:
    return "superuser" if username == "admin" else "town staff"


def print_table(small: list[Result], large: list[Result], large_rows: int) -> None:
    labels = ("1k", f"{large_rows // 1000}k")
    common.print_comparison(
        small, large, labels, lambda case: f"{case.label} ({_who(case.username)})"
    )
    print(
        "(ms per request: median and fastest of the timed runs, median time in SQL queries;"
        " queries per request; ratio of the medians)"
    )


def print_verdicts(small: list[Result], large: list[Result], large_rows: int) -> None:
    big = f"{large_rows // 1000}k"
    verdicts = []
    for a, b in zip(small, large, strict=True):
        ratio = b.median_ms / a.median_ms
        verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
        verdicts.append(f"{a.case.label} ({_who(a.case.username)}) {ratio:.2f}x {verdict}")
    print(f"target {big}/1k <= {TARGET_RATIO}x: " + "; ".join(verdicts))
    groups = []
    for username in ("admin", STAFF_USERNAME):
        pairs = [(a, b) for a, b in zip(small, large, strict=True) if a.case.username == username]
        figures = ", ".join(f"{a.case.label} {b.median_ms / a.median_ms:.2f}x" for a, b in pairs)
        groups.append(f"{figures} ({_who(username)})")
    print(f"ratio {big}/1k: " + "; ".join(groups))


# --- main -----------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=RUNS, help=f"timed runs per case (default {RUNS})"
    )
    parser.add_argument(
        "--large",
        type=int,
        default=LARGE,
        help=f"couriers for the large measurement (default {LARGE})",
    )
    parser.add_argument(
        "--show-queries",
        action="store_true",
        help="print every query of one request per case, with its time",
    )
    common.database_option(parser, DEFAULT_URL)
    return parser.parse_args()


def run(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    common.migrate_and_load_demo()
    trim_couriers(SMALL)
    common.vacuum_analyze("couriers_courier")
    print(f"setup (migrate, load_demo, trim to {SMALL:,}): {time.perf_counter() - started:.1f} s")
    small = measure_all(args.runs, args.show_queries)

    grow_and_vacuum(args.large, GENERATED_PREFIX, "couriers_courier")
    large = measure_all(args.runs, args.show_queries)

    print()
    print_table(small, large, args.large)
    print_verdicts(small, large, args.large)


if __name__ == "__main__":
    sys.exit(common.main(run, parse_args))
