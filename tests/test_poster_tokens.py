"""Check-in poster tokens survive a new SECRET_KEY (issue 16, item 7): each point's QR code
carries a random token stored with the point, not a signature of the key, so rotating the key
voids no printed poster; staff can rotate one point's token (its old posters then stop
working) for their own town only; posters printed before the upgrade keep working."""

from __future__ import annotations

import datetime
import importlib

import pytest
from django.apps import apps as django_apps
from django.core import signing

import stations.checkin.flow
import stations.models.checkin
from activities.models import Activity
from activities.programmes import attendance
from activities.programmes.admin import copy_activity
from stations.checkin.flow import point_from_token, point_token
from stations.models import Campaign, CheckinPoint
from tests import factories

POINTS = "/admin/stations/checkinpoint/"
NEW_KEY = "rotated-" + "x" * 60


@pytest.fixture
def point(nanqiao_town) -> CheckinPoint:
    Campaign.objects.create(
        name="2026年小哥报到季",
        starts_on=datetime.date(2026, 3, 1),
        ends_on=datetime.date(2026, 12, 31),
        is_current=True,
    )
    return CheckinPoint.objects.create(
        name="南桥报到点", town=nanqiao_town, address="解放东路 1 号"
    )


def _opens_the_form(client, token: str) -> bool:
    response = client.get(f"/checkin/{token}/")
    return response.status_code == 200 and "二维码无效" not in response.content.decode()


def _restart_with_a_new_secret_key(settings, monkeypatch) -> None:
    settings.SECRET_KEY = NEW_KEY
    settings.SECRET_KEY_FALLBACKS = []
    # A signer built at import keeps the key it was built with; a restarted server would not.
    for module in (stations.models.checkin, stations.checkin.flow, attendance):
        for value in vars(module).values():
            if isinstance(value, signing.Signer):
                monkeypatch.setattr(value, "key", NEW_KEY)
                monkeypatch.setattr(value, "fallback_keys", [])


def test_a_printed_poster_still_opens_the_form_after_the_secret_key_changes(
    point, anonymous, settings, monkeypatch
):
    printed = point_token(point)
    assert _opens_the_form(anonymous, printed)
    _restart_with_a_new_secret_key(settings, monkeypatch)
    assert point_from_token(printed) == point
    assert _opens_the_form(anonymous, printed)


def test_a_points_token_is_random_and_long_enough_not_to_be_guessed(point, nanqiao_town):
    other = CheckinPoint.objects.create(name="第二个点", town=nanqiao_town, address="某路 2 号")
    assert point_token(point) != point_token(other)
    assert len(point_token(point)) >= 32 and not point_token(point).startswith(f"{point.pk}.")
    token = point_token(point)
    tampered = token[:-1] + ("B" if token[-1] == "A" else "A")  # always one character off
    assert point_from_token(tampered) is None


def test_staff_rotate_a_points_token_and_its_old_posters_stop_working(
    point, nanqiao_client, anonymous
):
    old = point_token(point)
    response = nanqiao_client.post(
        POINTS, {"action": "rotate_poster_token", "_selected_action": [point.pk]}, follow=True
    )
    assert "旧海报已作废" in response.content.decode()
    point.refresh_from_db()
    assert point_token(point) != old
    assert not _opens_the_form(anonymous, old)
    assert _opens_the_form(anonymous, point_token(point))


def test_town_staff_cannot_rotate_another_towns_poster(xidu_town, nanqiao_client):
    theirs = CheckinPoint.objects.create(name="西渡报到点", town=xidu_town, address="西渡路 2 号")
    old = point_token(theirs)
    nanqiao_client.post(POINTS, {"action": "rotate_poster_token", "_selected_action": [theirs.pk]})
    theirs.refresh_from_db()
    assert point_token(theirs) == old


def test_posters_printed_before_the_upgrade_keep_their_signed_tokens(point):
    """The migration stores each existing point's signed token as its token."""
    migration = importlib.import_module("stations.migrations.0005_checkinpoint_poster_token")
    signed = signing.Signer(salt="stations.checkin-point", sep=".").sign(str(point.pk))
    CheckinPoint.objects.filter(pk=point.pk).update(poster_token=f"unset-{point.pk}")
    migration.keep_printed_tokens(django_apps, None)
    point.refresh_from_db()
    assert point_token(point) == signed and point_from_token(signed) == point


# --- attendance posters -----------------------------------------------------------------------


def test_an_attendance_poster_still_works_after_the_secret_key_changes(
    nanqiao_town, settings, monkeypatch
):
    activity = factories.activity(nanqiao_town)
    printed = attendance.token(activity)
    _restart_with_a_new_secret_key(settings, monkeypatch)
    assert attendance.activity_from_token(printed) == activity


def test_a_copied_activity_gets_its_own_attendance_code(nanqiao_town):
    activity = factories.activity(nanqiao_town)
    copy = copy_activity(activity, None)
    assert attendance.token(copy) != attendance.token(activity)
    assert attendance.activity_from_token(attendance.token(copy)) == copy
    assert len(attendance.token(copy)) >= 32


def test_attendance_posters_printed_before_the_upgrade_keep_their_signed_codes(nanqiao_town):
    migration = importlib.import_module("activities.migrations.0007_activity_attendance_token")
    activity = factories.activity(nanqiao_town)
    signed = signing.Signer(salt="activities.attendance", sep=".").sign(str(activity.pk))
    Activity.objects.filter(pk=activity.pk).update(attendance_token=f"unset-{activity.pk}")
    migration.keep_printed_tokens(django_apps, None)
    assert attendance.activity_from_token(signed) == activity
