"""/healthz: the proxy's and the monitor's view of the app and its database."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.test import override_settings

ROOT = Path(__file__).resolve().parent.parent
STRONG_KEY = "k" * 20 + "-not-a-real-secret-but-long-enough-for-the-check-0123456789"


def test_healthz_answers_ok_with_one_query_when_the_database_answers(
    db, anonymous, django_assert_num_queries
):
    with django_assert_num_queries(1):
        response = anonymous.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_healthz_neither_reads_nor_writes_a_signed_in_session(
    district_client, django_assert_num_queries
):
    sessions = Session.objects.count()
    # One query only: loading the session would be a second one.
    with django_assert_num_queries(1):
        response = district_client.get("/healthz")
    assert response.status_code == 200
    assert not response.cookies
    assert Session.objects.count() == sessions


def test_healthz_sets_no_cookie_for_a_new_visitor(db, anonymous):
    response = anonymous.get("/healthz")
    assert not response.cookies
    assert not Session.objects.exists()


def test_healthz_is_exempt_from_the_https_redirect(db):
    from django.conf import settings
    from django.test import Client

    with override_settings(SECURE_SSL_REDIRECT=True):
        client = Client()  # middleware reads the setting when the client's handler loads
        assert client.get("/").status_code == 301  # the redirect is on ...
        response = client.get("/healthz")
    assert response.status_code == 200  # ... but not for the probe
    assert settings.SECURE_REDIRECT_EXEMPT == [r"^healthz$"]


def _free_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


PROBE = """
import json, django
django.setup()
from django.test import Client
response = Client().get("/healthz")
print(json.dumps({"status": response.status_code, "body": response.content.decode(),
                  "cache": response.get("Cache-Control", "")}))
"""


def test_healthz_answers_503_without_secrets_when_the_database_is_unreachable():
    """A real production-configured process whose database server does not answer."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "SECURE_SSL_REDIRECT"}
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="fengxian.settings",
        DATABASE_URL=f"postgres://fengxian:s3cret-pw@127.0.0.1:{_free_port()}/fengxian",
        DEBUG="False",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="testserver",
        PUBLIC_BASE_URL="https://testserver",
        SMS_CONSOLE_OK="True",
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    # 503, not the HTTPS redirect production settings would give any other plain-HTTP URL.
    assert probe["status"] == 503
    assert json.loads(probe["body"]) == {"status": "error", "database": "unavailable"}
    assert "no-store" in probe["cache"]
    assert "health check: database unavailable" in result.stderr  # the reason is logged
    for secret in ("s3cret", "fengxian:", "127.0.0.1"):
        assert secret not in probe["body"]


@pytest.mark.parametrize("enabled", [False, True])
def test_benchmark_trivial_view_exists_only_when_switched_on(enabled):
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment.update(DJANGO_SETTINGS_MODULE="fengxian.settings", BENCH_TRIVIAL_VIEW=str(enabled))
    probe = (
        "import django; django.setup()\n"
        "from django.urls import resolve, Resolver404\n"
        "try:\n    resolve('/_bench/trivial'); print('mounted')\n"
        "except Resolver404:\n    print('absent')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ("mounted" if enabled else "absent")
