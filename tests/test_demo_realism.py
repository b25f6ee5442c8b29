"""The demo district is shown to the district's leaders: its data must read as real.

Each test names one invariant the generated data once broke (issue 16, 「演示数据」)."""

import datetime
import re
from io import StringIO

from django.core.management import call_command
from django.test import TestCase, override_settings
from django.utils import timezone

from activities.models import Activity, PhotoReport
from couriers.demo import TOWN_ROADS
from couriers.models import Enterprise, Town
from stations.models import CheckinPoint, Station

TOWN_NAMES = [name for name in TOWN_ROADS]
BARE_NUMBER = re.compile(r"(镇|街道)\d+号$")  # 「南桥镇244号」: a town and a number, no road


@override_settings(DEBUG=True)
class DemoRealismTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        with override_settings(DEBUG=True):
            call_command("load_demo", stdout=StringIO())

    def test_every_town_has_roads_to_give_addresses(self):
        assert set(TOWN_ROADS) == set(Town.objects.values_list("name", flat=True))

    def test_photo_reports_are_filed_in_the_town_of_their_address_by_a_local_courier(self):
        reports = list(PhotoReport.objects.select_related("town", "courier"))
        assert reports and any(r.is_published for r in reports)
        for report in reports:
            named = [t for t in TOWN_NAMES if t in report.address]
            assert named == [report.town.name], (report.address, report.town.name)
            assert report.courier.work_town_id == report.town_id, report.address

    def test_addresses_name_a_road_of_their_own_town(self):
        places = [
            *CheckinPoint.objects.select_related("town"),
            *Station.objects.select_related("town"),
            *Enterprise.objects.select_related("town"),
        ]
        assert len(places) > 100
        for place in places:
            assert not BARE_NUMBER.search(place.address), place.address
            town = place.town.name
            assert town in place.address, place.address
            road = place.address.split(town, 1)[1]
            assert any(road.startswith(r) for r in TOWN_ROADS[town]), place.address
            assert re.fullmatch(r"\D+\d{1,3}号", road), place.address

    def test_station_host_type_matches_the_kind_of_place_in_its_name(self):
        labels = {
            "党群服务站": Station.HostType.PARTY_SERVICE,
            "邻里中心": Station.HostType.PARTY_SERVICE,
            "新时代文明实践站": Station.HostType.CIVILIZATION,
            "户外职工爱心接力站": Station.HostType.RELAY,
            "青年中心": Station.HostType.YOUTH,
            "妇女之家": Station.HostType.WOMEN,
        }
        stations = list(Station.objects.all())
        assert not [s.name for s in stations if s.host_type == Station.HostType.OTHER]
        for station in stations:
            kinds = [host for place, host in labels.items() if place in station.name]
            assert kinds == [station.host_type], station.name

    def test_sign_up_deadlines_fall_before_the_start_in_waking_hours(self):
        activities = list(Activity.objects.exclude(signup_deadline=None))
        assert len(activities) > 10
        for activity in activities:
            deadline = timezone.localtime(activity.signup_deadline)
            starts = timezone.localtime(activity.starts_at)
            assert deadline < starts, activity.title
            assert datetime.time(8) <= deadline.time() <= datetime.time(22), (
                activity.title,
                deadline,
            )
            assert starts - deadline <= datetime.timedelta(days=2), activity.title

    def test_activities_take_place_in_their_own_town(self):
        for activity in Activity.objects.select_related("station", "checkin_point", "town"):
            if activity.station_id:
                assert activity.station.town_id == activity.town_id
            if activity.checkin_point_id:
                assert activity.checkin_point.town_id == activity.town_id
            if activity.address:
                assert activity.town.name in activity.address, activity.address
