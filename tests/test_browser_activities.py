"""End to end in a real browser at phone width: a courier signs in with their phone, claims a
6I volunteer post, sends a 拍贤城 photo report, and finds both (and the photo) on 我的."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.core.files.base import ContentFile
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from activities.models import Claim, PhotoReport, VolunteerPost
from stations.models import SixI
from tests import factories
from tests.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, assert_fits_phone_width, screenshot
from tests.test_browser_checkin import ConsoleErrors

pytestmark = pytest.mark.browser

NAME = "王小勇"
PHONE_NUMBER = "13987654321"
POST_TITLE = "南桥镇护学岗"
DESCRIPTION = "路口的红绿灯坏了，电动车和行人抢行，很危险。"
ADDRESS = "南桥镇解放东路与江海路路口"
CAMERA = "FengxianTestCam"


def _photo_with_exif(folder: Path) -> Path:
    """A small JPEG as a phone would take it: with EXIF (camera model and a GPS position)."""
    exif = Image.Exif()
    exif[0x0110] = CAMERA  # Model
    exif[0x0132] = "2025:05:01 09:30:00"  # DateTime
    exif[0x8825] = {1: "N", 2: (30.0, 55.0, 5.0), 3: "E", 4: (121.0, 28.0, 26.0)}  # GPSInfo
    path = folder / "report.jpg"
    Image.new("RGB", (320, 240), (200, 60, 40)).save(path, format="JPEG", exif=exif)
    with Image.open(path) as written:  # the fixture really carries EXIF
        assert written.getexif().get(0x0110) == CAMERA
    return path


def _sign_in(page, base_url: str, outbox) -> None:
    page.goto(base_url + "/me/signin/")
    expect(page.locator("h1")).to_have_text("用手机号登录")
    page.get_by_label("手机号码").fill(PHONE_NUMBER)
    with page.expect_navigation():
        page.get_by_role("button", name="获取验证码").click()
    assert outbox, "no text message was sent"
    phone, message = outbox[-1]
    assert phone == PHONE_NUMBER
    found = re.search(r"验证码 (\d{6})", message)
    assert found, message
    page.get_by_label("短信验证码").fill(found.group(1))
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    assert urlparse(page.url).path == "/me/"
    expect(page.locator("h1")).to_have_text(NAME)


def test_courier_claims_a_post_and_reports_a_photo_on_a_phone(
    live_db, phone_page, sms_outbox, tmp_path
):
    nanqiao = factories.town("南桥镇")
    courier = factories.courier(nanqiao, name=NAME, phone=PHONE_NUMBER)
    post = VolunteerPost.objects.create(
        title=POST_TITLE,
        category=SixI.SAFETY,
        description="上学、放学时段在校门口维护交通秩序。",
        town=nanqiao,
        capacity=3,
        schedule="工作日 7:30-8:15",
        points_per_service=5,
    )
    photo = _photo_with_exif(tmp_path)
    page = phone_page
    errors = ConsoleErrors(page)

    # 1. Sign in with phone and code.
    _sign_in(page, live_db.url, sms_outbox)

    # 2. The posts: ours, I护平安, three places.
    page.goto(live_db.url + "/posts/")
    expect(page.locator("h1")).to_have_text("6I 志愿服务岗位")
    card = page.locator("#post-list .station-card", has_text=POST_TITLE)
    expect(card).to_have_count(1)
    expect(card).to_contain_text("I护平安")
    expect(card).to_contain_text("还有 3 个名额")
    assert_fits_phone_width(page)
    screenshot(page, "posts-phone")

    # 3. Open it and claim it.
    card.get_by_role("link", name=POST_TITLE).click()
    page.wait_for_url(f"**/posts/{post.pk}/")
    expect(page.locator("h1")).to_have_text(POST_TITLE)
    expect(page.locator("#places")).to_contain_text("还有 3 个名额")
    with page.expect_navigation():
        page.get_by_role("button", name="一键认领").click()
    assert urlparse(page.url).path == f"/posts/{post.pk}/"
    expect(page.locator(".messages li.success")).to_have_text(
        f"已认领“{POST_TITLE}”，感谢你的志愿服务！到岗须知见下方。"
    )
    expect(page.locator("main")).to_contain_text("你已认领这个岗位")
    expect(page.locator("#places")).to_contain_text("还有 2 个名额")
    expect(page.get_by_role("button", name="一键认领")).to_have_count(0)
    assert_fits_phone_width(page)
    screenshot(page, "post-phone")

    # 4. 拍贤城: category, description, address, a photo with EXIF.
    page.goto(live_db.url + "/reports/new/")
    assert urlparse(page.url).path == "/reports/new/"
    expect(page.locator("h1")).to_have_text("拍贤城、美奉贤")
    page.get_by_label("类别").select_option(label="交通安全")
    page.get_by_label("情况描述").fill(DESCRIPTION)
    page.get_by_label("地点").fill(ADDRESS)
    page.get_by_label("拍照上报").set_input_files(str(photo))
    assert_fits_phone_width(page)
    screenshot(page, "report-new-phone")
    with page.expect_navigation():
        page.get_by_role("button", name="提交报告").click()

    # 5. Back on 我的: the claim and the report, waiting to be accepted.
    assert urlparse(page.url).path == "/me/"
    expect(page.locator(".messages li.success")).to_contain_text("报告已提交")
    claims = page.locator("#my-claims li")
    expect(claims).to_have_count(1)
    expect(claims).to_contain_text(POST_TITLE)
    expect(claims).to_contain_text("南桥镇")
    reports = page.locator("#my-reports li")
    expect(reports).to_have_count(1)
    expect(reports).to_contain_text("交通安全")
    expect(reports).to_contain_text(ADDRESS)
    expect(reports.locator("strong")).to_have_text("待受理")
    assert_fits_phone_width(page)
    screenshot(page, "me-activities-phone")

    # The database: one active claim, one report whose stored photo carries no EXIF.
    claim = Claim.objects.get()
    assert (claim.post, claim.courier, claim.status) == (post, courier, Claim.Status.ACTIVE)
    report = PhotoReport.objects.get()
    assert report.courier == courier and report.town == nanqiao
    assert report.category == PhotoReport.Category.TRAFFIC
    assert report.status == PhotoReport.Status.SUBMITTED
    assert (report.description, report.address) == (DESCRIPTION, ADDRESS)
    with report.photo.open("rb") as stored:
        data = stored.read()
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        assert image.size == (320, 240)
        assert dict(image.getexif()) == {}
        assert "exif" not in image.info
    assert CAMERA.encode() not in data

    # Every page of the journey so far, without a console error.
    errors.assert_none()

    # 6. The photo link opens the image.
    link = reports.get_by_role("link", name="查看照片")
    assert link.get_attribute("href") == f"/reports/{report.pk}/photo/"
    with page.expect_navigation() as navigation:
        link.click()
    response = navigation.value
    assert response.status == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.body() == data
    assert errors.page_errors == []
    # The console while the photo is shown: test_opening_a_report_photo_logs_no_console_error.


def test_opening_a_report_photo_logs_no_console_error(live_db, browser, sms_outbox, tmp_path):
    nanqiao = factories.town("南桥镇")
    courier = factories.courier(nanqiao, name=NAME, phone=PHONE_NUMBER)
    report = PhotoReport.objects.create(
        courier=courier,
        town=nanqiao,
        category=PhotoReport.Category.TRAFFIC,
        description=DESCRIPTION,
        address=ADDRESS,
        photo=ContentFile(_photo_with_exif(tmp_path).read_bytes(), name="report.jpg"),
    )
    # A browser of its own: Chromium asks for an origin's /favicon.ico once per browser process
    # (and not through the page, so Playwright sees only the console error), so the shared
    # browser may have asked already.
    own = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        page = own.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
        ).new_page()
        _sign_in(page, live_db.url, sms_outbox)
        errors = ConsoleErrors(page)
        link = page.locator("#my-reports").get_by_role("link", name="查看照片")
        assert link.get_attribute("href") == f"/reports/{report.pk}/photo/"
        with page.expect_navigation() as navigation:
            link.click()
        assert navigation.value.status == 200
        assert navigation.value.headers["content-type"] == "image/jpeg"
        with contextlib.suppress(PlaywrightTimeoutError):  # the icon is asked for after the photo
            page.wait_for_event("console", lambda m: m.type == "error", timeout=3_000)
        errors.assert_none()
    finally:
        own.close()
