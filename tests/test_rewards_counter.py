"""The partner's counter page: a voucher found by its code (typed or from its QR code), the
courier's name masked, confirmed once; tampered, replayed, expired and other partners' codes
refused with a Chinese message and nothing written; who may open the page; the rate limit on
code lookups; the camera allowed on this page only."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from activities import points
from activities.models import Voucher
from activities.rewards import vouchers
from activities.rewards.redeeming import redeem
from tests import factories

pytestmark = pytest.mark.django_db
COUNTER = "/rewards/counter/"


@pytest.fixture
def shop(nanqiao_town):
    return factories.partner(nanqiao_town, "南桥镇爱心超市")


@pytest.fixture
def cashier(shop):
    client = Client()
    client.force_login(factories.partner_account("partner-nanqiao", shop))
    return client


@pytest.fixture
def voucher(nanqiao_town, shop):
    courier = factories.courier(nanqiao_town, "王小明")
    factories.give_points(courier, 50)
    return redeem(courier, factories.reward(shop, "大米 5 斤", price=20).pk)


def _state(voucher) -> str:
    voucher.refresh_from_db()
    return voucher.state


def test_the_qr_code_opens_the_voucher_with_the_courier_masked_and_confirming_uses_it(
    cashier, voucher
):
    page = cashier.get(COUNTER, {"code": voucher.code}).content.decode()
    assert "大米 5 斤" in page and "王*明" in page and "王小明" not in page
    assert "确认兑换" in page
    response = cashier.post(COUNTER, {"code": voucher.code, "confirm": "1"}, follow=True)
    assert "已核销：大米 5 斤（王*明）" in response.content.decode()
    voucher.refresh_from_db()
    assert voucher.state == Voucher.State.USED and voucher.used_by.username == "partner-nanqiao"
    assert points.balance(voucher.courier) == 30  # used: the points stay spent


def test_a_typed_code_is_accepted_with_spaces_dashes_and_lower_case(cashier, voucher):
    typed = f" {voucher.code[:5].lower()}-{voucher.code[5:]} "
    assert "确认兑换" in cashier.get(COUNTER, {"code": typed}).content.decode()
    cashier.post(COUNTER, {"code": typed, "confirm": "1"})
    assert _state(voucher) == Voucher.State.USED


def test_a_replayed_voucher_is_refused_the_second_time(cashier, voucher):
    cashier.post(COUNTER, {"code": voucher.code, "confirm": "1"})
    used_at = Voucher.objects.get(pk=voucher.pk).used_at
    again = cashier.post(COUNTER, {"code": voucher.code, "confirm": "1"})
    assert again.status_code == 400 and "使用过，不能重复使用" in again.content.decode()
    assert Voucher.objects.get(pk=voucher.pk).used_at == used_at
    assert "确认兑换" not in cashier.get(COUNTER, {"code": voucher.code}).content.decode()


def test_a_tampered_code_is_refused(cashier, voucher):
    last = "2" if voucher.code[-1] != "2" else "3"
    for code in (voucher.code[:-1] + last, voucher.code + "X", "0000000000", "<script>"):
        response = cashier.post(COUNTER, {"code": code, "confirm": "1"})
        assert response.status_code == 400
        assert "没有这张兑换券" in response.content.decode() or "券码格式不对" in (
            response.content.decode()
        )
    assert _state(voucher) == Voucher.State.ISSUED


def test_a_voucher_of_another_partner_is_refused(voucher, xidu_town):
    other = factories.partner(xidu_town, "西渡工会")
    client = Client()
    client.force_login(factories.partner_account("partner-xidu", other))
    for response in (
        client.get(COUNTER, {"code": voucher.code}),
        client.post(COUNTER, {"code": voucher.code, "confirm": "1"}),
    ):
        page = response.content.decode()
        assert response.status_code == 400
        assert "由“南桥镇爱心超市”提供，不能在“西渡工会”核销" in page and "王*明" not in page
    assert _state(voucher) == Voucher.State.ISSUED
    with pytest.raises(vouchers.VoucherRefused):
        vouchers.use(voucher.code, other, None)


def test_an_expired_or_cancelled_voucher_is_refused(cashier, voucher):
    Voucher.objects.filter(pk=voucher.pk).update(expires_at=timezone.now() - datetime.timedelta(1))
    response = cashier.post(COUNTER, {"code": voucher.code, "confirm": "1"})
    assert "过期" in response.content.decode()
    assert _state(voucher) == Voucher.State.ISSUED  # the sweep expires it and refunds
    Voucher.objects.filter(pk=voucher.pk).update(expires_at=timezone.now() + datetime.timedelta(1))
    vouchers.cancel(voucher, "本人取消")
    response = cashier.post(COUNTER, {"code": voucher.code, "confirm": "1"})
    assert "已取消" in response.content.decode()
    assert _state(voucher) == Voucher.State.CANCELLED


def test_the_counter_is_for_partner_accounts_only(voucher, anonymous, nanqiao_client):
    response = anonymous.get(COUNTER, {"code": voucher.code})
    assert response.status_code == 302 and "/admin/login/?next=" in response["Location"]
    refused = nanqiao_client.post(COUNTER, {"code": voucher.code, "confirm": "1"})
    assert refused.status_code == 403 and "仅供兑换合作方" in refused.content.decode()
    assert _state(voucher) == Voucher.State.ISSUED


def test_an_inactive_partner_cannot_use_its_counter(cashier, voucher, shop):
    shop.is_active = False
    shop.save()
    assert cashier.post(COUNTER, {"code": voucher.code, "confirm": "1"}).status_code == 403
    assert _state(voucher) == Voucher.State.ISSUED


def test_code_lookups_are_rate_limited_so_codes_cannot_be_guessed(cashier, voucher, settings):
    settings.REWARD_COUNTER_LOOKUPS = 5
    for n in range(5):
        assert cashier.get(COUNTER, {"code": f"ABCDE{n + 2}2222"}).status_code == 400
    blocked = cashier.post(COUNTER, {"code": voucher.code, "confirm": "1"})
    assert blocked.status_code == 429 and "分钟后再试" in blocked.content.decode()
    assert _state(voucher) == Voucher.State.ISSUED
    assert cashier.get(COUNTER).status_code == 200  # the page itself still opens


def test_the_counter_page_alone_may_use_the_camera_and_works_without_javascript(cashier, anonymous):
    page = cashier.get(COUNTER)
    assert "camera=(self)" in page["Permissions-Policy"]
    html = page.content.decode()
    assert '<form method="get" action="/rewards/counter/"' in html and 'name="code"' in html
    assert "voucher_scan.js" in html and "<script>" not in html and "style=" not in html
    assert "camera=()" in anonymous.get("/rewards/")["Permissions-Policy"]
