"""Who the client is, for every limit and log: its address (X-Forwarded-For counts only when
the connection comes from a configured proxy, TRUSTED_PROXIES) and its device (the fx_device
cookie counts only when the server signed it). A client rotating both still hits the public
POST limits, the SMS limit, the station report limits and the staff login lock-out."""

from __future__ import annotations

import os

import pytest
from axes.helpers import get_client_ip_address
from django.conf import settings
from django.test import Client, RequestFactory

from couriers.messaging import otp
from couriers.security.ratelimit import DEVICE_COOKIE, client_address, issued_device, sign_device
from stations.models import Station, StatusReport
from tests import factories

pytestmark = pytest.mark.django_db

ADMIN = "/" + settings.ADMIN_URL
ATTACKER = "203.0.113.66"
PROXY = "127.0.0.1"


def address_of(remote: str, forwarded: str | None = None) -> str:
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **headers))


class Rotating:
    """A client that sends a new X-Forwarded-For and a new made-up device cookie with every
    request, straight from `remote` (no proxy) unless told otherwise."""

    def __init__(self, remote: str = ATTACKER):
        self.remote, self.n = remote, 0

    def client(self) -> Client:
        self.n += 1
        client = Client(
            REMOTE_ADDR=self.remote,
            HTTP_X_FORWARDED_FOR=f"198.51.100.{self.n % 250 + 1}",
            HTTP_ORIGIN="http://testserver",
        )
        client.cookies[DEVICE_COOKIE] = os.urandom(16).hex()
        return client


@pytest.fixture
def generous_post_limits(settings):
    """Public POST limits out of the way, to reach the limit a test is about."""
    settings.PUBLIC_POST_LIMITS = {"device": (10_000, 600), "address": (10_000, 600)}


# --- the address -----------------------------------------------------------------------------


def test_without_trusted_proxies_x_forwarded_for_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert address_of(ATTACKER, "1.2.3.4") == ATTACKER
    assert address_of(ATTACKER, f"1.2.3.4, {PROXY}") == ATTACKER
    assert address_of(PROXY, "1.2.3.4") == PROXY


def test_behind_trusted_proxies_the_client_is_the_first_untrusted_hop_from_the_right(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1", "::1", "10.0.0.0/8"]
    assert address_of(PROXY, ATTACKER) == ATTACKER
    # What the client wrote itself is left of the hop our proxy saw.
    assert address_of(PROXY, f"6.6.6.6, {ATTACKER}") == ATTACKER
    # Through two of our proxies (10.x in front of the local nginx).
    assert address_of(PROXY, f"6.6.6.6, {ATTACKER}, 10.1.2.3") == ATTACKER
    assert address_of("::1", "2001:db8::7") == "2001:db8::7"
    # Everything is ours: the farthest of our proxies is the client (a monitor, say).
    assert address_of(PROXY, "10.0.0.5") == "10.0.0.5"
    # No header, or junk where the client should be: the nearest address known.
    assert address_of(PROXY) == PROXY
    assert address_of(PROXY, "not-an-address") == PROXY
    assert address_of(PROXY, f"{ATTACKER}, junk") == PROXY
    # A client that is not our proxy cannot speak for anyone.
    assert address_of(ATTACKER, "10.0.0.5") == ATTACKER


def test_django_axes_takes_the_same_address(settings):
    settings.TRUSTED_PROXIES = []
    request = RequestFactory().get("/", REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert get_client_ip_address(request) == ATTACKER
    # Were the callable ever dropped, axes itself would read REMOTE_ADDR only.
    assert tuple(settings.AXES_IPWARE_META_PRECEDENCE_ORDER) == ("REMOTE_ADDR",)


def test_a_malformed_trusted_proxies_setting_is_refused_at_start(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "fengxian.settings", "TRUSTED_PROXIES": "x"},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "TRUSTED_PROXIES" in result.stderr


# --- the device ------------------------------------------------------------------------------


def test_only_a_device_cookie_the_server_signed_counts():
    token = os.urandom(16).hex()
    factory = RequestFactory()

    def device(cookie: str) -> str:
        request = factory.get("/")
        request.COOKIES[DEVICE_COOKIE] = cookie
        return issued_device(request)

    assert device(sign_device(token)) == token
    assert device(token) == ""  # unsigned: made up by the client
    signed = sign_device(token)
    assert device(signed[:-1] + ("y" if signed[-1] == "x" else "x")) == ""  # tampered
    assert device(sign_device("short")) == ""  # not a token of ours


def test_the_device_cookie_a_station_page_sets_is_signed(anonymous, nanqiao_town):
    station = Station.objects.create(
        town=nanqiao_town, name="南桥驿站", address="测试路", latitude=30.9, longitude=121.4
    )
    anonymous.get(f"/stations/{station.pk}/scan/")
    cookie = anonymous.cookies[DEVICE_COOKIE]
    request = RequestFactory().get("/")
    request.COOKIES[DEVICE_COOKIE] = cookie.value
    assert issued_device(request) and issued_device(request) != cookie.value
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


# --- rotating addresses and cookies gain nothing ---------------------------------------------


def test_rotating_forwarded_for_and_cookies_still_meets_the_public_post_limit(settings):
    settings.PUBLIC_POST_LIMITS = {"device": (3, 3600), "address": (100, 3600)}
    attacker = Rotating()
    for _ in range(3):
        # A malformed phone: the form answers with its error and writes nothing.
        assert attacker.client().post("/me/signin/", {"phone": "12345"}).status_code == 200
    refused = attacker.client().post("/me/signin/", {"phone": "12345"})
    assert refused.status_code == 429 and "操作太频繁了" in refused.content.decode()
    # Someone else is not affected.
    assert Client(REMOTE_ADDR="203.0.113.67").post("/me/signin/", {}).status_code == 200


def test_rotating_forwarded_for_and_cookies_still_meets_the_sms_limit(
    generous_post_limits, nanqiao_town, sms_outbox
):
    phones = [factories.courier(nanqiao_town).phone for _ in range(otp.PER_ADDRESS_PER_HOUR + 1)]
    attacker = Rotating()
    for phone in phones[:-1]:
        attacker.client().post("/me/signin/", {"phone": phone})
    assert len(sms_outbox) == otp.PER_ADDRESS_PER_HOUR
    refused = attacker.client().post("/me/signin/", {"phone": phones[-1]})
    assert "当前网络获取验证码次数太多" in refused.content.decode()
    assert len(sms_outbox) == otp.PER_ADDRESS_PER_HOUR


def test_rotating_forwarded_for_and_cookies_still_meets_the_station_report_limits(
    generous_post_limits, nanqiao_town
):
    station = Station.objects.create(
        town=nanqiao_town, name="南桥驿站", address="测试路", latitude=30.9, longitude=121.4
    )
    url = f"/stations/{station.pk}/report/"
    attacker = Rotating()
    assert attacker.client().post(url, {"kind": "no_water"}).status_code == 302
    # Limits are per kind (a correction to another kind is allowed): the same kind again,
    # from a "new" address and cookie, still counts once.
    again = attacker.client().post(url, {"kind": "no_water"}, follow=True)
    assert "你刚刚已报告过“没水了”" in again.content.decode()
    assert StatusReport.objects.count() == 1


def test_rotating_forwarded_for_still_meets_the_staff_login_lockout(nanqiao_town):
    staff = factories.town_staff("nanqiao", nanqiao_town)
    attacker = Rotating()
    for n in range(1, settings.AXES_FAILURE_LIMIT + 1):
        response = attacker.client().post(
            ADMIN + "login/", {"username": staff.username, "password": f"guess-{n}"}
        )
    assert response.status_code == 429 and "登录已暂停" in response.content.decode()
    right = attacker.client().post(
        ADMIN + "login/", {"username": staff.username, "password": "pw-for-tests-only"}
    )
    assert right.status_code == 429
