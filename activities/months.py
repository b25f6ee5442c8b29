"""Choosing a month on a page: a plain select of 「2026年11月」 labels, since Chromium labels
<input type="month"> in English whatever the page's language (the leaderboard, the partner's
statement)."""

from __future__ import annotations

import datetime


def recent_months(today: datetime.date, chosen: datetime.date) -> list[tuple[str, str]]:
    """(value, label) of this month and the eleven before, newest first. A month chosen
    further back (from a shared link) is kept in the list."""
    months, day = [], today.replace(day=1)
    for _ in range(12):
        months.append(day)
        day = (day - datetime.timedelta(days=1)).replace(day=1)
    if chosen not in months:
        months = sorted({*months, chosen}, reverse=True)
    return [(f"{m:%Y-%m}", f"{m.year}年{m.month}月") for m in months]
