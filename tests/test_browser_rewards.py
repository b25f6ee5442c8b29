"""End to end on two phones: a courier redeems a reward and gets a voucher with a QR code on
「我的」; the partner, on another phone, reads that QR code (rendered, screenshotted, decoded with
zbarimg), opens its URL signed in as the counter account and taps 确认兑换; a second scan is
refused."""

from __future__ import annotations

import re
import shutil
import subprocess
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from activities import points
from activities.models import Voucher
from tests import factories
from tests.browser import PHONE, SCREENSHOTS, assert_fits_phone_width, screenshot
from tests.test_browser_activities import PHONE_NUMBER, _sign_in
from tests.test_browser_checkin import ConsoleErrors

pytestmark = pytest.mark.browser
ZBARIMG = shutil.which("zbarimg") or "/usr/bin/zbarimg"


def _decode_qr(path) -> str:
    found = subprocess.run(
        [ZBARIMG, "--quiet", "--raw", str(path)], capture_output=True, text=True, timeout=30
    )
    assert found.returncode == 0, found.stderr
    return found.stdout.strip()


def test_a_courier_redeems_and_a_partner_scans_the_voucher_qr_and_confirms(
    live_db, phone_page, browser, sms_outbox
):
    nanqiao = factories.town("南桥镇")
    courier = factories.courier(nanqiao, name="王小勇", phone=PHONE_NUMBER)
    factories.give_points(courier, 50)
    shop = factories.partner(nanqiao, "南桥镇爱心超市")
    reward = factories.reward(shop, "大米 5 斤", price=20, stock=3, collect_hours="每天 9:00-20:00")
    cashier = factories.partner_account("partner-nanqiao", shop)
    cashier.set_password("fengxian-demo")
    cashier.save()

    # The courier's phone: sign in, find the reward, redeem it.
    page = phone_page
    errors = ConsoleErrors(page)
    _sign_in(page, live_db.url, sms_outbox)
    page.goto(live_db.url + "/rewards/")
    expect(page.locator("#my-balance")).to_contain_text("50")
    card = page.locator("#reward-list .station-card", has_text="大米 5 斤")
    expect(card).to_contain_text("积分够，可兑换")
    assert_fits_phone_width(page)
    card.get_by_role("link", name="大米 5 斤").click()
    page.wait_for_url(f"**/rewards/{reward.pk}/")
    expect(page.locator("#reward-facts")).to_contain_text("每天 9:00-20:00")
    with page.expect_navigation():
        page.get_by_role("button", name="兑换（20 积分）").click()
    assert urlparse(page.url).path == "/me/"
    expect(page.locator(".messages li.success")).to_contain_text("兑换成功")
    expect(page.locator("#wallet-held")).to_have_text("20")
    expect(page.locator("#wallet-available")).to_have_text("30")
    voucher = Voucher.objects.get(courier=courier)
    qr = page.locator(f"#voucher-{voucher.pk} .qr svg")
    expect(qr).to_be_visible()
    assert_fits_phone_width(page)
    screenshot(page, "rewards-me-voucher")
    SCREENSHOTS.mkdir(exist_ok=True)
    shot = SCREENSHOTS / "rewards-voucher-qr.png"
    qr.screenshot(path=str(shot))
    errors.assert_none()

    # What the QR code says: the counter page with the code.
    url = _decode_qr(shot)
    assert re.fullmatch(rf"{re.escape(live_db.url)}/rewards/counter/\?code={voucher.code}", url)

    # The partner's phone: open the URL, sign in as the counter account, confirm.
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    counter = context.new_page()
    counter_errors = ConsoleErrors(counter)
    counter.goto(url)
    assert "/admin/login/" in counter.url  # signed out: to the login, and back
    counter.fill("#id_username", "partner-nanqiao")
    counter.fill("#id_password", "fengxian-demo")
    with counter.expect_navigation():
        counter.click("input[type=submit]")
    assert urlparse(counter.url).path == "/rewards/counter/"
    expect(counter.locator("#voucher")).to_contain_text("大米 5 斤")
    expect(counter.locator("#voucher")).to_contain_text("王*勇")
    expect(counter.locator("main")).not_to_contain_text("王小勇")
    assert_fits_phone_width(counter)
    screenshot(counter, "rewards-counter")
    with counter.expect_navigation():
        counter.get_by_role("button", name="确认兑换").click()
    expect(counter.locator(".messages li.success")).to_contain_text("已核销：大米 5 斤（王*勇）")
    voucher.refresh_from_db()
    assert voucher.state == Voucher.State.USED and voucher.used_by == cashier

    counter_errors.assert_none()

    # The same QR code again: refused (HTTP 400, which the console reports), nothing written.
    counter.goto(url)
    expect(counter.locator("#counter-error")).to_contain_text("不能重复使用")
    expect(counter.get_by_role("button", name="确认兑换")).to_have_count(0)
    assert counter_errors.page_errors == []
    context.close()

    page.goto(live_db.url + "/me/")
    expect(page.locator(f"#voucher-{voucher.pk}")).to_contain_text("已使用")
    expect(page.locator("#wallet-spent")).to_have_text("20")
    assert points.balance(courier) == 30
