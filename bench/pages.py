"""Benchmark: the portal's pages under load, each beside a trivial view, on gunicorn + PostgreSQL.

What it measures
    The portal runs as in production: gunicorn with 2 workers (deploy/gunicorn.conf.py,
    access log off; "gthread" workers with one thread, so that the load generator's
    connections are kept open rather than re-opened for every request), ``DEBUG=False``, a
    generated ``SECRET_KEY``, hashed static files collected into a temporary folder,
    PostgreSQL with the demo district (``load_demo``), and
    ``CACHE_URL=redis://127.0.0.1:6379/14`` passed through for the cache (the database number
    is flushed first). A second process drives it over loopback (bench/load_generators.py):
    ``wrk`` (8 connections, 2 threads; a Lua script bounds the number of requests and checks
    every status) or, without wrk, a Python generator (processes with keep-alive
    ``http.client`` connections).

    For each page the trivial view (``/_bench/trivial``, mounted by ``BENCH_TRIVIAL_VIEW=1``)
    is measured immediately before and after it by the same generator, and the page's rps is
    divided by the mean of the two: the ratio compares like with like even when other work
    shares the cores (on a busy machine the trivial figure itself moves a lot). This is done
    ``--rounds`` times (default 3) and the round with the median ratio is reported.
    Pages:

    - ``/``, ``/stations/``, ``/stations/?lat=…&lng=…``, one station page, ``/posts/`` and
      ``/activities/``: anonymous public GETs, target ratio >= 0.5;
    - a check-in page (GET ``/checkin/<token>/``, as a courier who has just scanned the
      poster: anonymous, the form with its CSRF token) and a check-in submission (POST of
      that form by a signed-in courier not yet registered in the current campaign, which
      records the check-in and redirects to 欢迎回家): form pages, target >= 0.05;
    - the admin courier list as district staff (signed in through the admin login form):
      no target, reported.

    Each POST uses its own courier and session (made in the database before the run; the
    session is what the one-time-code step leaves behind) and its own X-Forwarded-For
    address, as many couriers behind the proxy would: the app reads it as the client address
    from a trusted proxy (TRUSTED_PROXIES, loopback here). Every response must have the
    expected status (200; 302 for the POST); others are counted as errors, reported, and make
    the script exit 1. A page that answers 404 (``/activities/`` before that feature lands) is
    reported as missing.

    After the load runs, each page is requested once more in-process through Django's test
    client, to report its queries per request, how many of them write, and whether it sets
    cookies, and its single-request time in-process with the part spent in the database
    (``inproc_ms``, ``db_ms``): the usual reasons a page is slow.

How to run it (from the project folder, PostgreSQL and Redis running)
    .venv/bin/python bench/pages.py        # or: make bench

    BENCH_PAGES_DATABASE_URL (or ``--database-url``) chooses the database (default
    postgres://postgres@127.0.0.1:5432/fengxian_bench_pages); it is dropped, re-created and
    dropped again at the end, so name a scratch database only. BENCH_CACHE_URL sets the
    cache passed through (flushed first). Options: ``--requests N`` per page (default 2000),
    ``--trivial-requests N`` per trivial run (default 5000), ``--max-seconds S`` per run
    (default 15), ``--generator wrk|python``, ``--connections N``.

Output: one JSON line per page on standard output,
    {"page", "rps", "p95_ms", "trivial_rps", "ratio", "target", "meets", "requests", "errors",
     "queries", "writes", "sets_cookies", "inproc_ms", "db_ms", "generator"}
and progress on standard error.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import common
from common import PROJECT_DIR, BenchError, timed_request
from load_generators import HOST, Measurement, Page, PythonGenerator, Wrk

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fengxian_bench_pages"
DEFAULT_CACHE_URL = "redis://127.0.0.1:6379/14"
TRIVIAL = "/_bench/trivial"
WORKERS = 2
WARMUP = 100
PUBLIC_TARGET = 0.5
FORM_TARGET = 0.05
# Near 南桥镇's centre, where the demo district has stations all around.
POSITION = {"lat": "30.9205", "lng": "121.4612"}
COURIER_PHONE_PREFIX = "199"  # a prefix demo data never draws
ADMIN_LIST = "couriers/courier/"


# --- the scratch database and the server ----------------------------------------------------


def flush_cache(cache_url: str) -> None:
    """Empty the benchmark's own Redis database: cached pages of an earlier run name other rows."""
    parts = urlsplit(cache_url)
    if parts.scheme != "redis" or not shutil.which("redis-cli"):
        return
    number = parts.path.lstrip("/") or "0"
    server = ["-h", parts.hostname or HOST, "-p", str(parts.port or 6379)]
    subprocess.run(
        ["redis-cli", *server, "-n", number, "FLUSHDB"],
        check=False,
        capture_output=True,
    )


def development_env(url: str) -> dict[str, str]:
    """migrate and load_demo run with development settings (load_demo refuses production)."""
    drop = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE"}
    environment = {k: v for k, v in os.environ.items() if k not in drop}
    environment["DATABASE_URL"] = url
    return environment


def production_env(url: str, static_root: Path, cache_url: str) -> dict[str, str]:
    environment = development_env(url)
    environment.update(
        DJANGO_SETTINGS_MODULE="fengxian.settings",
        DEBUG="False",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=HOST,
        PUBLIC_BASE_URL=f"http://{HOST}",
        SECURE_SSL_REDIRECT="False",
        SESSION_COOKIE_SECURE="False",
        CSRF_COOKIE_SECURE="False",
        SMS_CONSOLE_OK="True",
        CACHE_URL=cache_url,
        STATIC_ROOT=str(static_root),
        MEDIA_ROOT=str(static_root.parent / "media"),
        PRIVATE_MEDIA_ROOT=str(static_root.parent / "private"),
        BENCH_TRIVIAL_VIEW="1",
        LOG_LEVEL="WARNING",
        # The load generator on loopback stands in for nginx: its X-Forwarded-For is believed.
        TRUSTED_PROXIES="127.0.0.1,::1",
    )
    return environment


def manage(environment: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env=environment,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BenchError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_server(environment: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server_env = dict(
        environment,
        GUNICORN_BIND=f"{HOST}:{port}",
        GUNICORN_WORKERS=str(WORKERS),
        # One request at a time per worker, as with sync workers, but connections are kept
        # open: with sync workers every request is a new TCP connection, and on loopback
        # their churn (server-side TIME_WAIT) stalls some connects for a second or more,
        # which would measure the kernel, not the pages.
        GUNICORN_WORKER_CLASS="gthread",
        GUNICORN_THREADS="1",
        GUNICORN_ACCESSLOG="",
        GUNICORN_LOGLEVEL="warning",
    )
    process = subprocess.Popen(
        [str(gunicorn), "-c", "deploy/gunicorn.conf.py", "fengxian.wsgi"],
        cwd=PROJECT_DIR,
        env=server_env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"gunicorn exited:\n{log.read_text()[-3000:]}")
        try:
            if fetch(port, "GET", "/healthz")[0] == 200:
                return process
        except OSError:
            pass
        time.sleep(0.2)
    raise BenchError("gunicorn did not answer /healthz within 30 s")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def fetch(
    port: int, method: str, path: str, *, headers: dict[str, str] | None = None, body: str = ""
) -> tuple[int, dict[str, list[str]], str]:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(method, path, body=body.encode() or None, headers=headers or {})
        response = conn.getresponse()
        received: dict[str, list[str]] = {}
        for name, value in response.getheaders():
            received.setdefault(name.lower(), []).append(value)
        return response.status, received, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def _cookie(headers: dict[str, list[str]], name: str) -> str:
    for value in headers.get("set-cookie", []):
        if value.startswith(name + "="):
            return value.split(";", 1)[0].split("=", 1)[1]
    return ""


def _form_token(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not match:
        raise BenchError("no CSRF token in the form")
    return match.group(1)


# --- what to request ------------------------------------------------------------------------


def make_courier_sessions(town_id: int, count: int) -> list[tuple[str, str, str]]:
    """`count` couriers not yet registered in the current campaign, each signed in on its own
    session (what the one-time-code step leaves): (session key, phone, name)."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from couriers import identity
    from couriers.models import Courier

    couriers = Courier.objects.bulk_create(
        Courier(name=f"压测{i:04d}", phone=f"{COURIER_PHONE_PREFIX}{i:08d}", work_town_id=town_id)
        for i in range(count)
    )
    store = SessionStore()
    expires = timezone.now() + datetime.timedelta(days=1)
    sessions = [
        Session(
            session_key=secrets.token_hex(16),
            session_data=store.encode({identity.SESSION_KEY: courier.pk}),
            expire_date=expires,
        )
        for courier in couriers
    ]
    Session.objects.bulk_create(sessions)
    return [(s.session_key, c.phone, c.name) for s, c in zip(sessions, couriers, strict=True)]


def admin_session(port: int, admin_path: str) -> str:
    """Sign in as the demo user `district` through the admin's login form."""
    login = f"{admin_path}login/"
    status, headers, html = fetch(port, "GET", login)
    if status != 200:
        raise BenchError(f"GET {login}: HTTP {status}")
    csrf = _cookie(headers, "csrftoken")
    body = urlencode(
        {
            "csrfmiddlewaretoken": _form_token(html),
            "username": "district",
            "password": "fengxian-demo",
            "next": admin_path,
        }
    )
    status, headers, _ = fetch(
        port,
        "POST",
        login,
        body=body,
        headers={
            "Cookie": f"csrftoken={csrf}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    session = _cookie(headers, "sessionid")
    if status != 302 or not session:
        raise BenchError(f"admin login as district failed: HTTP {status}")
    return f"sessionid={session}"


def build_pages(port: int, pool_size: int) -> list[Page]:
    from django.conf import settings

    from stations.checkin.flow import point_token
    from stations.models import CheckinPoint, Station

    station = Station.objects.active().order_by("pk").first()
    point = CheckinPoint.objects.filter(is_active=True).order_by("pk").first()
    if station is None or point is None:
        raise BenchError("load_demo made no active station or check-in point")
    checkin = f"/checkin/{point_token(point)}/"

    # One CSRF cookie and token for all submissions: Django ties them to no session.
    status, headers, html = fetch(port, "GET", checkin)
    if status != 200:
        raise BenchError(f"GET {checkin}: HTTP {status}")
    csrf_cookie, csrf_token = _cookie(headers, "csrftoken"), _form_token(html)
    bodies = []
    for n, (key, phone, name) in enumerate(make_courier_sessions(point.town_id, pool_size)):
        form = {
            "csrfmiddlewaretoken": csrf_token,
            "name": name,
            "phone": phone,
            "brand": "",
            "outlet": "",
            "workplace": "",
            "work_town": point.town_id,
            "political_status": "",
            "agree_privacy": "on",
        }
        address = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
        bodies.append((f"sessionid={key}; csrftoken={csrf_cookie}", address, urlencode(form)))

    admin_path = "/" + settings.ADMIN_URL
    return [
        Page("home", "/", PUBLIC_TARGET),
        Page("stations", "/stations/", PUBLIC_TARGET),
        Page("stations near me", "/stations/?" + urlencode(POSITION), PUBLIC_TARGET),
        Page("station page", f"/stations/{station.pk}/", PUBLIC_TARGET),
        Page("check-in page", checkin, FORM_TARGET),
        Page("check-in submission", checkin, FORM_TARGET, "POST", 302, bodies=bodies),
        Page("posts", "/posts/", PUBLIC_TARGET),
        Page("activities", "/activities/", PUBLIC_TARGET),
        Page(
            "admin courier list (district)",
            admin_path + ADMIN_LIST,
            None,
            cookie=admin_session(port, admin_path),
        ),
    ]


# --- what makes a page slow -----------------------------------------------------------------


def profile(page: Page, offset: int) -> dict:
    """One request through Django's test client in this process, single-threaded: its queries
    (and how many write), the time it takes and the part of it spent in the database, and
    the cookies it sets. For a GET the median of PROFILE_RUNS requests after a warm-up one; a
    submission is made once (each uses up a prepared courier)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=HOST)
    for part in page.cookie.split("; ") if page.cookie else []:
        name, value = part.split("=", 1)
        client.cookies[name] = value
    body = {}
    if page.bodies:
        cookie, _address, text = page.bodies[offset]
        for part in cookie.split("; "):
            name, value = part.split("=", 1)
            client.cookies[name] = value
        body = {"data": text, "content_type": "application/x-www-form-urlencoded"}
    runs = 1 if page.bodies else PROFILE_RUNS
    # Warm, as under load: the first request of a client loads the middleware (whitenoise
    # then scans the static files). For the submission, a GET of its form, which writes nothing.
    client.get(page.path)
    timings, db_timings = [], []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            elapsed, timer, response = timed_request(client, page.path, page.method, **body)
        timings.append(elapsed)
        db_timings.append(timer.seconds * 1000)
    writes = sum(
        1 for q in captured.captured_queries if q["sql"].lstrip().split(" ", 1)[0] in WRITE_VERBS
    )
    return {
        "queries": len(captured),
        "writes": writes,
        "sets_cookies": sorted(response.cookies.keys()),
        "inproc_ms": round(statistics.median(timings), 1),
        "db_ms": round(statistics.median(db_timings), 1),
        "status": response.status_code,
    }


PROFILE_RUNS = 5
WRITE_VERBS = {"INSERT", "UPDATE", "DELETE"}


# --- main -----------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per page")
    parser.add_argument(
        "--trivial-requests", type=int, default=5000, help="requests to the trivial view"
    )
    parser.add_argument("--max-seconds", type=int, default=15, help="cap on one run's length")
    parser.add_argument(
        "--rounds", type=int, default=3, help="measurements per page; the median ratio is reported"
    )
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections")
    parser.add_argument(
        "--generator",
        choices=["wrk", "python"],
        default="wrk" if shutil.which("wrk") else "python",
        help="load generator (default: wrk when installed)",
    )
    common.database_option(parser, DEFAULT_URL, "BENCH_PAGES_DATABASE_URL")
    return parser.parse_args()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="fengxian-bench-pages-"))
    try:
        return measure_pages(args, args.database_url, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def measure_pages(args: argparse.Namespace, url: str, workdir: Path) -> int:
    cache_url = os.environ.get("BENCH_CACHE_URL", DEFAULT_CACHE_URL)
    environment = production_env(url, workdir / "static", cache_url)
    started = time.perf_counter()
    manage(development_env(url), "migrate", "--noinput")
    manage(development_env(url), "load_demo")
    manage(environment, "collectstatic", "--noinput")
    flush_cache(cache_url)
    common.setup_django(url, environment)
    log(f"setup (migrate, load_demo, collectstatic): {time.perf_counter() - started:.1f} s")

    port = free_port()
    server = start_server(environment, port, workdir / "gunicorn.log")
    if args.generator == "wrk":
        generator = Wrk(args.connections, 2, args.max_seconds, workdir)
    else:
        generator = PythonGenerator(args.connections, args.max_seconds)
    broken = False
    try:
        # Each run with submissions may send up to `connections` more than it counts.
        pool_size = (
            WARMUP + args.rounds * (args.requests + args.connections) + 2 * args.connections + 1
        )
        pages = build_pages(port, pool_size)
        trivial = Page("trivial", TRIVIAL, None)
        generator.run(port, trivial, WARMUP)
        results = []
        for page in pages:
            status = fetch(port, "GET", page.path, headers={"Cookie": page.cookie})[0]
            if page.method == "GET" and status == 404:
                results.append((page, None, None, 0))
                log(f"{page.name}: {page.path} answers 404, reported as missing")
                continue
            generator.run(port, page, WARMUP)
            offset = WARMUP + args.connections if page.bodies else 0  # never reuse one
            # Rounds of trivial / page / trivial; the round with the median ratio is reported,
            # so a burst of load from another process on this shared machine does not decide.
            rounds = []
            for _ in range(args.rounds):
                before = generator.run(port, trivial, args.trivial_requests)
                measured = generator.run(port, page, args.requests, offset)
                after = generator.run(port, trivial, args.trivial_requests)
                base = Measurement(
                    before.requests + after.requests,
                    (before.rps + after.rps) / 2,
                    max(before.p95_ms, after.p95_ms),
                    before.errors + after.errors,
                )
                rounds.append((measured.rps / base.rps, base, measured))
                if page.bodies:
                    offset += args.requests + args.connections
            rounds.sort(key=lambda r: r[0])
            _, base, measured = rounds[len(rounds) // 2]
            measured.errors = sum(r[2].errors for r in rounds)
            base.errors = sum(r[1].errors for r in rounds)
            used = offset + args.connections
            results.append((page, base, measured, used))
            log(
                f"{page.name}: {measured.rps:.0f} rps, p95 {measured.p95_ms:.1f} ms"
                f" (trivial {base.rps:.0f} rps) {measured.requests} requests,"
                f" {measured.errors} errors {measured.detail}"
            )
    finally:
        stop_server(server)
        if isinstance(generator, PythonGenerator):
            generator.pool.terminate()

    for page, base, measured, used in results:
        if measured is None:
            line = {"page": page.path, "name": page.name, "missing": True, "status": 404}
            line.update(target=page.target, meets=False)
            print(json.dumps(line, ensure_ascii=False), flush=True)
            continue
        ratio = measured.rps / base.rps
        figures = profile(page, used)
        broken |= measured.errors + base.errors > 0 or figures["status"] != page.expect
        line = {
            "page": page.path,
            "name": page.name,
            "rps": round(measured.rps, 1),
            "p95_ms": round(measured.p95_ms, 1),
            "trivial_rps": round(base.rps, 1),
            "ratio": round(ratio, 3),
            "target": page.target,
            "meets": None if page.target is None else ratio >= page.target,
            "requests": measured.requests,
            "errors": measured.errors,
            **{k: v for k, v in figures.items() if k != "status"},
            "generator": generator.name,
        }
        if measured.detail:
            line["error_detail"] = measured.detail
        print(json.dumps(line, ensure_ascii=False), flush=True)
    return 1 if broken else 0


if __name__ == "__main__":
    # Django is set up by measure_pages, with the production settings the server runs with.
    sys.exit(common.main(run, parse_args, setup=False))
