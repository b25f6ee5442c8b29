"""Building blocks of the staff dashboard's sections (see `fengxian/dashboard.py`).

A section is a plain function ``section(scope: Scope) -> Section`` in the app that owns the
figures (``couriers/dashboard.py``, ``stations/dashboard.py``, ``activities/dashboard.py``).
It reads only through ``scope`` (``scope.user`` for town scoping, ``scope.towns`` for the
per-town breakdown) and returns headline figures and tables of ``Cell``s, each cell carrying
the URL of the filtered admin changelist behind its number. It runs a fixed number of
aggregate queries whatever the data size (``values().annotate(Count(...))``, conditional
aggregation with ``filter=Q(...)``), never one query per row.

These types live in ``couriers`` (the base app) so every app's section can use them while
dependencies keep running one way; ``fengxian`` renders them (HTML, SVG charts, .xlsx).
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import defaultdict
from urllib.parse import urlencode

from django.urls import reverse

from couriers.models import Town
from couriers.scoping import ALL_TOWNS, staff_town_id


@dataclasses.dataclass(frozen=True)
class Cell:
    """A number and the admin list that shows the records behind it."""

    value: int | str
    url: str = ""
    # Whether `value` is the number of rows the list at `url` shows (False for sums such as
    # points or targets, where the list shows the records summed).
    is_count: bool = True


@dataclasses.dataclass
class Table:
    """Rows of (label, cells…); ``chart`` draws one numeric column: "bar" or "line"."""

    key: str
    title: str
    columns: list[str]  # the first names the label column
    rows: list[tuple[str, list[Cell]]]
    chart: str = ""
    chart_column: int = 0  # index into each row's cells
    note: str = ""
    chart_url: str = ""  # for a line chart: the list behind the whole series


@dataclasses.dataclass
class Section:
    key: str
    title: str
    figures: list[tuple[str, Cell]] = dataclasses.field(default_factory=list)
    tables: list[Table] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Scope:
    """Who is looking: the user, the towns they may see and the day the figures are for."""

    user: object
    towns: list[Town]
    is_district: bool
    today: datetime.date

    @classmethod
    def for_user(cls, user, today: datetime.date) -> Scope:
        town_id = staff_town_id(user)
        towns = list(Town.objects.for_user(user))
        return cls(user=user, towns=towns, is_district=town_id is ALL_TOWNS, today=today)

    @property
    def month_start(self) -> datetime.date:
        return self.today.replace(day=1)


def chinese_number(value: object) -> str:
    """A count as Chinese reports write it: 9,876; 138.6万; 1,236万; 1.66亿. Not a number
    (「3 / 4」, 「—」): unchanged. The exact value goes beside it (a title, the .xlsx export)."""
    if isinstance(value, bool) or not isinstance(value, int):
        return str(value)
    sign, n = ("-" if value < 0 else ""), abs(value)
    if round(n / 10_000, 1) >= 10_000:  # 99,999,999 is 1亿, not 10,000万
        text = f"{n / 100_000_000:,.2f}".rstrip("0").rstrip(".") + "亿"
    elif n >= 100_000:
        text = f"{n / 10_000:,.1f}".removesuffix(".0") + "万"
    else:
        text = f"{n:,}"
    return sign + text


def totals_by(index: int, counts: dict[tuple, int]) -> dict:
    """Counts keyed by tuples (town, kind) summed over one part of the key: ``totals_by(0, …)``
    per town, ``totals_by(1, …)`` per kind."""
    totals: dict = defaultdict(int)
    for key, value in counts.items():
        totals[key[index]] += value
    return totals


def changelist(model_label: str, **params: object) -> str:
    """The admin changelist of "app.model" filtered by `params` (lookups as the admin takes
    them in its query string: ``work_town__id__exact=3``, ``status__in="a,b"``)."""
    app_label, model_name = model_label.split(".")
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    query = {key: value for key, value in params.items() if value is not None}
    return f"{url}?{urlencode(query)}" if query else url
