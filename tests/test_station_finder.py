"""The station finder as couriers meet it (issue 16): reports per kind answered in place, the
finder's state kept in the back link and shown in the collapsed filters, 20 stations a page,
the map's markers as compact JSON in the coordinates of its tiles (天地图 or 高德)."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from stations import geo, tiles
from stations.models import Station, StatusReport
from tests.test_stations_public import (
    FINDER,
    MAP,
    _markers,
    listed,
    report,
    service,
    station,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def rest_stop(nanqiao_town) -> Station:
    return station(nanqiao_town, "南桥歇脚点", open_24_hours=True, services=("饮水",))


# --- issue 16: reports per kind, repeats answered in place, the finder's state kept ----------


def test_a_courier_may_correct_a_report_with_another_kind_at_once(anonymous, rest_stop):
    assert report(anonymous, rest_stop, "no_water").status_code == 302
    corrected = report(anonymous, rest_stop, "closed", follow=True)
    assert corrected.status_code == 200
    assert "谢谢！已报告“关门了”。" in corrected.content.decode()
    assert sorted(StatusReport.objects.values_list("kind", flat=True)) == ["closed", "no_water"]


def test_a_repeated_tap_is_answered_on_the_station_page_not_a_bare_error(anonymous, rest_stop):
    report(anonymous, rest_stop, "no_water")
    again = report(anonymous, rest_stop, "no_water", follow=True)
    assert again.redirect_chain == [(f"/stations/{rest_stop.pk}/", 302)]
    page = again.content.decode()
    assert "你刚刚已报告过“没水了”，10 分钟内不用再报。" in page
    assert 'id="reports"' in page  # the station page itself, with its report buttons
    assert StatusReport.objects.count() == 1


def test_a_flood_of_reports_is_refused_on_the_station_page_itself(anonymous, nanqiao_town):
    targets = [station(nanqiao_town) for _ in range(13)]
    for target in targets[:12]:
        report(anonymous, target)
    refused = report(anonymous, targets[12])
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "报告太频繁了" in page and 'id="reports"' in page and targets[12].name in page


def test_a_report_keeps_the_finders_filters_and_position_in_the_back_link(
    anonymous, rest_stop, nanqiao_town
):
    query = f"service={service('饮水').pk}&town={nanqiao_town.pk}&open=on&lat=30.9&lng=121.4"
    response = anonymous.post(
        f"/stations/{rest_stop.pk}/report/?{query}",
        {"kind": "open"},
        HTTP_ORIGIN="http://testserver",
        follow=True,
    )
    assert response.redirect_chain == [(f"/stations/{rest_stop.pk}/?{query}", 302)]
    page = html.unescape(response.content.decode())
    assert f'href="/stations/?{query}">‹ 全部站点' in page
    assert f'action="/stations/{rest_stop.pk}/report/?{query}"' in page


def test_the_back_link_keeps_only_the_finders_own_parameters(anonymous, rest_stop):
    page = anonymous.get(
        f"/stations/{rest_stop.pk}/", {"open": "on", "next": "https://evil.example/"}
    ).content.decode()
    assert 'href="/stations/?open=on">‹ 全部站点' in page


def test_a_station_opened_from_the_map_links_back_to_the_map(anonymous, rest_stop):
    page = anonymous.get(f"/stations/{rest_stop.pk}/", {"open": "on", "view": "map"})
    assert 'href="/stations/map/?open=on">‹ 站点地图' in page.content.decode()


def test_the_collapsed_filters_say_which_ones_are_on(anonymous, rest_stop, nanqiao_town):
    page = anonymous.get(
        FINDER,
        {
            "service": service("饮水").pk,
            "town": nanqiao_town.pk,
            "open": "on",
            "lat": 30.9,
            "lng": 121.4,
        },
    ).content.decode()
    summary = re.search(r"<summary>(.*?)</summary>", page, re.S).group(1)
    assert "已选" in summary and "饮水" in summary and nanqiao_town.name in summary
    assert "现在开放" in summary


# --- issue 16: the finder shows 20 at a time; the map loads its markers as compact JSON -------


def _many(town, count: int, **fields) -> list[Station]:
    created = Station.objects.bulk_create(
        Station(
            town=town,
            name=f"批量站点{n:03d}",
            address=f"批量路 {n} 号",
            latitude=30.90 + n / 10_000,
            longitude=121.47,
            open_24_hours=True,
            **fields,
        )
        for n in range(count)
    )
    return created


def test_the_finder_shows_the_nearest_twenty_and_a_link_to_more(anonymous, nanqiao_town):
    _many(nanqiao_town, 45)
    response = anonymous.get(FINDER, {"lat": 30.90, "lng": 121.47, "town": nanqiao_town.pk})
    names = listed(response)
    assert names == [f"批量站点{n:03d}" for n in range(20)]  # the nearest first
    page = html.unescape(response.content.decode())
    assert "共 45 个站点" in page
    more = re.search(r'<a class="button more" href="([^"]+)">查看更多</a>', page).group(1)
    assert parse_qs(urlsplit(more).query) == {
        "town": [str(nanqiao_town.pk)],
        "lat": ["30.9"],
        "lng": ["121.47"],
        "page": ["2"],
    }
    second = anonymous.get(FINDER + more)
    assert listed(second) == [f"批量站点{n:03d}" for n in range(20, 40)]
    last = anonymous.get(FINDER + more.replace("page=2", "page=3"))
    assert listed(last) == [f"批量站点{n:03d}" for n in range(40, 45)]
    assert "查看更多" not in last.content.decode()


def test_a_page_past_the_end_or_not_a_number_still_shows_stations(anonymous, nanqiao_town):
    _many(nanqiao_town, 25)
    for page in ("99", "x", "-1", "9" * 30):
        assert len(listed(anonymous.get(FINDER, {"page": page}))) in (20, 5)
    assert len(listed(anonymous.get(FINDER, {"page": "x"}))) == 20


def test_a_thousand_stations_make_a_small_finder_page(anonymous, nanqiao_town):
    _many(nanqiao_town, 1000)
    for url in (FINDER, MAP):
        response = anonymous.get(url)
        assert len(listed(response)) == 20
        assert len(response.content) < 60_000, url  # was 665 KB with 1,002 stations


def test_the_map_loads_every_matching_marker_as_compact_json(anonymous, nanqiao_town):
    _many(nanqiao_town, 1000)
    page = anonymous.get(MAP, {"town": nanqiao_town.pk}).content.decode()
    source = html.unescape(re.search(r'data-markers="([^"]+)"', page).group(1))
    assert source == f"/stations/map/markers.json?town={nanqiao_town.pk}"
    response = anonymous.get(source)
    assert response["Content-Type"] == "application/json"
    assert len(response.content) < 60_000  # about 50 bytes a station
    assert len(json.loads(response.content)["rows"]) == 1000


# --- issue 16: tile sources (天地图, 高德) and markers in the tiles' coordinates --------------


def test_without_a_key_the_map_uses_amap_tiles_in_gcj02():
    source = tiles.resolve()
    assert source.url.startswith("https://webrd01.is.autonavi.com/")
    assert (source.coordinates, source.attribution) == ("gcj02", "© 高德地图")


def test_with_a_key_the_map_uses_tianditu_with_its_labels_and_no_shift():
    source = tiles.resolve(key="browser-key")
    assert source.url.startswith("https://t0.tianditu.gov.cn/vec_w/wmts?")
    assert "tk=browser-key" in source.url and "TILEMATRIX={z}&TILEROW={y}&TILECOL={x}" in source.url
    assert source.labels_url.startswith("https://t0.tianditu.gov.cn/cva_w/wmts?")
    assert (source.coordinates, source.attribution) == ("wgs84", "© 天地图")


def test_tianditu_without_a_key_or_an_unknown_source_fails_loudly():
    with pytest.raises(ValueError, match="MAP_TILE_KEY"):
        tiles.resolve("tianditu")
    with pytest.raises(ValueError, match="tianditu, amap or osm"):
        tiles.resolve("google")


def test_an_explicit_tile_url_wins_and_an_empty_one_hides_the_map():
    assert tiles.resolve("amap", url="https://tiles.example/{z}/{x}/{y}.png").coordinates == "wgs84"
    assert tiles.resolve(url="").url == ""


def test_markers_on_gcj02_tiles_are_shifted_like_the_amap_route_links(
    anonymous, nanqiao_town, settings
):
    station(nanqiao_town, "全天站点", open_24_hours=True, latitude=30.93, longitude=121.48)
    settings.MAP_TILE_COORDINATES = "gcj02"
    shifted = _markers(anonymous.get(MAP))[0]
    lat, lng = geo.wgs84_to_gcj02(30.93, 121.48)
    assert (shifted["lat"], shifted["lng"]) == (round(lat, 5), round(lng, 5))
    settings.MAP_TILE_COORDINATES = "wgs84"
    plain = _markers(anonymous.get(MAP))[0]
    assert (plain["lat"], plain["lng"]) == (30.93, 121.48)


def _map_config(response) -> dict:
    found = re.search(
        r'<script id="map-config" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    return json.loads(found.group(1))


def test_the_map_shows_the_couriers_position_in_the_tiles_coordinates(
    anonymous, nanqiao_town, settings
):
    settings.MAP_TILE_COORDINATES = "gcj02"
    config = _map_config(anonymous.get(MAP, {"lat": 30.918, "lng": 121.474}))
    lat, lng = geo.wgs84_to_gcj02(30.918, 121.474)
    assert config["position"] == [round(lat, 6), round(lng, 6)]
    assert _map_config(anonymous.get(MAP))["position"] is None
