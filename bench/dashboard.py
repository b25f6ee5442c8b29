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
    to 2,000 couriers, timed, then grown to 200,000 couriers with PostgreSQL COPY (the generator
    in bench/courier_rows.py, as in bench/admin_changelist.py) and timed again. The issue's
    target: the 200k time is at most 3x the 2k time, and well under a second. The script prints
    whether each ratio meets it; it exits 1 only when something is broken (a non-200 response,
    or a dashboard whose courier total is not the table's).

How to run it (from the project folder, with PostgreSQL running)
    .venv/bin/python bench/dashboard.py        # also part of: make bench

    BENCH_DATABASE_URL (or ``--database-url``) chooses the server and database (default
    postgres://postgres@127.0.0.1:5432/fengxian_bench_dash). The script drops and re-creates
    that database and drops it again at the end: point it at a scratch database only.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import common
from common import BenchError
from courier_rows import grow_and_vacuum, grow_couriers

if TYPE_CHECKING:
    from django.http import HttpResponse

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fengxian_bench_dash"
SMALL = 2_000
LARGE = 200_000
RUNS = 15
TARGET_RATIO = 3.0
DASHBOARD = "/admin/dashboard/"


@dataclass
class Case:
    label: str
    username: str
    url: str


Result = common.Result[Case]


CASES = [
    Case("dashboard (district)", "district", DASHBOARD),
    Case("dashboard (town staff)", "nanqiao", DASHBOARD),
    Case("xlsx export (district)", "district", f"{DASHBOARD}export.xlsx"),
]


def _check_status(case: Case, response: HttpResponse) -> None:
    if response.status_code != 200:
        raise BenchError(f"{case.username} GET {case.url}: HTTP {response.status_code}")


def _check(case: Case, response: HttpResponse) -> None:
    """The status, and that the district's dashboard counts every courier in the table."""
    from couriers.models import Courier

    _check_status(case, response)
    if case.url == DASHBOARD and case.username == "district":
        found = re.search(
            r'figure-value">(\d+)</span><span class="figure-label">登记快递小哥',
            response.content.decode(),
        )
        shown = int(found.group(1)) if found else None
        if shown != Courier.objects.count():
            raise BenchError(f"dashboard shows {shown} couriers, not {Courier.objects.count()}")


def measure(runs: int, show_queries: bool) -> list[Result]:
    clients = [common.signed_in_client(case.username) for case in CASES]
    for case, client in zip(CASES, clients, strict=True):
        _check(case, client.get(case.url))
    return common.measure(
        CASES,
        clients,
        runs,
        check=_check_status,
        label=lambda case: case.label,
        show_queries=show_queries,
        query_chars=200,
    )


def report(small: list[Result], large: list[Result], large_rows: int) -> None:
    big = f"{large_rows // 1000}k"
    common.print_comparison(small, large, ("2k", big), lambda case: case.label, db_width=7)
    verdicts = []
    for a, b in zip(small, large, strict=True):
        ratio = b.median_ms / a.median_ms
        verdicts.append(
            f"{a.case.label} {ratio:.2f}x {'meets' if ratio <= TARGET_RATIO else 'MISSES'}"
        )
    print(
        "(ms per request: median and fastest of the timed runs, median time in SQL;"
        " ratio of the medians)"
    )
    print(f"target {big}/2k <= {TARGET_RATIO}x: " + "; ".join(verdicts))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS, help=f"timed runs per case ({RUNS})")
    parser.add_argument("--large", type=int, default=LARGE, help=f"couriers at the end ({LARGE})")
    parser.add_argument("--show-queries", action="store_true", help="print each query's time")
    common.database_option(parser, DEFAULT_URL)
    return parser.parse_args()


def run(args: argparse.Namespace) -> None:
    from couriers.models import Courier

    started = time.perf_counter()
    common.migrate_and_load_demo()
    grow_couriers(SMALL, "196")
    common.vacuum_analyze()
    print(
        f"setup (migrate, load_demo, grow to {Courier.objects.count():,} couriers): "
        f"{time.perf_counter() - started:.1f} s"
    )
    small = measure(args.runs, args.show_queries)
    grow_and_vacuum(args.large, "197")
    large = measure(args.runs, args.show_queries)
    print()
    report(small, large, args.large)


if __name__ == "__main__":
    sys.exit(common.main(run, parse_args))
