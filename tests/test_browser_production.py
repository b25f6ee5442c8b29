"""A courier's journey against the portal in production mode (issue 16): a separate server
process (gunicorn) started with DEBUG=False and the production settings, static files
collected and served by whitenoise (hashed, compressed), one-time codes only in the server
log. The 404 page is the Chinese mobile one with its stylesheet; a check-in whose cookies
expired before submitting gets 「页面已过期，请重新提交」, is resubmitted in one tap with what
was typed, and ends on 欢迎回家."""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser import PHONE, assert_fits_phone_width, screenshot

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 13; V2227A Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 "
    "MicroMessenger/8.0.47.2560(0x28002F35) NetType/WIFI Language/zh_CN"
)
SETUP = """
import datetime
from couriers.models import Town
from stations.models import Campaign, CheckinPoint
Campaign.objects.create(name="2026年小哥报到季", starts_on=datetime.date(2026, 1, 1),
                        ends_on=datetime.date(2026, 12, 31), is_current=True)
point = CheckinPoint.objects.create(name="南桥镇党群服务中心报到点",
                                    town=Town.objects.get(name="南桥镇"), address="解放东路100号")
print("TOKEN=" + point.token)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    """The portal as deployed: gunicorn, DEBUG=False, collectstatic, whitenoise."""
    if not Path("/usr/bin/chromium").exists() and os.environ.get("REQUIRE_BROWSER") != "1":
        pytest.skip("chromium not installed")
    folder = tmp_path_factory.mktemp("production")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "PYTEST_", "SECURE_", "SESSION_", "CSRF_"))
        and k not in {"DATABASE_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CACHE_URL"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="fengxian.settings",
        DEBUG="False",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        PUBLIC_BASE_URL=url,
        DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",
        CACHE_URL="locmemcache://",
        STATIC_ROOT=str(folder / "static"),
        MEDIA_ROOT=str(folder / "media"),
        PRIVATE_MEDIA_ROOT=str(folder / "private"),
        SMS_CONSOLE_OK="True",  # the code goes to the server log only, as with a gateway
        TASKS_BACKEND="django_tasks.backends.immediate.ImmediateBackend",
        # Plain HTTP on loopback stands in for the HTTPS proxy.
        SECURE_SSL_REDIRECT="False",
        SESSION_COOKIE_SECURE="False",
        CSRF_COOKIE_SECURE="False",
        LOG_LEVEL="INFO",
    )

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    manage("migrate", "--noinput")
    manage("collectstatic", "--noinput")
    token = re.search(r"TOKEN=(\S+)", manage("shell", "-c", SETUP)).group(1)
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "fengxian.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail(
                "the production server did not start: " + (folder / "server.log").read_text()
            )
        yield {"url": url, "token": token, "log": folder / "server.log"}
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


@pytest.fixture
def wechat_phone(browser):
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        user_agent=WECHAT_UA,
    )
    page = context.new_page()
    yield page
    context.close()


def _failed_requests(page) -> list[str]:
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.on(
        "response",
        lambda response: (
            failed.append(f"{response.status} {response.url}")
            if response.status >= 400 and response.request.resource_type != "document"
            else None
        ),
    )
    return failed


def test_a_missing_page_in_production_is_the_chinese_mobile_404(production, wechat_phone):
    page = wechat_phone
    failed = _failed_requests(page)
    response = page.goto(production["url"] + "/stations/9999/")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("页面不存在")
    assert "Not Found" not in page.content()
    # Laid out for the phone (a page without a viewport lays out 980 px wide) ...
    assert page.evaluate("document.documentElement.clientWidth") == PHONE["width"]
    assert_fits_phone_width(page)
    # ... and styled: the hashed stylesheet came from whitenoise, compressed and cached.
    href = page.locator("link[rel=stylesheet]").first.get_attribute("href")
    assert re.fullmatch(r"/static/css/portal\.[0-9a-f]{12}\.css", href), href
    css = page.request.get(production["url"] + href, headers={"Accept-Encoding": "gzip"})
    assert css.status == 200 and "max-age=315360000" in css.headers["cache-control"]
    assert failed == []
    screenshot(page, "production-404-phone")


def test_a_check_in_whose_cookies_expired_is_resubmitted_in_one_tap(production, wechat_phone):
    page = wechat_phone
    failed = _failed_requests(page)
    start = production["url"] + f"/checkin/{production['token']}/"
    page.goto(start)
    expect(page.locator("h1")).to_have_text("你好小哥，欢迎回家")
    page.get_by_label("姓名").fill("李小明")
    page.get_by_label("手机号码").fill("139 1234 5678")
    page.get_by_label("我已阅读并同意上面的《个人信息处理告知》").check()
    page.get_by_label("I做公益").check()
    # The form stayed open overnight: its cookies are gone.
    page.context.clear_cookies()
    with page.expect_navigation():
        page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("h1")).to_have_text("页面已过期，请重新提交")
    assert "DEBUG" not in page.content() and "CSRF" not in page.content()
    assert_fits_phone_width(page)
    screenshot(page, "production-csrf-expired-phone")
    with page.expect_navigation():
        page.get_by_role("button", name="重新提交").click()
    expect(page.locator("h1")).to_have_text("输入短信验证码")
    expect(page.locator("main")).to_contain_text("139****5678")
    # Production shows no code on the page; the (console) gateway wrote it to the log.
    assert not re.search(r"\b\d{6}\b", page.locator("main").inner_text())
    code = re.findall(r"验证码 (\d{6})", production["log"].read_text())[-1]
    page.get_by_label("短信验证码").fill(code)
    with page.expect_navigation():
        page.get_by_role("button", name="完成报到").click()
    expect(page.locator("h1")).to_have_text("欢迎回家，李小明！")
    assert_fits_phone_width(page)
    screenshot(page, "production-checkin-done-phone")
    assert failed == []
