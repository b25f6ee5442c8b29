"""The public station pages, through the test client: the finder (list and map) with its
filters and distances, a station's page with its navigation links, one-tap status reports with
their rate limit, poster scans and the printable poster.

"Now" is the real clock here: stations are built open or closed relative to it (24 hours, or
hours only on a day that is not today).
"""

from __future__ import annotations

import datetime
import html
import itertools
import json
import os
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from couriers.security.ratelimit import DEVICE_COOKIE, sign_device
from stations import geo
from stations.models import OpeningHours, Service, Station, StationVisit, StatusReport

pytestmark = pytest.mark.django_db

FINDER = "/stations/"
MAP = "/stations/map/"

_seq = itertools.count(1)


def service(name: str) -> Service:
    return Service.objects.get(name=name)  # seeded by migration


def station(
    town,
    name: str | None = None,
    *,
    services: tuple[str, ...] = (),
    hours: list[tuple[int, str, str]] = (),
    **fields,
) -> Station:
    """A station near 南桥 with the named services and (weekday, "08:00", "20:00") hours."""
    fields = {
        "address": f"测试路 {next(_seq)} 号",
        "latitude": 30.918,
        "longitude": 121.474,
    } | fields
    created = Station.objects.create(town=town, name=name or f"测试站点{next(_seq)}", **fields)
    created.services.set([service(n) for n in services])
    OpeningHours.objects.bulk_create(
        OpeningHours(
            station=created,
            weekday=day,
            opens=datetime.time.fromisoformat(opens),
            closes=datetime.time.fromisoformat(closes),
        )
        for day, opens, closes in hours
    )
    return created


def not_today() -> int:
    """A weekday three days from today (Shanghai time): never today, never tomorrow."""
    return (timezone.localdate().weekday() + 3) % 7


def closed_now(town, name: str, **kwargs) -> Station:
    return station(town, name, hours=[(not_today(), "10:00", "11:00")], **kwargs)


def open_now(town, name: str, **kwargs) -> Station:
    """Open from an hour ago to an hour from now (past midnight if need be)."""
    now = timezone.localtime().replace(second=0, microsecond=0)
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(hours=1)
    hours = [(start.weekday(), f"{start:%H:%M}", f"{end:%H:%M}")]
    return station(town, name, hours=hours, **kwargs)


def listed(response) -> list[str]:
    """Station names on a finder or map page, in the order shown."""
    return re.findall(r'class="station-name" href="[^"]+">([^<]+)</a>', response.content.decode())


# --- the finder -------------------------------------------------------------------------------


def test_finder_lists_active_stations_only(anonymous, nanqiao_town):
    station(nanqiao_town, "南桥开着的站点")
    station(nanqiao_town, "南桥停用的站点", is_active=False)
    response = anonymous.get(FINDER)
    assert response.status_code == 200
    assert listed(response) == ["南桥开着的站点"]
    assert "共 1 个站点" in response.content.decode()


def test_finder_filters_by_one_service(anonymous, nanqiao_town):
    station(nanqiao_town, "有水的站点", services=("饮水",))
    station(nanqiao_town, "能充电的站点", services=("充电",))
    response = anonymous.get(FINDER, {"service": service("饮水").pk})
    assert listed(response) == ["有水的站点"]


def test_finder_with_several_services_lists_stations_offering_all_of_them(anonymous, nanqiao_town):
    station(nanqiao_town, "水电齐全", services=("饮水", "充电", "卫生间"))
    station(nanqiao_town, "只有水", services=("饮水",))
    station(nanqiao_town, "只能充电", services=("充电",))
    response = anonymous.get(FINDER, {"service": [service("饮水").pk, service("充电").pk]})
    assert listed(response) == ["水电齐全"]


def test_finder_filters_by_town(anonymous, nanqiao_town, xidu_town):
    station(nanqiao_town, "南桥的站点")
    station(xidu_town, "西渡的站点", latitude=30.99, longitude=121.44)
    assert listed(anonymous.get(FINDER, {"town": xidu_town.pk})) == ["西渡的站点"]
    assert sorted(listed(anonymous.get(FINDER))) == ["南桥的站点", "西渡的站点"]


def test_finder_open_now_leaves_out_closed_stations(anonymous, nanqiao_town):
    station(nanqiao_town, "全天开放的站点", open_24_hours=True)
    open_now(nanqiao_town, "正在营业的站点")
    closed_now(nanqiao_town, "今天不开的站点")
    station(nanqiao_town, "没有登记时间的站点")
    assert sorted(listed(anonymous.get(FINDER, {"open": "on"}))) == [
        "全天开放的站点",
        "正在营业的站点",
    ]
    assert len(listed(anonymous.get(FINDER))) == 4


def test_finder_shows_each_stations_status(anonymous, nanqiao_town):
    station(nanqiao_town, "全天开放的站点", open_24_hours=True)
    closed_now(nanqiao_town, "今天不开的站点")
    page = anonymous.get(FINDER).content.decode()
    assert '<p class="status is-open">24小时开放</p>' in page
    assert re.search(r'<p class="status is-closed">已关门 · 周. 10:00 开门</p>', page)


def test_finder_with_a_position_sorts_by_distance_and_shows_it(anonymous, nanqiao_town):
    # A courier at (30.918, 121.474); stations about 1.1 km north, 300 m east and 15 km south.
    station(nanqiao_town, "北边一公里", latitude=30.928, longitude=121.474)
    station(nanqiao_town, "东边三百米", latitude=30.918, longitude=121.477125)
    station(nanqiao_town, "南边十五公里", latitude=30.783, longitude=121.474)
    response = anonymous.get(FINDER, {"lat": "30.918", "lng": "121.474"})
    assert listed(response) == ["东边三百米", "北边一公里", "南边十五公里"]
    page = response.content.decode()
    assert '<span class="distance">300 米</span>' in page
    assert '<span class="distance">1.1 公里</span>' in page
    assert '<span class="distance">15 公里</span>' in page
    assert "已按离你的距离排序" in page


def test_finder_without_a_position_still_lists_every_station_without_distances(
    anonymous, nanqiao_town
):
    station(nanqiao_town, "乙站", latitude=30.928)
    station(nanqiao_town, "甲站", latitude=30.918)
    response = anonymous.get(FINDER)
    assert sorted(listed(response)) == ["乙站", "甲站"]
    page = response.content.decode()
    assert 'class="distance"' not in page
    assert "已按离你的距离排序" not in page


def test_finder_ignores_half_a_position_or_an_impossible_one(anonymous, nanqiao_town):
    station(nanqiao_town, "甲站")
    for query in ({"lat": "30.918"}, {"lat": "300", "lng": "121.474"}, {"lat": "x", "lng": "y"}):
        response = anonymous.get(FINDER, query)
        assert response.status_code == 200
        assert listed(response) == ["甲站"]
        assert 'class="distance"' not in response.content.decode()


def test_a_bad_position_does_not_drop_the_other_filters(anonymous, nanqiao_town):
    station(nanqiao_town, "有水的站点", services=("饮水",))
    station(nanqiao_town, "没水的站点")
    query = {"service": service("饮水").pk, "lat": "x", "lng": "121.474"}
    assert listed(anonymous.get(FINDER, query)) == ["有水的站点"]


def test_finder_says_so_when_nothing_matches(anonymous, nanqiao_town):
    station(nanqiao_town, "只有水", services=("饮水",))
    page = anonymous.get(FINDER, {"service": service("微波炉").pk}).content.decode()
    assert "没有符合条件的站点" in page


# --- constant query counts --------------------------------------------------------------------


def _stations_with_everything(town, count: int) -> list[Station]:
    """Stations with one to three services and twelve ranges of hours each; every other one
    is open 24 hours. Written in bulk: this is about the pages' queries, not the setup's."""
    made = Station.objects.bulk_create(
        Station(
            town=town,
            name=f"批量站点{next(_seq)}",
            address="测试路",
            latitude=30.90 + n * 0.001,
            longitude=121.474,
            phone="021-57123456",
            open_24_hours=n % 2 == 0,
        )
        for n in range(count)
    )
    offered = [service(name) for name in ("饮水", "充电", "卫生间")]
    Station.services.through.objects.bulk_create(
        Station.services.through(station=made_one, service=offered_one)
        for n, made_one in enumerate(made)
        for offered_one in offered[: 1 + n % 3]
    )
    morning, evening, night = (datetime.time(h) for h in (8, 12, 18))
    OpeningHours.objects.bulk_create(
        [
            OpeningHours(station=m, weekday=d, opens=morning, closes=evening)
            for m in made
            for d in range(7)
        ]
        + [
            OpeningHours(station=m, weekday=d, opens=night, closes=datetime.time(2))
            for m in made
            for d in range(5)
        ]
    )
    return made


# Finder and map: the service and town choices of the filter form, the stations (with town
# and community), their services' rows and the services themselves, their hours (rows read
# plainly, stations.views.search_stations). Filtering by service and town validates the
# chosen ones: one query each.
# Station page: the station (with town and community), its services, its hours, its reports.
@pytest.mark.parametrize(
    ("page", "queries"),
    [("finder", 6), ("finder filtered", 8), ("map", 6), ("map filtered", 8), ("detail", 4)],
)
def test_public_pages_keep_a_constant_number_of_queries(
    anonymous, nanqiao_town, django_assert_num_queries, page, queries
):
    first = _stations_with_everything(nanqiao_town, 3)[0]
    StatusReport.objects.create(station=first, kind="no_water", device="d", address="a")
    url = {"finder": FINDER, "map": MAP, "detail": f"/stations/{first.pk}/"}[page.split()[0]]
    if page.endswith("filtered"):
        url += (
            f"?service={service('饮水').pk}&town={nanqiao_town.pk}&open=on&lat=30.918&lng=121.474"
        )
    with django_assert_num_queries(queries):
        assert anonymous.get(url).status_code == 200
    _stations_with_everything(nanqiao_town, 57)
    with django_assert_num_queries(queries):
        response = anonymous.get(url)
    if page in ("finder", "map"):
        assert len(listed(response)) == 20  # the first page of 60
    elif page != "detail":
        assert len(listed(response)) == 20  # a full first page: 30 at least are open


# --- a station's page -------------------------------------------------------------------------


@pytest.fixture
def rest_stop(nanqiao_town):
    return station(
        nanqiao_town,
        "南桥镇党群服务站",
        services=("饮水", "充电"),
        hours=[(0, "08:00", "12:00"), (0, "14:00", "20:00"), (4, "18:00", "02:00")],
        phone="021-57123456",
        latitude=30.918,
        longitude=121.474,
    )


def test_station_page_shows_week_hours_services_and_a_phone_link(anonymous, rest_stop):
    page = anonymous.get(f"/stations/{rest_stop.pk}/").content.decode()
    assert "<h1>南桥镇党群服务站</h1>" in page
    assert "<th>周一</th><td>08:00–12:00、14:00–20:00</td>" in page
    assert "<th>周五</th><td>18:00–次日02:00</td>" in page
    assert "<th>周三</th><td>休息</td>" in page
    assert "💧 饮水" in page and "🔌 充电" in page
    assert 'href="tel:021-57123456"' in page


def test_station_page_marks_today_in_the_week(anonymous, rest_stop):
    page = anonymous.get(f"/stations/{rest_stop.pk}/").content.decode()
    rows = re.findall(r"<tr( class=\"today\")?><th>(周.)</th>", page)
    assert [day for today, day in rows if today] == [
        ["周一", "周二", "周三", "周四", "周五", "周六", "周日"][timezone.localdate().weekday()]
    ]


def test_station_page_without_a_phone_has_no_call_link(anonymous, nanqiao_town):
    quiet = station(nanqiao_town, "无电话站点")
    page = anonymous.get(f"/stations/{quiet.pk}/").content.decode()
    assert "tel:" not in page
    assert "暂无登记" in page  # no services


def _link(page: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}" href="([^"]+)"', page)
    assert found, element_id
    return html.unescape(found.group(1))


def test_navigation_links_use_each_apps_coordinate_system(anonymous, rest_stop):
    page = anonymous.get(f"/stations/{rest_stop.pk}/").content.decode()
    gcj_lat, gcj_lng = geo.wgs84_to_gcj02(30.918, 121.474)
    bd_lat, bd_lng = geo.gcj02_to_bd09(gcj_lat, gcj_lng)

    amap = urlsplit(_link(page, "nav-amap"))
    assert amap.netloc == "uri.amap.com"
    query = parse_qs(amap.query)
    assert query["to"] == [f"{gcj_lng:.6f},{gcj_lat:.6f},南桥镇党群服务站"]
    assert query["coordinate"] == ["gaode"]

    baidu = urlsplit(_link(page, "nav-baidu"))
    assert baidu.netloc == "api.map.baidu.com"
    query = parse_qs(baidu.query)
    assert query["destination"] == [f"latlng:{bd_lat:.6f},{bd_lng:.6f}|name:南桥镇党群服务站"]
    assert query["coord_type"] == ["bd09ll"]

    apple = urlsplit(_link(page, "nav-apple"))
    assert apple.netloc == "maps.apple.com"
    query = parse_qs(apple.query)
    assert query["daddr"] == [f"{gcj_lat:.6f},{gcj_lng:.6f}"]
    assert query["q"] == ["南桥镇党群服务站"]


def test_navigation_coordinates_are_shifted_from_the_stored_wgs84_ones(anonymous, rest_stop):
    page = anonymous.get(f"/stations/{rest_stop.pk}/").content.decode()
    lng, lat = map(float, parse_qs(urlsplit(_link(page, "nav-amap")).query)["to"][0].split(",")[:2])
    assert 100 < geo.distance_m(30.918, 121.474, lat, lng) < 1000


def test_inactive_station_pages_are_not_found(anonymous, nanqiao_town):
    closed = station(nanqiao_town, "已停用站点", is_active=False)
    assert anonymous.get(f"/stations/{closed.pk}/").status_code == 404
    response = anonymous.post(
        f"/stations/{closed.pk}/report/", {"kind": "open"}, HTTP_ORIGIN="http://testserver"
    )
    assert response.status_code == 404
    assert anonymous.get(f"/stations/{closed.pk}/scan/").status_code == 404
    assert not StatusReport.objects.exists() and not StationVisit.objects.exists()


def test_unknown_station_is_not_found(anonymous):
    assert anonymous.get("/stations/999999/").status_code == 404


def test_inactive_station_poster_is_not_found(anonymous, nanqiao_town):
    closed = station(nanqiao_town, "已停用站点", is_active=False)
    assert anonymous.get(f"/stations/{closed.pk}/poster/").status_code == 404


# --- status reports ---------------------------------------------------------------------------


def report(client: Client, target: Station, kind: str = "no_water", **kwargs):
    kwargs.setdefault("HTTP_ORIGIN", "http://testserver")  # browsers send it with every POST
    return client.post(f"/stations/{target.pk}/report/", {"kind": kind}, **kwargs)


def test_a_report_is_saved_and_shown_on_the_station_page_with_its_age(anonymous, rest_stop):
    response = report(anonymous, rest_stop, "no_water", follow=True)
    assert response.redirect_chain == [(f"/stations/{rest_stop.pk}/", 302)]
    saved = StatusReport.objects.get()
    assert (saved.station, saved.kind, saved.cleared_at) == (rest_stop, "no_water", None)
    assert len(saved.device) == 64 and len(saved.address) == 64  # digests, not raw values
    page = response.content.decode()
    assert "谢谢！已报告“没水了”。" in page
    assert '<li class="problem">没水了 · 刚刚</li>' in page


@pytest.mark.parametrize(
    ("age", "text"),
    [
        (datetime.timedelta(seconds=30), "刚刚"),
        (datetime.timedelta(minutes=5, seconds=10), "5 分钟前"),
        (datetime.timedelta(hours=3, minutes=20), "3 小时前"),
    ],
)
def test_reports_show_how_recent_they_are(anonymous, rest_stop, age, text):
    StatusReport.objects.create(
        station=rest_stop, kind="open", device="d", address="a", created_at=timezone.now() - age
    )
    page = anonymous.get(f"/stations/{rest_stop.pk}/").content.decode()
    assert f'<li class="good">还开着 · {text}</li>' in page


def test_cleared_and_old_reports_are_not_shown(anonymous, rest_stop):
    StatusReport.objects.create(
        station=rest_stop,
        kind="closed",
        device="d",
        address="a",
        created_at=timezone.now() - datetime.timedelta(hours=25),
    )
    StatusReport.objects.create(
        station=rest_stop, kind="charger_broken", device="d", address="a", cleared_at=timezone.now()
    )
    page = anonymous.get(f"/stations/{rest_stop.pk}/").content.decode()
    assert "关门了 ·" not in page and "充电坏了 ·" not in page
    assert "最近 24 小时没有反馈" in page


def test_a_second_report_of_the_same_kind_within_ten_minutes_counts_once(anonymous, rest_stop):
    assert report(anonymous, rest_stop, "no_water").status_code == 302
    assert "fx_device" in anonymous.cookies
    again = report(anonymous, rest_stop, "no_water", follow=True)
    assert "你刚刚已报告过“没水了”，10 分钟内不用再报。" in again.content.decode()
    assert list(StatusReport.objects.values_list("kind", flat=True)) == ["no_water"]


def phone_seen_before() -> Client:
    """Another phone, with the device cookie the site gave it on an earlier visit."""
    client = Client()
    client.cookies[DEVICE_COOKIE] = sign_device(os.urandom(16).hex())
    return client


def test_another_device_can_still_report_the_same_station(anonymous, rest_stop):
    report(anonymous, rest_stop, "no_water")
    assert report(phone_seen_before(), rest_stop, "open").status_code == 302
    assert sorted(StatusReport.objects.values_list("kind", flat=True)) == ["no_water", "open"]


def test_a_browser_without_our_device_cookie_counts_as_its_address(anonymous, rest_stop):
    report(anonymous, rest_stop, "no_water")
    # Dropping the cookie, or making one up, from the same address: the same reporter.
    forged = Client()
    forged.cookies[DEVICE_COOKIE] = os.urandom(16).hex()
    for cookieless in (Client(), forged):
        again = report(cookieless, rest_stop, "no_water", follow=True)
        assert "你刚刚已报告过“没水了”" in again.content.decode()
    assert StatusReport.objects.count() == 1


def test_the_same_device_may_report_another_station(anonymous, rest_stop, nanqiao_town):
    other = station(nanqiao_town, "另一个站点")
    report(anonymous, rest_stop)
    assert report(anonymous, other).status_code == 302
    assert StatusReport.objects.count() == 2


def test_a_device_may_report_the_same_station_again_after_ten_minutes(anonymous, rest_stop):
    report(anonymous, rest_stop, "no_water")
    StatusReport.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=11))
    assert report(anonymous, rest_stop, "open").status_code == 302
    assert StatusReport.objects.count() == 2


def test_one_device_may_make_twelve_reports_an_hour(anonymous, nanqiao_town):
    targets = [station(nanqiao_town) for _ in range(13)]
    for target in targets[:12]:
        assert report(anonymous, target).status_code == 302
    refused = report(anonymous, targets[12])
    assert refused.status_code == 429
    assert "报告太频繁了" in refused.content.decode()
    assert StatusReport.objects.count() == 12


def test_an_invalid_kind_writes_nothing(anonymous, rest_stop):
    for kind in ("", "on_fire"):
        response = report(anonymous, rest_stop, kind, follow=True)
        assert response.redirect_chain == [(f"/stations/{rest_stop.pk}/", 302)]
        assert "请选择要报告的情况。" in response.content.decode()
    assert not StatusReport.objects.exists()


def test_reporting_by_get_is_not_allowed(anonymous, rest_stop):
    assert anonymous.get(f"/stations/{rest_stop.pk}/report/?kind=open").status_code == 405
    assert not StatusReport.objects.exists()


# --- poster scans -----------------------------------------------------------------------------


def test_a_scan_records_one_visit_and_opens_the_station_page(anonymous, rest_stop):
    response = anonymous.get(f"/stations/{rest_stop.pk}/scan/", follow=True)
    assert response.redirect_chain == [(f"/stations/{rest_stop.pk}/", 302)]
    assert "欢迎来到南桥镇党群服务站，歇歇脚吧！" in response.content.decode()
    visit = StationVisit.objects.get()
    assert (visit.station, visit.courier) == (rest_stop, None)
    assert "fx_device" in anonymous.cookies


def test_a_second_scan_within_an_hour_by_the_same_device_is_not_counted(anonymous, rest_stop):
    anonymous.get(f"/stations/{rest_stop.pk}/scan/")
    again = anonymous.get(f"/stations/{rest_stop.pk}/scan/")
    assert again.status_code == 302
    StationVisit.objects.update(visited_at=timezone.now() - datetime.timedelta(minutes=59))
    anonymous.get(f"/stations/{rest_stop.pk}/scan/")
    assert StationVisit.objects.count() == 1


def test_a_scan_after_an_hour_or_by_another_device_counts(anonymous, rest_stop):
    anonymous.get(f"/stations/{rest_stop.pk}/scan/")
    phone_seen_before().get(f"/stations/{rest_stop.pk}/scan/")
    assert StationVisit.objects.count() == 2
    StationVisit.objects.update(visited_at=timezone.now() - datetime.timedelta(minutes=61))
    anonymous.get(f"/stations/{rest_stop.pk}/scan/")
    assert StationVisit.objects.count() == 3


def test_scans_without_our_device_cookie_count_once_an_hour_per_address(rest_stop):
    # A new made-up cookie, or none, with every scan: one visit from that address.
    for n in range(10):
        client = Client()
        if n % 2:
            client.cookies[DEVICE_COOKIE] = os.urandom(16).hex()
        assert client.get(f"/stations/{rest_stop.pk}/scan/").status_code == 302
    assert StationVisit.objects.count() == 1
    # Another network, or another station, is another visit.
    Client(REMOTE_ADDR="10.1.1.1").get(f"/stations/{rest_stop.pk}/scan/")
    Client().get(f"/stations/{station(rest_stop.town, '另一个站点').pk}/scan/")
    assert StationVisit.objects.count() == 3


def test_cookies_collected_from_the_site_cannot_inflate_a_stations_visits(rest_stop):
    from stations.visits import VISITS_PER_ADDRESS_PER_HOUR

    url = f"/stations/{rest_stop.pk}/scan/"
    for _ in range(VISITS_PER_ADDRESS_PER_HOUR + 10):
        collector = Client()
        collector.get(url)  # a fresh, properly signed device cookie
        collector.get(url)
    assert StationVisit.objects.count() == VISITS_PER_ADDRESS_PER_HOUR
    # Couriers elsewhere still count.
    Client(REMOTE_ADDR="10.1.1.2").get(url)
    assert StationVisit.objects.count() == VISITS_PER_ADDRESS_PER_HOUR + 1


# --- the poster -------------------------------------------------------------------------------


def test_poster_has_an_inline_svg_qr_code_and_the_absolute_scan_url(anonymous, rest_stop):
    response = anonymous.get(f"/stations/{rest_stop.pk}/poster/")
    assert response.status_code == 200
    page = response.content.decode()
    assert re.search(r'<div class="qr"><svg[^>]*>.*</svg></div>', page, re.S)
    assert f"http://testserver/stations/{rest_stop.pk}/scan/" in page
    assert "<h2>南桥镇党群服务站</h2>" in page


# --- the map ----------------------------------------------------------------------------------


def _markers(response) -> list[dict]:
    """The map page's markers, fetched from its JSON source and read back into dicts."""
    found = re.search(r'data-markers="([^"]+)"', response.content.decode())
    assert found
    data = json.loads(Client().get(html.unescape(found.group(1))).content)
    return [
        {
            "name": name,
            "lat": lat,
            "lng": lng,
            "open": bool(is_open),
            "status": data["statuses"][status],
            "url": data["url"].replace("/0/", f"/{pk}/"),
        }
        for pk, lat, lng, is_open, name, status in data["rows"]
    ]


def test_map_page_has_markers_and_leaflet(anonymous, nanqiao_town, settings):
    settings.MAP_TILE_COORDINATES = "wgs84"  # markers as stored (see the gcj02 test below)
    day = station(nanqiao_town, "全天站点", open_24_hours=True, latitude=30.93, longitude=121.48)
    closed_now(nanqiao_town, "今天不开的站点")
    station(nanqiao_town, "停用站点", is_active=False)
    response = anonymous.get(MAP)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="station-map"' in page
    assert "/static/leaflet/leaflet.js" in page and "/static/leaflet/leaflet.css" in page
    markers = {m["name"]: m for m in _markers(response)}
    assert set(markers) == {"全天站点", "今天不开的站点"}
    assert markers["全天站点"] == {
        "name": "全天站点",
        "lat": 30.93,
        "lng": 121.48,
        "open": True,
        "status": "24小时开放",
        "url": f"/stations/{day.pk}/",
    }
    assert markers["今天不开的站点"]["open"] is False


def test_map_markers_follow_the_filters(anonymous, nanqiao_town):
    station(nanqiao_town, "有水的站点", services=("饮水",))
    station(nanqiao_town, "没水的站点")
    markers = _markers(anonymous.get(MAP, {"service": service("饮水").pk}))
    assert [m["name"] for m in markers] == ["有水的站点"]


def test_map_without_tiles_has_no_map_but_still_lists_stations(anonymous, nanqiao_town, settings):
    settings.MAP_TILE_URL = ""
    station(nanqiao_town, "全天站点", open_24_hours=True)
    response = anonymous.get(MAP)
    assert response.status_code == 200
    assert 'id="station-map"' not in response.content.decode()
    assert listed(response) == ["全天站点"]
