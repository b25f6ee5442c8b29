"""Public form rate limits: one abusive client gets HTTP 429 with a Chinese page and
Retry-After while everyone else carries on; dropping or forging cookies gains nothing; staff and
GETs are not limited; windows expire; and the counts hold across real processes on PostgreSQL.
(Rotating forged addresses and cookies together: tests/test_client_identity.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import F, Sum
from django.test import Client
from django.test.utils import CaptureQueriesContext

from couriers.models import Courier, RateCounter
from couriers.security.ratelimit import DEVICE_COOKIE, sign_device
from stations.models import Station, StatusReport
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
ADMIN = "/" + settings.ADMIN_URL
PERIOD = 3600
DEVICE_LIMIT = 3
ADDRESS_LIMIT = 6


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.PUBLIC_POST_LIMITS = {
        "device": (DEVICE_LIMIT, PERIOD),
        "address": (ADDRESS_LIMIT, PERIOD),
    }


def browser(address: str, device: str | None = None) -> Client:
    """A phone at `address`, with its own device cookie (as the server issues them) unless
    `device` is ""."""
    # Browsers send the page's origin with a form (the station report checks it).
    client = Client(REMOTE_ADDR=address, HTTP_ORIGIN="http://testserver")
    if device != "":
        client.cookies[DEVICE_COOKIE] = sign_device(device or os.urandom(16).hex())
    return client


def ask_code(client: Client):
    """Ask for a sign-in code with a malformed phone: the form answers with its error and
    writes and sends nothing, so it can be asked again and again."""
    return client.post("/me/signin/", {"phone": "12345"})


def answered(response) -> bool:
    return response.status_code == 200 and "手机号码应为 11 位" in response.content.decode()


def assert_rate_limited(response) -> None:
    assert response.status_code == 429
    html = response.content.decode()
    assert "操作太频繁了" in html and "分钟后再试" in html
    retry = int(response["Retry-After"])
    assert 0 < retry <= PERIOD


@pytest.mark.django_db
def test_one_client_past_its_limit_gets_429_and_others_carry_on(sms_outbox):
    abuser = browser("10.0.0.1")
    for _ in range(DEVICE_LIMIT):
        assert answered(ask_code(abuser))
    assert_rate_limited(ask_code(abuser))
    assert_rate_limited(ask_code(abuser))  # and stays limited

    neighbour = browser("10.0.0.2")
    for _ in range(DEVICE_LIMIT):
        assert answered(ask_code(neighbour))
    assert sms_outbox == []


@pytest.mark.django_db
def test_a_station_status_report_is_limited_too(nanqiao_town):
    station = Station.objects.create(
        town=nanqiao_town, name="南桥驿站", address="测试路", latitude=30.9, longitude=121.4
    )
    url = f"/stations/{station.pk}/report/"
    abuser = browser("10.0.0.1")
    for _ in range(DEVICE_LIMIT):
        # No kind chosen: the page says so and records nothing.
        response = abuser.post(url, {"kind": ""})
        assert response.status_code == 302 and response["Location"] == f"/stations/{station.pk}/"
    assert_rate_limited(abuser.post(url, {"kind": StatusReport.Kind.values[0]}))
    assert not StatusReport.objects.exists()  # the refused request did nothing

    other = browser("10.0.0.2")
    response = other.post(url, {"kind": StatusReport.Kind.values[0]})
    assert response.status_code == 302
    assert StatusReport.objects.count() == 1


@pytest.mark.django_db
def test_a_client_that_drops_its_cookies_is_limited_by_address():
    # No cookie at all: counted by address, with the per-device allowance.
    cookieless = browser("10.0.0.3", device="")
    for _ in range(DEVICE_LIMIT):
        assert answered(ask_code(cookieless))
    assert_rate_limited(ask_code(cookieless))


@pytest.mark.django_db
def test_a_client_with_a_new_issued_cookie_every_time_is_limited_by_address():
    for _ in range(ADDRESS_LIMIT):
        assert answered(ask_code(browser("10.0.0.4")))
    assert_rate_limited(ask_code(browser("10.0.0.4")))
    assert answered(ask_code(browser("10.0.0.5")))  # another network is not


@pytest.mark.django_db
def test_a_client_that_makes_up_a_new_cookie_every_time_counts_as_cookieless():
    def forging() -> Client:
        client = browser("10.0.0.14", device="")
        client.cookies[DEVICE_COOKIE] = os.urandom(16).hex()  # not signed by the server
        return client

    for _ in range(DEVICE_LIMIT):
        assert answered(ask_code(forging()))
    assert_rate_limited(ask_code(forging()))


@pytest.mark.django_db
def test_the_address_behind_the_proxy_is_the_last_forwarded_hop(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]

    def via_proxy(client_address: str, forged: str = "") -> Client:
        hops = f"{forged}, {client_address}" if forged else client_address
        client = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=hops)
        client.cookies[DEVICE_COOKIE] = sign_device(os.urandom(16).hex())
        return client

    for n in range(ADDRESS_LIMIT):
        assert answered(ask_code(via_proxy("10.0.0.6", forged=f"8.8.8.{n}")))
    assert_rate_limited(ask_code(via_proxy("10.0.0.6", forged="1.2.3.4")))
    # Everyone else behind the same proxy is fine.
    assert answered(ask_code(via_proxy("10.0.0.7")))


@pytest.mark.django_db
def test_get_requests_are_not_limited():
    client = browser("10.0.0.8")
    for _ in range(ADDRESS_LIMIT * 2):
        assert client.get("/me/signin/").status_code == 200
        assert client.get("/stations/").status_code == 200
    assert answered(ask_code(client))


@pytest.mark.django_db
def test_staff_are_never_limited(district_client, nanqiao_town):
    district_client.defaults["REMOTE_ADDR"] = "10.0.0.9"
    url = ADMIN + "couriers/courier/add/"
    for n in range(ADDRESS_LIMIT * 2):
        response = district_client.post(
            url,
            {
                "name": f"测试{n}",
                "phone": f"139000001{n:02d}",
                "work_town": nanqiao_town.pk,
                "political_status": "masses",
                "employment_status": "active",
                # The 入党进程 inline, left empty.
                "party_stages-TOTAL_FORMS": 0,
                "party_stages-INITIAL_FORMS": 0,
            },
        )
        assert response.status_code == 302
    assert Courier.objects.count() == ADDRESS_LIMIT * 2
    # Nor on the public forms, from the same office address.
    for _ in range(ADDRESS_LIMIT * 2):
        assert answered(ask_code(district_client))


@pytest.mark.django_db
def test_the_admin_login_is_left_to_the_login_throttle():
    client = browser("10.0.0.10")
    for _ in range(DEVICE_LIMIT * 2):
        response = client.post(ADMIN + "login/", {"username": "", "password": ""})
        assert response.status_code == 200


@pytest.mark.django_db
def test_the_limit_lifts_when_the_window_is_over():
    client = browser("10.0.0.11")
    for _ in range(DEVICE_LIMIT):
        assert answered(ask_code(client))
    assert_rate_limited(ask_code(client))
    # The window passes.
    assert RateCounter.objects.update(window=F("window") - PERIOD) > 0
    assert answered(ask_code(client))


@pytest.mark.django_db
def test_a_public_post_costs_one_counter_statement_per_limit_and_a_get_none():
    client = browser("10.0.0.13")

    def counter_writes(queries) -> int:
        table = RateCounter._meta.db_table
        return sum(1 for q in queries if q["sql"].startswith("INSERT") and table in q["sql"])

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/me/signin/").status_code == 200
    assert counter_writes(queries.captured_queries) == 0
    with CaptureQueriesContext(connection) as queries:
        assert answered(ask_code(client))
    assert counter_writes(queries.captured_queries) == 2  # device and address, one upsert each


# --- across processes -------------------------------------------------------------------------

HITTER = """
import os, time
from pathlib import Path
from couriers.security.ratelimit import hit
folder = Path(os.environ["RATE_TEST_DIR"])
(folder / f"ready-{os.getpid()}").touch()
while not (folder / "go").exists():
    time.sleep(0.01)
for _ in range(int(os.environ["RATE_TEST_HITS"])):
    hit(os.environ["RATE_TEST_KEY"], 10**9)
"""


def test_hits_from_several_processes_at_once_are_all_counted(committed_db, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's in-memory test database is not visible to other processes")
    processes, hits, key = 3, 150, "test-concurrent-key"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
        "RATE_TEST_DIR": str(tmp_path),
        "RATE_TEST_HITS": str(hits),
        "RATE_TEST_KEY": key,
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    running = [
        subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-c", HITTER],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    try:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("ready-*"))) < processes:
            assert time.monotonic() < deadline, "the processes did not start"
            assert all(p.poll() is None for p in running), [p.communicate() for p in running]
            time.sleep(0.05)
        (tmp_path / "go").touch()  # all at once
        for process in running:
            _out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
    finally:
        for process in running:
            if process.poll() is None:
                process.kill()
    counters = RateCounter.objects.filter(key=key)
    assert counters.count() == 1
    assert counters.aggregate(total=Sum("hits"))["total"] == processes * hits


@pytest.mark.django_db
def test_a_courier_signed_in_is_limited_like_anyone(nanqiao_town):
    # Couriers are not staff: their POSTs count like any visitor's.
    courier = factories.courier(nanqiao_town, phone="13912345678")
    client = browser("10.0.0.12")
    session = client.session
    session["courier_id"] = courier.pk
    session.save()
    for _ in range(DEVICE_LIMIT):
        assert client.post("/me/leaderboard/", {"show": "1"}).status_code == 302
    assert_rate_limited(client.post("/me/leaderboard/", {"show": "0"}))
    courier.refresh_from_db()
    assert courier.show_on_leaderboard is True
