"""No full phone or ID number in any log: gunicorn's and nginx's access logs keep neither
query strings nor referers (admin searches and links carry numbers there), and every line the
project's own loggers write has its numbers masked, the development SMS backend's included."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from couriers.messaging.backends import ConsoleBackend
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
PHONE = "13900001111"
OTHER_PHONE = "13912345678"
ID_NUMBER = factories.id_number("19900521", 123)
FULL_NUMBERS = re.compile(r"(?<!\d)(1[3-9]\d{9}|\d{17}[\dXx])(?!\d)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_gunicorns_access_log_keeps_no_query_string_referer_or_number(tmp_path):
    port, log = _free_port(), tmp_path / "access.log"
    env = {
        **os.environ,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_ACCESSLOG": str(log),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DEBUG": "True",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(DEPLOY / "gunicorn.conf.py"), "fengxian.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "gunicorn did not start"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/stations/?q={PHONE}&id={ID_NUMBER}",
            headers={
                "Referer": f"https://portal.example.gov.cn/admin/couriers/courier/?q={OTHER_PHONE}",
                "X-Forwarded-For": "203.0.113.5",
                "User-Agent": "log-test",
            },
        )
        # Any answer is logged (the scratch database has no tables).
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(request, timeout=30).close()
        deadline = time.monotonic() + 10
        while "/stations/" not in (log.read_text() if log.exists() else ""):
            assert time.monotonic() < deadline, "no access log line"
            time.sleep(0.1)
    finally:
        server.terminate()
        server.communicate(timeout=30)
    line = log.read_text()
    assert '"GET /stations/ HTTP/1.1"' in line and "203.0.113.5" in line and "log-test" in line
    assert PHONE not in line and OTHER_PHONE not in line and ID_NUMBER not in line
    assert "?" not in line and "q=" not in line  # no query string, the referer's neither
    assert "portal.example.gov.cn" not in line and not FULL_NUMBERS.search(line)


def _server_blocks(site: str) -> list[str]:
    blocks, depth, start = [], 0, None
    for match in re.finditer(r"^\s*server\s*\{|\{|\}", site, re.M):
        token = match.group().strip()
        if token.startswith("server") and depth == 0:
            start, depth = match.start(), 1
        elif token == "{" and start is not None:
            depth += 1
        elif token == "}" and start is not None:
            depth -= 1
            if depth == 0:
                blocks.append(site[start : match.end()])
                start = None
    return blocks


def test_nginx_logs_requests_without_query_strings_or_referers():
    site = (DEPLOY / "nginx" / "fengxian.conf").read_text()
    lines = [line.split("#")[0] for line in site.splitlines()]
    code = "\n".join(lines)
    formats = dict(re.findall(r"^\s*log_format\s+(\S+)\s+(.*?);", code, re.M | re.S))
    assert formats, "the site defines its own log format"
    for variables in formats.values():
        for leaky in ("$request ", '$request"', "$request_uri", "$args", "$query_string"):
            assert leaky not in variables + " "
        assert "$http_referer" not in variables and "$arg_" not in variables
    blocks = _server_blocks(code)
    assert len(blocks) == 2
    for block in blocks:
        # Each server logs with a format of ours (else nginx.conf's "combined" applies).
        server_level = re.sub(r"location[^{]*\{[^{}]*(\{[^{}]*\}[^{}]*)*\}", "", block)
        logs = re.findall(r"^\s*access_log\s+([^;]+);", server_level, re.M)
        assert logs, block[:200]
        for target in logs:
            assert target == "off" or target.split()[1] in formats, target


def test_the_projects_log_lines_have_their_numbers_masked():
    script = f"""
import logging
import django

django.setup()
logging.getLogger("couriers.anything").warning("找到 %s，身份证 %s", "{PHONE}", "{ID_NUMBER}")
logging.getLogger("django.request").warning("Not Found: /admin/?q={OTHER_PHONE}")
logging.getLogger("django.server").info('"%s" %s %s', "GET /?q={PHONE} HTTP/1.1", 200, 5)
try:
    raise ValueError("bad phone {OTHER_PHONE}")
except ValueError:
    logging.getLogger("stations").exception("failed for {PHONE}")
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "fengxian.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    written = result.stderr
    assert "找到 139****1111，身份证 310" in written
    assert "Not Found: /admin/?q=139****5678" in written
    assert "GET /?q=139****1111" in written and "ValueError: bad phone 139****5678" in written
    assert not FULL_NUMBERS.search(written), written


def test_the_development_sms_backend_logs_no_full_number(caplog):
    with caplog.at_level(logging.WARNING, logger="couriers.messaging.sms"):
        ConsoleBackend().send(PHONE, "【奉贤快递小哥】验证码 123456，10 分钟内有效。")
    assert "139****1111" in caplog.text and "验证码 123456" in caplog.text  # the code: development
    assert PHONE not in caplog.text
