"""The leaderboard's rank numbers (ties share a place) and the signed-in courier's own place."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from activities import points
from activities.models import PointsEntry
from couriers.models import Courier
from tests import factories
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

SERVICE = PointsEntry.Source.SERVICE


@pytest.fixture
def couriers(nanqiao_town, xidu_town) -> dict[str, Courier]:
    """This month: 王 20, 张 and 李 15 each (a tie), 赵 12; 钱 has no points."""
    people = {
        "wang": factories.courier(xidu_town, name="王小二"),
        "zhang": factories.courier(nanqiao_town, name="张三丰"),
        "li": factories.courier(nanqiao_town, name="李四"),
        "zhao": factories.courier(nanqiao_town, name="赵六"),
        "qian": factories.courier(nanqiao_town, name="钱七"),
    }
    for key, amount in {"wang": 20, "zhang": 15, "li": 15, "zhao": 12}.items():
        points.award(people[key], amount, "服务", SERVICE)
    return people


def test_each_row_has_a_rank_number_and_a_tie_shares_its_place(anonymous, couriers):
    response = anonymous.get("/leaderboard/")
    assert [(row["rank"], row["total"]) for row in response.context["board"]] == [
        (1, 20),
        (2, 15),
        (2, 15),
        (4, 12),
    ]
    # The number is text on the page, not a list marker the row's flex layout hides.
    html = response.content.decode()
    assert re.findall(r'<span class="rank">第 (\d+) 名</span>', html) == ["1", "2", "2", "4"]


def test_a_signed_in_courier_sees_his_own_place(couriers):
    html = sign_in(Client(), couriers["zhao"]).get("/leaderboard/").content.decode()
    assert "我：第 4 名" in html
    html = sign_in(Client(), couriers["li"]).get("/leaderboard/").content.decode()
    assert "我：第 2 名" in html


def test_a_courier_below_the_fifty_shown_still_learns_his_place(nanqiao_town):
    for n in range(55):
        points.award(factories.courier(nanqiao_town, name=f"小哥{n}"), 100 + n, "服务", SERVICE)
    last = factories.courier(nanqiao_town, name="最后")
    points.award(last, 1, "服务", SERVICE)
    response = sign_in(Client(), last).get("/leaderboard/")
    assert len(response.context["board"]) == 50
    assert "我：第 56 名" in response.content.decode()


def test_a_courier_without_points_or_hidden_is_told_why_he_has_no_place(couriers):
    html = sign_in(Client(), couriers["qian"]).get("/leaderboard/").content.decode()
    assert "我：本月还没有积分" in html
    hidden = couriers["wang"]
    hidden.show_on_leaderboard = False
    hidden.save()
    html = sign_in(Client(), hidden).get("/leaderboard/").content.decode()
    assert "我：未在积分榜显示" in html
    assert "我：第" not in html


def test_an_anonymous_visitor_gets_no_own_place_line(anonymous, couriers):
    assert "我：" not in anonymous.get("/leaderboard/").content.decode()


def _month_options(html: str) -> list[tuple[str, str, bool]]:
    select = re.search(r'<select name="month"[^>]*>(.*?)</select>', html, re.S).group(1)
    return [
        (value, label, bool(selected))
        for value, selected, label in re.findall(
            r'<option value="([^"]+)"( selected)?>([^<]+)</option>', select
        )
    ]


def test_the_month_is_chosen_from_chinese_labels_not_a_browser_month_control(anonymous):
    """Chromium labels <input type="month"> in English; a select of 「2026年11月」 does not."""
    today = timezone.localdate()
    html = anonymous.get("/leaderboard/").content.decode()
    assert 'type="month"' not in html
    options = _month_options(html)
    assert len(options) == 12
    assert options[0] == (f"{today:%Y-%m}", f"{today.year}年{today.month}月", True)
    assert all(re.fullmatch(r"\d{4}年\d{1,2}月", label) for _, label, _ in options)


def test_the_chosen_month_stays_selected_on_reload(anonymous):
    last = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    html = anonymous.get(f"/leaderboard/?month={last:%Y-%m}").content.decode()
    assert [value for value, _, chosen in _month_options(html) if chosen] == [f"{last:%Y-%m}"]
    assert f"{last.year}年{last.month}月积分榜" in html
    # A month from an old shared link is offered too, so the select shows what the board shows.
    html = anonymous.get("/leaderboard/?month=2021-03").content.decode()
    assert ("2021-03", "2021年3月", True) in _month_options(html)
