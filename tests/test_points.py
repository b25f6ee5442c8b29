"""The points ledger: awards and balances, reversals, manual adjustments, the append-only rule,
monthly caps, one award per source record, the public leaderboard with its filters, masking and
opt-out, and the courier's own page."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from activities import points
from activities.models import PointsEntry
from couriers.models import Courier
from couriers.privacy.masking import mask_name
from tests import factories
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
PHOTO = PointsEntry.Source.PHOTO
SERVICE = PointsEntry.Source.SERVICE
ACTIVITY = PointsEntry.Source.ACTIVITY


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime.datetime:
    """A moment in Shanghai local time."""
    return datetime.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def board(client: Client, **params) -> list[tuple[str, str, int]]:
    """The leaderboard rows as (masked name, town, total)."""
    response = client.get("/leaderboard/", params)
    assert response.status_code == 200
    return [(row["name"], row["town"], row["total"]) for row in response.context["board"]]


@pytest.fixture
def courier(nanqiao_town) -> Courier:
    return factories.courier(nanqiao_town, name="张大伟")


@pytest.fixture
def photo_cap(settings) -> int:
    settings.POINTS_MONTHLY_CAPS = {"photo": 12}
    return 12


# --- awards and balances ----------------------------------------------------------------------


def test_a_courier_without_entries_has_a_zero_balance(courier):
    assert points.balance(courier) == 0


def test_the_balance_is_the_sum_of_the_couriers_entries(courier, nanqiao, nanqiao_town):
    points.award(courier, 5, "志愿服务", SERVICE, by=nanqiao)
    points.award(courier, 3, "活动参与", ACTIVITY)
    points.adjust(courier, -2, "重复登记", nanqiao)
    other = factories.courier(nanqiao_town, name="李四")
    points.award(other, 50, "志愿服务", SERVICE)
    assert points.balance(courier) == 6
    assert points.balance(other) == 50


def test_an_award_records_what_who_and_when(courier, nanqiao):
    moment = at(2025, 5, 6)
    entry = points.award(courier, 5, "志愿服务：值守", SERVICE, source_id=42, by=nanqiao, at=moment)
    entry.refresh_from_db()
    assert (entry.courier, entry.amount, entry.reason) == (courier, 5, "志愿服务：值守")
    assert (entry.source, entry.source_id, entry.created_by) == (SERVICE, 42, nanqiao)
    assert entry.created_at == moment and entry.reverses is None


def test_a_zero_amount_never_reaches_the_ledger(courier):
    with transaction.atomic(), pytest.raises(IntegrityError):
        PointsEntry.objects.create(courier=courier, amount=0, reason="零", source=ACTIVITY)


# --- reversals --------------------------------------------------------------------------------


def test_a_reversal_adds_an_opposite_entry_and_keeps_the_original(courier, nanqiao):
    original = points.award(courier, 8, "志愿服务", SERVICE, source_id=1)
    reversal = points.reverse(original, "  登记错了  ", nanqiao)
    assert reversal.amount == -8 and reversal.reverses == original
    assert reversal.reason == "冲正：登记错了"
    assert reversal.source == SERVICE and reversal.created_by == nanqiao
    assert reversal.courier == courier
    assert PointsEntry.objects.filter(pk=original.pk, amount=8).exists()
    assert points.balance(courier) == 0
    assert original.reversed_by == reversal


def test_an_entry_is_reversed_only_once(courier, nanqiao):
    original = points.award(courier, 8, "志愿服务", SERVICE)
    points.reverse(original, "登记错了", nanqiao)
    with pytest.raises(points.PointsError, match="已经冲正过"):
        points.reverse(original, "再来一次", nanqiao)
    assert PointsEntry.objects.count() == 2
    assert points.balance(courier) == 0


def test_a_reversal_cannot_itself_be_reversed(courier, nanqiao):
    reversal = points.reverse(points.award(courier, 8, "志愿服务", SERVICE), "错了", nanqiao)
    with pytest.raises(points.PointsError, match="冲正记录本身不能再冲正"):
        points.reverse(reversal, "撤销冲正", nanqiao)
    assert PointsEntry.objects.count() == 2


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reversal_needs_a_reason(courier, nanqiao, reason):
    original = points.award(courier, 8, "志愿服务", SERVICE)
    with pytest.raises(points.PointsError, match="必须填写原因"):
        points.reverse(original, reason, nanqiao)
    assert PointsEntry.objects.count() == 1


def test_the_database_allows_one_reversal_per_entry(courier, nanqiao):
    original = points.award(courier, 8, "志愿服务", SERVICE)
    points.reverse(original, "错了", nanqiao)
    with transaction.atomic(), pytest.raises(IntegrityError):
        PointsEntry.objects.create(
            courier=courier, amount=-8, reason="绕过", source=SERVICE, reverses=original
        )


# --- append-only ------------------------------------------------------------------------------


def test_an_entry_cannot_be_edited(courier):
    entry = points.award(courier, 5, "志愿服务", SERVICE)
    entry.amount = 500
    entry.reason = "改过"
    with pytest.raises(ValidationError, match="不能修改"):
        entry.save()
    entry.refresh_from_db()
    assert (entry.amount, entry.reason) == (5, "志愿服务")


def test_an_entry_cannot_be_deleted(courier):
    entry = points.award(courier, 5, "志愿服务", SERVICE)
    with pytest.raises(ValidationError, match="不能删除"):
        entry.delete()
    assert PointsEntry.objects.filter(pk=entry.pk).exists()
    assert points.balance(courier) == 5


# --- manual adjustments -----------------------------------------------------------------------


@pytest.mark.parametrize("amount", [10, -3])
def test_a_manual_adjustment_is_recorded_with_its_reason_and_author(courier, nanqiao, amount):
    points.adjust(courier, 5, "期初积分", nanqiao)
    entry = points.adjust(courier, amount, "  线下活动补录  ", nanqiao)
    assert (entry.amount, entry.reason) == (amount, "线下活动补录")
    assert entry.source == PointsEntry.Source.MANUAL and entry.created_by == nanqiao
    assert points.balance(courier) == 5 + amount


@pytest.mark.parametrize("reason", ["", "  "])
def test_a_manual_adjustment_needs_a_reason(courier, nanqiao, reason):
    with pytest.raises(points.PointsError, match="必须填写原因"):
        points.adjust(courier, 10, reason, nanqiao)
    assert not PointsEntry.objects.exists()


def test_a_manual_adjustment_cannot_be_zero(courier, nanqiao):
    with pytest.raises(points.PointsError, match="不能为 0"):
        points.adjust(courier, 0, "没有变化", nanqiao)
    assert not PointsEntry.objects.exists()


def test_manual_adjustments_are_not_capped(courier, nanqiao, photo_cap):
    assert points.adjust(courier, 100, "年度表彰", nanqiao).amount == 100


# --- monthly caps -----------------------------------------------------------------------------


def test_photo_awards_stop_at_the_monthly_cap(courier, photo_cap):
    amounts = [
        points.award(courier, 5, "拍贤城", PHOTO, source_id=n, at=at(2025, 3, 1 + n))
        for n in range(4)
    ]
    assert [e.amount if e else None for e in amounts] == [5, 5, 2, None]
    assert points.balance(courier) == photo_cap
    assert PointsEntry.objects.count() == 3


def test_the_default_photo_cap_comes_from_settings(courier, settings):
    cap = settings.POINTS_MONTHLY_CAPS["photo"]
    first = points.award(courier, cap + 10, "拍贤城", PHOTO, source_id=1)
    assert first.amount == cap
    assert points.award(courier, 1, "拍贤城", PHOTO, source_id=2) is None


def test_the_cap_starts_again_next_month(courier, photo_cap):
    points.award(courier, 12, "拍贤城", PHOTO, source_id=1, at=at(2025, 3, 31, 23, 30))
    assert (
        points.award(courier, 5, "拍贤城", PHOTO, source_id=2, at=at(2025, 3, 31, 23, 50)) is None
    )
    # 00:10 on 1 April in Shanghai is still 31 March in UTC: the month is the local one.
    april = points.award(courier, 5, "拍贤城", PHOTO, source_id=3, at=at(2025, 4, 1, 0, 10))
    assert april is not None and april.amount == 5


def test_the_cap_is_per_courier(courier, nanqiao_town, photo_cap):
    other = factories.courier(nanqiao_town, name="李四")
    points.award(courier, 12, "拍贤城", PHOTO, source_id=1)
    assert points.award(other, 12, "拍贤城", PHOTO, source_id=2).amount == 12


def test_other_sources_have_no_cap(courier, photo_cap):
    points.award(courier, 12, "拍贤城", PHOTO, source_id=1)
    assert points.award(courier, 100, "志愿服务", SERVICE, source_id=1).amount == 100
    assert points.award(courier, 100, "活动", ACTIVITY).amount == 100


def test_a_reversed_photo_award_frees_its_share_of_the_cap(courier, nanqiao, photo_cap):
    first = points.award(courier, 12, "拍贤城", PHOTO, source_id=1)
    points.reverse(first, "重复报告", nanqiao)
    assert points.award(courier, 5, "拍贤城", PHOTO, source_id=2).amount == 5


def test_a_backdated_award_counts_only_its_own_month_against_the_cap(courier, photo_cap):
    points.award(courier, 12, "拍贤城", PHOTO, source_id=1, at=at(2025, 4, 10))
    march = points.award(courier, 5, "拍贤城", PHOTO, source_id=2, at=at(2025, 3, 10))
    assert march is not None and march.amount == 5


# --- one award per source record --------------------------------------------------------------


@pytest.mark.parametrize("source", [SERVICE, PHOTO])
def test_a_source_record_is_paid_once(courier, source):
    first = points.award(courier, 5, "第一次", source, source_id=77)
    again = points.award(courier, 5, "第二次", source, source_id=77)
    assert again.pk == first.pk
    assert PointsEntry.objects.filter(source=source, source_id=77).count() == 1
    assert points.balance(courier) == 5


def test_the_same_id_under_another_source_is_a_different_record(courier):
    points.award(courier, 5, "服务", SERVICE, source_id=77)
    points.award(courier, 3, "拍照", PHOTO, source_id=77)
    assert points.balance(courier) == 8


def test_awards_without_a_source_record_all_count(courier):
    points.award(courier, 2, "活动", ACTIVITY)
    points.award(courier, 2, "活动", ACTIVITY)
    assert points.balance(courier) == 4


def test_a_repeated_award_returns_the_entry_even_when_the_cap_is_used(courier, photo_cap):
    first = points.award(courier, 12, "拍贤城", PHOTO, source_id=5)
    assert points.award(courier, 12, "拍贤城", PHOTO, source_id=5) == first


# --- the leaderboard --------------------------------------------------------------------------


@pytest.fixture
def scores(nanqiao_town, xidu_town) -> dict[str, Courier]:
    """March and April 2025 in two towns."""
    people = {
        "zhang": factories.courier(nanqiao_town, name="张三丰"),
        "li": factories.courier(nanqiao_town, name="李四"),
        "wang": factories.courier(xidu_town, name="王小二"),
    }
    points.award(people["zhang"], 10, "服务", SERVICE, at=at(2025, 3, 5))
    points.award(people["zhang"], 5, "服务", SERVICE, at=at(2025, 3, 31, 23, 30))
    points.award(people["li"], 12, "服务", SERVICE, at=at(2025, 3, 8))
    points.award(people["wang"], 20, "服务", SERVICE, at=at(2025, 3, 9))
    # April: 00:10 local on 1 April (still March in UTC).
    points.award(people["li"], 30, "服务", SERVICE, at=at(2025, 4, 1, 0, 10))
    points.award(people["zhang"], 1, "服务", SERVICE, at=at(2025, 4, 2))
    return people


def test_the_leaderboard_ranks_a_months_totals_with_masked_names(anonymous, scores):
    assert board(anonymous, month="2025-03") == [
        ("王*二", "西渡街道", 20),
        ("张*丰", "南桥镇", 15),
        ("李*", "南桥镇", 12),
    ]
    assert board(anonymous, month="2025-04") == [("李*", "南桥镇", 30), ("张*丰", "南桥镇", 1)]


def test_the_leaderboard_never_shows_a_full_name(anonymous, scores):
    html = anonymous.get("/leaderboard/", {"month": "2025-03"}).content.decode()
    for person in scores.values():
        assert person.name not in html
        assert mask_name(person.name) in html
        assert person.phone not in html


def test_the_leaderboard_filters_by_town(anonymous, scores, nanqiao_town, xidu_town):
    assert board(anonymous, month="2025-03", town=nanqiao_town.pk) == [
        ("张*丰", "南桥镇", 15),
        ("李*", "南桥镇", 12),
    ]
    assert board(anonymous, month="2025-03", town=xidu_town.pk) == [("王*二", "西渡街道", 20)]


def test_the_leaderboard_defaults_to_this_month(anonymous, courier):
    points.award(courier, 7, "服务", SERVICE)
    response = anonymous.get("/leaderboard/")
    assert response.context["month"] == timezone.localdate().replace(day=1)
    assert [row["total"] for row in response.context["board"]] == [7]


@pytest.mark.parametrize("month", ["", "2025-13", "March", "2025-03-01"])
def test_a_bad_month_falls_back_to_this_month(anonymous, scores, month):
    response = anonymous.get("/leaderboard/", {"month": month})
    assert response.status_code == 200
    assert response.context["month"].day == 1


def test_a_month_without_points_says_so(anonymous, scores):
    response = anonymous.get("/leaderboard/", {"month": "2024-01"})
    assert response.context["board"] == []
    assert "这个月还没有积分" in response.content.decode()


def test_reversed_and_negative_totals_do_not_rank(anonymous, courier, nanqiao):
    entry = points.award(courier, 10, "服务", SERVICE)
    # A negative total (the ledger refuses to make one now; older data may hold one).
    PointsEntry.objects.create(
        courier=factories.courier(courier.work_town, name="赵六"),
        amount=-5,
        reason="扣分",
        source=PointsEntry.Source.MANUAL,
        created_by=nanqiao,
    )
    points.reverse(entry, "错了", nanqiao)
    assert board(anonymous) == []


def test_two_couriers_with_the_same_name_are_ranked_separately(anonymous, nanqiao_town):
    for amount in (20, 10):
        points.award(
            factories.courier(nanqiao_town, name="张伟"), amount, "服务", SERVICE, at=at(2025, 3, 3)
        )
    assert board(anonymous, month="2025-03") == [("张*", "南桥镇", 20), ("张*", "南桥镇", 10)]


def test_a_bad_town_falls_back_to_the_whole_district(anonymous, scores):
    assert len(board(anonymous, month="2025-03", town="abc")) == 3


def test_an_unknown_town_id_falls_back_to_the_whole_district(anonymous, scores):
    assert len(board(anonymous, month="2025-03", town="999999")) == 3


def test_a_courier_can_leave_and_rejoin_the_leaderboard(scores):
    zhang = scores["zhang"]
    client = sign_in(Client(), zhang)
    response = client.post("/me/leaderboard/", {"show": "0"}, follow=True)
    assert response.redirect_chain == [("/me/", 302)]
    assert "已不在公开积分榜上显示" in response.content.decode()
    zhang.refresh_from_db()
    assert zhang.show_on_leaderboard is False
    names = [name for name, _, _ in board(Client(), month="2025-03")]
    assert "张*丰" not in names and len(names) == 2
    # Leaving hides the courier, not their points.
    assert points.balance(zhang) == 16

    client.post("/me/leaderboard/", {"show": "1"})
    zhang.refresh_from_db()
    assert zhang.show_on_leaderboard is True
    assert "张*丰" in [name for name, _, _ in board(Client(), month="2025-03")]


def test_the_me_page_offers_the_opposite_choice(courier):
    client = sign_in(Client(), courier)
    assert "不在积分榜显示我" in client.get("/me/").content.decode()
    client.post("/me/leaderboard/", {"show": "0"})
    html = client.get("/me/").content.decode()
    assert '<input type="hidden" name="show" value="1">' in html


def test_leaving_the_leaderboard_needs_a_signed_in_post(anonymous, courier):
    response = anonymous.post("/me/leaderboard/", {"show": "0"})
    assert response.status_code == 302 and response["Location"].startswith("/me/signin/")
    assert sign_in(Client(), courier).get("/me/leaderboard/").status_code == 405
    courier.refresh_from_db()
    assert courier.show_on_leaderboard is True


# --- the courier's own page -------------------------------------------------------------------


def test_the_me_page_shows_the_balance_and_history(courier, nanqiao):
    points.award(courier, 5, "志愿服务：南桥值守", SERVICE, at=at(2025, 3, 5))
    points.award(courier, 3, "拍贤城报告被受理", PHOTO, source_id=1, at=at(2025, 3, 6))
    points.adjust(courier, -2, "重复登记更正", nanqiao)
    response = sign_in(Client(), courier).get("/me/")
    html = response.content.decode()
    assert response.context["balance"] == 6
    assert "我的积分：<strong>6</strong>" in html
    assert "志愿服务：南桥值守" in html and "<strong>+5</strong>" in html
    assert "3月6日 拍贤城报告被受理" in html
    assert "重复登记更正" in html and "<strong>-2</strong>" in html


def test_the_me_page_shows_only_the_couriers_own_points(courier, nanqiao_town):
    other = factories.courier(nanqiao_town, name="李四")
    points.award(other, 9, "别人的积分", SERVICE)
    html = sign_in(Client(), courier).get("/me/").content.decode()
    assert "别人的积分" not in html and "我的积分：<strong>0</strong>" in html


def test_the_locked_balance_is_the_ledger_total_and_none_for_a_missing_courier(courier):
    points.award(courier, 12, "服务", PointsEntry.Source.SERVICE)
    points.award(courier, -5, "扣除", PointsEntry.Source.MANUAL)
    with transaction.atomic():
        assert points.locked_balance(courier.pk) == 7 == points.balance(courier)
        assert points.locked_balance(courier.pk + 1000) is None
