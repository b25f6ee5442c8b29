"""Issue 16, items 1, 2 and 4 in a real browser at 1366 px: a town office re-saves a need, a
visit with needs, a service record and an activity without touching them (dates must survive
the browser); the photo-report page shows a small photo and a red 已超期; the courier list
keeps names on one line and the dashboard's bar labels are whole."""

import datetime

import pytest
from django.utils import timezone

from activities.models import Claim, PhotoReport, ServiceRecord, VolunteerPost
from couriers.models import Need
from tests import factories
from tests.browser import screenshot

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1366, "height": 900}
PASSWORD = "fengxian-demo-2026"


@pytest.fixture
def office(browser, live_db):
    town = factories.town("南桥镇")
    user = factories.town_staff("nanqiao", town)
    user.first_name = "李娟"
    user.set_password(PASSWORD)
    user.save()
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.goto(live_db.url + "/admin/login/")
    page.fill("#id_username", "nanqiao")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(live_db.url + "/admin/")
    yield page, town, user, live_db.url
    context.close()


def _save(page) -> None:
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")


def test_a_need_and_a_visit_with_needs_are_resaved_unchanged(office):
    page, town, user, url = office
    visit = factories.visit(user, factories.courier(town))
    deadline, informed = datetime.date(2026, 9, 10), datetime.date(2026, 9, 1)
    need = factories.need(
        visit,
        deadline=deadline,
        status=Need.Status.RESOLVED,
        resolution="已增设歇脚点",
        courier_informed=True,
        informed_on=informed,
    )
    page.goto(f"{url}/admin/couriers/need/{need.pk}/change/")
    assert page.input_value("#id_deadline") == "2026-09-10"
    assert page.input_value("#id_informed_on") == "2026-09-01"
    _save(page)
    page.goto(f"{url}/admin/couriers/visit/{visit.pk}/change/")
    assert page.input_value("#id_needs-0-deadline") == "2026-09-10"
    assert "李娟" in page.inner_text("body")  # 走访工作人员 by name (item 3)
    screenshot(page, "admin-visit-with-needs")
    _save(page)
    need.refresh_from_db()
    assert (need.deadline, need.informed_on) == (deadline, informed)


def test_a_service_record_and_an_activity_are_saved_with_their_dates(office):
    page, town, _, url = office
    post = VolunteerPost.objects.create(title="南桥党群服务站值守", town=town, capacity=5)
    claim = Claim.objects.create(post=post, courier=factories.courier(town))
    page.goto(f"{url}/admin/activities/claim/")
    page.check(f"input[name=_selected_action][value='{claim.pk}']")
    page.select_option("select[name=action]", "confirm_service")
    page.click("button[name=index]")
    today = timezone.localdate().isoformat()
    assert page.input_value("#id_date") == today
    page.click("input[type=submit][value=确认登记]")
    page.wait_for_selector(".messagelist .success")
    assert ServiceRecord.objects.get(claim=claim).date.isoformat() == today

    starts = timezone.now().replace(second=0, microsecond=0) + datetime.timedelta(days=3)
    activity = factories.activity(town, starts_at=starts)
    page.goto(f"{url}/admin/activities/activity/{activity.pk}/change/")
    assert page.input_value("#id_starts_at_0") == timezone.localdate(starts).isoformat()
    _save(page)
    activity.refresh_from_db()
    assert activity.starts_at == starts


def test_the_photo_report_page_shows_a_small_photo_and_a_red_overdue_badge(office):
    import io

    from django.core.files.base import ContentFile
    from PIL import Image

    page, town, _, url = office
    big = io.BytesIO()
    Image.new("RGB", (1500, 2000), (40, 90, 160)).save(big, format="JPEG")
    report = PhotoReport.objects.create(
        courier=factories.courier(town),
        town=town,
        category=PhotoReport.Category.FACILITY,
        description="路灯不亮",
        address="南桥镇解放东路 8 号",
        photo=ContentFile(big.getvalue(), name="big.jpg"),
    )
    PhotoReport.objects.filter(pk=report.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=30)
    )
    page.goto(f"{url}/admin/activities/photoreport/")
    badge = page.locator(".report-overdue").first
    assert badge.evaluate("e => getComputedStyle(e).color") == "rgb(183, 28, 28)"
    page.goto(f"{url}/admin/activities/photoreport/{report.pk}/change/")
    photo = page.locator("img.report-photo")
    photo.wait_for()
    page.wait_for_function("document.querySelector('img.report-photo').complete")
    box = photo.bounding_box()
    assert box["height"] <= 320 and box["width"] <= 320
    screenshot(page, "admin-photo-report")
    # The controls are on the first screen, not below a 2,000 px photo.
    assert page.locator("#id_next_status").bounding_box()["y"] < DESKTOP["height"] * 2


def test_names_stay_on_one_line_and_bar_labels_are_whole(office):
    page, town, _, url = office
    for _n in range(3):
        factories.courier(town, name="欧阳振华", notes="长备注" * 30)
    page.goto(f"{url}/admin/couriers/courier/")
    cell = page.locator("#result_list td.field-name, #result_list th.field-name").first
    line = cell.evaluate("e => parseFloat(getComputedStyle(e).lineHeight) || 20")
    assert cell.bounding_box()["height"] < line * 2.2
    screenshot(page, "admin-courier-list")
    page.goto(f"{url}/admin/dashboard/")
    for label in page.locator("svg .chart-label").all():
        assert label.evaluate("e => e.getBBox().x") >= -0.5, label.inner_text()
    screenshot(page, "admin-dashboard-town")
