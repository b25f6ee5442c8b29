"""The home page's first screen: the three things a courier comes for (找站点, 扫码报到, 我的) and,
once signed in, what he has coming up, before the slogan's figures; one staff entry."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from activities.models import Claim, VolunteerPost
from activities.programmes import signups
from stations.models import SixI
from tests import factories
from tests.factories import sign_in

pytestmark = pytest.mark.django_db


def test_the_three_actions_come_before_the_figures_and_the_finder_is_first(anonymous):
    html = anonymous.get("/").content.decode()
    actions = html.index('class="home-actions"')
    figures = html.index('id="figures-title"')
    assert actions < figures
    first_screen = html[actions:figures]
    for label, href in [
        ("找站点", "/stations/"),
        ("扫码报到", "#how-to-check-in"),
        ("我的", "/me/"),
    ]:
        assert f'href="{href}"' in first_screen and label in first_screen
    assert (
        first_screen.index("找站点") < first_screen.index("扫码报到") < first_screen.index("我的")
    )
    # 扫码报到 says how: scanning is WeChat's, the page explains where the posters are.
    assert 'id="how-to-check-in"' in html and "扫一扫" in html


def test_the_staff_entry_appears_once(anonymous):
    assert anonymous.get("/").content.decode().count("工作人员入口") == 1


def test_a_signed_in_courier_sees_what_he_has_coming_up_on_the_first_screen(nanqiao_town):
    courier = factories.courier(nanqiao_town, name="张大伟")
    lesson = factories.activity(
        nanqiao_town,
        title="流动课堂：电动车安全",
        starts_at=timezone.now() + datetime.timedelta(days=2),
        ends_at=timezone.now() + datetime.timedelta(days=2, hours=2),
    )
    signups.sign_up(lesson, courier)
    post = VolunteerPost.objects.create(
        title="社区助老配送", town=nanqiao_town, category=SixI.GOVERN, capacity=3
    )
    Claim.objects.create(post=post, courier=courier)
    html = sign_in(Client(), courier).get("/").content.decode()
    coming_up = html.index('id="coming-up"')
    assert coming_up < html.index('id="figures-title"')
    section = html[coming_up : html.index('id="figures-title"')]
    assert "流动课堂：电动车安全" in section and f"/activities/{lesson.pk}/" in section
    assert "社区助老配送" in section and f"/posts/{post.pk}/" in section


def test_a_signed_in_courier_with_nothing_coming_up_is_pointed_at_posts(nanqiao_town):
    courier = factories.courier(nanqiao_town)
    html = sign_in(Client(), courier).get("/").content.decode()
    section = html[html.index('id="coming-up"') : html.index('id="figures-title"')]
    assert "暂无安排" in section and 'href="/posts/"' in section


def test_an_anonymous_home_page_stays_in_the_public_cache(settings, anonymous):
    settings.PUBLIC_PAGE_CACHE = 60
    cache.clear()
    first = Client().get("/")
    assert "cookie" not in first.get("Vary", "").lower()
    assert 'id="coming-up"' not in first.content.decode()
