"""Stations in the admin: town scoping of stations, status reports and visits; adding a station
by pasting coordinates; clearing reports; the usage page; and the station list import (upload,
preview, confirm) with its hours parser.

Every scoped screen is tested for the outsider (404 or absent), not only for the insider.
"""

from __future__ import annotations

import contextlib
import datetime
import itertools
import re

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from couriers.models import ImportJob, StaffProfile
from couriers.roles import TOWN_ADMIN
from stations.models import OpeningHours, Service, Station, StationVisit, StatusReport
from stations.station_list import parse_hours
from tests.sheets import xlsx

pytestmark = pytest.mark.django_db

ADMIN = "/admin/stations"
IMPORT = f"{ADMIN}/station/import/"

_seq = itertools.count(1)


def t(text: str) -> datetime.time:
    return datetime.time.fromisoformat(text)


def station(town, name: str, **fields) -> Station:
    fields = {"address": f"测试路{next(_seq)}号", "latitude": 30.918, "longitude": 121.474} | fields
    return Station.objects.create(town=town, name=name, **fields)


def status_report(at: Station, kind: str = "no_water", **fields) -> StatusReport:
    return StatusReport.objects.create(station=at, kind=kind, device="d", address="a", **fields)


def visit(at: Station, when: datetime.datetime | None = None) -> StationVisit:
    return StationVisit.objects.create(station=at, device="d", visited_at=when or timezone.now())


@pytest.fixture
def pair(nanqiao_town, xidu_town):
    """A station in 南桥镇 and one in 西渡街道, each with a report and a visit."""
    data = {}
    for key, town, name in (
        ("nanqiao", nanqiao_town, "南桥示例站点"),
        ("xidu", xidu_town, "西渡示例站点"),
    ):
        at = station(town, name, latitude=30.95 if key == "xidu" else 30.918)
        data[key] = {"station": at, "report": status_report(at), "visit": visit(at)}
    return data


# --- town scoping -----------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["station", "statusreport", "stationvisit"])
def test_town_staff_lists_show_only_their_town(xidu_client, pair, model):
    page = xidu_client.get(f"{ADMIN}/{model}/").content.decode()
    assert "西渡示例站点" in page
    assert "南桥示例站点" not in page


@pytest.mark.parametrize("model", ["station", "statusreport", "stationvisit"])
def test_district_staff_lists_show_every_town(district_client, pair, model):
    page = district_client.get(f"{ADMIN}/{model}/").content.decode()
    assert "西渡示例站点" in page and "南桥示例站点" in page


@pytest.mark.parametrize(
    ("model", "record"),
    [("station", "station"), ("statusreport", "report"), ("stationvisit", "visit")],
)
@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_town_staff_cannot_open_another_towns_record(xidu_client, pair, model, record, view):
    nanqiaos, xidus = pair["nanqiao"][record], pair["xidu"][record]
    assert xidu_client.get(f"{ADMIN}/{model}/{nanqiaos.pk}/{view}/").status_code == 404
    assert xidu_client.get(f"{ADMIN}/{model}/{xidus.pk}/{view}/").status_code == 200


def test_town_staff_cannot_edit_or_delete_another_towns_station(xidu_client, pair):
    nanqiaos = pair["nanqiao"]["station"]
    url = f"{ADMIN}/station/{nanqiaos.pk}"
    assert xidu_client.post(f"{url}/change/", {"name": "改名了"}).status_code == 404
    assert xidu_client.post(f"{url}/delete/", {"post": "yes"}).status_code == 404
    nanqiaos.refresh_from_db()
    assert nanqiaos.name == "南桥示例站点"


def test_station_town_filter_offers_only_the_users_town(xidu_client, pair, xidu_town):
    page = xidu_client.get(f"{ADMIN}/station/").content.decode()
    assert f"?town__id__exact={xidu_town.pk}" in page
    assert "南桥镇" not in page


def test_station_changelist_counts_open_reports_and_recent_visits(nanqiao_client, pair):
    ours = pair["nanqiao"]["station"]
    status_report(ours, "closed", cleared_at=timezone.now())
    visit(ours, timezone.now() - datetime.timedelta(days=31))
    page = nanqiao_client.get(f"{ADMIN}/station/").content.decode()
    assert '<td class="field-open_reports">1</td>' in page
    assert '<td class="field-visits_30_days">1</td>' in page
    assert f'href="/stations/{ours.pk}/poster/"' in page
    assert f"{ADMIN}/station/usage/" in page


# --- adding a station -------------------------------------------------------------------------


def add_form(town, hours: list[tuple[str, str, str]] = (), **overrides) -> dict:
    """The admin add form as a browser posts it, with the opening hours inline formset (prefix
    "hours", the related name) holding `hours` as (weekday, opens, closes) rows."""
    data = {
        "name": "南桥新站点",
        "host_type": "party_service",
        "town": town.pk,
        "community": "",
        "address": "南桥镇解放东路 1 号",
        "phone": "021-57123456",
        "coordinates": "121.474,30.918",  # Amap's picker: longitude first
        "latitude": "",
        "longitude": "",
        "services": [Service.objects.get(name="饮水").pk, Service.objects.get(name="充电").pk],
        "is_active": "on",
        "hours-TOTAL_FORMS": str(len(hours)),
        "hours-INITIAL_FORMS": "0",
        "hours-MIN_NUM_FORMS": "0",
        "hours-MAX_NUM_FORMS": "1000",
    }
    for n, (weekday, opens, closes) in enumerate(hours):
        data |= {f"hours-{n}-weekday": weekday, f"hours-{n}-opens": opens}
        data[f"hours-{n}-closes"] = closes
    return data | overrides


def _town_choices(page: str) -> list[str]:
    select = re.search(r'<select name="town".*?</select>', page, re.S).group(0)
    return re.findall(r'<option value="(\d+)"', select)


def test_the_add_form_has_the_paste_field_and_the_hours_inline(district_client):
    page = district_client.get(f"{ADMIN}/station/add/").content.decode()
    assert 'name="coordinates"' in page
    assert 'name="hours-TOTAL_FORMS"' in page and 'name="hours-0-weekday"' in page


def test_town_staff_add_a_station_by_pasting_longitude_first_coordinates(
    nanqiao_client, nanqiao_town
):
    page = nanqiao_client.get(f"{ADMIN}/station/add/").content.decode()
    assert _town_choices(page) == [str(nanqiao_town.pk)]
    response = nanqiao_client.post(f"{ADMIN}/station/add/", add_form(nanqiao_town))
    assert response.status_code == 302, response.context["adminform"].form.errors
    added = Station.objects.get(name="南桥新站点")
    assert (added.town, added.latitude, added.longitude) == (nanqiao_town, 30.918, 121.474)
    assert sorted(s.name for s in added.services.all()) == ["充电", "饮水"]


def test_district_staff_add_a_station_with_its_opening_hours(district_client, xidu_town):
    hours = [("0", "18:00", "02:00"), ("5", "09:00", "12:00")]
    data = add_form(xidu_town, hours, coordinates="30.95,121.44")
    assert district_client.post(f"{ADMIN}/station/add/", data).status_code == 302
    added = Station.objects.get()
    assert (added.town, added.latitude, added.longitude) == (xidu_town, 30.95, 121.44)
    assert added.hour_ranges() == [(0, t("18:00"), t("02:00")), (5, t("09:00"), t("12:00"))]
    assert added.week()[0] == ("周一", "18:00–次日02:00")


def test_town_staff_add_a_station_with_its_opening_hours(nanqiao_client, nanqiao_town):
    page = nanqiao_client.get(f"{ADMIN}/station/add/").content.decode()
    assert 'name="hours-0-weekday"' in page
    data = add_form(nanqiao_town, [("0", "18:00", "02:00")])
    assert nanqiao_client.post(f"{ADMIN}/station/add/", data).status_code == 302
    assert Station.objects.get().hour_ranges() == [(0, t("18:00"), t("02:00"))]


def test_latitude_and_longitude_may_be_typed_instead_of_pasted(nanqiao_client, nanqiao_town):
    data = add_form(nanqiao_town, coordinates="", latitude="30.92", longitude="121.48")
    assert nanqiao_client.post(f"{ADMIN}/station/add/", data).status_code == 302
    added = Station.objects.get()
    assert (added.latitude, added.longitude) == (30.92, 121.48)


def test_pasted_coordinates_outside_fengxian_are_an_error_and_nothing_is_written(
    district_client, nanqiao_town
):
    data = add_form(nanqiao_town, [("0", "08:00", "20:00")], coordinates="121.4737,31.2304")
    response = district_client.post(f"{ADMIN}/station/add/", data)  # People's Square
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "不在奉贤区范围内" in errors["coordinates"][0]
    assert not Station.objects.exists() and not OpeningHours.objects.exists()


def test_typed_coordinates_outside_fengxian_are_an_error(nanqiao_client, nanqiao_town):
    data = add_form(nanqiao_town, coordinates="", latitude="31.2304", longitude="121.4737")
    response = nanqiao_client.post(f"{ADMIN}/station/add/", data)
    assert response.status_code == 200
    assert "不在奉贤区范围内" in response.content.decode()
    assert not Station.objects.exists()


def test_missing_coordinates_are_an_error(nanqiao_client, nanqiao_town):
    response = nanqiao_client.post(f"{ADMIN}/station/add/", add_form(nanqiao_town, coordinates=""))
    assert response.status_code == 200
    assert "请填写坐标" in response.context["adminform"].form.errors["coordinates"][0]
    assert not Station.objects.exists()


def test_town_staff_cannot_add_a_station_in_another_town(nanqiao_client, xidu_town):
    response = nanqiao_client.post(f"{ADMIN}/station/add/", add_form(xidu_town))
    assert response.status_code == 200
    assert "town" in response.context["adminform"].form.errors
    assert not Station.objects.exists()


def test_town_staff_cannot_move_their_station_to_another_town(nanqiao_client, pair, xidu_town):
    ours = pair["nanqiao"]["station"]
    data = add_form(xidu_town, name=ours.name, coordinates="30.918,121.474")
    response = nanqiao_client.post(f"{ADMIN}/station/{ours.pk}/change/", data)
    assert response.status_code == 200
    assert "town" in response.context["adminform"].form.errors
    ours.refresh_from_db()
    assert ours.town_id != xidu_town.pk


# --- status reports ---------------------------------------------------------------------------


def clear(client, reports: list[StatusReport]):
    return client.post(
        f"{ADMIN}/statusreport/",
        {"action": "clear_reports", "_selected_action": [r.pk for r in reports]},
        follow=True,
    )


def test_clearing_reports_records_when_and_by_whom(nanqiao_client, nanqiao, pair):
    ours = pair["nanqiao"]["report"]
    another = status_report(pair["nanqiao"]["station"], "closed")
    before = timezone.now()
    response = clear(nanqiao_client, [ours, another])
    assert "已处理 2 条反馈。" in response.content.decode()
    for report in (ours, another):
        report.refresh_from_db()
        assert report.cleared_by == nanqiao
        assert before <= report.cleared_at <= timezone.now()


def test_clearing_again_keeps_the_first_clearing(nanqiao_client, district, pair):
    ours = pair["nanqiao"]["report"]
    earlier = timezone.now() - datetime.timedelta(days=1)
    StatusReport.objects.filter(pk=ours.pk).update(cleared_at=earlier, cleared_by=district)
    assert "已处理 0 条反馈。" in clear(nanqiao_client, [ours]).content.decode()
    ours.refresh_from_db()
    assert (ours.cleared_at, ours.cleared_by) == (earlier, district)


def test_town_staff_cannot_clear_another_towns_reports(xidu_client, pair):
    nanqiaos = pair["nanqiao"]["report"]
    clear(xidu_client, [nanqiaos])
    nanqiaos.refresh_from_db()
    assert nanqiaos.cleared_at is None and nanqiaos.cleared_by is None


def test_reports_cannot_be_added_in_the_admin(nanqiao_client):
    assert nanqiao_client.get(f"{ADMIN}/statusreport/add/").status_code == 403


# --- usage ------------------------------------------------------------------------------------


def _local(days_ago: int, hour: int, minute: int = 15) -> datetime.datetime:
    day = timezone.localdate() - datetime.timedelta(days=days_ago)
    return datetime.datetime.combine(
        day, datetime.time(hour, minute), timezone.get_current_timezone()
    )


@pytest.fixture
def visits(pair):
    """南桥: 3 visits (two at 09:xx, one at 14:xx) and one 40 days ago; 西渡: 5 at 20:xx."""
    StationVisit.objects.all().delete()
    nanqiaos, xidus = pair["nanqiao"]["station"], pair["xidu"]["station"]
    for when in (_local(1, 9), _local(1, 9, 40), _local(3, 14), _local(40, 9)):
        visit(nanqiaos, when)
    for days_ago in range(1, 6):
        visit(xidus, _local(days_ago, 20))
    return pair


def _station_rows(page: str) -> list[tuple[str, str, str]]:
    table = re.search(r'<table id="usage-stations">(.*?)</table>', page, re.S).group(1)
    return re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td><td>(\d+)</td></tr>", table)


def _hour_counts(page: str) -> dict[str, int]:
    table = re.search(r'<table id="usage-hours">(.*?)</table>', page, re.S).group(1)
    rows = re.findall(r"<tr><td>(\d\d:00)</td><td>(\d+)</td>", table)
    return {hour: int(n) for hour, n in rows if n != "0"}


def test_usage_page_counts_visits_per_station_and_per_hour(nanqiao_client, visits):
    page = nanqiao_client.get(f"{ADMIN}/station/usage/").content.decode()
    assert "共 3 次扫码到访" in page
    assert _station_rows(page) == [("南桥示例站点", "南桥镇", "3")]
    assert _hour_counts(page) == {"09:00": 2, "14:00": 1}


def test_usage_page_is_scoped_to_the_users_town(xidu_client, visits):
    page = xidu_client.get(f"{ADMIN}/station/usage/").content.decode()
    assert "南桥示例站点" not in page
    assert _station_rows(page) == [("西渡示例站点", "西渡街道", "5")]
    assert _hour_counts(page) == {"20:00": 5}


def test_usage_page_for_the_district_lists_busiest_first(district_client, visits):
    page = district_client.get(f"{ADMIN}/station/usage/?days=60").content.decode()
    assert _station_rows(page) == [
        ("西渡示例站点", "西渡街道", "5"),
        ("南桥示例站点", "南桥镇", "4"),
    ]
    assert _hour_counts(page) == {"09:00": 3, "14:00": 1, "20:00": 5}


def test_usage_page_period_can_be_chosen_and_bad_input_falls_back(nanqiao_client, visits):
    two_days = nanqiao_client.get(f"{ADMIN}/station/usage/?days=2").content.decode()
    assert _hour_counts(two_days) == {"09:00": 2}
    fallback = nanqiao_client.get(f"{ADMIN}/station/usage/?days=lots").content.decode()
    assert 'name="days" value="30"' in fallback and "共 3 次扫码到访" in fallback


def test_usage_page_needs_view_permission(anonymous, visits):
    response = anonymous.get(f"{ADMIN}/station/usage/")
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- station list import ----------------------------------------------------------------------

HEADER = [
    "站点名称",
    "承载阵地",
    "街镇",
    "地址",
    "坐标",
    "联系电话",
    "开放时间",
    "服务项目",
    "示范站点",
]
GOOD = [
    HEADER,
    [
        "南桥镇党群服务站",
        "党群服务站点",
        "南桥镇",
        "南桥镇解放东路 1 号",
        "30.918,121.474",
        "021-57123456",
        "周一至周五 08:00-20:00；周六 09:00-17:00",
        "饮水、充电",
        "是",
    ],
    [
        "南桥爱心接力站",
        "爱心接力站",
        "南桥",
        "南桥镇环城东路 2 号",
        "121.480,30.925",
        "",
        "24小时",
        "饮水，卫生间",
        "",
    ],
    [
        "南桥夜间驿站",
        "",
        "南桥镇",
        "南桥镇百齐路 3 号",
        "30.930，121.460",
        "",
        "每天 18:00-02:00",
        "充电",
        "否",
    ],
]


def grant_import(user) -> None:
    """Give `user` the station import permission, creating it if need be: it is not declared
    on Station yet, so no group has it (see test_town_and_district_admins_may_import_stations).
    """
    permission, _ = Permission.objects.get_or_create(
        codename="import_station",
        content_type=ContentType.objects.get_for_model(Station),
        defaults={"name": "可导入站点名单"},
    )
    user.user_permissions.add(permission)


@pytest.fixture
def importer(nanqiao, nanqiao_client):
    grant_import(nanqiao)
    return nanqiao_client


def upload(client, data: bytes, name: str = "stations.xlsx"):
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, data)}, follow=True)


def confirm(client, job: ImportJob):
    return client.post(f"{IMPORT}{job.pk}/", follow=True)


def test_town_and_district_admins_may_import_stations(nanqiao, district, nanqiao_client):
    assert Permission.objects.filter(
        codename="import_station", group__name=TOWN_ADMIN, content_type__app_label="stations"
    ).exists()
    assert nanqiao.has_perm("stations.import_station")
    assert district.has_perm("stations.import_station")
    assert nanqiao_client.get(IMPORT).status_code == 200


def test_staff_without_the_import_permission_cannot_import(nanqiao_town):
    viewer = User.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_station"))
    StaffProfile.objects.create(user=viewer, town=nanqiao_town)
    client = Client()
    client.force_login(viewer)
    assert client.get(f"{ADMIN}/station/").status_code == 200
    assert client.get(IMPORT).status_code == 403
    assert upload(client, xlsx(GOOD)).status_code == 403
    assert client.get(f"{IMPORT}template/").status_code == 403
    assert not ImportJob.objects.exists()


def test_station_list_upload_preview_then_confirm_creates_stations(importer, nanqiao_town):
    page = upload(importer, xlsx(GOOD, title_lines=["奉贤区骑乐融融站点名单"])).content.decode()
    assert "校验通过（尚未写入）" in page
    assert 'id="count-new">3<' in page
    assert "确认导入" in page
    assert not Station.objects.exists()

    job = ImportJob.objects.get()
    assert job.kind == ImportJob.Kind.STATIONS
    assert "导入完成" in confirm(importer, job).content.decode()

    stations = {s.name: s for s in Station.objects.all()}
    assert set(stations) == {"南桥镇党群服务站", "南桥爱心接力站", "南桥夜间驿站"}
    service_hall = stations["南桥镇党群服务站"]
    assert (service_hall.town, service_hall.latitude, service_hall.longitude) == (
        nanqiao_town,
        30.918,
        121.474,
    )
    assert (service_hall.host_type, service_hall.phone, service_hall.is_demonstration) == (
        Station.HostType.PARTY_SERVICE,
        "021-57123456",
        True,
    )
    assert sorted(s.name for s in service_hall.services.all()) == ["充电", "饮水"]
    assert service_hall.week() == [
        *[(day, "08:00–20:00") for day in ("周一", "周二", "周三", "周四", "周五")],
        ("周六", "09:00–17:00"),
        ("周日", "休息"),
    ]

    relay = stations["南桥爱心接力站"]
    assert (relay.host_type, relay.open_24_hours, relay.is_demonstration) == ("relay", True, False)
    assert (relay.latitude, relay.longitude) == (30.925, 121.48)  # given longitude first
    assert not relay.hours.exists()
    assert sorted(s.name for s in relay.services.all()) == ["卫生间", "饮水"]

    night = stations["南桥夜间驿站"]
    assert (night.latitude, night.longitude) == (30.93, 121.46)
    assert night.week() == [
        (day, "18:00–次日02:00") for day in ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
    ]


def test_reimporting_the_same_list_changes_nothing(importer):
    upload(importer, xlsx(GOOD))
    confirm(importer, ImportJob.objects.get())
    before = {s.pk: s.updated_at for s in Station.objects.all()}
    hours_before = sorted(OpeningHours.objects.values_list("pk", flat=True))

    page = upload(importer, xlsx(GOOD)).content.decode()
    assert "文件与已有数据一致，无需导入" in page
    assert 'id="count-unchanged">3<' in page and 'id="count-new">0<' in page
    assert "确认导入" not in page
    assert {s.pk: s.updated_at for s in Station.objects.all()} == before
    assert sorted(OpeningHours.objects.values_list("pk", flat=True)) == hours_before


def test_reimporting_with_new_hours_and_services_updates_the_station(importer):
    upload(importer, xlsx(GOOD))
    confirm(importer, ImportJob.objects.first())
    changed = [row[:] for row in GOOD]
    changed[3][6] = "周六、周日 10:00-16:00"
    changed[3][7] = "饮水、充电、微波炉"
    page = upload(importer, xlsx(changed)).content.decode()
    assert 'id="count-updated">1<' in page and 'id="count-unchanged">2<' in page
    confirm(importer, ImportJob.objects.order_by("-pk").first())
    night = Station.objects.get(name="南桥夜间驿站")
    assert night.hour_ranges() == [(5, t("10:00"), t("16:00")), (6, t("10:00"), t("16:00"))]
    assert sorted(s.name for s in night.services.all()) == ["充电", "微波炉", "饮水"]
    assert Station.objects.count() == 3


def test_import_errors_are_listed_with_their_rows_and_nothing_is_written(importer):
    good = GOOD[1]
    rows = [
        HEADER,
        good,  # row 2
        ["外地站点", "", "北京市朝阳区", "朝阳路 1 号", "30.918,121.474", "", "24小时", "饮水", ""],
        ["按摩站点", "", "南桥镇", "南桥路 4 号", "30.918,121.474", "", "24小时", "饮水、按摩", ""],
        ["北京站点", "", "南桥镇", "南桥路 5 号", "39.9042,116.4074", "", "24小时", "饮水", ""],
        ["随缘站点", "", "南桥镇", "南桥路 6 号", "30.918,121.474", "", "看心情", "饮水", ""],
        [good[0], "", "南桥镇", "南桥路 7 号", "30.918,121.474", "", "24小时", "饮水", ""],
    ]
    page = upload(importer, xlsx(rows)).content.decode()
    assert "发现 5 处错误，未写入任何数据" in page
    assert "确认导入" not in page
    job = ImportJob.objects.get()
    errors = [(e["row"], e["column"], e["message"]) for e in job.report["errors"]]
    assert errors == [
        (3, "街镇", "不是奉贤区的街镇"),
        (4, "服务项目", "没有“按摩”这个服务项目"),
        (5, "坐标", "坐标（39.90420, 116.40740）不在奉贤区范围内，请核对"),
        (6, "开放时间", "看不懂开放时间“看心情”（可写：周一至周五 08:00-20:00；周六 09:00-17:00）"),
        (7, "站点名称", "与第 2 行的站点重复"),
    ]
    assert "<td>3</td><td>街镇</td><td>北京市朝阳区</td>" in page
    assert "<td>6</td><td>开放时间</td><td>看心情</td>" in page
    assert "不能导入" in confirm(importer, job).content.decode()
    assert not Station.objects.exists() and not OpeningHours.objects.exists()


def test_an_overlong_station_name_is_a_row_error(importer):
    rows = [
        HEADER,
        ["长" * 101, "", "南桥镇", "南桥路 1 号", "30.918,121.474", "", "24小时", "", ""],
    ]
    upload(importer, xlsx(rows))
    errors = ImportJob.objects.get().report["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [(2, "站点名称")]


def test_town_staff_cannot_import_another_towns_stations(importer):
    rows = [
        HEADER,
        ["西渡站点", "", "西渡街道", "西渡路 1 号", "30.95,121.44", "", "24小时", "饮水", ""],
    ]
    upload(importer, xlsx(rows))
    errors = ImportJob.objects.get().report["errors"]
    assert [(e["row"], e["message"]) for e in errors] == [(2, "只能导入本街镇的站点")]
    assert not Station.objects.exists()


def test_import_template_has_the_station_columns(importer):
    response = importer.get(f"{IMPORT}template/")
    assert response.status_code == 200
    from io import BytesIO

    from openpyxl import load_workbook

    workbook = load_workbook(BytesIO(b"".join(response.streaming_content)))
    headers = [cell.value for cell in workbook.worksheets[0][1]]
    assert {"站点名称", "街镇", "地址", "坐标", "开放时间", "服务项目"} <= set(headers)


# --- the hours column -------------------------------------------------------------------------

ALL_WEEK = range(7)


def ranges(days, opens: str, closes: str) -> list[tuple[int, datetime.time, datetime.time]]:
    return [(day, t(opens), t(closes)) for day in days]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", (False, [])),
        ("24小时", (True, [])),
        ("24 小时开放", (True, [])),
        ("全天", (True, [])),
        ("24h", (True, [])),
        ("每天 08:00-20:00", (False, ranges(ALL_WEEK, "08:00", "20:00"))),
        ("08:00-20:00", (False, ranges(ALL_WEEK, "08:00", "20:00"))),
        ("每天 18:00-02:00", (False, ranges(ALL_WEEK, "18:00", "02:00"))),
        ("每日 8:30～17:30", (False, ranges(ALL_WEEK, "08:30", "17:30"))),
        ("每天 18：00至次日2：00", (False, ranges(ALL_WEEK, "18:00", "02:00"))),
        ("每天 08:00-24:00", (False, ranges(ALL_WEEK, "08:00", "00:00"))),
        (
            "周一至周五 08:00-20:00；周六 09:00-17:00",
            (False, ranges(range(5), "08:00", "20:00") + ranges([5], "09:00", "17:00")),
        ),
        (
            "周一至周五 8:00-12:00、14:00-20:00",
            (False, ranges(range(5), "08:00", "12:00") + ranges(range(5), "14:00", "20:00")),
        ),
        ("周六、周日 9:00-17:00", (False, ranges([5, 6], "09:00", "17:00"))),
        ("星期一到星期三 9:00-17:00", (False, ranges([0, 1, 2], "09:00", "17:00"))),
        ("周五至周一 10:00-14:00", (False, ranges([0, 4, 5, 6], "10:00", "14:00"))),
    ],
)
def test_parse_hours(text, expected):
    assert parse_hours(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("看心情", "看不懂开放时间“看心情”"),
        ("周一至周五", "看不懂开放时间"),
        ("周一 8点-20点", "看不懂开放时间"),
        ("每天 08:00-08:00", "开门和关门时间相同"),
        ("每天 08:70-20:00", "时间不存在"),
        ("周一至周五 08:00-20:00；周六 休息日", "看不懂开放时间“周六 休息日”"),
    ],
)
def test_parse_hours_refuses_what_it_cannot_read(text, message):
    with pytest.raises(ValueError, match=message):
        parse_hours(text)


def _days(text: str) -> set[int]:
    return {day for day, _, _ in parse_hours(text)[1]}


@pytest.mark.parametrize(
    ("text", "days"), [("周末 09:00-17:00", {5, 6}), ("工作日 09:00-17:00", {0, 1, 2, 3, 4})]
)
def test_parse_hours_does_not_read_weekend_or_workdays_as_every_day(text, days):
    with contextlib.suppress(ValueError):  # refusing the text is fine too
        assert _days(text) == days


def test_parse_hours_with_a_comma_between_day_groups_keeps_them_apart():
    try:
        result = parse_hours("周一至周五 08:00-20:00，周六 09:00-17:00")
    except ValueError:
        return  # refusing the text is fine too
    assert result == (False, ranges(range(5), "08:00", "20:00") + ranges([5], "09:00", "17:00"))


def test_parse_hours_with_day_groups_on_separate_lines_keeps_them_apart():
    result = parse_hours("周日 10:00-14:00\n周三 09:00-11:00")
    assert result == (False, ranges([6], "10:00", "14:00") + ranges([2], "09:00", "11:00"))


def test_parse_hours_refuses_closing_hours_past_24():
    with pytest.raises(ValueError):
        parse_hours("每天 08:00-25:00")
