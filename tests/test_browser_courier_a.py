"""Courier flows in a real browser at 390 px: the home page's first screen."""

from __future__ import annotations

import pytest

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
