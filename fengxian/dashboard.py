"""The staff dashboard (数据看板) at <ADMIN_URL>dashboard/ and its .xlsx export.

It is composed of sections, one per app, so that each app keeps its own figures and the
dependencies still run one way (couriers ← stations ← activities; this module wires them):

    SECTIONS = [couriers.dashboard.section, stations.dashboard.section, ...]

Adding a section:

1. In the app that owns the figures, write ``section(scope: couriers.figures.Scope) ->
   couriers.figures.Section``. Read only through ``scope``: ``Model.objects.for_user(scope.user)``
   for town scoping, ``scope.towns`` for the per-town breakdown (district staff get every
   town, town staff their own), ``scope.today``/``scope.month_start`` for periods.
2. Aggregate in the database: a fixed number of ``values(...).annotate(Count(...))`` queries,
   conditional counts with ``filter=Q(...)``; never a query per row (the dashboard's query
   count is pinned in tests/test_dashboard.py).
3. Give every number a ``Cell(value, url)``, ``url`` being the filtered admin changelist that
   lists the records behind it (``couriers.figures.changelist("app.model", lookup=value)``).
   The admin refuses lookups it does not allow (it redirects with ``?e=1``): use fields and
   paths in the target admin's ``list_filter``, or a one-step relation ``fk__id__exact``.
4. A ``Table`` with ``chart="bar"`` draws its ``chart_column`` as horizontal bars; ``"line"``
   draws a trend line. Every table also goes to the .xlsx export.
5. Append the function to ``SECTIONS`` below.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from urllib.parse import quote

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font

from activities import dashboard as activities_dashboard
from activities.programmes import dashboard as programme_dashboard
from activities.rewards import dashboard as rewards_dashboard
from couriers import dashboard as couriers_dashboard
from couriers.figures import Scope, Section, Table
from couriers.imports.resources import escape_formula
from couriers.messaging import dashboard as messaging_dashboard
from fengxian import charts
from stations import dashboard as stations_dashboard

SECTIONS: list[Callable[[Scope], Section]] = [
    couriers_dashboard.section,
    stations_dashboard.section,
    activities_dashboard.section,
    programme_dashboard.section,
    rewards_dashboard.section,
    messaging_dashboard.section,
]


# Who reads the dashboard: staff who may view the registry (district and town staff). A rewards
# partner's counter account may not, and would see only empty figures; the admin index hides
# its link from them (templates/admin/index_with_dashboard.html tests the same permission).
DASHBOARD_PERMISSION = "couriers.view_courier"


def can_see(user) -> bool:
    return user.has_perm(DASHBOARD_PERMISSION)


def build(user) -> tuple[Scope, list[Section]]:
    scope = Scope.for_user(user, timezone.localdate())
    return scope, [section(scope) for section in SECTIONS]


def chart_for(table: Table) -> str:
    if not table.rows:
        return ""  # the table says 暂无数据
    column = table.chart_column
    title = f"{table.title}：{table.columns[column + 1]}"
    if table.chart == "bar":
        if len(table.rows) < 2:
            return ""  # one bar compares nothing (a town's own "by town" row): the table says it
        bars = [
            (label, cells[column].value, cells[column].url)
            for label, cells in table.rows
            if isinstance(cells[column].value, int)
        ]
        return charts.bar_chart(title, bars)
    if table.chart == "line":
        return charts.line_chart(
            title, [(label, cells[column].value) for label, cells in table.rows], table.chart_url
        )
    return ""


def dashboard_view(request: HttpRequest) -> TemplateResponse:
    if not can_see(request.user):
        raise PermissionDenied
    scope, sections = build(request.user)
    for section in sections:
        for table in section.tables:
            table.svg = chart_for(table)
    context = {
        **admin.site.each_context(request),
        "title": "数据看板",
        "is_nav_sidebar_enabled": False,  # the charts need the width
        "scope": scope,
        "sections": sections,
    }
    return TemplateResponse(request, "admin/dashboard.html", context)


def export_view(request: HttpRequest) -> HttpResponse:
    """Every table of the dashboard, one sheet per section, as the user sees them."""
    if not can_see(request.user):
        raise PermissionDenied
    scope, sections = build(request.user)
    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for section in sections:
        sheet = book.create_sheet(section.title[:31].replace("、", " "))
        sheet.append([section.title])
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True, size=13)
        for label, cell in section.figures:
            sheet.append([escape_formula(label), cell.value])
        for table in section.tables:
            sheet.append([])
            sheet.append([escape_formula(table.title)])
            sheet.cell(row=sheet.max_row, column=1).font = bold
            sheet.append(table.columns)
            for column in range(1, len(table.columns) + 1):
                sheet.cell(row=sheet.max_row, column=column).font = bold
            for label, cells in table.rows:
                sheet.append([escape_formula(label), *(escape_formula(c.value) for c in cells)])
        sheet.column_dimensions["A"].width = 28
    output = io.BytesIO()
    book.save(output)
    where = "全区" if scope.is_district else "、".join(t.name for t in scope.towns) or "无"
    filename = f"数据看板-{where}-{scope.today:%Y%m%d}.xlsx"
    response = HttpResponse(
        output.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response
