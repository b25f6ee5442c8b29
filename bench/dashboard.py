"""Benchmark: the staff dashboard at 2,000 and at 200,000 couriers, on PostgreSQL.

What it measures
    The full request/response time (Django test client: middleware, session, auth, every
    dashboard section's aggregate queries, the SVG charts and the template) of
    /admin/dashboard/ for the district user ``district`` (whole district, per-town breakdown)
    and the town staff user ``nanqiao`` (南桥镇 only), and of the .xlsx export for
    ``district``. Each request is warmed up, then timed ``--runs`` times (default 15), the
    cases taking turns; reported per case: the median and fastest time, the median time in
    SQL, and the number of queries of one request.

    The demo district (``load_demo``: casework, pipeline, check-ins, posts, reports) is brought
    to 2,000 couriers, timed, then grown to 200,000 couriers with PostgreSQL COPY (the
    generator of bench/admin_changelist.py) and timed again. The issue's target: the 200k
    time is at most 3x the 2k time, and well under a second. The script prints whether each
    ratio meets it; it exits 1 only when something is broken (a non-200 response, or a
    dashboard whose courier total is not the table's).

How to run it (from the project folder, with PostgreSQL running)
    .venv/bin/python bench/dashboard.py        # also part of: make bench

    BENCH_DATABASE_URL chooses the server and database (default
    postgres://postgres@127.0.0.1:5432/fengxian_bench_dash). The script drops and re-creates
    that database and drops it again at the end: point it at a scratch database only.
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass

from admin_changelist import (
    BenchError,
    QueryTimer,
    _client,
    _generated_rows,
    drop_database,
    recreate_database,
    setup_django,
)
from psycopg import sql

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fengxian_bench_dash"
SMALL = 2_000
LARGE = 200_000
WARMUP = 3
RUNS = 15
TARGET_RATIO = 3.0
DASHBOARD = "/admin/dashboard/"


@dataclass
class Case:
    label: str
    username: str
    url: str


@dataclass
class Result:
    case: Case
    median_ms: float
    min_ms: float
    db_ms: float
    queries: int


CASES = [
    Case("dashboard (district)", "district", DASHBOARD),
    Case("dashboard (town staff)", "nanqiao", DASHBOARD),
    Case("xlsx export (district)", "district", f"{DASHBOARD}export.xlsx"),
]


def grow_couriers(rows: int, phone_prefix: str) -> float:
    """Add generated couriers with COPY until there are `rows` (bench/admin_changelist.py's
    generator; `phone_prefix` keeps each batch's phone numbers apart)."""
    from django.db import connection, transaction

    from couriers.models import Courier, Outlet

    started = time.perf_counter()
    missing = rows - Courier.objects.count()
    if missing <= 0:
        return 0.0
    outlets = list(Outlet.objects.select_related("enterprise").order_by("id"))
    columns = [f.column for f in Courier._meta.concrete_fields if not f.primary_key]
    phone = columns.index("phone")
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(Courier._meta.db_table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with transaction.atomic(), connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
        for row in _generated_rows(missing, columns, outlets):
            row = list(row)
            row[phone] = phone_prefix + row[phone][3:]
            copy.write_row(row)
    return time.perf_counter() - started


def vacuum_analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def _check(case: Case, response) -> None:
    from couriers.models import Courier

    if response.status_code != 200:
        raise BenchError(f"{case.username} GET {case.url}: HTTP {response.status_code}")
    if case.url == DASHBOARD and case.username == "district":
        found = re.search(
            r'figure-value">(\d+)</span><span class="figure-label">登记快递小哥',
            response.content.decode(),
        )
        shown = int(found.group(1)) if found else None
        if shown != Courier.objects.count():
            raise BenchError(f"dashboard shows {shown} couriers, not {Courier.objects.count()}")


def _timed_get(client, case: Case, check: bool = False) -> tuple[float, QueryTimer]:
    from django.db import connection

    timer = QueryTimer()
    with connection.execute_wrapper(timer):
        started = time.perf_counter()
        response = client.get(case.url)
        elapsed = time.perf_counter() - started
    if check:
        _check(case, response)
    elif response.status_code != 200:
        raise BenchError(f"{case.username} GET {case.url}: HTTP {response.status_code}")
    return elapsed * 1000, timer


def measure(runs: int, show_queries: bool) -> list[Result]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings

    clients = [_client(case.username) for case in CASES]
    timings: list[list[float]] = [[] for _ in CASES]
    db_times: list[list[float]] = [[] for _ in CASES]
    counts = []
    for case, client in zip(CASES, clients, strict=True):
        _timed_get(client, case, check=True)
    with override_settings(DEBUG=False):
        for _ in range(WARMUP):
            for case, client in zip(CASES, clients, strict=True):
                _timed_get(client, case)
        gc.collect()
        for _ in range(runs):
            for i, (case, client) in enumerate(zip(CASES, clients, strict=True)):
                elapsed, timer = _timed_get(client, case)
                timings[i].append(elapsed)
                db_times[i].append(timer.seconds * 1000)
        for case, client in zip(CASES, clients, strict=True):
            with CaptureQueriesContext(connection) as captured:
                _, timer = _timed_get(client, case)
            counts.append(len(captured))
            if show_queries:
                print(f"  queries of {case.label}:")
                for query, seconds in timer.queries:
                    print(f"    {seconds * 1000:7.2f} ms  {' '.join(query.split())[:200]}")
    return [
        Result(case, statistics.median(t), min(t), statistics.median(d), n)
        for case, t, d, n in zip(CASES, timings, db_times, counts, strict=True)
    ]


def report(small: list[Result], large: list[Result], large_rows: int) -> None:
    big = f"{large_rows // 1000}k"
    header = (
        f"{'case':<26}{'2k median':>10}{'min':>7}{'db':>7}{'queries':>8}"
        f"{big + ' median':>12}{'min':>7}{'db':>7}{'queries':>8}{'ratio':>8}"
    )
    print(header)
    print("-" * len(header))
    verdicts = []
    for a, b in zip(small, large, strict=True):
        ratio = b.median_ms / a.median_ms
        print(
            f"{a.case.label:<26}{a.median_ms:>10.1f}{a.min_ms:>7.1f}{a.db_ms:>7.1f}{a.queries:>8}"
            f"{b.median_ms:>12.1f}{b.min_ms:>7.1f}{b.db_ms:>7.1f}{b.queries:>8}{ratio:>7.2f}x"
        )
        verdicts.append(
            f"{a.case.label} {ratio:.2f}x {'meets' if ratio <= TARGET_RATIO else 'MISSES'}"
        )
    print(
        "(ms per request: median and fastest of the timed runs, median time in SQL;"
        " ratio of the medians)"
    )
    print(f"target {big}/2k <= {TARGET_RATIO}x: " + "; ".join(verdicts))


def run(args: argparse.Namespace) -> None:
    from django.core.management import call_command

    from couriers.models import Courier

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("load_demo", stdout=io.StringIO())
    grow_couriers(SMALL, "196")
    vacuum_analyze()
    print(
        f"setup (migrate, load_demo, grow to {Courier.objects.count():,} couriers): "
        f"{time.perf_counter() - started:.1f} s"
    )
    small = measure(args.runs, args.show_queries)
    seconds = grow_couriers(args.large, "197")
    vacuum_analyze()
    print(f"grew to {args.large:,} couriers with COPY in {seconds:.1f} s (then VACUUM ANALYZE)")
    large = measure(args.runs, args.show_queries)
    print()
    report(small, large, args.large)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS, help=f"timed runs per case ({RUNS})")
    parser.add_argument("--large", type=int, default=LARGE, help=f"couriers at the end ({LARGE})")
    parser.add_argument("--show-queries", action="store_true", help="print each query's time")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    recreate_database(url)
    try:
        setup_django(url)
        run(args)
    except BenchError as error:
        print(f"BROKEN: {error}", file=sys.stderr)
        return 1
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        drop_database(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
