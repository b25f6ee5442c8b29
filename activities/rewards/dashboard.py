"""The rewards' dashboard section: points earned against points spent, by town and by month,
vouchers waiting at the counters, and rewards running low. Four aggregate queries."""

from __future__ import annotations

import datetime

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncMonth

from activities.models import PointsEntry, Reward, Voucher
from couriers.figures import Cell, Scope, Section, Table, changelist

LOW_STOCK = 5  # rewards with this many or fewer left are listed
MONTHS = 6


def _month_back(day: datetime.date, months: int) -> datetime.date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return datetime.date(year, month + 1, 1)


def section(scope: Scope) -> Section:
    user = scope.user
    redeem = Q(source=PointsEntry.Source.REDEEM)
    by_town = {
        row["courier__work_town_id"]: row
        for row in PointsEntry.objects.for_user(user)
        .values("courier__work_town_id")
        .annotate(earned=Sum("amount", filter=~redeem), spent=Sum("amount", filter=redeem))
    }
    start = _month_back(scope.month_start, MONTHS - 1)
    by_month = {
        row["month"].date() if hasattr(row["month"], "date") else row["month"]: row
        for row in PointsEntry.objects.for_user(user)
        .filter(created_at__date__gte=start)
        .annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(earned=Sum("amount", filter=~redeem), spent=Sum("amount", filter=redeem))
    }
    states = dict(
        Voucher.objects.for_user(user).values_list("state").annotate(n=Count("pk")).order_by()
    )
    low = list(
        Reward.objects.for_user(user)
        .filter(is_active=True, stock__lte=LOW_STOCK)
        .select_related("partner")
        .order_by(F("stock").asc(), "name")[:20]
    )
    spent_total = -sum(row["spent"] or 0 for row in by_town.values())
    earned_total = sum(row["earned"] or 0 for row in by_town.values())
    figures = [
        ("积分获得", Cell(earned_total, changelist("activities.pointsentry"), False)),
        (
            "积分兑换（净额）",
            Cell(spent_total, changelist("activities.pointsentry", source__exact="redeem"), False),
        ),
        (
            "兑换券待核销",
            Cell(states.get("issued", 0), changelist("activities.voucher", state__exact="issued")),
        ),
        (
            "兑换券已核销",
            Cell(states.get("used", 0), changelist("activities.voucher", state__exact="used")),
        ),
        ("奖品库存紧张", Cell(len(low), changelist("activities.reward", is_active__exact=1))),
    ]
    months = [_month_back(scope.month_start, n) for n in range(MONTHS - 1, -1, -1)]
    tables = [
        Table(
            key="redeem_towns",
            title="积分获得与兑换（按街镇）",
            columns=["街镇", "获得", "兑换"],
            rows=[
                (
                    town.name,
                    [
                        Cell(
                            by_town.get(town.pk, {}).get("earned") or 0,
                            changelist(
                                "activities.pointsentry", courier__work_town__id__exact=town.pk
                            ),
                            False,
                        ),
                        Cell(
                            -(by_town.get(town.pk, {}).get("spent") or 0),
                            changelist(
                                "activities.pointsentry",
                                courier__work_town__id__exact=town.pk,
                                source__exact="redeem",
                            ),
                            False,
                        ),
                    ],
                )
                for town in scope.towns
            ],
            chart="bar",
            chart_column=1,
        ),
        Table(
            key="redeem_months",
            title="积分获得与兑换（按月）",
            columns=["月份", "获得", "兑换"],
            rows=[
                (
                    f"{month:%Y-%m}",
                    [
                        Cell(by_month.get(month, {}).get("earned") or 0, "", False),
                        Cell(-(by_month.get(month, {}).get("spent") or 0), "", False),
                    ],
                )
                for month in months
            ],
            chart="line",
            chart_column=1,
            chart_url=changelist("activities.pointsentry", source__exact="redeem"),
        ),
        Table(
            key="low_stock",
            title=f"库存紧张的奖品（剩余 {LOW_STOCK} 份及以下）",
            columns=["奖品", "提供方", "剩余"],
            rows=[
                (
                    reward.name,
                    [
                        Cell(reward.partner.name),
                        Cell(
                            reward.stock,
                            changelist("activities.reward", partner__id__exact=reward.partner_id),
                            False,
                        ),
                    ],
                )
                for reward in low
            ],
        ),
    ]
    return Section(key="rewards", title="积分兑换", figures=figures, tables=tables)
