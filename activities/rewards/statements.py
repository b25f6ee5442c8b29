"""A partner's monthly statement for settling: the vouchers used at its counter in a month, per
reward (how many, how many points) and line by line, and its .xlsx export."""

from __future__ import annotations

import dataclasses
import datetime
import io

from django.db.models import Count, Sum
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font

from activities.models import Partner, Voucher
from couriers.imports.resources import escape_formula
from couriers.privacy.masking import mask_name


@dataclasses.dataclass
class Statement:
    partner: Partner
    month: datetime.date
    by_reward: list[dict]
    lines: list[dict]

    @property
    def total_vouchers(self) -> int:
        return sum(row["vouchers"] for row in self.by_reward)

    @property
    def total_points(self) -> int:
        return sum(row["points"] for row in self.by_reward)


def month_bounds(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    tz = timezone.get_current_timezone()
    start = month.replace(day=1)
    end = (start + datetime.timedelta(days=32)).replace(day=1)
    return (
        datetime.datetime.combine(start, datetime.time(), tz),
        datetime.datetime.combine(end, datetime.time(), tz),
    )


def parse_month(text: str, today: datetime.date) -> datetime.date:
    try:
        month = datetime.date.fromisoformat(f"{text}-01")
    except ValueError:
        return today.replace(day=1)
    return month if 2000 <= month.year <= 2100 else today.replace(day=1)


def build(partner: Partner, month: datetime.date) -> Statement:
    start, end = month_bounds(month)
    used = Voucher.objects.filter(
        reward__partner=partner,
        state=Voucher.State.USED,
        used_at__gte=start,
        used_at__lt=end,
    )
    by_reward = list(
        used.values("reward__name")
        .annotate(vouchers=Count("pk"), points=Sum("points"))
        .order_by("reward__name")
    )
    lines = [
        {
            "used_at": timezone.localtime(v.used_at),
            "reward": v.reward.name,
            "courier": mask_name(v.courier.name),
            "code": v.masked_code,
            "points": v.points,
        }
        for v in used.select_related("reward", "courier").order_by("used_at", "pk")
    ]
    return Statement(partner=partner, month=month.replace(day=1), by_reward=by_reward, lines=lines)


def to_xlsx(statement: Statement) -> bytes:
    book = Workbook()
    summary = book.active
    summary.title = "汇总"
    bold = Font(bold=True)
    summary.append([escape_formula(f"{statement.partner.name} {statement.month:%Y-%m} 兑换结算单")])
    summary["A1"].font = bold
    summary.append(["奖品", "核销数量", "积分"])
    for row in statement.by_reward:
        summary.append([escape_formula(row["reward__name"]), row["vouchers"], row["points"]])
    summary.append(["合计", statement.total_vouchers, statement.total_points])
    detail = book.create_sheet("明细")
    detail.append(["核销时间", "奖品", "兑换人", "券码", "积分"])
    for line in statement.lines:
        detail.append(
            [
                line["used_at"].strftime("%Y-%m-%d %H:%M"),
                escape_formula(line["reward"]),
                escape_formula(line["courier"]),
                line["code"],
                line["points"],
            ]
        )
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()
