"""The outbox's dashboard section: messages sent, delivered and failed this month, and what
they cost (SMS_COST_PER_SEGMENT yuan a billed segment), in all and by town. One aggregate
query. One-time codes belong to no courier: district staff see them in a row of their own."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone

from couriers.figures import Cell, Scope, Section, Table, changelist
from couriers.models import Message

State = Message.State
SENT = [State.SENT, State.DELIVERED]


def _yuan(segments: int) -> str:
    return f"{segments * settings.SMS_COST_PER_SEGMENT:,.2f}"


def section(scope: Scope) -> Section:
    start = timezone.make_aware(datetime.datetime.combine(scope.month_start, datetime.time()))
    month = {"created_at__gte": str(start)}  # aware, as the admin's date filter writes it
    rows = {
        row["courier__work_town_id"]: row
        for row in Message.objects.for_user(scope.user)
        .filter(created_at__gte=start)
        .values("courier__work_town_id")
        .annotate(
            sent=Count("pk", filter=Q(state__in=SENT)),
            delivered=Count("pk", filter=Q(state=State.DELIVERED)),
            failed=Count("pk", filter=Q(state=State.FAILED)),
            pending=Count("pk", filter=Q(state=State.PENDING)),
            segments=Sum("segments", filter=Q(state__in=SENT)),
        )
        .order_by()
    }

    def total(key: str) -> int:
        return sum(row[key] or 0 for row in rows.values())

    def cells(row: dict, **where) -> list[Cell]:
        return [
            Cell(row.get("sent", 0), changelist("couriers.message", **month, **where)),
            Cell(
                row.get("delivered", 0),
                changelist("couriers.message", state__exact="delivered", **month, **where),
            ),
            Cell(
                row.get("failed", 0),
                changelist("couriers.message", state__exact="failed", **month, **where),
            ),
            Cell(_yuan(row.get("segments") or 0), "", False),
        ]

    by_town = [
        (town.name, cells(rows.get(town.pk, {}), courier__work_town__id__exact=town.pk))
        for town in scope.towns
    ]
    if scope.is_district and None in rows:
        by_town.append(("验证码（无收信人）", cells(rows[None], event="login_code")))
    figures = [
        ("本月已发送", Cell(total("sent"), changelist("couriers.message", **month))),
        (
            "本月已送达",
            Cell(
                total("delivered"),
                changelist("couriers.message", state__exact="delivered", **month),
            ),
        ),
        (
            "本月发送失败",
            Cell(total("failed"), changelist("couriers.message", state__exact="failed", **month)),
        ),
        (
            "待发送",
            Cell(total("pending"), changelist("couriers.message", state__exact="pending", **month)),
        ),
        ("本月短信费用（元，估算）", Cell(_yuan(total("segments")), "", False)),
    ]
    tables = [
        Table(
            key="messages_towns",
            title="本月短信（按街镇）",
            columns=["街镇", "已发送", "已送达", "失败", "费用（元）"],
            rows=by_town,
            chart="bar",
            chart_column=0,
            note=f"费用按每条（计费条数）{settings.SMS_COST_PER_SEGMENT} 元估算。",
        )
    ]
    return Section(key="messages", title="短信通知", figures=figures, tables=tables)
