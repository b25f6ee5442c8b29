"""积分兑换 under simultaneous requests, on PostgreSQL: the stock is never oversold, a courier's
balance never goes below zero, and a voucher is used (or cancelled) exactly once."""

from __future__ import annotations

import pytest
from django.db.models import Sum

from activities import points
from activities.models import PointsEntry, Reward, Voucher
from activities.rewards import vouchers
from activities.rewards.redeeming import RedeemRefused, redeem
from tests import factories
from tests.concurrency import at_once, needs_postgresql

pytestmark = [needs_postgresql, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(committed_db):
    return factories.partner(factories.town("南桥镇"), "南桥镇爱心超市")


def test_thirty_simultaneous_redemptions_of_the_last_five_items_leave_exactly_five(shop):
    town = factories.town("南桥镇")
    reward = factories.reward(shop, "最后五袋大米", price=10, stock=5)
    people = [factories.courier(town, phone=factories.phone(80_000 + n)) for n in range(30)]
    for who in people:
        factories.give_points(who, 10)
    results, problems = at_once([lambda who=who: redeem(who, reward.pk) for who in people])
    assert len(results) == 5
    assert len(problems) == 25 and all(isinstance(p, RedeemRefused) for p in problems)
    assert all("已经兑完了" in str(p) for p in problems)
    reward.refresh_from_db()
    assert reward.stock == 0
    assert Voucher.objects.filter(reward=reward).count() == 5
    assert PointsEntry.objects.filter(source=PointsEntry.Source.REDEEM).count() == 5


def test_two_redemptions_at_once_that_together_exceed_the_balance_one_succeeds(shop):
    courier = factories.courier(factories.town("南桥镇"), "王小明")
    factories.give_points(courier, 30)
    first = factories.reward(shop, "理发", price=20)
    second = factories.reward(shop, "体检", price=20)
    results, problems = at_once(
        [lambda: redeem(courier, first.pk), lambda: redeem(courier, second.pk)]
    )
    assert len(results) == 1 and len(problems) == 1
    assert isinstance(problems[0], RedeemRefused) and "积分不够" in str(problems[0])
    assert points.balance(courier) == 10


def test_many_redemptions_by_one_courier_at_once_never_take_the_balance_below_zero(shop):
    courier = factories.courier(factories.town("南桥镇"), "王小明")
    factories.give_points(courier, 35)
    # Different rewards: only the courier's lock stands between these debits.
    rewards = [factories.reward(shop, f"奖品{n}", price=10) for n in range(12)]
    results, problems = at_once([lambda pk=r.pk: redeem(courier, pk) for r in rewards])
    assert len(results) == 3 and len(problems) == 9
    total = PointsEntry.objects.filter(courier=courier).aggregate(t=Sum("amount"))["t"]
    assert total == points.balance(courier) == 5


def test_a_voucher_scanned_at_two_counters_at_once_is_used_once(shop):
    courier = factories.courier(factories.town("南桥镇"), "王小明")
    factories.give_points(courier, 10)
    voucher = redeem(courier, factories.reward(shop, price=10).pk)
    one = factories.partner_account("counter-1", shop)
    two = factories.partner_account("counter-2", shop)
    results, problems = at_once(
        [lambda who=who: vouchers.use(voucher.code, shop, who) for who in (one, two, one, two)]
    )
    assert len(results) == 1 and len(problems) == 3
    assert all(isinstance(p, vouchers.VoucherRefused) for p in problems)
    voucher.refresh_from_db()
    assert voucher.state == Voucher.State.USED


def test_a_voucher_used_and_cancelled_at_once_is_one_or_the_other(shop):
    courier = factories.courier(factories.town("南桥镇"), "王小明")
    factories.give_points(courier, 10)
    reward = factories.reward(shop, price=10, stock=1)
    voucher = redeem(courier, reward.pk)
    cashier = factories.partner_account("counter-1", shop)
    results, problems = at_once(
        [
            lambda: vouchers.use(voucher.code, shop, cashier),
            lambda: vouchers.cancel(voucher, "本人取消"),
        ]
    )
    assert len(results) == 1 and len(problems) == 1
    voucher.refresh_from_db()
    reward.refresh_from_db()
    if voucher.state == Voucher.State.USED:
        assert reward.stock == 0 and points.balance(courier) == 0
    else:
        assert voucher.state == Voucher.State.CANCELLED
        assert reward.stock == 1 and points.balance(courier) == 10
    assert Reward.objects.get(pk=reward.pk).stock in (0, 1)


def test_two_staff_deductions_at_once_that_together_exceed_the_balance_one_succeeds(shop):
    courier = factories.courier(factories.town("南桥镇"), "王小明")
    factories.give_points(courier, 30)
    results, problems = at_once(
        [lambda: points.adjust(courier, -20, "扣分", None) for _ in range(2)]
    )
    assert len(results) == 1 and len(problems) == 1
    assert isinstance(problems[0], points.PointsError)
    assert points.balance(courier) == 10
