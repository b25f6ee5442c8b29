"""The leaderboard's month control in a real Chromium at phone width, in zh-CN (issue 16):
Chromium labels <input type="month"> in English, so the page offers a select of Chinese
months, and the chosen month is still chosen after submitting and reloading."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from activities import points
from activities.models import PointsEntry
from tests import factories
from tests.browser import assert_fits_phone_width

pytestmark = pytest.mark.browser


def test_the_month_is_picked_in_chinese_and_kept_on_reload(live_db, phone_page):
    today = timezone.localdate()
    last = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    courier = factories.courier(factories.town("南桥镇"), name="王小明")
    points.award(
        courier,
        8,
        "服务",
        PointsEntry.Source.SERVICE,
        at=timezone.make_aware(datetime.datetime.combine(last, datetime.time(12))),
    )
    page = phone_page
    page.goto(f"{live_db.url}/leaderboard/")
    month = page.locator("select[name=month]")
    expect(month).to_have_value(f"{today:%Y-%m}")
    labels = month.locator("option").all_inner_texts()
    assert labels[0] == f"{today.year}年{today.month}月" and len(labels) == 12
    assert all("年" in label and label.endswith("月") for label in labels)
    assert page.locator("input[type=month]").count() == 0
    assert_fits_phone_width(page)

    month.select_option(f"{last:%Y-%m}")
    page.get_by_role("button", name="查看").click()
    expect(page.locator("h1")).to_have_text(f"{last.year}年{last.month}月积分榜")
    page.reload()
    expect(page.locator("select[name=month]")).to_have_value(f"{last:%Y-%m}")
    expect(page.locator("#leaderboard")).to_contain_text("8")
