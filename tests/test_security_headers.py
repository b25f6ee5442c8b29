"""Security headers on public pages and the admin: the Content-Security-Policy (no inline
script), framing, sniffing, referrer, opener and permissions policies; HSTS and the HTTPS
redirect with production settings; `check --deploy`; and no CSP violation in a real browser."""

from __future__ import annotations

import datetime
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from activities.models import Activity, Story, VolunteerPost
from stations.checkin.flow import point_token
from stations.models import Campaign, CheckinPoint, SixI, Station
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
ADMIN = "/" + settings.ADMIN_URL


def public_data() -> dict:
    """A station, a check-in point in a current campaign, a volunteer post and a courier."""
    nanqiao = factories.town("南桥镇")
    today = timezone.localdate()
    Campaign.objects.create(
        name=f"{today.year}年小哥报到季",
        starts_on=today - datetime.timedelta(days=7),
        ends_on=today + datetime.timedelta(days=60),
        is_current=True,
    )
    station = Station.objects.create(
        town=nanqiao,
        name="南桥全天充电站",
        address="南桥镇测试路1号",
        latitude=30.918,
        longitude=121.474,
        open_24_hours=True,
    )
    point = CheckinPoint.objects.create(name="南桥报到点", town=nanqiao, address="解放东路1号")
    post = VolunteerPost.objects.create(
        title="南桥镇护学岗", category=SixI.SAFETY, town=nanqiao, capacity=3
    )
    courier = factories.courier(nanqiao, name="王小明", phone="13912345678")
    activity = Activity.objects.create(
        title="夏送清凉",
        kind=Activity.Kind.SUMMER,
        town=nanqiao,
        station=station,
        starts_at=timezone.now() + datetime.timedelta(days=3),
        ends_at=timezone.now() + datetime.timedelta(days=3, hours=2),
    )
    story = Story.objects.create(
        title="暴雨中的坚守",
        body="王师傅在暴雨中坚持送达每一件快递。",
        courier=courier,
        consent_given_at=timezone.now(),
        published_on=today,
    )
    return {
        "station": station,
        "point": point,
        "post": post,
        "courier": courier,
        "activity": activity,
        "story": story,
    }


def public_paths(data: dict) -> list[str]:
    return [
        "/",
        "/stations/",
        f"/stations/{data['station'].pk}/",
        f"/checkin/{point_token(data['point'])}/",
        "/posts/",
        "/activities/",
        f"/activities/{data['activity'].pk}/",
        "/partnerships/",
        "/stories/",
        f"/stories/{data['story'].pk}/",
    ]


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            parsed[words[0].lower()] = words[1:]
    return parsed


def assert_security_headers(response, path: str) -> None:
    assert response.status_code == 200, (path, response.status_code)
    csp_header = response.get("Content-Security-Policy", "")
    assert csp_header, f"{path}: no Content-Security-Policy"
    assert "Content-Security-Policy-Report-Only" not in response.headers
    csp = directives(csp_header)
    assert csp["default-src"] == ["'self'"], (path, csp_header)
    script = csp.get("script-src", csp["default-src"])
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, (path, csp_header)
    assert "*" not in script and "data:" not in script, (path, csp_header)
    assert csp["frame-ancestors"] == ["'none'"], (path, csp_header)
    assert csp["object-src"] == ["'none'"], (path, csp_header)
    assert csp["base-uri"] == ["'self'"], (path, csp_header)
    assert response["X-Frame-Options"] == "DENY", path
    assert response["X-Content-Type-Options"] == "nosniff", path
    assert response["Referrer-Policy"] in ("same-origin", "strict-origin-when-cross-origin"), path
    assert response["Cross-Origin-Opener-Policy"] == "same-origin", path
    permissions = {
        rule.split("=")[0].strip(): rule.split("=", 1)[1].strip()
        for rule in response["Permissions-Policy"].split(",")
    }
    assert permissions["geolocation"] == "(self)", path
    assert permissions["camera"] == "()" and permissions["microphone"] == "()", path


@pytest.mark.django_db
def test_public_pages_send_the_security_headers(anonymous):
    data = public_data()
    for path in public_paths(data):
        assert_security_headers(anonymous.get(path), path)


@pytest.mark.django_db
def test_the_courier_pages_send_them_too(anonymous, sms_outbox):
    data = public_data()
    assert_security_headers(anonymous.get("/me/signin/"), "/me/signin/")
    assert_security_headers(anonymous.get("/leaderboard/"), "/leaderboard/")
    assert_security_headers(anonymous.get(f"/posts/{data['post'].pk}/"), "post page")


@pytest.mark.django_db
def test_error_responses_send_them_too(anonymous):
    response = anonymous.get("/stations/999999/")
    assert response.status_code == 404
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_admin_pages_send_the_security_headers(anonymous, district_client):
    public_data()
    assert_security_headers(anonymous.get(ADMIN + "login/"), "admin login")
    for path in (
        ADMIN,
        ADMIN + "couriers/courier/",
        ADMIN + "couriers/courier/add/",
        ADMIN + "stations/station/",
    ):
        assert_security_headers(district_client.get(path), path)


@pytest.mark.django_db
def test_development_settings_send_no_hsts_and_do_not_redirect():
    # The baseline for the next test: the test environment itself is plain HTTP.
    response = Client().get("/")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.django_db
def test_production_settings_redirect_to_https_and_send_hsts(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    # A fresh client builds its middleware now, and SecurityMiddleware reads these settings
    # when it is built.
    client = Client()

    plain = client.get("/stations/?town=1")
    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/stations/?town=1"

    secure = client.get("/", secure=True)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"

    # Behind the TLS proxy: the proxy says the request came over HTTPS.
    proxied = client.get("/", HTTP_X_FORWARDED_PROTO="https")
    assert proxied.status_code == 200
    assert "Strict-Transport-Security" in proxied.headers

    admin = client.get(ADMIN + "login/")
    assert admin.status_code == 301 and admin["Location"].startswith("https://")


def production_env() -> dict[str, str]:
    """The environment of `.ci/run`'s deploy check; SQLite unless DATABASE_URL is set."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST_", "SECURE_", "SESSION_", "CSRF_"))
    }
    env.update(
        DEBUG="False",
        SECRET_KEY="ci-" + secrets.token_urlsafe(48),
        ALLOWED_HOSTS="portal.fengxian.example",
        PUBLIC_BASE_URL="https://portal.fengxian.example",
        SMS_BACKEND="couriers.messaging.backends.HttpBackend",
        SMS_HTTP_URL="https://sms-gateway.example/send",
    )
    return env


def test_check_deploy_passes_with_production_settings():
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
        ],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_would_catch_a_weakened_setting():
    # The check above can fail: the same run with HSTS switched off reports it.
    env = {**production_env(), "SECURE_HSTS_SECONDS": "0"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr


# --- in a real browser: nothing the policy blocks -------------------------------------------

# Recorded in every document before its own scripts run (an init script is not subject to
# the page's policy); read back after each page.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(
    `${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`
  );
});
"""


class CspViolations:
    def __init__(self, page):
        self.found: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._on_console)

    def _on_console(self, message):
        text = message.text
        if "Content Security Policy" in text or text.startswith("Refused to"):
            self.found.append(text)

    def collect(self, page, label: str) -> list[str]:
        page.wait_for_load_state("load")
        page.wait_for_timeout(150)  # late events (scripts that run after load)
        events = page.evaluate("window.__cspViolations || []")
        found = [f"{label}: {v}" for v in [*self.found, *events]]
        self.found.clear()
        return found


@pytest.mark.browser
def test_no_page_violates_the_policy_in_a_browser(live_db, phone_page):
    data = public_data()
    staff = factories.district_staff()
    staff.set_password("Secure-test-password-2025")
    staff.save()
    page = phone_page
    # Map tiles cannot load here: fail them quickly (that is not a policy violation).
    tile_host = urlparse(settings.MAP_TILE_URL).netloc
    if tile_host:
        page.route(re.compile(rf"^https?://{re.escape(tile_host)}/"), lambda r: r.abort())
    watch = CspViolations(page)
    violations: list[str] = []
    base = live_db.url
    pages = [
        *public_paths(data),
        "/stations/map/",
        f"/posts/{data['post'].pk}/",
        "/leaderboard/",
        "/me/signin/",
        ADMIN + "login/",
    ]
    for path in pages:
        response = page.goto(base + path)
        assert response.status == 200, path
        assert response.headers.get("content-security-policy"), path
        violations += watch.collect(page, path)

    page.fill("#id_username", staff.username)
    page.fill("#id_password", "Secure-test-password-2025")
    with page.expect_navigation():
        page.click("input[type=submit]")
    assert urlparse(page.url).path == ADMIN, page.url
    violations += watch.collect(page, "admin index")
    for path in (
        ADMIN + "couriers/courier/",
        ADMIN + f"couriers/courier/{data['courier'].pk}/change/",
        ADMIN + "couriers/courier/add/",
        ADMIN + "stations/station/",
    ):
        response = page.goto(base + path)
        assert response.status == 200, path
        violations += watch.collect(page, path)
    assert violations == []

    # The watch itself works: an inline script added to the page is refused and reported.
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__ran = 1'; document.body.appendChild(s); }"
    )
    assert page.evaluate("window.__ran") is None
    caught = watch.collect(page, "self-check")
    assert caught and any("script-src" in v for v in caught), caught
