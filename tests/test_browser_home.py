"""End to end in a real browser at phone width: the home page and the staff login."""

import pytest

from couriers.models import Courier
from tests import factories
from tests.browser import assert_fits_phone_width, screenshot

pytestmark = pytest.mark.browser


def test_home_page_on_a_phone(live_db, phone_page):
    nanqiao = factories.town("南桥镇")
    org = factories.party_org(nanqiao)
    factories.courier(
        nanqiao, political_status=Courier.PoliticalStatus.MEMBER, managing_organization=org
    )
    factories.courier(nanqiao)

    phone_page.goto(live_db.url + "/")
    assert phone_page.title() == "奉贤快递小哥党建服务平台"
    figures = phone_page.locator(".figure")
    assert figures.count() == 7
    assert "2" in figures.nth(0).inner_text() and "登记快递小哥" in figures.nth(0).inner_text()
    assert "1 名纳入属地党组织管理" in figures.nth(1).inner_text()
    # Stylesheet served and applied: the header is the party red.
    header_colour = phone_page.eval_on_selector(
        ".site-header", "el => getComputedStyle(el).backgroundImage"
    )
    assert "183, 28, 28" in header_colour
    assert_fits_phone_width(phone_page)
    screenshot(phone_page, "home-phone")


def test_town_staff_log_in_and_see_only_their_town(live_db, phone_page):
    nanqiao, xidu = factories.town("南桥镇"), factories.town("西渡街道")
    user = factories.town_staff("nanqiao", nanqiao)
    user.set_password("fengxian-demo")
    user.save()
    factories.courier(nanqiao, name="南桥小哥")
    factories.courier(xidu, name="西渡小哥")

    phone_page.goto(live_db.url + "/")
    phone_page.get_by_role("link", name="工作人员入口").first.click()
    phone_page.fill("#id_username", "nanqiao")
    phone_page.fill("#id_password", "fengxian-demo")
    screenshot(phone_page, "admin-login-phone")
    phone_page.click("input[type=submit]")
    assert "奉贤区快递行业党建联建平台" in phone_page.content()

    phone_page.goto(live_db.url + "/admin/couriers/courier/")
    body = phone_page.locator("#result_list").inner_text()
    assert "南桥小哥" in body
    assert "西渡小哥" not in body
    screenshot(phone_page, "admin-couriers-phone")
