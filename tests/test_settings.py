"""Production settings: refuse to start without secrets; pass Django's deploy checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STRONG_KEY = "k" * 20 + "-not-a-real-secret-but-long-enough-for-the-check-0123456789"


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "DEBUG",
            "DJANGO_SETTINGS_MODULE",
            # set in-process by the browser harness; never part of a deployment
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", DEBUG="False", ALLOWED_HOSTS="portal.example")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_a_short_secret_key():
    result = _manage("check", DEBUG="False", ALLOWED_HOSTS="portal.example", SECRET_KEY="short")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = _manage("check", DEBUG="False", SECRET_KEY=STRONG_KEY)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_deploy_check_passes_with_a_production_environment():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SMS_BACKEND="couriers.messaging.backends.HttpBackend",
        SMS_HTTP_URL="https://sms-gateway.example/send",
        DEBUG="False",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="portal.example",
        PUBLIC_BASE_URL="https://portal.example",
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_production_refuses_to_print_codes_to_the_console():
    result = _manage(
        "check",
        DEBUG="False",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="portal.example",
        PUBLIC_BASE_URL="https://portal.example",
    )
    assert result.returncode != 0
    assert "SMS_BACKEND" in result.stderr


def test_bad_boolean_fails_loudly():
    result = _manage("check", DEBUG="maybe")
    assert result.returncode != 0


@pytest.mark.parametrize("value", ["/admin/", "admin"])
def test_admin_url_must_be_a_relative_path_with_trailing_slash(value):
    result = _manage("check", ADMIN_URL=value)
    assert result.returncode != 0
    assert "ADMIN_URL" in result.stderr


def test_settings_language_and_time(settings):
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True
