"""Rewards in the admin: a partner account sees its own partner's rewards and vouchers and
nothing of the registry (generic admin URLs give 403/404); town staff see their town's; staff
cancel with a reason; voucher codes never shown in full; pictures cleaned; the monthly statement
and its .xlsx export."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook
from PIL import Image

from activities import points
from activities.models import Reward, Voucher
from activities.rewards import vouchers
from activities.rewards.redeeming import redeem
from tests import factories

pytestmark = pytest.mark.django_db
ADMIN = "/admin/"


@pytest.fixture
def shop(nanqiao_town):
    return factories.partner(nanqiao_town, "南桥镇爱心超市")


@pytest.fixture
def union(xidu_town):
    return factories.partner(xidu_town, "西渡街道工会")


@pytest.fixture
def partner_client(shop):
    client = Client()
    client.force_login(factories.partner_account("partner-nanqiao", shop))
    return client


@pytest.fixture
def vouchers_of_both(nanqiao_town, shop, union):
    courier = factories.courier(nanqiao_town, "王小明")
    factories.give_points(courier, 100)
    mine = redeem(courier, factories.reward(shop, "大米 5 斤").pk)
    theirs = redeem(courier, factories.reward(union, "西渡理发", address="西渡").pk)
    return mine, theirs


def test_a_partner_accounts_admin_index_shows_only_its_rewards_vouchers_and_partner(
    partner_client,
):
    page = partner_client.get(ADMIN).content.decode()
    for own in ("/admin/activities/reward/", "/admin/activities/voucher/"):
        assert own in page
    for other in (
        "/admin/couriers/courier/",
        "/admin/couriers/",
        "/admin/activities/pointsentry/",
        "/admin/activities/claim/",
        "/admin/stations/",
        "/admin/auth/",
    ):
        assert other not in page


def test_a_partner_account_cannot_reach_couriers_through_any_generic_admin_url(
    partner_client, vouchers_of_both
):
    courier = vouchers_of_both[0].courier
    urls = [
        "/admin/couriers/courier/",
        f"/admin/couriers/courier/{courier.pk}/change/",
        f"/admin/couriers/courier/{courier.pk}/history/",
        f"/admin/couriers/courier/{courier.pk}/delete/",
        "/admin/activities/pointsentry/",
        "/admin/couriers/courier/export/",
        "/admin/autocomplete/?app_label=activities&model_name=voucher&field_name=courier&term=王",
        "/admin/autocomplete/?app_label=activities&model_name=pointsentry"
        "&field_name=courier&term=王",
    ]
    for url in urls:
        response = partner_client.get(url)
        assert response.status_code in (403, 404), url
        assert "王小明" not in response.content.decode(), url


def test_a_partner_account_sees_only_its_own_rewards_and_vouchers(partner_client, vouchers_of_both):
    mine, theirs = vouchers_of_both
    rewards = partner_client.get("/admin/activities/reward/").content.decode()
    assert "大米 5 斤" in rewards and "西渡理发" not in rewards
    listing = partner_client.get("/admin/activities/voucher/").content.decode()
    assert mine.masked_code in listing and theirs.masked_code not in listing
    assert "王*明" in listing and "王小明" not in listing
    assert partner_client.get(f"/admin/activities/voucher/{mine.pk}/change/").status_code == 200
    for url in (
        f"/admin/activities/voucher/{theirs.pk}/change/",
        f"/admin/activities/reward/{theirs.reward_id}/change/",
        f"/admin/activities/partner/{theirs.reward.partner_id}/change/",
        f"/admin/activities/partner/{theirs.reward.partner_id}/statement/",
    ):
        assert partner_client.get(url).status_code == 404, url


def test_a_partner_account_cannot_change_rewards_or_vouchers(partner_client, vouchers_of_both):
    mine, _ = vouchers_of_both
    reward = mine.reward
    response = partner_client.post(
        f"/admin/activities/reward/{reward.pk}/change/", {"name": "改名", "price": 1}
    )
    assert response.status_code == 403
    assert partner_client.get("/admin/activities/reward/add/").status_code == 403
    cancel = partner_client.post(
        "/admin/activities/voucher/",
        {"action": "cancel_vouchers", "_selected_action": [mine.pk], "confirm": "1", "reason": "x"},
    )
    assert cancel.status_code in (200, 302, 403)
    mine.refresh_from_db()
    reward.refresh_from_db()
    assert mine.state == Voucher.State.ISSUED and reward.name == "大米 5 斤"


def test_no_admin_page_shows_a_vouchers_full_code(district_client, vouchers_of_both):
    mine, _ = vouchers_of_both
    for url in ("/admin/activities/voucher/", f"/admin/activities/voucher/{mine.pk}/change/"):
        page = district_client.get(url).content.decode()
        assert mine.masked_code in page and mine.code not in page


def test_town_staff_see_their_towns_rewards_and_vouchers_only(nanqiao_client, vouchers_of_both):
    mine, theirs = vouchers_of_both
    rewards = nanqiao_client.get("/admin/activities/reward/").content.decode()
    assert "大米 5 斤" in rewards and "西渡理发" not in rewards
    assert nanqiao_client.get(f"/admin/activities/voucher/{mine.pk}/change/").status_code == 200
    assert nanqiao_client.get(f"/admin/activities/voucher/{theirs.pk}/change/").status_code == 404
    assert (
        nanqiao_client.get(f"/admin/activities/reward/{theirs.reward_id}/change/").status_code
        == 404
    )
    statement = "/admin/activities/partner/{}/statement/"
    assert nanqiao_client.get(statement.format(mine.reward.partner_id)).status_code == 200
    assert nanqiao_client.get(statement.format(theirs.reward.partner_id)).status_code == 404


def test_vouchers_filter_by_state_partner_town_and_month(district_client, vouchers_of_both, shop):
    mine, theirs = vouchers_of_both
    vouchers.cancel(theirs, "测试")
    page = district_client.get("/admin/activities/voucher/", {"state__exact": "issued"})
    assert mine.masked_code in page.content.decode()
    assert theirs.masked_code not in page.content.decode()
    by_partner = district_client.get(
        "/admin/activities/voucher/", {"reward__partner__id__exact": shop.pk}
    ).content.decode()
    assert mine.masked_code in by_partner and theirs.masked_code not in by_partner
    month = mine.issued_at
    by_month = district_client.get(
        "/admin/activities/voucher/",
        {"issued_at__year": month.year, "issued_at__month": month.month},
    )
    assert by_month.status_code == 200 and mine.masked_code in by_month.content.decode()


def test_staff_cancel_a_voucher_with_a_reason_and_the_points_come_back(
    nanqiao_client, vouchers_of_both
):
    mine, _ = vouchers_of_both
    courier = mine.courier
    before = points.balance(courier)
    asked = nanqiao_client.post(
        "/admin/activities/voucher/", {"action": "cancel_vouchers", "_selected_action": [mine.pk]}
    )
    assert "原因（必填）" in asked.content.decode()
    nanqiao_client.post(
        "/admin/activities/voucher/",
        {
            "action": "cancel_vouchers",
            "_selected_action": [mine.pk],
            "confirm": "1",
            "reason": "奖品缺货",
        },
    )
    mine.refresh_from_db()
    assert mine.state == Voucher.State.CANCELLED and mine.cancel_reason == "奖品缺货"
    assert points.balance(courier) == before + mine.points


def _camera_jpeg() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    output = io.BytesIO()
    image.save(output, format="JPEG", exif=exif.tobytes())
    return output.getvalue()


def test_a_rewards_picture_goes_through_the_image_cleaning(district_client, shop):
    upload = SimpleUploadedFile("奖品.jpg", _camera_jpeg(), content_type="image/jpeg")
    response = district_client.post(
        "/admin/activities/reward/add/",
        {
            "name": "体检套餐",
            "kind": "service",
            "price": 30,
            "partner": shop.pk,
            "address": "南桥镇社区卫生服务中心",
            "is_active": "on",
            "picture": upload,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    reward = Reward.objects.get(name="体检套餐")
    assert reward.picture.name.startswith("rewards/") and "奖品" not in reward.picture.name
    with Image.open(reward.picture.open("rb")) as stored:
        assert stored.format == "JPEG" and not stored.getexif()
    bad = SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")
    refused = district_client.post(
        "/admin/activities/reward/add/",
        {"name": "坏图", "kind": "goods", "price": 1, "partner": shop.pk, "address": "x"}
        | {"picture": bad},
    )
    assert refused.status_code == 200 and "errorlist" in refused.content.decode()
    assert not Reward.objects.filter(name="坏图").exists()


def test_the_monthly_statement_lists_used_vouchers_and_exports_xlsx(
    partner_client, vouchers_of_both, shop
):
    mine, _ = vouchers_of_both
    cashier = shop.members.get().user
    vouchers.use(mine.code, shop, cashier)
    mine.refresh_from_db()
    month = f"{mine.used_at:%Y-%m}"
    url = f"/admin/activities/partner/{shop.pk}/statement/"
    page = partner_client.get(url, {"month": month}).content.decode()
    assert "大米 5 斤" in page and "王*明" in page and "西渡理发" not in page
    # Months are offered in Chinese (Chromium shows <input type="month"> in English), and the
    # chosen one stays selected.
    assert 'type="month"' not in page
    label = f"{mine.used_at.year}年{mine.used_at.month}月"
    assert f'<option value="{month}" selected>{label}</option>' in page
    export = partner_client.get(url, {"month": month, "format": "xlsx"})
    assert export["Content-Disposition"].endswith(f'statement-{shop.pk}-{month}.xlsx"')
    book = load_workbook(io.BytesIO(export.content))
    summary = [tuple(row) for row in book["汇总"].iter_rows(min_row=2, values_only=True)]
    assert ("大米 5 斤", 1, mine.points) in summary and ("合计", 1, mine.points) in summary
    detail = list(book["明细"].iter_rows(min_row=2, values_only=True))
    assert len(detail) == 1 and detail[0][2] == "王*明" and mine.code not in str(detail)


def test_the_dashboard_shows_points_earned_against_spent_by_town_and_month_and_low_stock(
    district_client, nanqiao_client, vouchers_of_both, nanqiao_town
):
    mine, _ = vouchers_of_both  # 100 earned in 南桥镇, 2 × 10 spent on rewards in two towns
    Reward.objects.filter(pk=mine.reward_id).update(stock=2)
    sections = {s.key: s for s in district_client.get("/admin/dashboard/").context["sections"]}
    rewards = sections["rewards"]
    figures = {label: cell.value for label, cell in rewards.figures}
    assert figures["积分获得"] == 100 and figures["积分兑换（净额）"] == 20
    assert figures["兑换券待核销"] == 2 and figures["奖品库存紧张"] == 1
    towns = {label: [c.value for c in cells] for label, cells in rewards.tables[0].rows}
    assert towns["南桥镇"] == [100, 20]
    months = {label: [c.value for c in cells] for label, cells in rewards.tables[1].rows}
    assert months[f"{timezone.localdate():%Y-%m}"] == [100, 20]
    low = {label: [c.value for c in cells] for label, cells in rewards.tables[2].rows}
    assert low == {"大米 5 斤": ["南桥镇爱心超市", 2]}
    # Spending is not counted as points given in the activities' section.
    activities = {label: cell.value for label, cell in sections["activities"].figures}
    assert activities["积分发放（净额）"] == 100
    town_view = {s.key: s for s in nanqiao_client.get("/admin/dashboard/").context["sections"]}
    assert {label: c.value for label, c in town_view["rewards"].figures}["兑换券待核销"] == 1


def test_a_partner_account_gets_no_dashboard_link_nor_dashboard(partner_client, nanqiao_client):
    """A counter account would see the dashboard with empty figures: no link, and 403."""
    assert 'id="dashboard-link"' not in partner_client.get(ADMIN).content.decode()
    assert partner_client.get("/admin/dashboard/").status_code == 403
    assert partner_client.get("/admin/dashboard/export.xlsx").status_code == 403
    assert 'id="dashboard-link"' in nanqiao_client.get(ADMIN).content.decode()
    assert nanqiao_client.get("/admin/dashboard/").status_code == 200
