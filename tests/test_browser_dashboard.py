"""The staff dashboard in a real browser: reached from the admin index, charts drawn, a bar
opens the list behind it; screenshots on a desktop and a phone."""

import pytest

from couriers.models import Courier
from tests import factories
from tests.browser import assert_fits_phone_width, screenshot

pytestmark = pytest.mark.browser

S = Courier.PoliticalStatus


def _log_in(page, url: str, username: str) -> None:
    page.goto(url + "/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "fengxian-demo")
    page.click("input[type=submit]")


def _staff(username: str, town=None):
    user = factories.town_staff(username, town) if town else factories.district_staff(username)
    user.set_password("fengxian-demo")
    user.save()
    return user


@pytest.fixture
def district_data(live_db):
    nanqiao, xidu = factories.town("南桥镇"), factories.town("西渡街道")
    org = factories.party_org(nanqiao)
    for _ in range(3):
        factories.courier(nanqiao, political_status=S.MEMBER, managing_organization=org)
    factories.courier(nanqiao, political_status=S.ACTIVIST)
    factories.courier(xidu, political_status=S.MEMBER)
    factories.courier(xidu)
    return live_db


def test_district_staff_open_the_dashboard_and_follow_a_bar(browser, district_data):
    _staff("district")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    _log_in(page, district_data.url, "district")
    page.click("#dashboard-link")
    assert page.title().startswith("数据看板")

    def figure(label: str) -> str:
        item = page.locator(".dashboard-figures li", has_text=label).first
        return item.locator(".figure-value").inner_text()

    assert figure("登记快递小哥") == "6"
    assert figure("纳入属地党组织管理") == "3 / 4"
    chart = page.locator("#table-political_status svg")
    assert chart.get_attribute("role") == "img"
    assert chart.locator("rect.chart-bar").count() == len(S.choices)
    screenshot(page, "dashboard-desktop")
    # The 中共党员 bar opens the courier list filtered to them: 4 couriers.
    chart.locator('a[aria-label="中共党员：4"]').click()
    page.wait_for_selector("#result_list")
    assert "/admin/couriers/courier/" in page.url and "political_status__exact=member" in page.url
    assert page.locator("#result_list tbody tr").count() == 4
    context.close()


def test_town_staff_dashboard_on_a_phone(district_data, phone_page):
    _staff("nanqiao", factories.town("南桥镇"))
    _log_in(phone_page, district_data.url, "nanqiao")
    phone_page.goto(district_data.url + "/admin/dashboard/")
    body = phone_page.locator("#content-main").inner_text()
    assert "南桥镇的数据" in body and "西渡" not in body
    assert_fits_phone_width(phone_page)
    screenshot(phone_page, "dashboard-phone")
