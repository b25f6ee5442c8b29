"""Issue 16, item 2: the admin obeys the site's own CSP, so it carries no style= attributes.

The CSP allows styles only from the site's stylesheets: an inline style="" is dropped by the
browser (the photo-report photo was shown ~2,000 px tall, 「已超期」 was not red). Every admin
page is rendered here and checked for inline styles; the classes used instead are in
static/css/admin_staff.css, linked from every admin page.
"""

import datetime
import re

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from import_export.admin import ExportMixin

from activities.models import PhotoReport
from tests import factories

INLINE_STYLE = re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE)


def overdue_report(town) -> PhotoReport:
    report = PhotoReport.objects.create(
        courier=factories.courier(town, name="王小明"),
        town=town,
        category=PhotoReport.Category.FACILITY,
        description="路灯不亮",
        address="西渡路 8 号",
        photo=factories.photo(),
    )
    PhotoReport.objects.filter(pk=report.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=30)
    )
    return report


@pytest.fixture
def some_of_everything(nanqiao_town, district):
    report = overdue_report(nanqiao_town)
    visit = factories.visit(district, factories.courier(nanqiao_town))
    factories.need(visit)
    factories.activity(nanqiao_town)
    return report


def assert_no_inline_style(response, url):
    assert response.status_code == 200, url
    html = response.content.decode()
    found = INLINE_STYLE.search(html)
    assert found is None, f"{url}: {html[found.start() : found.start() + 200]}"
    assert "css/admin_staff.css" in html, url


def test_no_admin_list_carries_an_inline_style(district_client, some_of_everything):
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = district_client.get(url)
        if response.status_code == 403:  # not the district staff's to see (users, groups)
            continue
        assert_no_inline_style(response, url)


def test_no_admin_change_page_carries_an_inline_style(district_client, some_of_everything):
    for model in admin.site._registry:
        obj = model._default_manager.first()
        if obj is None:
            continue
        url = reverse(
            f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk]
        )
        response = district_client.get(url)
        if response.status_code in (302, 403):  # not opened one by one, or not theirs to see
            continue
        assert_no_inline_style(response, url)


def test_the_overdue_report_and_its_photo_are_styled_by_classes(
    district_client, some_of_everything
):
    report = some_of_everything
    listing = district_client.get(reverse("admin:activities_photoreport_changelist"))
    assert 'class="report-overdue"' in listing.content.decode()
    page = district_client.get(reverse("admin:activities_photoreport_change", args=[report.pk]))
    assert 'class="report-photo"' in page.content.decode()


def test_the_staff_stylesheet_makes_overdue_red_and_keeps_the_photo_small():
    from pathlib import Path

    from django.contrib.staticfiles import finders

    css = Path(finders.find("css/admin_staff.css")).read_text(encoding="utf-8")
    assert re.search(r"\.report-overdue\s*\{[^}]*color:\s*#b71c1c", css)
    assert re.search(r"\.report-photo\s*\{[^}]*max-height:", css)


def test_the_admin_index_dashboard_and_login_carry_no_inline_style(
    district_client, anonymous, some_of_everything
):
    for url in (reverse("admin:index"), reverse("dashboard")):
        assert_no_inline_style(district_client.get(url), url)
    url = reverse("admin:login")
    assert_no_inline_style(anonymous.get(url), url)


INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)


def test_the_export_pages_carry_no_inline_style_or_handler(district_client, some_of_everything):
    """django-import-export's own export template has style= and onchange=; ours has neither,
    and the select-all toggle is wired from a file instead."""
    exports = [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_export")
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, ExportMixin)
    ]
    assert len(exports) >= 3  # couriers, visits, needs
    for url in exports:
        response = district_client.get(url)
        assert_no_inline_style(response, url)
        html = response.content.decode()
        found = INLINE_HANDLER.search(html)
        assert found is None, f"{url}: {html[found.start() : found.start() + 200]}"
        assert 'id="select-all-toggle"' in html and "js/admin_export_toggle.js" in html
