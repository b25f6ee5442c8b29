"""End to end in a real browser at phone width: a courier finds the nearest open station with a
charger, starts navigation, and reports on it; and the finder without a position."""

from __future__ import annotations

import datetime
import re
from urllib.parse import parse_qs, urljoin, urlparse

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from stations import geo
from stations.models import OpeningHours, Service, Station, StatusReport
from stations.services_seed import seed_services
from tests import factories
from tests.browser import PHONE, assert_fits_phone_width, screenshot

pytestmark = pytest.mark.browser

# Where the courier's phone says they are: central 南桥 (WGS-84, as phones report it).
HERE = {"latitude": 30.918, "longitude": 121.474}
# Roughly one metre in degrees at this latitude.
LAT_M = 1 / 111_200
LNG_M = 1 / 95_400

DENIED_NOTE = "无法获取位置（可能未允许定位），可以按街镇查找。"


def _station(town_name, name, north_m, east_m, services, *, open_24_hours=True, hours=()):
    station = Station.objects.create(
        town=factories.town(town_name),
        name=name,
        address=f"{town_name}测试路{len(name)}号",
        latitude=HERE["latitude"] + north_m * LAT_M,
        longitude=HERE["longitude"] + east_m * LNG_M,
        open_24_hours=open_24_hours,
    )
    station.services.set(Service.objects.filter(name__in=services))
    for weekday, opens, closes in hours:
        OpeningHours.objects.create(station=station, weekday=weekday, opens=opens, closes=closes)
    return station


def _stations() -> dict[str, Station]:
    """Five stations around HERE, nearest first."""
    seed_services(Service)
    # Open only on a day three days away: closed now, whatever the time (no span crosses
    # midnight, so neither yesterday's nor today's hours reach the present).
    other_day = (timezone.localtime().weekday() + 3) % 7
    return {
        "closed": _station(
            "南桥镇",
            "南桥关门充电站",
            200,
            0,
            ["充电", "饮水"],
            open_24_hours=False,
            hours=[(other_day, datetime.time(9), datetime.time(10))],
        ),
        "charger": _station("南桥镇", "南桥全天充电站", 500, 0, ["充电", "饮水", "歇脚休息"]),
        "no_charger": _station("南桥镇", "南桥饮水点", 0, 800, ["饮水"]),
        "far": _station("西渡街道", "西渡充电驿站", -2500, 0, ["充电"]),
        "farther": _station("奉浦街道", "奉浦爱心接力站", 0, 6000, ["充电", "卫生间"]),
    }


def _new_phone_context(browser, **extra):
    return browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        **extra,
    )


class ConsoleErrors:
    """Console errors and uncaught exceptions of a page, across its navigations.

    The map's tiles come from settings.MAP_TILE_URL, unreachable from the test machine (and
    aborted below so no test reaches the internet). Chromium logs each failed tile as a console
    error "Failed to load resource: …" whose location is the tile's URL: a network failure,
    not an error of our code, so exactly those messages are left out.
    """

    def __init__(self, page):
        self.console: list[str] = []
        self.page_errors: list[str] = []
        self.tile_failures = 0
        self.favicon_missing = False
        self.tile_host = urlparse(settings.MAP_TILE_URL).netloc
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def _on_console(self, message):
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        if urlparse(url).path == "/favicon.ico" and "404" in message.text:
            # The site has no icon (see test_the_site_has_an_icon); Chromium asks for one.
            self.favicon_missing = True
            return
        if (
            self.tile_host
            and message.text.startswith("Failed to load resource")
            and urlparse(url).netloc == self.tile_host
        ):
            self.tile_failures += 1
            return
        self.console.append(f"{message.text} ({url})")

    def assert_none(self):
        assert self.page_errors == [], self.page_errors
        assert self.console == [], self.console


def _block_tiles(page):
    host = urlparse(settings.MAP_TILE_URL).netloc
    if host:
        page.route(re.compile(rf"^https?://{re.escape(host)}/"), lambda route: route.abort())


def _checkbox(page, label: str):
    return page.locator("#finder-form label", has_text=label).locator("input[type=checkbox]")


def _card_names(page) -> list[str]:
    return page.locator("#station-list .station-card .station-name").all_inner_texts()


def test_nearest_open_station_with_a_charger(live_db, browser):
    stations = _stations()
    target = stations["charger"]
    context = _new_phone_context(browser, geolocation=HERE, permissions=["geolocation"])
    page = context.new_page()
    errors = ConsoleErrors(page)
    _block_tiles(page)
    try:
        page.goto(live_db.url + "/stations/")
        expect(page.locator(".count")).to_have_text("共 5 个站点")
        assert page.locator("#station-list .distance").count() == 0  # not located yet
        _checkbox(page, "充电").check()
        _checkbox(page, "只看现在开放的").check()
        near_me = page.get_by_role("button", name="📍 离我最近")
        expect(near_me).to_be_visible()
        with page.expect_navigation():
            near_me.click()

        query = parse_qs(urlparse(page.url).query)
        assert query["open"] == ["on"]
        assert float(query["lat"][0]) == pytest.approx(HERE["latitude"], abs=1e-6)
        assert float(query["lng"][0]) == pytest.approx(HERE["longitude"], abs=1e-6)
        expect(page.locator("#near-me-note")).to_have_text("已按离你的距离排序")
        # Sorted by distance, the filters fold away (still applied, still ticked).
        expect(page.locator("details.filters")).not_to_have_attribute("open", "")
        expect(_checkbox(page, "充电")).to_be_checked()
        expect(_checkbox(page, "只看现在开放的")).to_be_checked()
        expect(_checkbox(page, "饮水")).not_to_be_checked()

        # Open, with a charger, nearest first: not the closed one, not the one without.
        assert _card_names(page) == ["南桥全天充电站", "西渡充电驿站", "奉浦爱心接力站"]
        expect(page.locator(".count")).to_have_text("共 3 个站点")
        first = page.locator("#station-list .station-card").first
        expect(first.locator(".status")).to_have_text("24小时开放")
        distance = first.locator(".distance").inner_text()
        assert re.fullmatch(r"\d+(\.\d)? (米|公里)", distance), distance
        # near_me.js sends the position with 6 decimals.
        sent_lat, sent_lng = round(HERE["latitude"], 6), round(HERE["longitude"], 6)
        expected = geo.distance_m(sent_lat, sent_lng, target.latitude, target.longitude)
        assert distance == geo.format_distance(expected) == "500 米"
        distances = page.locator("#station-list .distance").all_inner_texts()
        assert distances[1:] == ["2.5 公里", "6.0 公里"]

        gcj_lat, gcj_lng = geo.wgs84_to_gcj02(target.latitude, target.longitude)
        # The GCJ-02 shift in Shanghai is hundreds of metres: a link in WGS-84 would be wrong.
        assert geo.distance_m(target.latitude, target.longitude, gcj_lat, gcj_lng) > 100
        route = first.get_by_role("link", name="🧭 导航")
        href = route.get_attribute("href")
        assert href.startswith("https://uri.amap.com/navigation?")
        assert f"to={gcj_lng:.6f},{gcj_lat:.6f}," in href
        assert "mode=ride" in href and "coordinate=gaode" in href

        assert_fits_phone_width(page)
        screenshot(page, "stations-finder-phone")
        finder_url = page.url

        # The station's page: navigation in each app's coordinates.
        first.get_by_role("link", name="南桥全天充电站").click()
        page.wait_for_url(f"**/stations/{target.pk}/**")
        expect(page.locator("h1")).to_have_text("南桥全天充电站")
        expect(page.locator("#station-status")).to_have_text("24小时开放")
        bd_lat, bd_lng = geo.gcj02_to_bd09(gcj_lat, gcj_lng)
        amap = page.locator("#nav-amap").get_attribute("href")
        baidu = page.locator("#nav-baidu").get_attribute("href")
        apple = page.locator("#nav-apple").get_attribute("href")
        assert amap == href
        assert baidu.startswith("https://api.map.baidu.com/direction?")
        assert f"destination=latlng:{bd_lat:.6f},{bd_lng:.6f}|" in baidu
        assert "coord_type=bd09ll" in baidu
        assert apple.startswith("https://maps.apple.com/?")
        assert f"daddr={gcj_lat:.6f},{gcj_lng:.6f}&" in apple
        expect(page.locator("#reports .hint")).to_have_text("最近 24 小时没有反馈。")

        # One tap: "out of water".
        with page.expect_navigation():
            page.locator("#reports").get_by_role("button", name="没水了").click()
        assert urlparse(page.url).path == f"/stations/{target.pk}/"
        expect(page.locator(".messages")).to_contain_text("谢谢！已报告“没水了”。")
        expect(page.locator("#reports .reports li")).to_have_count(1)
        expect(page.locator("#reports .reports li").first).to_contain_text("没水了")
        assert StatusReport.objects.get().kind == StatusReport.Kind.NO_WATER
        assert_fits_phone_width(page)
        screenshot(page, "station-detail-phone")

        # The map, with the same filters (the tab keeps the query); its tiles cannot load here.
        page.goto(finder_url)
        page.get_by_role("link", name="地图").click()
        page.wait_for_url("**/stations/map/?*")
        assert parse_qs(urlparse(page.url).query) == query
        assert _card_names(page) == ["南桥全天充电站", "西渡充电驿站", "奉浦爱心接力站"]
        expect(page.locator("#station-map.leaflet-container")).to_be_visible()
        # Three stations and the courier's own position.
        expect(page.locator("#station-map path.leaflet-interactive")).to_have_count(4)
        assert_fits_phone_width(page)
        screenshot(page, "stations-map-phone")
        errors.assert_none()
    finally:
        context.close()


def test_without_a_position_the_finder_still_filters_by_town(live_db, browser):
    _stations()
    context = _new_phone_context(browser)  # no geolocation permission
    page = context.new_page()
    errors = ConsoleErrors(page)
    try:
        page.goto(live_db.url + "/stations/")
        expect(page.locator(".count")).to_have_text("共 5 个站点")
        page.get_by_role("button", name="📍 离我最近").click()
        expect(page.locator("#near-me-note")).to_have_text(DENIED_NOTE)
        assert "lat=" not in page.url
        assert page.locator("#id_lat").input_value() == ""

        # The plain form (no JavaScript needed): choose a town and submit.
        page.locator("#id_town").select_option(label="南桥镇")
        with page.expect_navigation():
            page.get_by_role("button", name="查找", exact=True).click()
        query = parse_qs(urlparse(page.url).query)
        assert query["town"] == [str(factories.town("南桥镇").pk)]
        assert query.get("lat", [""]) == [""]
        names = _card_names(page)
        assert sorted(names) == sorted(["南桥关门充电站", "南桥全天充电站", "南桥饮水点"])
        expect(page.locator(".count")).to_have_text("共 3 个站点")
        assert page.locator("#station-list .distance").count() == 0
        expect(page.locator("#near-me-note")).to_have_text("")
        closed = page.locator(".station-card", has_text="南桥关门充电站")
        expect(closed.locator(".status.is-closed")).to_contain_text("已关门")
        assert_fits_phone_width(page)
        screenshot(page, "stations-finder-no-location-phone")
        errors.assert_none()
    finally:
        context.close()


def test_map_sorted_by_distance_says_so(live_db, phone_page):
    _stations()
    _block_tiles(phone_page)
    phone_page.goto(live_db.url + "/stations/map/?lat=30.918000&lng=121.474000")
    assert phone_page.locator("#station-list .distance").first.inner_text() == "200 米"
    assert phone_page.locator("#near-me-note").inner_text() == "已按离你的距离排序"
    assert phone_page.locator("details.filters").get_attribute("open") is None


def test_the_site_has_an_icon(live_db, phone_page):
    phone_page.goto(live_db.url + "/stations/")
    icon = phone_page.locator("link[rel~=icon]")
    href = icon.first.get_attribute("href") if icon.count() else "/favicon.ico"
    response = phone_page.request.get(urljoin(phone_page.url, href))
    assert response.ok, f"{href}: {response.status}"


# --- issue 16: the map as a courier meets it (tiles down, many stations, his position) -------

# A 1×1 PNG, served in place of every tile when the test wants tiles to load.
_TILE_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005ff02fea7d3a0a40000000049454e44ae426082"
)


def _crowded_town(count: int = 52) -> None:
    seed_services(Service)
    for n in range(count):
        _station("南桥镇", f"南桥站点{n:02d}", (n % 8) * 120, (n // 8) * 120, ["饮水"])


def _drawn_stations(page) -> tuple[int, int]:
    """(stations the map stands for, marks drawn): clusters count their members. Read in one
    snapshot of the page: the map redraws its groups as it settles, and two separate reads
    could straddle a redraw (a cluster counted before it split, its part after)."""
    clusters, singles = page.evaluate(
        """() => [
            [...document.querySelectorAll("#station-map .map-cluster")]
                .map((mark) => parseInt(mark.innerText, 10)),
            document.querySelectorAll("#station-map path.leaflet-interactive").length - 1,
        ]"""  # less the courier's own mark ("me")
    )
    return sum(clusters) + singles, len(clusters) + singles


def test_map_without_tiles_says_so_groups_markers_and_shows_the_courier(live_db, phone_page):
    _crowded_town()
    _block_tiles(phone_page)
    phone_page.goto(live_db.url + "/stations/map/?lat=30.918000&lng=121.474000")
    expect(phone_page.locator("#station-map[data-ready]")).to_have_count(1)
    expect(phone_page.locator("#map-failed")).to_have_text("地图加载失败，可查看下方列表")
    expect(phone_page.locator("#map-failed")).to_be_visible()
    # The attribution names the map's owner only: no "Leaflet", no flag.
    attribution = phone_page.locator(".leaflet-control-attribution")
    expect(attribution).to_have_text("© 高德地图")
    assert attribution.locator("svg, img").count() == 0
    stood_for, drawn = _drawn_stations(phone_page)
    assert stood_for == 52 and drawn < 20, (stood_for, drawn)
    # The courier's own position is on the map.
    phone_page.locator("#station-map path.leaflet-interactive").first.click(force=True)
    expect(phone_page.locator(".leaflet-popup-content")).to_have_count(1)
    assert_fits_phone_width(phone_page)
    screenshot(phone_page, "stations-map-tiles-down-phone")


def test_tapping_a_group_zooms_in_until_stations_stand_alone(live_db, phone_page):
    _crowded_town(12)
    host = urlparse(settings.MAP_TILE_URL).netloc
    phone_page.route(
        re.compile(rf"^https?://{re.escape(host)}/"),
        lambda route: route.fulfill(status=200, content_type="image/png", body=_TILE_PNG),
    )
    phone_page.goto(live_db.url + "/stations/map/")
    expect(phone_page.locator("#station-map[data-ready]")).to_have_count(1)
    phone_page.wait_for_timeout(500)
    expect(phone_page.locator("#map-failed")).to_be_hidden()  # tiles came
    for _ in range(6):
        clusters = phone_page.locator(".map-cluster")
        if not clusters.count():
            break
        clusters.first.click()
        phone_page.wait_for_timeout(600)
    assert phone_page.locator("#station-map path.leaflet-interactive").count() >= 2
    screenshot(phone_page, "stations-map-zoomed-phone")
