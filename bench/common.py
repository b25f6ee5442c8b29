"""What the benchmarks in bench/ share: the scratch database, Django's setup, the timing of
requests and the `main` that runs a benchmark and always drops its database again.

Each benchmark is a script (``.venv/bin/python bench/NAME.py``); Python puts bench/ on the
path, so they import this module as ``common``.

- ``ScratchDatabase``: a PostgreSQL database created for the run and dropped after it (or an
  SQLite file, deleted); ``database_option`` adds the ``--database-url`` option, whose
  default comes from an environment variable.
- ``setup_django``, ``migrate_and_load_demo``, ``vacuum_analyze`` and ``empty_tables`` (a
  table and every table that references it, emptied at once: TRUNCATE … CASCADE on
  PostgreSQL).
- ``timed`` (one call, after a garbage collection), ``timed_request`` (one request through
  Django's test client, with the time its queries took) and ``measure`` (cases timed in
  interleaved rounds, so that the noise of a shared machine falls on all of them alike).
- ``BenchError`` for a result that shows something broken, not merely slow, and ``main``.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

import environ
import psycopg
from psycopg import sql

if TYPE_CHECKING:
    from django.db.models import Model
    from django.http import HttpResponse
    from django.test import Client

PROJECT_DIR = Path(__file__).resolve().parent.parent
WARMUP = 3  # untimed rounds before the timed ones
PROTECTED_NAMES = ("postgres", "template0", "template1")


class Requested(Protocol):
    url: str


CaseT = TypeVar("CaseT", bound=Requested)


class BenchError(RuntimeError):
    """A result that shows the code under test broken (an error, a wrong count or value, an
    unexpected status), not merely slow: the benchmark exits 1."""


# --- the scratch database -------------------------------------------------------------------


@dataclass(frozen=True)
class ScratchDatabase:
    """The run's own database: created empty before, dropped after. PostgreSQL, or an SQLite
    file (``sqlite:////tmp/bench.sqlite3``) where a benchmark supports it."""

    url: str

    @property
    def is_sqlite(self) -> bool:
        return urlsplit(self.url).scheme.startswith("sqlite")

    def _pg_names(self) -> tuple[str, str]:
        """(database name, URL of the maintenance database `postgres` on the same server)."""
        parts = urlsplit(self.url)
        name = parts.path.lstrip("/")
        if not name or name in PROTECTED_NAMES:
            raise SystemExit(f"the bench database must be a scratch database, not {name!r}")
        return name, urlunsplit(parts._replace(path="/postgres"))

    def _sqlite_files(self) -> list[Path]:
        name = environ.Env.db_url_config(self.url)["NAME"]
        if not name or name == ":memory:":
            raise SystemExit("an SQLite bench database must be a file")
        path = Path(name)
        return [path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")]

    def _maintenance(self, statement: str) -> None:
        name, maintenance_url = self._pg_names()
        with psycopg.connect(maintenance_url, autocommit=True) as conn:
            conn.execute(sql.SQL(statement).format(sql.Identifier(name)))

    def drop(self) -> None:
        if self.is_sqlite:
            for path in self._sqlite_files():
                path.unlink(missing_ok=True)
        else:
            self._maintenance("DROP DATABASE IF EXISTS {} WITH (FORCE)")

    def recreate(self) -> None:
        self.drop()
        if not self.is_sqlite:
            self._maintenance("CREATE DATABASE {}")


def database_option(
    parser: argparse.ArgumentParser, default: str, variable: str = "BENCH_DATABASE_URL"
) -> None:
    """``--database-url``: the scratch database, by default $`variable` or `default`."""
    parser.add_argument(
        "--database-url",
        default=os.environ.get(variable, default),
        help=f"scratch database, dropped and re-created (default ${variable} or {default})",
    )


def setup_django(url: str, environment: Mapping[str, str] | None = None) -> None:
    """Set up Django in this process against `url` (`environment` adds or overrides settings).

    Logging at WARNING unless LOG_LEVEL says otherwise: django-axes reports every sign-in of
    the test client at INFO, which would bury the figures.
    """
    os.environ["DJANGO_SETTINGS_MODULE"] = "fengxian.settings"
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.update(environment or {})
    os.environ["DATABASE_URL"] = url
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    import django

    # The static files are not collected here; WhiteNoise's warning about it is noise.
    warnings.filterwarnings("ignore", message=r"No directory at: .*staticfiles")
    django.setup()


def migrate_and_load_demo() -> None:
    """Migrate the scratch database and load the demo district into it, quietly."""
    import io

    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_demo", stdout=io.StringIO())


def vacuum_analyze(*tables: str) -> None:
    """On PostgreSQL, bring `tables` (all of them if none is named) to the state autovacuum
    reaches soon after a bulk change, so that figures do not depend on when it runs."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {', '.join(map(connection.ops.quote_name, tables))}")


def empty_tables(*models: type[Model]) -> None:
    """Empty the models' tables and every table whose rows point at them, at any depth, in
    one statement that sends no signals: TRUNCATE … CASCADE on PostgreSQL, DELETE of the
    same tables on SQLite (what ``manage.py flush`` does)."""
    from django.core.management.color import no_style
    from django.db import connection

    tables = [model._meta.db_table for model in models]
    statements = connection.ops.sql_flush(no_style(), tables, allow_cascade=True)
    connection.ops.execute_sql_flush(statements)


# --- timing ---------------------------------------------------------------------------------


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of one call of `work`, after a garbage collection."""
    gc.collect()
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


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


def timed_request(
    client: Client, url: str, method: str = "GET", **kwargs: Any
) -> tuple[float, QueryTimer, HttpResponse]:
    """One request through the test client: (milliseconds, its queries' timer, response)."""
    from django.db import connection

    timer = QueryTimer()
    with connection.execute_wrapper(timer):
        started = time.perf_counter()
        response = client.generic(method, url, **kwargs)
        elapsed = time.perf_counter() - started
    return elapsed * 1000, timer, response


def signed_in_client(username: str) -> Client:
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


@dataclass
class Result(Generic[CaseT]):
    case: CaseT
    median_ms: float
    min_ms: float
    db_ms: float  # median time spent in the database, per request
    queries: int


def measure(
    cases: Sequence[CaseT],
    clients: Sequence[Client],
    runs: int,
    *,
    check: Callable[[CaseT, HttpResponse], None],
    label: Callable[[CaseT], str],
    show_queries: bool = False,
    query_chars: int = 240,
) -> list[Result[CaseT]]:
    """GET each case's url with its client: WARMUP rounds, then `runs` timed rounds, the
    cases taking turns, under ``DEBUG=False`` (as in production: Django then keeps no text
    of the queries). Every response goes through `check`, which raises BenchError. One more
    request of each counts its queries (and prints them with their times, if asked)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings

    pairs = list(zip(cases, clients, strict=True))
    timings: list[list[float]] = [[] for _ in pairs]
    db_times: list[list[float]] = [[] for _ in pairs]
    counts: list[int] = []

    def get(case: CaseT, client: Client) -> tuple[float, QueryTimer]:
        elapsed, timer, response = timed_request(client, case.url)
        check(case, response)
        return elapsed, timer

    with override_settings(DEBUG=False):
        for _ in range(WARMUP):
            for case, client in pairs:
                get(case, client)
        gc.collect()
        for _ in range(runs):
            for i, (case, client) in enumerate(pairs):
                elapsed, timer = get(case, client)
                timings[i].append(elapsed)
                db_times[i].append(timer.seconds * 1000)
        for case, client in pairs:
            with CaptureQueriesContext(connection) as captured:
                _, timer = get(case, client)
            counts.append(len(captured))
            if show_queries:
                print(f"  queries of {label(case)}:")
                for query, seconds in timer.queries:
                    print(f"    {seconds * 1000:7.2f} ms  {' '.join(query.split())[:query_chars]}")
    return [
        Result(case, statistics.median(t), min(t), statistics.median(d), n)
        for case, t, d, n in zip(cases, timings, db_times, counts, strict=True)
    ]


def print_comparison(
    small: Sequence[Result[CaseT]],
    large: Sequence[Result[CaseT]],
    labels: tuple[str, str],
    name: Callable[[CaseT], str],
    db_width: int = 6,
) -> None:
    """A table of the same cases measured twice (`labels`: the sizes, e.g. "1k", "200k"): per
    case its median, fastest and SQL time and queries at each size, and the ratio of the
    medians."""
    header = f"{'case':<26}{labels[0] + ' median':>10}{'min':>7}{'db':>{db_width}}{'queries':>8}"
    header += f"{labels[1] + ' median':>12}{'min':>7}{'db':>{db_width}}{'queries':>8}{'ratio':>8}"
    print(header)
    print("-" * len(header))
    for a, b in zip(small, large, strict=True):
        print(
            f"{name(a.case):<26}{a.median_ms:>10.1f}{a.min_ms:>7.1f}{a.db_ms:>{db_width}.1f}"
            f"{a.queries:>8}{b.median_ms:>12.1f}{b.min_ms:>7.1f}{b.db_ms:>{db_width}.1f}"
            f"{b.queries:>8}{b.median_ms / a.median_ms:>7.2f}x"
        )


# --- main -----------------------------------------------------------------------------------


def main(
    run: Callable[[argparse.Namespace], int | None],
    parse_args: Callable[[], argparse.Namespace],
    *,
    setup: bool = True,
    broken: Callable[[BenchError], None] | None = None,
) -> int:
    """Run one benchmark: its arguments (with ``--database-url``, see database_option), its
    scratch database re-created, Django set up against it (unless `setup` is false: the
    benchmark then does it itself), `run(args)`, and the database dropped whatever happens.

    Returns the exit status: `run`'s (0 when it returns None), or 1 after a BenchError, which
    is printed as ``BROKEN: …`` on standard error (then passed to `broken`, if given).
    """
    args = parse_args()
    database = ScratchDatabase(args.database_url)
    database.recreate()
    try:
        if setup:
            setup_django(database.url)
        status = run(args)
    except BenchError as error:
        sys.stdout.flush()
        print(f"BROKEN: {error}", file=sys.stderr, flush=True)
        if broken is not None:
            broken(error)
        return 1
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        database.drop()
    return status or 0
