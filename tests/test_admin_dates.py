"""Issue 16, item 1: date and time widgets render ISO values, which browsers accept.

A `<input type="date">` whose value is not `YYYY-MM-DD` shows empty and submits nothing, so
under zh-hans (whose first input format is 2026/09/10) a need could not be re-saved and a save
cleared 告知日期. `submitted_like_a_browser` reads a change page the way Chromium does:
a date/time input with a value the browser does not accept is sent empty.
"""

import datetime
import re
from html.parser import HTMLParser

import pytest
from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminDateWidget, AdminTimeWidget
from django.utils import translation

from couriers.models import Need
from tests import factories

DAY = datetime.date(2026, 9, 10)
_ACCEPTED = {
    "date": re.compile(r"\d{4}-\d{2}-\d{2}"),
    "time": re.compile(r"\d{2}:\d{2}(:\d{2}(\.\d+)?)?"),
    "datetime-local": re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?"),
}


class _FormReader(HTMLParser):
    """The values a browser would submit from the page's main form (no JavaScript)."""

    def __init__(self):
        super().__init__()
        self.data: list[tuple[str, str]] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            value = a.get("value") or ""
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.data.append((name, a.get("value", "on")))
            elif kind in ("submit", "button", "file", "image"):
                return
            else:
                if kind in _ACCEPTED and not _ACCEPTED[kind].fullmatch(value):
                    value = ""  # what Chromium does with a value it cannot parse
                self.data.append((name, value))
        elif tag == "select" and name:
            self._select, self._options = name, []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_data(self, data):
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "select" and self._select is not None:
            chosen = [v for v, s in self._options if s] or [v for v, _ in self._options[:1]]
            self.data.extend((self._select, v) for v in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.data.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None


def submitted_like_a_browser(html: str) -> dict[str, list[str]]:
    reader = _FormReader()
    reader.feed(html)
    out: dict[str, list[str]] = {}
    for name, value in reader.data:
        out.setdefault(name, []).append(value)
    out.pop("_addanother", None), out.pop("_continue", None)
    out["_save"] = ["保存"]
    return out


@pytest.mark.parametrize(
    "widget, value, expected",
    [
        (forms.DateInput(attrs={"type": "date"}), DAY, "2026-09-10"),
        (forms.TimeInput(attrs={"type": "time"}), datetime.time(9, 30), "09:30"),
        (AdminDateWidget(), DAY, "2026-09-10"),
        (AdminTimeWidget(), datetime.time(9, 30), "09:30"),
    ],
)
def test_date_and_time_widgets_render_iso_values_in_chinese(widget, value, expected):
    with translation.override("zh-hans"):
        assert f'value="{expected}"' in widget.render("d", value)


def test_every_date_input_in_the_admin_forms_renders_an_iso_value(rf, district):
    from activities.admin import ServiceForm
    from activities.programmes.admin import CopyForm

    request = rf.get("/admin/")
    request.user = district
    form_classes = [ServiceForm, CopyForm]
    for model_admin in admin.site._registry.values():
        form_classes.append(model_admin.get_form(request))
        for inline in model_admin.get_inline_instances(request):
            form_classes.append(inline.get_formset(request).form)
    checked = 0
    with translation.override("zh-hans"):
        for form_class in form_classes:
            for name, field in form_class.base_fields.items():
                kind = getattr(field.widget, "input_type", None)
                if kind == "date":
                    html = field.widget.render(name, DAY)
                    assert 'value="2026-09-10"' in html, (form_class, name, html)
                    checked += 1
    assert checked >= 4  # 办理期限, 告知日期, 服务日期, 新日期


def test_a_visit_with_needs_is_saved_unchanged_from_its_change_page(
    nanqiao, nanqiao_town, nanqiao_client
):
    courier = factories.courier(nanqiao_town)
    visit = factories.visit(nanqiao, courier)
    need = factories.need(
        visit,
        deadline=DAY,
        status=Need.Status.RESOLVED,
        resolution="已增设歇脚点",
        courier_informed=True,
        informed_on=datetime.date(2026, 9, 1),
    )
    url = f"/admin/couriers/visit/{visit.pk}/change/"
    page = nanqiao_client.get(url)
    assert page.status_code == 200
    response = nanqiao_client.post(url, submitted_like_a_browser(page.content.decode()))
    assert response.status_code == 302, response.context and response.context["errors"]
    need.refresh_from_db()
    assert need.deadline == DAY
    assert need.informed_on == datetime.date(2026, 9, 1)


def test_a_need_is_saved_unchanged_from_its_change_page(nanqiao, nanqiao_town, nanqiao_client):
    courier = factories.courier(nanqiao_town)
    need = factories.need(factories.visit(nanqiao, courier), deadline=DAY)
    url = f"/admin/couriers/need/{need.pk}/change/"
    page = nanqiao_client.get(url)
    response = nanqiao_client.post(url, submitted_like_a_browser(page.content.decode()))
    assert response.status_code == 302
    need.refresh_from_db()
    assert need.deadline == DAY
