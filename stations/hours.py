"""Opening hours: is a station open at a given moment, and until when.

A station is open 24 hours, or has time ranges per weekday; a range whose closing time is not
after its opening time runs past midnight (18:00–02:00 closes at 02:00 the next day). A weekday
without ranges is a closed day. Works on ranges already in memory: no query per station.
"""

from __future__ import annotations

import dataclasses
import datetime

WEEKDAYS = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]


@dataclasses.dataclass(frozen=True)
class Status:
    is_open: bool
    until: datetime.datetime | None = None  # when it closes (open) or next opens (closed)
    all_day: bool = False
    # The moment the status describes (for 明天 / weekday words); not part of equality.
    at: datetime.datetime | None = dataclasses.field(default=None, compare=False)

    @property
    def label(self) -> str:
        if self.all_day:
            return "24小时开放"
        if self.is_open:
            return f"营业中 · {self.until:%H:%M} 关门" if self.until else "营业中"
        if self.until:
            return f"已关门 · {_day_word(self.until, self.at)}{self.until:%H:%M} 开门"
        return "已关门"


def _day_word(moment: datetime.datetime, at: datetime.datetime | None) -> str:
    today = (at or datetime.datetime.now(moment.tzinfo)).date()
    days = (moment.date() - today).days
    return {0: "", 1: "明天 "}.get(days, f"{WEEKDAYS[moment.weekday()]} ")


def _spans(ranges, day: datetime.date, tz) -> list[tuple[datetime.datetime, datetime.datetime]]:
    """The open spans that start on `day`, as aware datetimes."""
    spans = []
    for weekday, opens, closes in ranges:
        if weekday != day.weekday():
            continue
        start = datetime.datetime.combine(day, opens, tz)
        end = datetime.datetime.combine(day, closes, tz)
        if end <= start:
            end += datetime.timedelta(days=1)  # past midnight
        spans.append((start, end))
    return sorted(spans)


def status_at(ranges, now: datetime.datetime, all_day: bool = False) -> Status:
    """`ranges`: (weekday 0=Monday, opens, closes) tuples; `now`: an aware datetime."""
    if all_day:
        return Status(True, None, all_day=True, at=now)
    tz = now.tzinfo
    spans = []
    for offset in range(-1, 8):  # yesterday's late ranges reach into today
        spans += _spans(ranges, now.date() + datetime.timedelta(days=offset), tz)
    current = [end for start, end in spans if start <= now < end]
    if current:
        end = max(current)
        # Back-to-back ranges (08:00–12:00, 12:00–20:00) read as one.
        for start, later_end in spans:
            if start <= end < later_end:
                end = later_end
        return Status(True, end, at=now)
    upcoming = [start for start, _ in spans if start > now]
    return Status(False, min(upcoming) if upcoming else None, at=now)
