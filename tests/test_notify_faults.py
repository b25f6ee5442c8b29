"""Faults of the SMS provider, with a real worker: `manage.py db_worker` in its own process
against the test database (PostgreSQL), sending through the generic HTTP gateway
(couriers.messaging.backends.HttpBackend) to a local gateway server on 127.0.0.1 that can
time out, answer 5xx, throttle (flow control) or be down (connection refused) and come back.

- timeouts and 5xx: each message is retried and nothing is lost;
- down for a long time: messages wait and go out in their order once it is back;
- a broadcast to 2,000 couriers while the provider throttles: public pages keep answering.

Backoff is not shortened: between runs of the worker the tests move the waiting messages'
time forward (`_time_passes`), as the clock would. Messages are urgent so that quiet hours
never hold them, whatever the hour the tests run at.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from couriers.messaging.bulk import notify_many
from couriers.messaging.notify import notify
from couriers.messaging.tasks import send_due_messages
from couriers.models import Broadcast, Courier, Message
from tests import factories

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: the worker is another process, which SQLite's in-memory "
    "test database cannot reach",
)

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "gateway-test-token"
CLIENT_TIMEOUT = 0.5  # seconds the worker waits for the gateway (HttpBackend.timeout)
# The real db_worker command, in a process of its own; only the gateway timeout is made
# short (GATEWAY_TIMEOUT) so that a test of timeouts does not wait 5 s per message.
WORKER = f"""
import django, os, sys
sys.path.insert(0, {str(ROOT)!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fengxian.settings")
django.setup()
from couriers.messaging import backends
backends.HttpBackend.timeout = float(os.environ["GATEWAY_TIMEOUT"])
from django.core.management import call_command
call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload")
"""


class Gateway:
    """A local SMS gateway speaking HttpBackend's interface. `first` maps a phone to what
    its first request gets ("timeout", "5xx", "throttle"); `answers` is a list of what the
    next requests get; when neither applies, `otherwise`. Accepted messages are kept in
    order."""

    def __init__(self) -> None:
        self.first: dict[str, str] = {}
        self.answers: list[str] = []
        self.otherwise = "ok"
        self.accepted: list[tuple[str, str]] = []
        self.requests = 0
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None
        self.port = 0
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/send"

    def start(self) -> None:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with gateway.lock:
                    gateway.requests += 1
                    answer = gateway.first.pop(body["phone"], None)
                    if answer is None:
                        answer = gateway.answers.pop(0) if gateway.answers else gateway.otherwise
                    if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                        answer = "unauthorised"
                    if answer == "ok":
                        gateway.accepted.append((body["phone"], body["message"]))
                if answer == "timeout":
                    time.sleep(CLIENT_TIMEOUT * 3)  # the worker has given up by then
                    return self._answer(504, {"code": "Timeout"})
                status, reply = {
                    "ok": (200, {"code": "OK", "id": str(gateway.requests)}),
                    "5xx": (503, {"code": "ServiceUnavailable"}),
                    "throttle": (429, {"code": "isv.BUSINESS_LIMIT_CONTROL"}),
                    "unauthorised": (401, {"code": "Unauthorized"}),
                }[answer]
                self._answer(status, reply)

            def _answer(self, status: int, reply: dict) -> None:
                data = json.dumps(reply).encode()
                with contextlib.suppress(OSError):  # the worker may have hung up
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Down: the port refuses connections."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway(committed_db, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    running = Gateway()
    yield running
    with contextlib.suppress(OSError):
        running.stop()


def _worker(gateway: Gateway, timeout: float = CLIENT_TIMEOUT) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "SMS_BACKEND": "couriers.messaging.backends.HttpBackend",
        "SMS_HTTP_URL": gateway.url,
        "SMS_HTTP_TOKEN": TOKEN,
        "GATEWAY_TIMEOUT": str(timeout),
        # Not the subject here: a district-wide rate, if configured, must not slow the test.
        "SMS_RATE_PER_SECOND": "10000",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.Popen(
        [sys.executable, "-c", WORKER],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _run_worker(gateway: Gateway) -> None:
    """The worker, until the queue of tasks is empty."""
    process = _worker(gateway)
    _, errors = process.communicate(timeout=120)
    assert process.returncode == 0, errors


def _time_passes() -> None:
    """The backoff has run out (as after an hour) and the worker's next run is due: what the
    worker does on its own schedule in production."""
    Message.objects.filter(state=Message.State.PENDING).update(send_after=timezone.now())
    send_due_messages.enqueue()


def _couriers(n: int) -> list[Courier]:
    town = factories.town("南桥镇")
    return [factories.courier(town, name=f"小哥{i}") for i in range(n)]


def _tell(couriers: list[Courier]) -> list[Message]:
    told = []
    for courier in couriers:
        with transaction.atomic():
            told.append(
                notify(
                    courier,
                    "points_adjusted",
                    {"change": "+5", "reason": "补录"},
                    event="points",
                    about=courier,
                    urgent=True,
                )
            )
    return told


def _rounds_until_sent(gateway: Gateway, rounds: int = 4) -> None:
    """The worker's runs as time passes, until every message is out (or `rounds` runs)."""
    for _ in range(rounds):
        _time_passes()
        _run_worker(gateway)
        if not Message.objects.filter(state=Message.State.PENDING).exists():
            return


def test_timeouts_and_5xx_are_retried_and_nothing_is_lost(gateway):
    couriers = _couriers(6)
    # Each number's first request times out or gets a 5xx; the next one is accepted.
    gateway.first = {c.phone: ("timeout", "5xx")[i % 2] for i, c in enumerate(couriers)}
    _tell(couriers)
    _run_worker(gateway)
    assert not Message.objects.exclude(state=Message.State.PENDING).exists()
    assert gateway.accepted == []
    assert Message.objects.exclude(last_error="").exists()

    _rounds_until_sent(gateway)
    assert Message.objects.filter(state=Message.State.SENT).count() == 6
    # Each accepted once: a retry after a timeout did not send a second copy.
    assert sorted(phone for phone, _ in gateway.accepted) == sorted(c.phone for c in couriers)
    assert min(Message.objects.values_list("attempts", flat=True)) >= 2
    assert gateway.first == {}  # every first request was answered with a fault


def test_while_the_provider_is_down_messages_wait_and_go_out_in_order(gateway):
    couriers = _couriers(5)
    gateway.stop()
    told = _tell(couriers)
    _run_worker(gateway)
    _time_passes()  # an hour later, still down
    _run_worker(gateway)
    assert Message.objects.filter(state=Message.State.PENDING).count() == 5
    assert Message.objects.filter(attempts__gt=0).exists()

    gateway.start()  # back, on the same address
    _rounds_until_sent(gateway)
    assert Message.objects.filter(state=Message.State.SENT).count() == 5
    in_order = [m.courier.phone for m in sorted(told, key=lambda m: m.pk)]
    assert [phone for phone, _ in gateway.accepted] == in_order


def test_a_broadcast_drains_under_flow_control_while_pages_keep_answering(gateway):
    town = factories.town("南桥镇")
    Courier.objects.bulk_create(
        Courier(name=f"小哥{i}", phone=factories.phone(50_000_000 + i), work_town=town)
        for i in range(2_000)
    )
    sender = factories.town_staff("nanqiao", town)
    broadcast = Broadcast.objects.create(
        title="高温预警", content="今天各站点提供防暑药品", town=town, created_by=sender
    )
    # Every third request is answered with the provider's flow-control error.
    gateway.otherwise = "ok"
    gateway.answers = ["ok", "ok", "throttle"] * 700
    with transaction.atomic():
        queued = notify_many(
            Courier.objects.in_town(town),
            "broadcast",
            {"title": broadcast.title, "content": broadcast.content},
            event="broadcast",
            about=broadcast,
            urgent=True,
        )
    assert queued == 2_000

    visitor = Client()
    # The gateway never times out here; a loaded machine must not make the worker give up
    # on a message the gateway accepted (and send it again).
    worker = _worker(gateway, timeout=10)
    statuses, during = [], 0
    while worker.poll() is None:
        statuses.append(visitor.get("/stations/").status_code)
        during += worker.poll() is None
        time.sleep(0.05)  # a visitor's pace, not a load test
    _, errors = worker.communicate(timeout=120)
    assert worker.returncode == 0, errors
    assert during >= 1  # pages were asked for while the worker was sending
    assert set(statuses) == {200}

    messages = Message.objects.filter(about_id=broadcast.pk, event="broadcast")
    sent = messages.filter(state=Message.State.SENT).count()
    waiting = messages.filter(state=Message.State.PENDING)
    assert sent == len(gateway.accepted) and sent > 0
    assert sent + waiting.count() == 2_000  # none failed, none lost
    assert not messages.filter(state=Message.State.FAILED).exists()
    assert all(w.last_error for w in waiting)
    assert len({phone for phone, _ in gateway.accepted}) == sent  # none sent twice
