"""deploy/: the env file lists every setting, gunicorn's config reads its environment, and
the nginx site accepts the largest import and overwrites X-Forwarded-For."""

from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def _variables_read_by_settings() -> set[str]:
    source = (ROOT / "fengxian" / "settings.py").read_text()
    return set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]*)"', source))


def test_env_example_lists_every_variable_the_settings_read():
    variables = _variables_read_by_settings()
    assert {"SECRET_KEY", "DATABASE_URL", "ADMIN_URL", "SMS_CONSOLE_OK"} <= variables
    listed = set(re.findall(r"^#?([A-Z][A-Z0-9_]*)=", (DEPLOY / "env.example").read_text(), re.M))
    assert variables - listed == set()


def test_gunicorn_config_reads_its_environment(monkeypatch):
    monkeypatch.setenv("GUNICORN_WORKERS", "3")
    monkeypatch.setenv("GUNICORN_BIND", "127.0.0.1:9001")
    monkeypatch.setenv("GUNICORN_ACCESSLOG", "")
    config = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert (config["workers"], config["bind"], config["accesslog"]) == (3, "127.0.0.1:9001", None)
    assert "%(M)s" in config["access_log_format"]  # request time
    assert "%(r)s" not in config["access_log_format"]  # no query strings (positions) in logs


def test_gunicorn_defaults_to_two_workers_per_core_plus_one(monkeypatch):
    import multiprocessing

    monkeypatch.delenv("GUNICORN_WORKERS", raising=False)
    config = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert config["workers"] == 2 * multiprocessing.cpu_count() + 1


def test_nginx_accepts_the_largest_spreadsheet_and_overwrites_the_client_address():
    site = (DEPLOY / "nginx" / "fengxian.conf").read_text()
    [size] = re.findall(r"^\s*client_max_body_size (\d+)m;", site, re.M)
    assert int(size) * 1024 * 1024 > settings.SHEET_IMPORT_MAX_BYTES
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in site
    assert "proxy_add_x_forwarded_for" not in site  # appending would let clients choose


def nginx_binary() -> str:
    """nginx, also from /usr/sbin when that is not on PATH; skipped locally without it, but a
    failure when REQUIRE_NGINX=1 or CI=true (`.ci/run` installs it), so CI cannot skip it."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if found:
        return found
    message = "nginx not found: apt-get install -y nginx-light"
    if os.environ.get("REQUIRE_NGINX") == "1" or os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def test_ci_installs_nginx_and_requires_its_test():
    ci = (ROOT / ".ci" / "run").read_text()
    packages_step = ci.split('step "system packages')[1].split("\nstep ")[0]
    # The step installs only when something is missing: a missing nginx counts too.
    condition = packages_step.split("\nif ")[1].split("; then")[0]
    install = packages_step.split("apt-get install")[1].split("\nfi")[0]
    assert "nginx" in condition
    assert "nginx-light" in install.split()
    assert re.search(r"^export REQUIRE_NGINX=1\b", ci, re.M)


@pytest.mark.parametrize("variable", ["REQUIRE_NGINX=1", "CI=true"])
def test_a_missing_nginx_fails_the_test_in_ci(monkeypatch, variable):
    name, value = variable.split("=")
    monkeypatch.setenv(name, value)
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    with pytest.raises(pytest.fail.Exception):
        nginx_binary()


def test_a_missing_nginx_is_skipped_outside_ci(monkeypatch):
    monkeypatch.delenv("REQUIRE_NGINX", raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    with pytest.raises(pytest.skip.Exception):
        nginx_binary()


def test_nginx_site_passes_nginx_t(tmp_path):
    nginx = nginx_binary()
    site = (DEPLOY / "nginx" / "fengxian.conf").read_text()
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    certificate = ["-subj", "/CN=portal.example.gov.cn", "-keyout", str(key), "-out", str(cert)]
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", *certificate],
        check=True,
        capture_output=True,
    )
    site = re.sub(r"/etc/letsencrypt/live/[^;]*/fullchain.pem", str(cert), site)
    site = re.sub(r"/etc/letsencrypt/live/[^;]*/privkey.pem", str(key), site)
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")  # its logs in the scratch folder
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n include /etc/nginx/mime.types;\n include {tmp_path}/site.conf;\n}}\n"
    )
    result = subprocess.run(
        [nginx, "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_nginx_sends_pages_and_marker_json_gzipped_with_a_breach_note():
    site = (DEPLOY / "nginx" / "fengxian.conf").read_text()
    tls = site.split("listen 443 ssl")[1]
    assert re.search(r"^\s*gzip on;", tls, re.M)  # text/html is always among gzip_types
    assert re.search(r"^\s*gzip_proxied any;", tls, re.M)
    [types] = re.findall(r"^\s*gzip_types ([^;]+);", tls, re.M)
    assert {"application/json", "text/calendar"} <= set(types.split())
    assert "text/html" not in types.split()  # listing it again only makes nginx -t warn
    assert "BREACH" in tls and "masks it with a fresh" in tls
