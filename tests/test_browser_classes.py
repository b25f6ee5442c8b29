"""End to end in a real browser at phone width: a courier finds a 流动课堂 in the activity list,
signs up, sees it on 我的; joins the waiting list of a full class and, when someone cancels,
sees on 我的 that the place is now theirs; then scans the class's attendance code."""

from __future__ import annotations

import datetime
from urllib.parse import urlparse

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from activities import points
from activities.demo import _portrait
from activities.models import Activity, Attendance, SignUp
from activities.programmes import attendance, signups
from tests import factories
from tests.browser import assert_fits_phone_width, screenshot
from tests.test_browser_activities import NAME, PHONE_NUMBER, _sign_in
from tests.test_browser_checkin import ConsoleErrors

pytestmark = pytest.mark.browser

CLASS = "流动课堂：电动车交通安全"
FULL = "快递小哥技能创新大赛（初赛）"


def test_courier_finds_a_class_signs_up_and_sees_it_on_me(live_db, phone_page, sms_outbox):
    nanqiao = factories.town("南桥镇")
    courier = factories.courier(nanqiao, name=NAME, phone=PHONE_NUMBER)
    start = timezone.localtime() + datetime.timedelta(days=2)
    start = start.replace(hour=19, minute=0, second=0, microsecond=0)
    lesson = factories.activity(
        nanqiao,
        CLASS,
        starts_at=start,
        capacity=30,
        description="头盔怎么戴、电池怎么充，交警现场讲解。",
    )
    factories.activity(
        nanqiao,
        "夏送清凉·绿豆汤发放",
        kind=Activity.Kind.SUMMER,
        topic="",
        starts_at=start + datetime.timedelta(days=1),
    )
    contest = factories.activity(
        nanqiao, FULL, topic=Activity.Topic.CONTEST, capacity=1, starts_at=start
    )
    rival = factories.courier(nanqiao, name="李小红", phone=factories.phone(99_001))
    signups.sign_up(contest, rival)

    page = phone_page
    errors = ConsoleErrors(page)
    _sign_in(page, live_db.url, sms_outbox)

    # 1. The site navigation leads to the activities; filter to 流动课堂.
    page.locator(".site-nav").get_by_role("link", name="活动").click()
    page.wait_for_url("**/activities/")
    expect(page.locator("h1")).to_have_text("活动与课堂")
    expect(page.locator("#activity-list .station-card")).to_have_count(3)
    page.get_by_label("类型").select_option(label="流动课堂")
    with page.expect_navigation():
        page.get_by_role("button", name="筛选").click()
    cards = page.locator("#activity-list .station-card")
    expect(cards).to_have_count(2)
    card = cards.filter(has_text=CLASS)
    expect(card).to_contain_text("还有 30 个名额")
    expect(cards.filter(has_text=FULL)).to_contain_text("名额已满")
    assert_fits_phone_width(page)
    screenshot(page, "activities-phone")

    # 2. Open the class: details, the calendar link, sign up.
    card.get_by_role("link", name=CLASS).click()
    page.wait_for_url(f"**/activities/{lesson.pk}/")
    expect(page.locator("h1")).to_have_text(CLASS)
    expect(page.locator("main")).to_contain_text("南桥镇党群服务中心")
    ics = page.get_by_role("link", name="加入手机日历")
    assert ics.get_attribute("href") == f"/activities/{lesson.pk}.ics"
    with page.expect_navigation():
        page.get_by_role("button", name="我要报名").click()
    expect(page.locator(".messages li.success")).to_contain_text("报名成功")
    expect(page.locator("#my-signup")).to_contain_text("你已报名")
    expect(page.locator("#places")).to_contain_text("还有 29 个名额")
    assert_fits_phone_width(page)
    screenshot(page, "activity-signed-up-phone")

    # 3. The full contest: join the waiting list.
    page.goto(f"{live_db.url}/activities/{contest.pk}/")
    with page.expect_navigation():
        page.get_by_role("button", name="加入候补").click()
    expect(page.locator("#my-signup")).to_contain_text("候补名单第 1 位")

    # 4. 我的 lists both, the contest as waiting.
    page.locator(".site-nav").get_by_role("link", name="我的").click()
    page.wait_for_url("**/me/")
    mine = page.locator("#my-activities li")
    expect(mine).to_have_count(2)
    expect(mine.filter(has_text=CLASS)).to_contain_text("已报名")
    expect(mine.filter(has_text=FULL)).to_contain_text("候补第 1 位")
    assert_fits_phone_width(page)
    screenshot(page, "me-signups-phone")

    # 5. The rival cancels: the place is ours, and 我的 says so.
    signups.cancel(contest, rival)
    page.reload()
    expect(page.locator("#my-activities .promoted")).to_contain_text(f"转为正式报名“{FULL}”")
    expect(mine.filter(has_text=FULL)).to_contain_text("已报名")
    assert_fits_phone_width(page)
    screenshot(page, "me-promoted-phone")

    # 6. At the venue: the class's code, within its window, records attendance and points.
    Activity.objects.filter(pk=lesson.pk).update(
        starts_at=timezone.now() - datetime.timedelta(minutes=10),
        ends_at=timezone.now() + datetime.timedelta(minutes=80),
        signup_deadline=None,
    )
    page.goto(f"{live_db.url}/activities/attend/{attendance.token(lesson)}/")
    expect(page.locator("h1")).to_have_text("活动签到")
    with page.expect_navigation():
        page.get_by_role("button", name="确认签到").click()
    assert urlparse(page.url).path == f"/activities/{lesson.pk}/"
    expect(page.locator(".messages li.success")).to_contain_text("签到成功，获得 5 积分")
    expect(page.locator("#attended")).to_contain_text("你已签到")
    assert_fits_phone_width(page)
    screenshot(page, "activity-attended-phone")

    errors.assert_none()
    assert SignUp.objects.get(activity=lesson).courier == courier
    assert SignUp.objects.get(activity=contest, courier=courier).status == "confirmed"
    assert Attendance.objects.get().courier == courier
    assert points.balance(courier) == 5


def test_stories_and_partnerships_fit_a_phone(live_db, phone_page):
    from activities.models import Partnership, PartnershipYear, Story

    nanqiao = factories.town("南桥镇")
    courier = factories.courier(nanqiao, name="王建国", phone=factories.phone(99_002))
    story = Story.objects.create(
        title="雨夜送药的平安骑手",
        summary="暴雨夜里，他把急需的药品准时送到独居老人家中。",
        body="去年夏天的一个暴雨夜……\n他说：社区就是我们的家。",
        courier=courier,
        consent_given_at=timezone.now(),
        consent_note="书面同意书",
        published_on=timezone.localdate(),
    )
    story.photo.save("portrait.jpg", _portrait(1))
    firm = factories.enterprise(nanqiao)
    partnership = Partnership.objects.create(
        enterprise=firm,
        partner="庄行镇黄桃专业合作社",
        kind="village",
        produce="黄桃",
        town=nanqiao,
        since=datetime.date(2021, 6, 1),
    )
    PartnershipYear.objects.create(
        partnership=partnership, year=2024, items=12_360_000, output_value=1_500_000_000
    )
    page = phone_page
    errors = ConsoleErrors(page)
    page.goto(live_db.url + "/stories/")
    page.get_by_role("link", name=story.title).click()
    page.wait_for_url(f"**/stories/{story.pk}/")
    expect(page.locator(".meta")).to_contain_text("王*国")
    photo = page.locator("article img")
    expect(photo).to_be_visible()
    assert photo.evaluate("img => img.complete && img.naturalWidth") == 640
    assert_fits_phone_width(page)
    screenshot(page, "story-phone")
    page.goto(live_db.url + "/partnerships/")
    expect(page.locator("#latest-figures")).to_contain_text("15亿")
    assert_fits_phone_width(page)
    screenshot(page, "partnerships-phone")
    errors.assert_none()
