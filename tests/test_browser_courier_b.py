"""Courier flows at phone width in a real browser (issue 16, items 14 and 17): the outlet list
follows the chosen brand, 重新获取验证码 waits out its minute, the phone can be fixed with the
form kept, 欢迎回家 suggests a post, claiming it says where to go, and leaving asks first."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from activities.models import Claim, VolunteerPost
from stations.checkin.flow import point_token
from stations.models import Campaign, CheckinPoint, SixI
from tests import factories
from tests.browser import assert_fits_phone_width, screenshot
from tests.test_browser_checkin import ConsoleErrors, _last_code

pytestmark = pytest.mark.browser


def test_a_courier_checks_in_is_offered_a_post_claims_it_and_is_asked_before_leaving(
    live_db, phone_page, sms_outbox
):
    today = timezone.localdate()
    Campaign.objects.create(
        name=f"{today.year}年小哥报到季",
        starts_on=today - datetime.timedelta(days=7),
        ends_on=today + datetime.timedelta(days=60),
        is_current=True,
    )
    nanqiao = factories.town("南桥镇")
    point = CheckinPoint.objects.create(
        name="南桥镇党群服务中心报到点",
        town=nanqiao,
        address="南桥镇解放东路100号",
        contact_name="陈老师",
        contact_phone="021-57180000",
    )
    zto, yto = factories.brand("中通"), factories.brand("圆通")
    factories.outlet(nanqiao, factories.enterprise(nanqiao, of_brand=zto), name="中通南桥一部")
    factories.outlet(nanqiao, factories.enterprise(nanqiao, of_brand=yto), name="圆通南桥一部")
    post = VolunteerPost.objects.create(
        title="报到点周末值守",
        town=nanqiao,
        category=SixI.GOVERN,
        capacity=2,
        checkin_point=point,
        schedule="每周六上午 9:00-11:00",
    )
    page = phone_page
    errors = ConsoleErrors(page)
    start = live_db.url + f"/checkin/{point_token(point)}/"

    page.goto(start)
    page.get_by_label("快递品牌").select_option(label="中通")
    outlets = page.get_by_label("所在网点")
    expect(outlets.locator("option", has_text="圆通南桥一部")).to_be_hidden()
    outlets.select_option(label="中通南桥一部")
    page.get_by_label("姓名").fill("李小明")
    page.get_by_label("手机号码").fill("13912345670")  # one digit wrong
    page.get_by_label("I管贤治").check()
    page.get_by_label("我已阅读并同意上面的《个人信息处理告知》").check()
    with page.expect_navigation():
        page.get_by_role("button", name="获取验证码").click()

    resend = page.get_by_role("button", name="重新获取验证码")
    expect(resend).to_be_disabled()
    expect(page.locator("#resend-wait")).to_contain_text("秒后可重新获取")
    screenshot(page, "courier-b-verify-phone")
    page.get_by_role("link", name="号码填错了？返回修改").click()
    expect(page.get_by_label("姓名")).to_have_value("李小明")
    expect(page.get_by_label("I管贤治")).to_be_checked()
    page.get_by_label("手机号码").fill("13912345678")
    page.get_by_label("我已阅读并同意上面的《个人信息处理告知》").check()
    with page.expect_navigation():
        page.get_by_role("button", name="获取验证码").click()
    page.get_by_label("短信验证码").fill("12a")
    with page.expect_navigation():
        page.get_by_role("button", name="完成报到").click()
    expect(page.locator(".field-error")).to_contain_text("不计入错误次数")
    expect(page.get_by_label("短信验证码")).to_be_focused()
    page.get_by_label("短信验证码").fill(_last_code(sms_outbox))
    with page.expect_navigation():
        page.get_by_role("button", name="完成报到").click()

    suggested = page.locator("#suggested-posts")
    expect(suggested).to_contain_text("报到点周末值守")
    screenshot(page, "courier-b-welcome-phone")
    suggested.get_by_role("link", name="报到点周末值守").click()
    with page.expect_navigation():
        page.get_by_role("button", name="一键认领").click()
    after = page.locator("#after-claim")
    expect(after).to_contain_text("南桥镇党群服务中心报到点（南桥镇解放东路100号）")
    expect(after).to_contain_text("陈老师 021-57180000")
    assert_fits_phone_width(page)
    screenshot(page, "courier-b-claimed-phone")

    page.get_by_role("link", name="退出这个岗位").click()
    expect(page.locator("#withdraw")).to_contain_text("确定退出这个岗位吗")
    page.get_by_role("link", name="不退出，返回").click()
    assert Claim.objects.get(post=post).status == Claim.Status.ACTIVE
    page.get_by_role("link", name="退出这个岗位").click()
    with page.expect_navigation():
        page.get_by_role("button", name="确认退出").click()
    assert Claim.objects.get(post=post).status == Claim.Status.WITHDRAWN
    errors.assert_none()
