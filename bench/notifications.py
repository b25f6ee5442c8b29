"""Benchmark: a broadcast to 20,000 couriers on PostgreSQL, queued and then sent.

What it measures
    1. Enqueueing: `broadcasts.submit` (what 「确认发送」 runs: the preview's count, the
       broadcast's row and its messages in one bulk insert) for 20,000 couriers — its time
       and its queries. It must be a bulk insert, not a query per courier: more than 40
       queries is reported as broken. Target: under 3 s.
    2. Draining: `manage.py db_worker` in its own process sends the messages through the
       generic HTTP gateway backend to a local gateway server on 127.0.0.1 (which answers
       every request at once); messages per second while it sends (measured from the first
       message out to the last of --drain), and the worker's peak RSS (VmHWM). The rate is
       printed beside the configured provider rate, SMS_RATE_PER_SECOND (when the settings
       have one): the worker should send at that rate, within 10%.

How to run it (from the project folder, with PostgreSQL running)
    .venv/bin/python bench/notifications.py        # also part of: make bench

    --couriers N (default 20,000), --drain N (messages to wait for, default 1,000: at a
    provider rate of 10 a second the whole broadcast would take over half an hour),
    --rate N (SMS_RATE_PER_SECOND given to the worker; default: the settings' own).
    BENCH_DATABASE_URL (or ``--database-url``) chooses the server and database (default
    postgres://postgres@127.0.0.1:5432/fengxian_bench_notifications). The script drops and
    re-creates that database and drops it again at the end: point it at a scratch database.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import common
from common import BenchError

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fengxian_bench_notifications"
TOKEN = "bench-gateway-token"
MAX_QUERIES = 40


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.database_option(parser, DEFAULT_URL)
    parser.add_argument("--couriers", type=int, default=20_000)
    parser.add_argument("--drain", type=int, default=1_000)
    parser.add_argument("--rate", type=int, default=None)
    return parser.parse_args()


class Gateway:
    """Accepts every message at once and counts them."""

    def __init__(self) -> None:
        self.accepted = 0
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with gateway.lock:
                    gateway.accepted += 1
                data = b'{"code": "OK"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/send"


def make_couriers(n: int):
    from django.contrib.auth.models import User

    from couriers.models import Courier, Town

    town = Town.objects.get(name="南桥镇")
    Courier.objects.bulk_create(
        (Courier(name=f"压测小哥{i}", phone=f"139{i:08d}", work_town=town) for i in range(n)),
        batch_size=5_000,
    )
    common.vacuum_analyze("couriers_courier")
    return User.objects.create_superuser("bench-district", password=None)


def enqueue(user, n: int):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from couriers.messaging import broadcasts
    from couriers.models import Courier

    ids = list(Courier.objects.order_by("pk").values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as captured:
        seconds, (broadcast, _) = common.timed(
            lambda: broadcasts.submit(
                user=user,
                courier_ids=ids,
                title="高温预警",
                content="今天各骑乐融融站点提供防暑药品",
                token=uuid.uuid4(),
            )
        )
    queued = broadcasts.messages_of(broadcast).count()
    in_sql = sum(float(q["time"]) for q in captured.captured_queries)
    inserts = sum(q["sql"].startswith("INSERT") for q in captured.captured_queries)
    print(
        f"enqueue {n:,} couriers: {seconds:.2f} s, {len(captured)} queries "
        f"({inserts} INSERT statements, {in_sql:.2f} s in SQL), {queued:,} messages queued "
        "(target < 3 s)"
    )
    if queued != n:
        raise BenchError(f"{queued} messages queued for {n} couriers")
    if len(captured) > MAX_QUERIES:
        raise BenchError(f"{len(captured)} queries to enqueue: not a bulk insert")
    return broadcast


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def drain(broadcast, target: int, rate: int | None) -> None:
    from django.conf import settings

    from couriers.messaging import broadcasts
    from couriers.models import Message

    gateway = Gateway()
    env = {
        **os.environ,
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "SMS_BACKEND": "couriers.messaging.backends.HttpBackend",
        "SMS_HTTP_URL": gateway.url,
        "SMS_HTTP_TOKEN": TOKEN,
        # The broadcast is not urgent: the bench must not depend on the hour it runs at.
        "SMS_QUIET_HOURS": "",
    }
    if rate is not None:
        env["SMS_RATE_PER_SECOND"] = str(rate)
    configured = rate if rate is not None else getattr(settings, "SMS_RATE_PER_SECOND", None)
    sent = broadcasts.messages_of(broadcast).filter(state=Message.State.SENT)
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--no-reload"],
        cwd=common.PROJECT_DIR,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        first_at = first_count = None
        deadline = time.monotonic() + 600
        while True:
            count = sent.count()
            now = time.monotonic()
            if first_at is None and count:
                first_at, first_count = now, count
            if count >= target or now > deadline or worker.poll() is not None:
                break
            time.sleep(0.2)
        rss = peak_rss_mb(worker.pid) if worker.poll() is None else 0.0
    finally:
        worker.kill()
        _, errors = worker.communicate(timeout=30)
    if first_at is None or count < target:
        raise BenchError(f"only {count} of {target} sent in 600 s: {errors[-2000:]}")
    per_second = (count - first_count) / (now - first_at) if now > first_at else float("inf")
    print(
        f"drain {count:,} messages: {per_second:.1f} messages/s, worker peak RSS "
        f"{rss:.0f} MB; gateway accepted {gateway.accepted:,}"
    )
    if configured:
        off = (per_second - configured) / configured * 100
        verdict = "within 10%" if abs(off) <= 10 else "NOT within 10%"
        print(
            f"configured provider rate SMS_RATE_PER_SECOND = {configured}/s: "
            f"{off:+.0f}% ({verdict})"
        )
    else:
        print("configured provider rate SMS_RATE_PER_SECOND: none (raw drain rate above)")
    gateway.server.shutdown()


def run(args: argparse.Namespace) -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    user = make_couriers(args.couriers)
    broadcast = enqueue(user, args.couriers)
    drain(broadcast, min(args.drain, args.couriers), args.rate)


if __name__ == "__main__":
    # The worker process and this one share the settings: the gateway backend, the database
    # task queue (set before Django starts here).
    os.environ.setdefault("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")
    sys.exit(common.main(run, parse_args))
