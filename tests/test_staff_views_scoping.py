"""Staff pages outside the admin's own screens (posters, QR sheets, import jobs, a full ID
number, private photos …) find their object through one helper, couriers.scoping
.staff_object_or_404, with the admin's town rule: another town's staff get 404.

Every URL that serves staff is enumerated from the URL configuration; each must have an
outsider test here or name one elsewhere, so a new staff page cannot ship without one.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from activities.models import PhotoReport, Story
from couriers.messaging.notify import notify
from couriers.models import ImportJob
from stations.models import CheckinPoint, Station
from tests import factories

pytestmark = pytest.mark.django_db

TESTS = Path(__file__).resolve().parent
IMPORTERS = {
    "couriers_courier": ImportJob.Kind.COURIERS,
    "couriers_enterprise": ImportJob.Kind.ENTERPRISES,
    "stations_station": ImportJob.Kind.STATIONS,
    "stations_checkinpoint": ImportJob.Kind.CHECKIN_POINTS,
}


@pytest.fixture
def ours(nanqiao, nanqiao_town):
    """One of everything a staff page shows, in 南桥镇."""
    courier = factories.courier(nanqiao_town, name="南桥小哥", id_number=factories.id_number())
    story = Story.objects.create(
        title="南桥事迹", body="正文", courier=courier, consent_given_at=timezone.now()
    )
    story.photo.save("s.jpg", factories.photo("s.jpg"))
    return {
        "station": Station.objects.create(
            town=nanqiao_town,
            name="南桥待开放站点",
            address="南桥路 1 号",
            latitude=30.918,
            longitude=121.474,
            is_active=False,
        ),
        "point": CheckinPoint.objects.create(
            name="南桥党群服务中心", town=nanqiao_town, address="南桥路 2 号"
        ),
        "activity": factories.activity(nanqiao_town),
        "courier": courier,
        "message": notify(courier, "checkin_welcome", {"link": "/me/"}, event="welcome"),
        "story": story,
        "report": PhotoReport.objects.create(
            courier=courier,
            town=nanqiao_town,
            category=PhotoReport.Category.CITY,
            description="垃圾堆放",
            address="南桥路 3 号",
            photo=factories.photo("r.jpg"),
        ),
        "jobs": {
            prefix: ImportJob.objects.create(
                kind=kind, filename=f"{prefix}.xlsx", user=nanqiao, town=nanqiao_town
            )
            for prefix, kind in IMPORTERS.items()
        },
    }


def _object_cases() -> dict[str, object]:
    """URL name → the address of 南桥's object (a function of the `ours` fixture)."""
    cases = {
        "stations:poster": lambda o: reverse("stations:poster", args=[o["station"].pk]),
        "activities:report_photo": lambda o: reverse(
            "activities:report_photo", args=[o["report"].pk]
        ),
        "admin:stations_checkinpoint_poster": lambda o: reverse(
            "admin:stations_checkinpoint_poster", args=[o["point"].pk]
        ),
        "admin:activities_activity_qr": lambda o: reverse(
            "admin:activities_activity_qr", args=[o["activity"].pk]
        ),
        "admin:couriers_courier_id_number": lambda o: reverse(
            "admin:couriers_courier_id_number", args=[o["courier"].pk]
        ),
        "admin:activities_story_private_file": lambda o: reverse(
            "admin:activities_story_private_file", args=[o["story"].pk, "photo"]
        ),
        # The outbox (Django's own screens, listed here too: a message by its id).
        "admin:couriers_message_change": lambda o: reverse(
            "admin:couriers_message_change", args=[o["message"].pk]
        ),
        "admin:couriers_message_history": lambda o: reverse(
            "admin:couriers_message_history", args=[o["message"].pk]
        ),
    }
    for prefix in IMPORTERS:
        for view in ("import_job", "import_progress"):
            cases[f"admin:{prefix}_{view}"] = lambda o, p=prefix, v=view: reverse(
                f"admin:{p}_{v}", args=[o["jobs"][p].pk]
            )
    return cases


OBJECT_CASES = _object_cases()

# Pages without an object of their own, and where their outsider test is.
COVERED_ELSEWHERE = {
    "dashboard": ("test_dashboard.py", "test_town_staff_see_only_their_towns_figures"),
    "dashboard_export": ("test_dashboard.py", "test_town_staff_export_only_their_town"),
    "admin:stations_station_usage": (
        "test_stations_admin.py",
        "test_usage_page_is_scoped_to_the_users_town",
    ),
    "admin:stations_checkinpoint_progress": (
        "test_checkin_admin.py",
        "test_progress_for_another_town_shows_only_theirs",
    ),
    "admin:couriers_courier_export": (
        "test_admin_scoping.py",
        "test_town_staff_export_contains_only_their_town_with_masked_ids",
    ),
    "admin:couriers_need_export": ("test_casework.py", "test_town_staff_export_their_needs"),
    "admin:couriers_visit_export": ("test_casework.py", "test_visit_export_masks_phones"),
    "admin:stations_checkin_export": (
        "test_checkin_admin.py",
        "test_export_is_scoped_and_masks_phones_for_town_staff",
    ),
    "admin:activities_signup_export": (
        "test_activities_staff.py",
        "test_the_sign_up_export_is_scoped_and_masks_phones",
    ),
    "admin:activities_partner_statement": (
        "test_rewards_admin.py",
        "test_town_staff_see_their_towns_rewards_and_vouchers_only",
    ),
    "admin:activities_attendance_export": (
        "test_activities_staff.py",
        "test_the_attendance_export_is_scoped_and_masks_phones",
    ),
    # The broadcast compose page holds the posted couriers' ids: each is re-checked.
    "admin:couriers_broadcast_compose": (
        "test_broadcast.py",
        "test_another_towns_couriers_are_refused",
    ),
    "admin:activities_pointsentry_export": (
        "test_activities_admin.py",
        "test_the_ledger_export_is_scoped_to_the_town",
    ),
}
for _prefix in IMPORTERS:
    COVERED_ELSEWHERE[f"admin:{_prefix}_import"] = (
        "test_staff_views_scoping.py",
        "test_the_import_page_lists_only_the_users_own_jobs",
    )
    # The blank template holds no data at all.
    COVERED_ELSEWHERE[f"admin:{_prefix}_import_template"] = (
        "test_survey_admin.py",
        "test_template_has_canonical_headers_and_an_explanation_sheet",
    )

# Django's own admin screens, scoped by TownScopedAdmin and tested in each app's admin tests.
DJANGO_ADMIN = re.compile(
    r"^admin:(index|login|logout|password_change(_done)?|autocomplete|jsi18n|view_on_site"
    r"|app_list|\w+_(changelist|add|change|delete|history))$"
)
STAFF_SIGNS = re.compile(r"is_staff|has_perm|staff_object_or_404|admin_view")


def _patterns(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{p.namespace}:" if p.namespace else namespace
            yield from _patterns(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), f"{namespace}{p.name or ''}", p.callback


def staff_url_names() -> set[str]:
    """Every named URL that serves staff: under ADMIN_URL (the admin and pages beside it) or
    a public view with a staff branch (one that looks at is_staff or permissions)."""
    found = set()
    for route, name, callback in _patterns(get_resolver().url_patterns):
        if not name or name.endswith(":"):
            continue  # unnamed: Django's redirects and catch-all
        if route.startswith(settings.ADMIN_URL):
            found.add(name)
            continue
        view = inspect.unwrap(callback)
        try:
            source = inspect.getsource(view)
        except (OSError, TypeError):
            continue
        if STAFF_SIGNS.search(source):
            found.add(name)
    return {n for n in found if not DJANGO_ADMIN.match(n)}


def test_every_staff_page_has_an_outsider_test():
    private_files = {n for n in staff_url_names() if n.endswith("_private_file")}
    # Only a model with a private *image* serves anything; the others answer 404 to all.
    missing = sorted(
        name
        for name in staff_url_names() - private_files
        if name not in OBJECT_CASES and name not in COVERED_ELSEWHERE
    )
    assert missing == []
    assert "admin:activities_story_private_file" in OBJECT_CASES
    for module, test in COVERED_ELSEWHERE.values():
        assert f"def {test}(" in (TESTS / module).read_text(), (module, test)


def test_the_enumeration_finds_the_pages_beside_the_admin():
    names = staff_url_names()
    assert {"stations:poster", "activities:report_photo", "dashboard_export"} <= names
    assert "stations:detail" not in names and "activities:story_photo" not in names


@pytest.mark.parametrize("name", sorted(OBJECT_CASES))
def test_another_towns_staff_get_404(xidu_client, xidu, ours, name):
    # xidu may see full ID numbers too: only the town rule stands between them and 南桥's.
    xidu.user_permissions.add(Permission.objects.get(codename="view_full_id_number"))
    assert xidu_client.get(OBJECT_CASES[name](ours)).status_code == 404


@pytest.mark.parametrize("name", sorted(OBJECT_CASES))
def test_the_towns_own_staff_open_it(nanqiao_client, district, ours, name):
    client = nanqiao_client
    if name == "admin:couriers_courier_id_number":  # a district staff permission
        from django.test import Client

        client = Client()
        client.force_login(district)
    assert client.get(OBJECT_CASES[name](ours)).status_code == 200


def test_a_staff_account_without_a_town_gets_404(nanqiao_town, ours):
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client()
    client.force_login(User.objects.create_user("nobody", is_staff=True))
    assert client.get(OBJECT_CASES["stations:poster"](ours)).status_code == 404


def test_an_active_stations_poster_stays_public(anonymous, xidu_client, ours):
    Station.objects.filter(pk=ours["station"].pk).update(is_active=True)
    assert anonymous.get(OBJECT_CASES["stations:poster"](ours)).status_code == 200
    assert xidu_client.get(OBJECT_CASES["stations:poster"](ours)).status_code == 200


def test_the_import_page_lists_only_the_users_own_jobs(xidu_client, nanqiao_client, ours):
    for prefix in IMPORTERS:
        url = reverse(f"admin:{prefix}_import")
        assert f"{prefix}.xlsx" in nanqiao_client.get(url).content.decode()
        assert f"{prefix}.xlsx" not in xidu_client.get(url).content.decode()


def test_a_malformed_id_is_not_found(nanqiao_client, ours):
    url = "/admin/activities/story/not-a-number/private-file/photo/"
    assert nanqiao_client.get(url).status_code == 404
