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

    The courier table is first brought to exactly 1,000 rows (load_demo makes 1,826), then
    grown to 200,000 with PostgreSQL COPY, and the same four requests are timed again. The
    issue's target: at 200,000 couriers a page takes at most 1.5x as long as at 1,000. The
    script prints whether each ratio meets it but exits 0 either way; it exits 1 only when
    something is broken (a non-200 response, a wrong number of rows on the page, a search that
    does not show its courier).

    Requests are timed with ``DEBUG=False`` (as in production, so Django does not record every
    query); ``load_demo`` itself runs with the development default ``DEBUG=True``. After each
    bulk change the table is ``VACUUM ANALYZE``-d, the state autovacuum reaches shortly after a
    real import, so that the figures do not depend on when autovacuum happens to run.

How to run it (from the project folder, with PostgreSQL running)
    .venv/bin/python bench/admin_changelist.py        # or: make bench

    BENCH_DATABASE_URL chooses the server and database (default
    postgres://postgres@127.0.0.1:5432/fengxian_bench). The script drops and re-creates that
    database, migrates it, runs ``load_demo``, and drops the database again at the end, so
    point it at a scratch database name only. Options: ``--runs N`` (timed runs per case),
    ``--large N`` (rows for the large measurement), ``--show-queries`` (print each captured
    query with its time).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import io
import os
import random
import statistics
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

if TYPE_CHECKING:
    from django.test import Client

    from couriers.models import Outlet

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fengxian_bench"
CHANGELIST_URL = "/admin/couriers/courier/"
SMALL = 1_000
LARGE = 200_000
WARMUP = 3
RUNS = 25
TARGET_RATIO = 1.5
PER_PAGE = 50  # CourierAdmin.list_per_page
STAFF_USERNAME = "nanqiao"
STAFF_TOWN = "南桥镇"
# Prefix of the generated phones: one that demo.py never draws, so they cannot collide.
GENERATED_PREFIX = "198"
ROW_MARKER = 'class="action-select"'  # one checkbox per result row


class BenchError(RuntimeError):
    """A response that shows the changelist is broken, not merely slow."""


@dataclass
class Case:
    label: str
    username: str
    url: str
    expected_rows: int
    must_contain: str = ""


@dataclass
class Result:
    case: Case
    median_ms: float
    min_ms: float
    db_ms: float  # median time spent in the database, per request
    queries: int


# --- the scratch database -------------------------------------------------------------------


def _split_url(url: str) -> tuple[str, str]:
    """(database name, URL of the maintenance database `postgres` on the same server)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or name == "postgres":
        raise SystemExit(f"the benchmark's database URL must name a scratch database, not {name!r}")
    return name, urlunsplit(parts._replace(path="/postgres"))


def recreate_database(url: str) -> None:
    name, maintenance_url = _split_url(url)
    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url: str) -> None:
    name, maintenance_url = _split_url(url)
    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "fengxian.settings"
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    sys.path.insert(0, str(PROJECT_DIR))
    import django

    # The static files are not collected here; WhiteNoise's warning about it is noise.
    warnings.filterwarnings("ignore", message=r"No directory at: .*staticfiles")
    django.setup()


# --- the courier table ----------------------------------------------------------------------


def vacuum_analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE couriers_courier")


def trim_couriers(rows: int) -> None:
    """Keep the `rows` oldest couriers (load_demo makes 1,826)."""
    from couriers.models import Courier

    ids = list(Courier.objects.order_by("id").values_list("id", flat=True))
    if len(ids) < rows:
        raise BenchError(f"load_demo made only {len(ids)} couriers, fewer than {rows}")
    if len(ids) > rows:
        Courier.objects.filter(id__gt=ids[rows - 1]).delete()


def _generated_rows(
    count: int, columns: list[str], outlets: list[Outlet]
) -> Iterator[tuple[Any, ...]]:
    """`count` valid, unique couriers spread over `outlets`, as COPY tuples.

    Runs no query: it is consumed while the connection is busy with COPY.
    """
    from django.utils import timezone

    from couriers.demo import GIVEN, SURNAMES
    from couriers.models import Courier

    rng = random.Random(20250210)
    statuses = Courier.PoliticalStatus
    status_choices = [
        statuses.MASSES,
        statuses.LEAGUE,
        statuses.APPLICANT,
        statuses.ACTIVIST,
        statuses.MEMBER,
        statuses.PROBATIONARY,
    ]
    status_weights = [88, 8, 2.4, 0.6, 0.8, 0.2]
    educations = Courier.Education.values
    now = timezone.now()
    fields = {f.column: f for f in Courier._meta.concrete_fields if not f.primary_key}
    for i in range(count):
        outlet = rng.choice(outlets)
        values: dict[str, Any] = {
            "name": rng.choice(SURNAMES)
            + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2]))),
            "gender": "M" if rng.random() < 0.86 else "F",
            "phone": f"{GENERATED_PREFIX}{i:08d}",
            "id_number": "",
            "birth_date": datetime.date(
                rng.randint(1972, 2004), rng.randint(1, 12), rng.randint(1, 28)
            ),
            "education": rng.choices(educations, weights=[30, 40, 20, 9, 1])[0],
            "political_status": rng.choices(status_choices, weights=status_weights)[0],
            "is_mobile_party_member": False,
            "membership_location": "",
            "is_business_backbone": rng.random() < 0.03,
            "brand_id": outlet.enterprise.brand_id,
            "enterprise_id": outlet.enterprise_id,
            "outlet_id": outlet.id,
            "work_town_id": outlet.town_id,
            "employment_status": Courier.EmploymentStatus.ACTIVE
            if rng.random() < 0.97
            else Courier.EmploymentStatus.LEFT,
            "notes": "",
            "created_at": now,
            "updated_at": now,
        }
        row = []
        for column in columns:
            if column in values:
                row.append(values[column])
            elif fields[column].null:
                row.append(None)
            elif fields[column].has_default():
                row.append(fields[column].get_default())
            else:
                raise BenchError(f"no generated value for required column {column!r}")
        yield tuple(row)


def grow_couriers(rows: int) -> float:
    """Add couriers with COPY until there are `rows`; returns the seconds it took."""
    from django.db import connection, transaction

    from couriers.models import Courier, Outlet

    started = time.perf_counter()
    missing = rows - Courier.objects.count()
    if missing <= 0:
        return 0.0
    # Query before COPY starts: the connection cannot run other queries during COPY.
    outlets = list(Outlet.objects.select_related("enterprise").order_by("id"))
    columns = [f.column for f in Courier._meta.concrete_fields if not f.primary_key]
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(Courier._meta.db_table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(copy_sql) as copy:
            for row in _generated_rows(missing, columns, outlets):
                copy.write_row(row)
    if Courier.objects.count() != rows:
        raise BenchError(f"expected {rows} couriers after COPY, found {Courier.objects.count()}")
    return time.perf_counter() - started


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


def _check(case: Case, status: int, body: str) -> None:
    if status != 200:
        raise BenchError(f"{case.username} GET {case.url}: HTTP {status}")
    rows = body.count(ROW_MARKER)
    if rows != case.expected_rows:
        raise BenchError(
            f"{case.username} GET {case.url}: {rows} rows, expected {case.expected_rows}"
        )
    if case.must_contain and case.must_contain not in body:
        raise BenchError(f"{case.username} GET {case.url}: {case.must_contain} not shown")


def _client(username: str) -> Client:
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


class QueryTimer:
    """A connection execute wrapper that adds up the time spent in each query."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.queries: list[tuple[str, float]] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            self.seconds += elapsed
            self.queries.append((sql, elapsed))


def _timed_get(client: Client, case: Case) -> tuple[float, QueryTimer]:
    from django.db import connection

    timer = QueryTimer()
    with connection.execute_wrapper(timer):
        started = time.perf_counter()
        response = client.get(case.url)
        elapsed = time.perf_counter() - started
    _check(case, response.status_code, response.content.decode())
    return elapsed * 1000, timer


def measure_all(runs: int, show_queries: bool) -> list[Result]:
    """Time the four cases in interleaved rounds, so machine noise spreads over all of them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings

    cases = build_cases()
    clients = [_client(case.username) for case in cases]
    timings: list[list[float]] = [[] for _ in cases]
    db_times: list[list[float]] = [[] for _ in cases]
    counts: list[int] = []
    with override_settings(DEBUG=False):
        for _ in range(WARMUP):
            for case, client in zip(cases, clients, strict=True):
                _timed_get(client, case)
        gc.collect()
        for _ in range(runs):
            for i, (case, client) in enumerate(zip(cases, clients, strict=True)):
                elapsed, timer = _timed_get(client, case)
                timings[i].append(elapsed)
                db_times[i].append(timer.seconds * 1000)
        for case, client in zip(cases, clients, strict=True):
            with CaptureQueriesContext(connection) as captured:
                _, timer = _timed_get(client, case)
            counts.append(len(captured))
            if show_queries:
                print(f"  queries of {case.label} ({case.username}):")
                for query, seconds in timer.queries:
                    print(f"    {seconds * 1000:7.2f} ms  {' '.join(query.split())[:240]}")
    return [
        Result(case, statistics.median(t), min(t), statistics.median(d), n)
        for case, t, d, n in zip(cases, timings, db_times, counts, strict=True)
    ]


# --- report ---------------------------------------------------------------------------------


def _who(username: str) -> str:
    return "superuser" if username == "admin" else "town staff"


def print_table(small: list[Result], large: list[Result], large_rows: int) -> None:
    big = f"{large_rows // 1000}k"
    header = (
        f"{'case':<26}{'1k median':>10}{'min':>7}{'db':>6}{'queries':>8}"
        f"{big + ' median':>12}{'min':>7}{'db':>6}{'queries':>8}{'ratio':>8}"
    )
    print(header)
    print("-" * len(header))
    for a, b in zip(small, large, strict=True):
        name = f"{a.case.label} ({_who(a.case.username)})"
        print(
            f"{name:<26}{a.median_ms:>10.1f}{a.min_ms:>7.1f}{a.db_ms:>6.1f}{a.queries:>8}"
            f"{b.median_ms:>12.1f}{b.min_ms:>7.1f}{b.db_ms:>6.1f}{b.queries:>8}"
            f"{b.median_ms / a.median_ms:>7.2f}x"
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
    return parser.parse_args()


def run(args: argparse.Namespace) -> None:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("load_demo", stdout=io.StringIO())
    trim_couriers(SMALL)
    vacuum_analyze()
    print(f"setup (migrate, load_demo, trim to {SMALL:,}): {time.perf_counter() - started:.1f} s")
    small = measure_all(args.runs, args.show_queries)

    seconds = grow_couriers(args.large)
    vacuum_analyze()
    print(f"grew to {args.large:,} couriers with COPY in {seconds:.1f} s (then VACUUM ANALYZE)")
    large = measure_all(args.runs, args.show_queries)

    print()
    print_table(small, large, args.large)
    print_verdicts(small, large, args.large)


def main() -> int:
    args = parse_args()
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
