"""Public links (issue 16, item 6): every link handed out to be opened elsewhere — the QR codes
of the check-in, station and attendance posters, the .ics file — is built from PUBLIC_BASE_URL,
not from the host a staff member happened to use; production refuses to start without it."""

from __future__ import annotations

import re

import pytest

from activities.programmes import attendance
from stations.checkin.flow import point_token
from stations.models import CheckinPoint, Station
from tests import factories
from tests.test_settings import STRONG_KEY, _manage

PUBLIC = "https://portal.fengxian.example"
INTRANET = {"HTTP_HOST": "10.20.0.7:8000"}  # the address staff use inside the office


@pytest.fixture(autouse=True)
def _public_base(settings):
    settings.PUBLIC_BASE_URL = PUBLIC
    settings.ALLOWED_HOSTS = ["10.20.0.7", "testserver"]


def _poster_address(html: str) -> str:
    return re.search(r'<p class="url">([^<]+)</p>', html).group(1)


def test_a_check_in_poster_printed_from_the_intranet_points_at_the_public_site(
    nanqiao_client, nanqiao_town
):
    point = CheckinPoint.objects.create(name="南桥报到点", town=nanqiao_town, address="南桥路 1 号")
    html = nanqiao_client.get(
        f"/admin/stations/checkinpoint/{point.pk}/poster/", **INTRANET
    ).content.decode()
    assert _poster_address(html) == f"{PUBLIC}/checkin/{point_token(point)}/"
    assert "10.20.0.7" not in html


def test_a_station_poster_printed_from_the_intranet_points_at_the_public_site(
    nanqiao_client, nanqiao_town
):
    station = Station.objects.create(
        town=nanqiao_town, name="南桥站", address="南桥路 2 号", latitude=30.918, longitude=121.474
    )
    html = nanqiao_client.get(f"/stations/{station.pk}/poster/", **INTRANET).content.decode()
    assert _poster_address(html) == f"{PUBLIC}/stations/{station.pk}/scan/"
    assert "10.20.0.7" not in html


def test_an_attendance_poster_printed_from_the_intranet_points_at_the_public_site(
    nanqiao_client, nanqiao_town
):
    activity = factories.activity(nanqiao_town)
    html = nanqiao_client.get(
        f"/admin/activities/activity/{activity.pk}/qr/", **INTRANET
    ).content.decode()
    assert _poster_address(html) == f"{PUBLIC}/activities/attend/{attendance.token(activity)}/"
    assert "10.20.0.7" not in html


def test_the_calendar_file_links_to_the_public_site_whatever_host_served_it(
    anonymous, nanqiao_town
):
    activity = factories.activity(nanqiao_town)
    body = anonymous.get(f"/activities/{activity.pk}.ics", **INTRANET).content.decode()
    body = body.replace("\r\n ", "")  # unfold long lines
    assert f"URL:{PUBLIC}/activities/{activity.pk}/" in body
    assert f"UID:activity-{activity.pk}@portal.fengxian.example" in body
    assert "10.20.0.7" not in body


def test_production_refuses_to_start_without_a_public_base_url():
    result = _manage(
        "check",
        DEBUG="False",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="portal.example",
        SMS_BACKEND="couriers.messaging.backends.HttpBackend",
        SMS_HTTP_URL="https://sms-gateway.example/send",
        PUBLIC_BASE_URL="",
    )
    assert result.returncode != 0
    assert "PUBLIC_BASE_URL" in result.stderr
