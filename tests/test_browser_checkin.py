"""End to end in a real browser at phone width: a courier scans a check-in point's QR code,
fills the form, proves their phone with the SMS code and lands on 欢迎回家 and 我的; and the
ways it refuses (a wrong code, a tampered QR code)."""

from __future__ import annotations

import datetime
import re
from urllib.parse import urlparse

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from couriers.models import Courier
from stations.checkin.flow import point_token
from stations.models import Campaign, CheckIn, CheckinPoint, Station
from tests import factories
from tests.browser import assert_fits_phone_width, screenshot

pytestmark = pytest.mark.browser

NAME = "李小明"
TYPED_PHONE = "139 1234 5678"
PHONE = "13912345678"
POINT_NAME = "南桥镇党群服务中心报到点"


class ConsoleErrors:
    """Every console error and uncaught exception of a page, across its navigations.

    Nothing is excused: the site has an icon now, and these pages load no map tiles.
    """

    def __init__(self, page):
        self.console: list[str] = []
        self.page_errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def _on_console(self, message):
        if message.type == "error":
            url = (message.location or {}).get("url", "")
            self.console.append(f"{message.text} ({url})")

    def assert_none(self):
        assert self.page_errors == [], self.page_errors
        assert self.console == [], self.console


def _campaign_and_point() -> tuple[Campaign, CheckinPoint]:
    today = timezone.localdate()
    campaign = Campaign.objects.create(
        name=f"{today.year}年小哥报到季",
        starts_on=today - datetime.timedelta(days=7),
        ends_on=today + datetime.timedelta(days=60),
        is_current=True,
    )
    nanqiao = factories.town("南桥镇")
    point = CheckinPoint.objects.create(
        name=POINT_NAME, town=nanqiao, address="南桥镇解放东路100号"
    )
    # An open station in the point's town, for "附近开放的站点" on the welcome page.
    Station.objects.create(
        town=nanqiao,
        name="南桥全天充电站",
        address="南桥镇测试路1号",
        latitude=30.918,
        longitude=121.474,
        open_24_hours=True,
    )
    return campaign, point


def _last_code(outbox) -> str:
    assert outbox, "no text message was sent"
    phone, message = outbox[-1]
    assert phone == PHONE
    found = re.search(r"验证码 (\d{6})", message)
    assert found, message
    return found.group(1)


def _fill_start_form(page) -> None:
    page.get_by_label("姓名").fill(NAME)
    page.get_by_label("手机号码").fill(TYPED_PHONE)
    page.get_by_label("快递品牌").select_option(label="中通")
    page.get_by_label("工作街镇").select_option(label="西渡街道")
    page.get_by_label("政治面貌（可不填）").select_option(label="中共党员")
    page.get_by_label("我单独同意平台处理我的政治面貌").check()
    page.get_by_label("我已阅读并同意上面的《个人信息处理告知》").check()
    page.get_by_label("I看奉贤").check()
    page.get_by_label("I做公益").check()


def test_courier_checks_in_at_a_point_on_a_phone(live_db, phone_page, sms_outbox):
    campaign, point = _campaign_and_point()
    factories.brand("中通")
    page = phone_page
    errors = ConsoleErrors(page)
    start_url = live_db.url + f"/checkin/{point_token(point)}/"

    # 1. Scan: the form, with the point's name.
    page.goto(start_url)
    expect(page.locator("h1")).to_have_text("你好小哥，欢迎回家")
    expect(page.locator(".hero")).to_contain_text(campaign.name)
    expect(page.locator(".card h2")).to_have_text(POINT_NAME)
    # The point's town is preselected as the work town.
    expect(page.get_by_label("工作街镇").locator("option:checked")).to_have_text("南桥镇")
    _fill_start_form(page)
    expect(page.get_by_label("I看奉贤")).to_be_checked()
    expect(page.get_by_label("I学理论")).not_to_be_checked()
    assert_fits_phone_width(page)
    screenshot(page, "checkin-start-phone")

    # 2. Ask for the code.
    with page.expect_navigation():
        page.get_by_role("button", name="获取验证码").click()
    assert urlparse(page.url).path == f"/checkin/{point_token(point)}/verify/"
    expect(page.locator("h1")).to_have_text("输入短信验证码")
    # The phone, typed with spaces, was normalised and is shown masked.
    expect(page.locator("main")).to_contain_text("139****5678")
    assert len(sms_outbox) == 1
    code = _last_code(sms_outbox)
    assert not CheckIn.objects.exists()  # nothing is written before the phone is proven
    page.get_by_label("短信验证码").fill(code)
    assert_fits_phone_width(page)
    screenshot(page, "checkin-verify-phone")

    # 3. Prove the phone: 欢迎回家.
    with page.expect_navigation():
        page.get_by_role("button", name="完成报到").click()
    assert urlparse(page.url).path == f"/checkin/{point_token(point)}/done/"
    expect(page.locator("h1")).to_have_text(f"欢迎回家，{NAME}！")
    expect(page.locator(".welcome")).to_contain_text(POINT_NAME)
    expect(page.locator("main")).to_contain_text("南桥全天充电站")
    assert_fits_phone_width(page)
    screenshot(page, "checkin-done-phone")

    checkin = CheckIn.objects.select_related("courier").get()
    assert checkin.point == point and checkin.campaign == campaign
    assert checkin.interests == ["see", "charity"]
    assert checkin.privacy_consent_at is not None
    assert checkin.sensitive_consent_at is not None
    courier = checkin.courier
    assert courier.name == NAME and courier.phone == PHONE
    assert courier.political_status == Courier.PoliticalStatus.MEMBER
    assert courier.work_town.name == "西渡街道"
    assert courier.brand.name == "中通"

    # 4. 我的: the registration, its point and the two interests.
    page.get_by_role("link", name="我的").first.click()
    page.wait_for_url("**/me/")
    expect(page.locator("h1")).to_have_text(NAME)
    expect(page.locator(".meta")).to_contain_text("139****5678")
    expect(page.locator(".meta")).to_contain_text("西渡街道")
    registration = page.locator(".card", has_text="我的报到").locator("li")
    expect(registration).to_have_count(1)
    expect(registration).to_contain_text(campaign.name)
    expect(registration).to_contain_text(f"{POINT_NAME}（南桥镇）")
    expect(registration).to_contain_text("想参加：I看奉贤、I做公益")
    assert PHONE not in page.content()  # only the masked phone on the page
    assert_fits_phone_width(page)
    screenshot(page, "me-phone")

    assert CheckIn.objects.count() == 1
    errors.assert_none()


def test_a_wrong_code_writes_nothing_and_a_tampered_qr_code_is_refused(
    live_db, phone_page, sms_outbox
):
    _campaign_and_point()
    factories.brand("中通")
    point = CheckinPoint.objects.get()
    token = point_token(point)
    page = phone_page
    errors = ConsoleErrors(page)

    page.goto(live_db.url + f"/checkin/{token}/")
    _fill_start_form(page)
    with page.expect_navigation():
        page.get_by_role("button", name="获取验证码").click()
    code = _last_code(sms_outbox)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    page.get_by_label("短信验证码").fill(wrong)
    with page.expect_navigation():
        page.get_by_role("button", name="完成报到").click()

    # Still on the verify page, told why in Chinese; no courier, no registration.
    assert urlparse(page.url).path == f"/checkin/{token}/verify/"
    expect(page.locator("h1")).to_have_text("输入短信验证码")
    expect(page.locator(".field-error")).to_have_text("验证码不正确，还可以再试 4 次。")
    assert not CheckIn.objects.exists()
    assert not Courier.objects.exists()
    assert len(sms_outbox) == 1
    assert_fits_phone_width(page)
    screenshot(page, "checkin-wrong-code-phone")
    errors.assert_none()

    # A QR code whose signature was changed: 400, 二维码无效, and the form is not shown.
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    bad_urls = [live_db.url + f"/checkin/{tampered}/"]
    response = page.goto(bad_urls[0])
    assert response.status == 400
    expect(page.locator("h1")).to_have_text("二维码无效")
    assert page.locator("form.stack-form").count() == 0
    # A shortened token (a torn poster, a guess) is no better.
    bad_urls.append(live_db.url + f"/checkin/{token[:-1]}/")
    response = page.goto(bad_urls[1])
    assert response.status == 400
    expect(page.locator("h1")).to_have_text("二维码无效")
    assert_fits_phone_width(page)
    screenshot(page, "checkin-bad-token-phone")
    assert not CheckIn.objects.exists()
    assert not Courier.objects.exists()
    # Chromium reports each 400 document as a console error; nothing else went wrong.
    assert errors.page_errors == []
    assert errors.console == [
        f"Failed to load resource: the server responded with a status of 400 (Bad Request) ({url})"
        for url in bad_urls
    ]
