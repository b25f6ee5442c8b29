"""积分兑换 for the courier: redeeming (stock, limits, balance, nothing written when refused),
cancelling and expiry with reversing entries, the ledger's invariants, "earned" on the
leaderboard, the catalogue page and its constant queries, and 「我的」 with vouchers and QR."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from activities import points
from activities.models import PointsEntry, Reward, Voucher
from activities.rewards import tasks, vouchers
from activities.rewards.redeeming import RedeemRefused, redeem, wallet
from tests import factories
from tests.factories import courier_client

pytestmark = pytest.mark.django_db
REDEEM = PointsEntry.Source.REDEEM


@pytest.fixture
def shop(nanqiao_town):
    return factories.partner(nanqiao_town, "南桥镇爱心超市")


@pytest.fixture
def courier(nanqiao_town):
    someone = factories.courier(nanqiao_town, "王小明")
    factories.give_points(someone, 50)
    return someone


def _ledger_snapshot(courier) -> list[tuple]:
    return list(
        PointsEntry.objects.filter(courier=courier)
        .order_by("pk")
        .values_list("pk", "amount", "reason", "source", "source_id", "reverses_id", "created_at")
    )


def _nothing_written(courier, reward, before_entries, before_stock):
    reward.refresh_from_db()
    assert reward.stock == before_stock
    assert _ledger_snapshot(courier) == before_entries
    assert not Voucher.objects.filter(courier=courier).exists()


# --- redeeming --------------------------------------------------------------------------------


def test_redeeming_reserves_the_stock_debits_the_price_and_issues_a_voucher(
    courier, shop, settings
):
    settings.REWARD_VOUCHER_DAYS = 30
    reward = factories.reward(shop, price=20, stock=3)
    voucher = redeem(courier, reward.pk)
    reward.refresh_from_db()
    assert reward.stock == 2
    assert voucher.state == Voucher.State.ISSUED and voucher.points == 20
    assert len(voucher.code) == 10 and vouchers.normalize_code(voucher.code) == voucher.code
    assert voucher.expires_at - voucher.issued_at == datetime.timedelta(days=30)
    debit = PointsEntry.objects.get(source=REDEEM, source_id=voucher.pk)
    assert debit.amount == -20 and debit.courier == courier
    assert points.balance(courier) == 30


def test_voucher_codes_are_random_and_unique(courier, shop):
    reward = factories.reward(shop, price=1)
    codes = {redeem(courier, reward.pk).code for _ in range(20)}
    assert len(codes) == 20


def test_a_courier_without_enough_points_is_refused_and_nothing_is_written(courier, shop):
    reward = factories.reward(shop, price=60, stock=3)
    before = _ledger_snapshot(courier)
    with pytest.raises(RedeemRefused, match="积分不够：需要 60 积分，你现在有 50 积分"):
        redeem(courier, reward.pk)
    _nothing_written(courier, reward, before, 3)


def test_a_reward_out_of_stock_is_refused_and_nothing_is_written(courier, shop):
    reward = factories.reward(shop, stock=0)
    before = _ledger_snapshot(courier)
    with pytest.raises(RedeemRefused, match="已经兑完了"):
        redeem(courier, reward.pk)
    _nothing_written(courier, reward, before, 0)


def test_a_reward_withdrawn_or_past_its_dates_between_the_page_and_the_tap_is_refused(
    courier, shop
):
    today = timezone.localdate()
    ended = factories.reward(shop, "过期奖品", available_until=today - datetime.timedelta(days=1))
    later = factories.reward(shop, "未开始", available_from=today + datetime.timedelta(days=1))
    withdrawn = factories.reward(shop, "已下架", is_active=False)
    before = _ledger_snapshot(courier)
    for reward in (ended, later, withdrawn):
        with pytest.raises(RedeemRefused, match="已下架或不在兑换期内"):
            redeem(courier, reward.pk)
    shop.is_active = False
    shop.save()
    with pytest.raises(RedeemRefused, match="已下架"):
        redeem(courier, factories.reward(shop, "合作方停用").pk)
    assert _ledger_snapshot(courier) == before


def test_a_courier_over_the_monthly_or_overall_limit_is_refused(courier, shop):
    monthly = factories.reward(shop, "每月一次", price=1, monthly_limit=1)
    overall = factories.reward(shop, "限兑两次", price=1, total_limit=2)
    redeem(courier, monthly.pk)
    with pytest.raises(RedeemRefused, match="每人每月最多兑换 1 次"):
        redeem(courier, monthly.pk)
    last_month = timezone.now() - datetime.timedelta(days=40)
    Voucher.objects.filter(reward=monthly).update(issued_at=last_month)
    redeem(courier, monthly.pk)  # a new month, a new turn

    first = redeem(courier, overall.pk)
    redeem(courier, overall.pk)
    with pytest.raises(RedeemRefused, match="每人最多兑换 2 次"):
        redeem(courier, overall.pk)
    vouchers.cancel(first, "本人取消")  # a cancelled voucher gives its turn back
    redeem(courier, overall.pk)


def test_unlimited_stock_stays_unlimited(courier, shop):
    reward = factories.reward(shop, stock=None, price=5)
    voucher = redeem(courier, reward.pk)
    vouchers.cancel(voucher, "本人取消")
    reward.refresh_from_db()
    assert reward.stock is None


def test_the_database_refuses_a_negative_stock(shop):
    from django.db import IntegrityError, transaction

    reward = factories.reward(shop, stock=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Reward.objects.filter(pk=reward.pk).update(stock=-1)


# --- cancelling, expiry and the ledger --------------------------------------------------------


def test_cancelling_gives_the_stock_and_the_points_back_with_a_reversing_entry(courier, shop):
    reward = factories.reward(shop, price=20, stock=1)
    voucher = redeem(courier, reward.pk)
    debit = PointsEntry.objects.get(source=REDEEM, source_id=voucher.pk)
    staff = factories.district_staff()
    vouchers.cancel(voucher, "小哥电话申请取消", by=staff)
    voucher.refresh_from_db()
    reward.refresh_from_db()
    assert voucher.state == Voucher.State.CANCELLED and voucher.cancelled_by == staff
    assert voucher.cancel_reason == "小哥电话申请取消"
    assert reward.stock == 1
    refund = PointsEntry.objects.get(reverses=debit)
    assert refund.amount == 20 and refund.source == REDEEM and "小哥电话申请取消" in refund.reason
    assert points.balance(courier) == 50
    with pytest.raises(vouchers.VoucherRefused, match="已取消"):
        vouchers.cancel(voucher, "再取消一次")
    assert PointsEntry.objects.filter(reverses=debit).count() == 1


def test_staff_must_give_a_reason_to_cancel(courier, shop):
    voucher = redeem(courier, factories.reward(shop).pk)
    with pytest.raises(vouchers.VoucherRefused, match="必须填写原因"):
        vouchers.cancel(voucher, "  ")
    voucher.refresh_from_db()
    assert voucher.state == Voucher.State.ISSUED


def test_a_used_voucher_cannot_be_cancelled(courier, shop):
    voucher = redeem(courier, factories.reward(shop).pk)
    vouchers.use(voucher.code, shop, factories.partner_account("counter", shop))
    with pytest.raises(vouchers.VoucherRefused, match="使用过"):
        vouchers.cancel(voucher, "本人取消")
    assert points.balance(courier) == 40


def test_a_redemption_debit_cannot_be_reversed_by_hand(courier, shop):
    voucher = redeem(courier, factories.reward(shop).pk)
    debit = PointsEntry.objects.get(source=REDEEM, source_id=voucher.pk)
    with pytest.raises(points.PointsError, match="请取消对应的兑换券"):
        points.reverse(debit, "想退积分", factories.district_staff())
    assert points.balance(courier) == 40


def test_the_ledger_sums_to_the_balance_and_no_entry_is_ever_edited(courier, shop):
    reward = factories.reward(shop, price=7, stock=10)
    counter_user = factories.partner_account("counter", shop)
    kept = redeem(courier, reward.pk)
    used = redeem(courier, reward.pk)
    redeem(courier, reward.pk)
    vouchers.use(used.code, shop, counter_user)
    before = _ledger_snapshot(courier)
    vouchers.cancel(kept, "本人取消")
    after = _ledger_snapshot(courier)
    assert after[: len(before)] == before  # earlier entries untouched; one entry added
    assert len(after) == len(before) + 1
    total = PointsEntry.objects.filter(courier=courier).aggregate(t=Sum("amount"))["t"]
    assert total == points.balance(courier) == 50 - 14
    assert wallet(courier) == {"earned": 50, "spent": 7, "held": 7, "available": 36}
    debit = PointsEntry.objects.get(source=REDEEM, source_id=used.pk)
    debit.amount = -1
    with pytest.raises(ValidationError):
        debit.save()
    with pytest.raises(ValidationError):
        debit.delete()


def test_expire_vouchers_expires_the_overdue_ones_and_dry_run_writes_nothing(courier, shop):
    reward = factories.reward(shop, price=10, stock=5)
    overdue = redeem(courier, reward.pk)
    current = redeem(courier, reward.pk)
    Voucher.objects.filter(pk=overdue.pk).update(expires_at=timezone.now() - datetime.timedelta(1))
    out = StringIO()
    call_command("expire_vouchers", "--dry-run", stdout=out)
    assert "将过期 1 张" in out.getvalue()
    overdue.refresh_from_db()
    assert overdue.state == Voucher.State.ISSUED and points.balance(courier) == 30

    call_command("expire_vouchers", stdout=out)
    assert "已过期 1 张" in out.getvalue()
    overdue.refresh_from_db()
    current.refresh_from_db()
    reward.refresh_from_db()
    assert overdue.state == Voucher.State.EXPIRED and current.state == Voucher.State.ISSUED
    assert reward.stock == 4 and points.balance(courier) == 40
    call_command("expire_vouchers", stdout=out)  # a second run finds nothing
    assert PointsEntry.objects.filter(source=REDEEM, amount__gt=0).count() == 1


def test_the_worker_task_expires_due_vouchers(courier, shop):
    voucher = redeem(courier, factories.reward(shop).pk)
    Voucher.objects.filter(pk=voucher.pk).update(expires_at=timezone.now())
    tasks.expire_vouchers.call()
    voucher.refresh_from_db()
    assert voucher.state == Voucher.State.EXPIRED


def test_an_issued_voucher_is_scheduled_for_expiry_where_the_backend_can_wait(
    courier, shop, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    from django_tasks import default_task_backend

    with django_capture_on_commit_callbacks(execute=True):
        voucher = redeem(courier, factories.reward(shop).pk)
    queued = default_task_backend.results
    assert len(queued) == 1
    assert queued[0].task.run_after == voucher.expires_at + datetime.timedelta(minutes=1)


# --- "earned" stays earned --------------------------------------------------------------------


def test_redeemed_points_still_count_as_earned_on_the_leaderboard(courier, shop, anonymous):
    redeem(courier, factories.reward(shop, price=30).pk)
    page = anonymous.get("/leaderboard/").content.decode()
    assert "王*明" in page and ">50<" in page.replace(" ", "")


# --- the pages --------------------------------------------------------------------------------


def test_the_catalogue_shows_what_the_courier_can_afford_first_and_filters(
    courier, shop, xidu_town
):
    factories.reward(shop, "体检套餐", kind=Reward.Kind.SERVICE, price=80)
    factories.reward(shop, "矿泉水", price=5)
    factories.reward(shop, "饮料", price=3, stock=0)
    other = factories.partner(xidu_town, "西渡工会")
    factories.reward(other, "西渡理发", kind=Reward.Kind.SERVICE, price=10, address="西渡")
    factories.reward(other, "全区法律咨询", kind=Reward.Kind.SERVICE, price=40, town=None)
    client = courier_client(courier)
    page = client.get("/rewards/").content.decode()
    assert "我的可用积分：<strong>50</strong>" in page
    order = ["矿泉水", "西渡理发", "全区法律咨询", "体检套餐", "饮料"]
    assert [page.index(name) for name in order] == sorted(page.index(name) for name in order)
    services = client.get("/rewards/", {"kind": "service"}).content.decode()
    assert "体检套餐" in services and "矿泉水" not in services
    xidu = client.get("/rewards/", {"town": xidu_town.pk}).content.decode()
    assert "西渡理发" in xidu and "全区法律咨询" in xidu and "矿泉水" not in xidu


def test_the_catalogue_gives_distances_when_the_phone_gives_a_position(courier, shop, nanqiao_town):
    point = factories_checkin_point(nanqiao_town)
    factories.reward(shop, "报到点领取", checkin_point=point, address="")
    page = courier_client(courier).get("/rewards/", {"lat": 30.92, "lng": 121.47}).content.decode()
    assert "距你" in page


def factories_checkin_point(in_town):
    from stations.models import CheckinPoint

    return CheckinPoint.objects.create(
        name="南桥报到点", town=in_town, address="南桥镇", latitude=30.918, longitude=121.474
    )


def test_the_catalogue_runs_the_same_queries_for_20_and_200_rewards(courier, shop, xidu_town):
    client = courier_client(courier)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/rewards/").status_code == 200
        return len(captured)

    Reward.objects.bulk_create(
        [
            Reward(name=f"奖品{n}", kind="goods", price=n + 1, partner=shop, address="x")
            for n in range(20)
        ]
    )
    few = queries()
    Reward.objects.bulk_create(
        [
            Reward(name=f"奖品B{n}", kind="goods", price=n + 1, partner=shop, address="x")
            for n in range(180)
        ]
    )
    assert queries() == few


def test_a_reward_page_says_where_and_when_to_collect_it(courier, shop):
    reward = factories.reward(shop, "理发一次", collect_hours="每周三 14:00-17:00")
    page = courier_client(courier).get(f"/rewards/{reward.pk}/").content.decode()
    assert "南桥镇解放东路1号" in page and "每周三 14:00-17:00" in page and "南桥镇爱心超市" in page


def test_redeeming_from_the_page_leads_to_the_voucher_on_me(courier, shop):
    reward = factories.reward(shop, "大米 5 斤", price=20)
    client = courier_client(courier)
    response = client.post(f"/rewards/{reward.pk}/redeem/")
    assert response.status_code == 302 and response["Location"] == "/me/#my-vouchers"
    me = client.get("/me/").content.decode()
    voucher = Voucher.objects.get(courier=courier)
    assert "兑换成功" in me and "大米 5 斤" in me and voucher.display_code in me and "<svg" in me
    for key, value in {"earned": 50, "spent": 0, "held": 20, "available": 30}.items():
        assert f'id="wallet-{key}">{value}<' in me


def test_a_refused_redemption_says_why_in_chinese(courier, shop):
    reward = factories.reward(shop, price=500)
    client = courier_client(courier)
    response = client.post(f"/rewards/{reward.pk}/redeem/", follow=True)
    assert "积分不够" in response.content.decode()
    assert not Voucher.objects.exists()


def test_redeeming_needs_a_signed_in_courier(shop, anonymous):
    reward = factories.reward(shop)
    response = anonymous.post(f"/rewards/{reward.pk}/redeem/")
    assert response.status_code == 302 and response["Location"].startswith("/me/signin/")
    assert not Voucher.objects.exists()


def test_a_courier_cancels_their_own_voucher_but_not_another_couriers(courier, shop, nanqiao_town):
    voucher = redeem(courier, factories.reward(shop, price=20).pk)
    someone_else = factories.courier(nanqiao_town, "李四")
    assert (
        courier_client(someone_else).post(f"/rewards/vouchers/{voucher.pk}/cancel/").status_code
        == 404
    )
    voucher.refresh_from_db()
    assert voucher.state == Voucher.State.ISSUED
    client = courier_client(courier)
    page = client.post(f"/rewards/vouchers/{voucher.pk}/cancel/", follow=True).content.decode()
    assert "20 积分已退回" in page
    voucher.refresh_from_db()
    assert voucher.state == Voucher.State.CANCELLED and points.balance(courier) == 50


def test_me_shows_no_qr_for_a_voucher_that_is_no_longer_usable(courier, shop):
    voucher = redeem(courier, factories.reward(shop).pk)
    vouchers.cancel(voucher, "本人取消")
    me = courier_client(courier).get("/me/").content.decode()
    assert "已取消" in me and "<svg" not in me and voucher.code not in me


# --- the balance never goes below zero, whatever takes points away -----------------------------


def test_a_deduction_past_the_balance_is_refused_and_writes_nothing(courier, district):
    start = points.balance(courier)
    with pytest.raises(points.PointsError, match="积分余额不足"):
        points.adjust(courier, -(start + 1), "扣分", district)
    assert points.balance(courier) == start
    points.adjust(courier, -start, "扣分", district)
    assert points.balance(courier) == 0


def test_reversing_points_already_spent_on_a_voucher_is_refused(courier, shop, district):
    award = factories.give_points(courier, 10)
    redeem(courier, factories.reward(shop, price=points.balance(courier)).pk)
    with pytest.raises(points.PointsError, match="请先取消对应的兑换券"):
        points.reverse(award, "误加", district)
    assert points.balance(courier) == 0
    assert not PointsEntry.objects.filter(reverses=award).exists()


def test_the_admin_refuses_a_deduction_past_the_balance(courier, district_client):
    start = points.balance(courier)
    response = district_client.post(
        "/admin/activities/pointsentry/add/",
        {"courier": courier.pk, "amount": -(start + 10), "reason": "扣分"},
    )
    assert response.status_code == 200 and "积分余额不足" in response.content.decode()
    assert points.balance(courier) == start


def test_unticking_an_attendance_whose_points_were_spent_keeps_it_and_says_why(
    courier, shop, district_client
):
    from activities.models import Attendance
    from activities.programmes import attendance

    activity = factories.activity(courier.work_town, points=10)
    record, _ = attendance.mark(activity, courier, via=Attendance.Via.STAFF, by=None)
    redeem(courier, factories.reward(shop, price=points.balance(courier)).pk)
    response = district_client.post(
        f"/admin/activities/attendance/{record.pk}/delete/", {"post": "yes"}, follow=True
    )
    page = response.content.decode()
    assert "未取消" in page and "成功删除" not in page
    assert Attendance.objects.filter(pk=record.pk).exists() and points.balance(courier) == 0
