"""Courier flows in a real browser at 390 px: the home page's first screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser import PHONE, assert_fits_phone_width, screenshot

pytestmark = pytest.mark.browser


def test_the_three_actions_are_on_the_first_screen_and_the_figures_below(live_db, phone_page):
    phone_page.goto(live_db.url + "/")
    for label in ["找站点", "扫码报到", "我的"]:
        box = phone_page.locator(".home-action", has_text=label).bounding_box()
        assert box is not None and box["y"] + box["height"] <= PHONE["height"], label
    figures = phone_page.locator("#figures-title").bounding_box()
    assert figures["y"] > PHONE["height"]  # the figures are for scrolling to, not in the way
    assert phone_page.get_by_text("工作人员入口").count() == 1
    assert_fits_phone_width(phone_page)
    phone_page.screenshot(path="/tmp/fx16_3-home-first-screen.png")
    screenshot(phone_page, "home-first-screen")


# --- 拍贤城 -------------------------------------------------------------------------------------


def sign_in_courier(page, base_url: str, courier) -> None:
    """A courier's session, as signing in with a code leaves it (couriers.identity)."""
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session["courier_id"] = courier.pk
    session.create()
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "url": base_url}]
    )


def camera_jpeg(path, size=(4000, 3000)) -> int:
    """A 12-megapixel photo with detail in it (noise does not compress), as a phone takes it."""
    from PIL import Image

    noise = Image.effect_noise((size[0] // 4, size[1] // 4), 40).resize(size)
    gradient = Image.linear_gradient("L").resize(size)
    Image.merge("RGB", (noise, gradient, noise.rotate(180))).save(path, "JPEG", quality=92)
    return path.stat().st_size


def test_a_photo_full_of_fine_detail_still_goes_up_under_500_kb(live_db, phone_page, tmp_path):
    """Pure noise (bench/page_weight.py's photo) is still ~870 KB at 1600 px and JPEG 0.8: the
    page steps the quality, then the size, down until the photo fits."""
    import re

    from PIL import Image

    from tests import factories

    courier = factories.courier(factories.town("南桥镇"), name="王小明")
    original = tmp_path / "IMG_20261201_101501.jpg"
    Image.effect_noise((4000, 3000), 64).convert("RGB").save(original, quality=92)
    sign_in_courier(phone_page, live_db.url, courier)
    phone_page.goto(live_db.url + "/reports/new/")
    phone_page.set_input_files("input[name=photo]", str(original))
    note = phone_page.locator("#photo-note")
    expect(note).to_contain_text("KB", timeout=30_000)
    size = int(re.search(r"（(\d+) KB）", note.inner_text()).group(1))
    assert size <= 450, note.inner_text()


def test_a_12_megapixel_photo_is_shrunk_before_upload_with_progress(live_db, phone_page, tmp_path):
    from activities.models import PhotoReport
    from tests import factories

    nanqiao = factories.town("南桥镇")
    courier = factories.courier(nanqiao, name="王小明")
    original = tmp_path / "IMG_20261201_101500.jpg"
    assert camera_jpeg(original) > 2_000_000
    sign_in_courier(phone_page, live_db.url, courier)

    phone_page.goto(live_db.url + "/reports/new/")
    button = phone_page.locator("label.photo-button")
    box = button.bounding_box()
    assert box["height"] >= 80 and box["width"] >= 300  # a thumb-sized target, not 26 px
    assert button.inner_text() == "📷 拍照上报"
    phone_page.set_input_files("input[name=photo]", str(original))
    expect(phone_page.locator("#photo-note")).to_contain_text("KB", timeout=15_000)
    phone_page.select_option("select[name=category]", PhotoReport.Category.CITY)
    phone_page.fill("textarea[name=description]", "人行道上堆满了废弃纸箱")
    phone_page.fill("input[name=address]", "南桥镇解放东路 100 号")
    screenshot(phone_page, "report-photo-chosen")

    bodies = []
    phone_page.on(
        "request",
        lambda r: bodies.append(len(r.post_data_buffer or b"")) if r.method == "POST" else None,
    )
    # A weak signal (about 100 KB/s up): slow enough to see the button and the progress bar.
    cdp = phone_page.context.new_cdp_session(phone_page)
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 200,
            "downloadThroughput": 100_000,
            "uploadThroughput": 100_000,
        },
    )
    phone_page.click("#report-submit")
    submit = phone_page.locator("#report-submit")
    assert submit.is_disabled()
    assert phone_page.locator("#upload-progress").is_visible()
    phone_page.screenshot(path="/tmp/fx16_3-report-sending.png")
    phone_page.wait_for_url("**/me/", timeout=30_000)

    assert bodies and max(bodies) < 500_000, bodies
    report = PhotoReport.objects.get()
    with report.photo.open("rb") as stored:
        from PIL import Image

        assert max(Image.open(stored).size) <= 1600


def test_a_form_error_keeps_the_photo_and_says_so(live_db, phone_page, tmp_path):
    from activities.models import PhotoReport
    from tests import factories

    nanqiao = factories.town("南桥镇")
    courier = factories.courier(nanqiao, name="王小明")
    original = tmp_path / "IMG_1.jpg"
    camera_jpeg(original, size=(800, 600))
    sign_in_courier(phone_page, live_db.url, courier)

    phone_page.goto(live_db.url + "/reports/new/")
    assert phone_page.locator("select[name=category] option").first.inner_text() == "请选择类别"
    phone_page.set_input_files("input[name=photo]", str(original))
    expect(phone_page.locator("#photo-note")).to_contain_text("KB", timeout=15_000)
    phone_page.click("#report-submit")  # no category
    phone_page.wait_for_selector(".has-error")
    assert "照片已保留" in phone_page.locator("#photo-note").inner_text()
    screenshot(phone_page, "report-photo-kept")
    phone_page.select_option("select[name=category]", PhotoReport.Category.CITY)
    phone_page.fill("textarea[name=description]", "井盖缺失")
    phone_page.fill("input[name=address]", "解放路")
    phone_page.click("#report-submit")
    phone_page.wait_for_url("**/me/")
    assert PhotoReport.objects.get().photo


# --- the leaderboard ---------------------------------------------------------------------------


def test_the_leaderboard_shows_rank_numbers_and_my_place(live_db, phone_page):
    from activities import points
    from activities.models import PointsEntry
    from tests import factories

    nanqiao = factories.town("南桥镇")
    people = [factories.courier(nanqiao, name=n) for n in ("王小二", "张三丰", "李四")]
    for person, amount in zip(people, (20, 15, 15), strict=True):
        points.award(person, amount, "服务", PointsEntry.Source.SERVICE)
    sign_in_courier(phone_page, live_db.url, people[2])
    phone_page.goto(live_db.url + "/leaderboard/")
    ranks = phone_page.locator("#leaderboard .rank")
    expect(ranks).to_have_text(["第 1 名", "第 2 名", "第 2 名"])
    assert ranks.first.is_visible()
    expect(phone_page.locator("#my-place")).to_have_text("我：第 2 名")
    assert_fits_phone_width(phone_page)
    phone_page.screenshot(path="/tmp/fx16_3-leaderboard.png")
    screenshot(phone_page, "leaderboard-ranks")
