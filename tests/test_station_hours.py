"""Opening hours (is a station open at a moment, and until when), the weekly table, and the
geography behind the finder: distances, coordinate pasting and the Chinese maps' coordinates.

Hours are checked with explicit moments in Asia/Shanghai, not the clock; only the labels that
name "today" / "tomorrow" are built from the real date, as the label itself reads it.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest

from stations import geo, hours
from stations.hours import Status, status_at
from stations.models import OpeningHours, Station

SHANGHAI = ZoneInfo("Asia/Shanghai")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
# A week whose Monday is 2 June 2025.
MONDAY = datetime.date(2025, 6, 2)


def t(text: str) -> datetime.time:
    return datetime.time.fromisoformat(text)


def at(weekday: int, clock: str, weeks: int = 0) -> datetime.datetime:
    """An aware moment in the test week (or `weeks` later), e.g. at(TUE, "01:00")."""
    day = MONDAY + datetime.timedelta(days=weekday + 7 * weeks)
    return datetime.datetime.combine(day, t(clock), SHANGHAI)


def rng(weekday: int, opens: str, closes: str) -> tuple[int, datetime.time, datetime.time]:
    return (weekday, t(opens), t(closes))


def _station(town, name: str, **fields) -> Station:
    fields = {"address": "南桥路 1 号", "latitude": 30.918, "longitude": 121.474, **fields}
    return Station.objects.create(name=name, town=town, **fields)


def test_the_test_week_starts_on_a_monday():
    assert MONDAY.weekday() == MON


# --- inside and outside one range -------------------------------------------------------------

DAYTIME = [rng(MON, "08:00", "20:00")]


def test_open_inside_a_range_until_its_closing_time():
    assert status_at(DAYTIME, at(MON, "10:00")) == Status(True, at(MON, "20:00"))


def test_closed_before_a_range_until_it_opens():
    assert status_at(DAYTIME, at(MON, "07:59")) == Status(False, at(MON, "08:00"))


def test_opening_time_is_open_and_closing_time_is_closed():
    assert status_at(DAYTIME, at(MON, "08:00")).is_open
    assert not status_at(DAYTIME, at(MON, "20:00")).is_open


def test_closed_after_the_last_range_of_the_week_until_the_same_day_next_week():
    assert status_at(DAYTIME, at(MON, "21:00")) == Status(False, at(MON, "08:00", weeks=1))


@pytest.mark.django_db
def test_station_status_reads_a_utc_moment_in_shanghai_time(nanqiao_town):
    station = _station(nanqiao_town, "南桥日间驿站")
    OpeningHours.objects.create(station=station, weekday=MON, opens=t("08:00"), closes=t("20:00"))
    utc_moment = at(MON, "10:00").astimezone(datetime.UTC)  # 02:00 UTC
    assert station.status(utc_moment) == Status(True, at(MON, "20:00"))
    assert not station.status(at(MON, "21:00").astimezone(datetime.UTC)).is_open


# --- several ranges a day ---------------------------------------------------------------------

SPLIT_DAY = [rng(MON, "08:00", "12:00"), rng(MON, "14:00", "20:00")]


def test_open_in_the_morning_range_until_noon_not_until_evening():
    assert status_at(SPLIT_DAY, at(MON, "11:00")) == Status(True, at(MON, "12:00"))


def test_closed_over_lunch_until_the_afternoon_range():
    assert status_at(SPLIT_DAY, at(MON, "13:00")) == Status(False, at(MON, "14:00"))


def test_open_in_the_afternoon_range_until_evening():
    assert status_at(SPLIT_DAY, at(MON, "15:30")) == Status(True, at(MON, "20:00"))


def test_ranges_given_in_any_order_give_the_same_answer():
    assert status_at(list(reversed(SPLIT_DAY)), at(MON, "13:00")) == Status(False, at(MON, "14:00"))


# --- past midnight ----------------------------------------------------------------------------

NIGHT = [rng(MON, "18:00", "02:00")]


def test_a_night_range_is_open_before_midnight_until_two_the_next_morning():
    assert status_at(NIGHT, at(MON, "23:00")) == Status(True, at(TUE, "02:00"))


def test_a_night_range_is_still_open_after_midnight():
    assert status_at(NIGHT, at(TUE, "01:00")) == Status(True, at(TUE, "02:00"))


def test_a_night_range_is_closed_after_it_ends_the_next_morning():
    assert status_at(NIGHT, at(TUE, "03:00")) == Status(False, at(MON, "18:00", weeks=1))


def test_sunday_night_range_reaches_into_monday_morning():
    sunday_night = [rng(SUN, "22:00", "02:00")]
    assert status_at(sunday_night, at(MON, "01:00")) == Status(True, at(MON, "02:00"))
    assert status_at(sunday_night, at(MON, "02:30")) == Status(False, at(SUN, "22:00"))


def test_a_range_closing_at_midnight_closes_at_the_start_of_the_next_day():
    evening = [rng(MON, "20:00", "00:00")]
    assert status_at(evening, at(MON, "23:59")) == Status(True, at(TUE, "00:00"))
    assert not status_at(evening, at(TUE, "00:00")).is_open


# --- closed days ------------------------------------------------------------------------------


def test_a_day_without_ranges_is_closed_until_the_next_opening_days_later():
    midweek = [rng(WED, "09:00", "17:00")]
    assert status_at(midweek, at(SAT, "10:00")) == Status(False, at(WED, "09:00", weeks=1))


def test_the_next_opening_skips_closed_days_to_the_nearest_open_one():
    weekdays_only = [rng(day, "08:00", "18:00") for day in (MON, TUE, WED, THU, FRI)]
    assert status_at(weekdays_only, at(FRI, "19:00")) == Status(False, at(MON, "08:00", weeks=1))
    assert status_at(weekdays_only, at(SUN, "12:00")) == Status(False, at(MON, "08:00", weeks=1))


def test_a_station_with_no_hours_at_all_is_closed_with_no_next_opening():
    assert status_at([], at(MON, "10:00")) == Status(False, None)


# --- 24 hours ---------------------------------------------------------------------------------


def test_a_24_hour_station_is_open_whatever_its_ranges_and_the_time():
    for moment in (at(MON, "03:00"), at(SUN, "23:59")):
        assert status_at([], moment, all_day=True) == Status(True, None, all_day=True)
    assert status_at(DAYTIME, at(MON, "22:00"), all_day=True).is_open


# --- back-to-back ranges ----------------------------------------------------------------------


def test_back_to_back_ranges_read_as_one_for_the_closing_time():
    ranges = [rng(MON, "08:00", "12:00"), rng(MON, "12:00", "20:00")]
    assert status_at(ranges, at(MON, "10:00")) == Status(True, at(MON, "20:00"))


def test_a_chain_of_back_to_back_ranges_closes_at_the_end_of_the_chain():
    ranges = [rng(MON, "16:00", "20:00"), rng(MON, "08:00", "12:00"), rng(MON, "12:00", "16:00")]
    assert status_at(ranges, at(MON, "09:00")) == Status(True, at(MON, "20:00"))


def test_overlapping_ranges_close_at_the_later_end():
    ranges = [rng(MON, "08:00", "14:00"), rng(MON, "12:00", "20:00")]
    assert status_at(ranges, at(MON, "09:00")) == Status(True, at(MON, "20:00"))


def test_back_to_back_across_midnight_closes_the_next_morning():
    ranges = [rng(MON, "18:00", "00:00"), rng(TUE, "00:00", "06:00")]
    assert status_at(ranges, at(MON, "23:00")) == Status(True, at(TUE, "06:00"))


def test_ranges_with_a_gap_are_not_merged():
    ranges = [rng(MON, "08:00", "12:00"), rng(MON, "12:01", "20:00")]
    assert status_at(ranges, at(MON, "10:00")) == Status(True, at(MON, "12:00"))


# --- labels -----------------------------------------------------------------------------------


def _real_today_at(clock: str, days: int = 0) -> datetime.datetime:
    """A moment on the real calendar: the label names days relative to the real today."""
    today = datetime.datetime.now(SHANGHAI).date() + datetime.timedelta(days=days)
    return datetime.datetime.combine(today, t(clock), SHANGHAI)


def test_label_of_a_24_hour_station():
    assert Status(True, None, all_day=True).label == "24小时开放"


def test_label_of_an_open_station_names_its_closing_time():
    assert Status(True, _real_today_at("20:00")).label == "营业中 · 20:00 关门"
    assert Status(True, _real_today_at("02:00", days=1)).label == "营业中 · 02:00 关门"


def test_label_of_an_open_station_without_a_closing_time():
    assert Status(True, None).label == "营业中"


def test_label_of_a_station_opening_later_today():
    assert Status(False, _real_today_at("14:00")).label == "已关门 · 14:00 开门"


def test_label_of_a_station_opening_tomorrow():
    assert Status(False, _real_today_at("08:00", days=1)).label == "已关门 · 明天 08:00 开门"


def test_label_of_a_station_opening_in_a_few_days_names_the_weekday():
    opens = _real_today_at("09:30", days=3)
    expected = f"已关门 · {hours.WEEKDAYS[opens.weekday()]} 09:30 开门"
    assert Status(False, opens).label == expected


def test_label_of_a_station_that_never_opens():
    assert Status(False, None).label == "已关门"


# --- the weekly table -------------------------------------------------------------------------


@pytest.mark.django_db
def test_week_lists_every_day_with_past_midnight_ranges_marked_next_day(nanqiao_town):
    station = _station(nanqiao_town, "南桥夜间驿站")
    OpeningHours.objects.bulk_create(
        OpeningHours(station=station, weekday=day, opens=t(opens), closes=t(closes))
        for day, opens, closes in [
            (TUE, "14:00", "20:00"),
            (MON, "18:00", "02:00"),
            (TUE, "08:00", "12:00"),
            (SUN, "20:00", "00:00"),
        ]
    )
    assert station.week() == [
        ("周一", "18:00–次日02:00"),
        ("周二", "08:00–12:00、14:00–20:00"),
        ("周三", "休息"),
        ("周四", "休息"),
        ("周五", "休息"),
        ("周六", "休息"),
        ("周日", "20:00–次日00:00"),
    ]


@pytest.mark.django_db
def test_week_of_a_24_hour_station_says_24_hours_every_day(nanqiao_town):
    station = _station(nanqiao_town, "南桥全天驿站", open_24_hours=True)
    assert station.week() == [(day, "24小时") for day in hours.WEEKDAYS]


# --- distances --------------------------------------------------------------------------------


def test_one_degree_of_latitude_is_about_111_km():
    assert geo.distance_m(30.0, 121.474, 31.0, 121.474) == pytest.approx(111_200, rel=0.005)


def test_distance_is_symmetric_and_zero_to_itself():
    a, b = (30.918, 121.474), (30.930, 121.520)
    assert geo.distance_m(*a, *b) == pytest.approx(geo.distance_m(*b, *a))
    assert geo.distance_m(*a, *a) == 0


def test_a_short_hop_east_matches_the_flat_earth_estimate():
    # 0.01° of longitude at latitude 30.918: 111.19 km × cos(30.918°) / 100 ≈ 954 m.
    assert geo.distance_m(30.918, 121.474, 30.918, 121.484) == pytest.approx(954, abs=2)


@pytest.mark.parametrize(
    ("metres", "text"),
    [
        (0, "0 米"),
        (849, "850 米"),
        (850, "850 米"),
        (994, "990 米"),
        (996, "1.0 公里"),  # not "1000 米"
        (1234, "1.2 公里"),
        (9_940, "9.9 公里"),
        (12_345, "12 公里"),
        (10_000, "10 公里"),
    ],
)
def test_format_distance(metres, text):
    assert geo.format_distance(metres) == text


def test_format_distance_just_under_ten_km_reads_like_ten_km():
    assert geo.format_distance(9_960) == "10 公里"


# --- pasted coordinates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "30.918,121.474",
        "121.474,30.918",  # Amap's picker: longitude first
        "30.918，121.474",  # full-width comma
        " 30.918, 121.474 ",
        "30.918 121.474",
    ],
)
def test_parse_coordinates_reads_latitude_and_longitude_in_either_order(text):
    assert geo.parse_coordinates(text) == (30.918, 121.474)


def test_parse_coordinates_refuses_a_place_outside_fengxian_in_chinese():
    with pytest.raises(ValueError, match="不在奉贤区范围内"):
        geo.parse_coordinates("39.9042,116.4074")  # Beijing


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "请填写“纬度,经度”"),
        ("南桥镇", "请填写“纬度,经度”"),
        ("30.918,121.474,5", "请填写“纬度,经度”"),
        ("北纬,东经", "坐标应为两个数字"),
        ("30.918,abc", "坐标应为两个数字"),
    ],
)
def test_parse_coordinates_refuses_garbage_in_chinese(text, message):
    with pytest.raises(ValueError, match=message):
        geo.parse_coordinates(text)


def test_in_fengxian():
    assert geo.in_fengxian(30.918, 121.474)
    assert not geo.in_fengxian(31.2304, 121.4737)  # People's Square, central Shanghai
    assert not geo.in_fengxian(121.474, 30.918)


# --- the Chinese maps' coordinate systems -----------------------------------------------------


@pytest.mark.parametrize(
    ("wgs", "gcj"),
    [
        # The published test vectors of the reference implementation (eviltransform).
        ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),  # Shanghai
        ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),  # Shenzhen
        ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),  # Beijing
    ],
)
def test_wgs84_to_gcj02_matches_the_reference_implementation(wgs, gcj):
    assert geo.wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-9)


def test_wgs84_to_gcj02_moves_a_shanghai_point_a_few_hundred_metres():
    lat, lng = 31.2304, 121.4737  # People's Square
    gcj = geo.wgs84_to_gcj02(lat, lng)
    assert 100 < geo.distance_m(lat, lng, *gcj) < 1000  # about 481 m
    # South and east, as every Shanghai map shows it: about (31.2285, 121.4781).
    assert geo.distance_m(*gcj, 31.2285, 121.4781) < 20
    assert gcj[0] < lat and gcj[1] > lng


def test_wgs84_to_gcj02_offset_in_fengxian_is_a_few_hundred_metres():
    gcj = geo.wgs84_to_gcj02(30.918, 121.474)
    assert 100 < geo.distance_m(30.918, 121.474, *gcj) < 1000


def test_gcj02_to_bd09_adds_about_six_thousandths_of_a_degree():
    lat, lng = geo.wgs84_to_gcj02(30.918, 121.474)
    bd_lat, bd_lng = geo.gcj02_to_bd09(lat, lng)
    assert bd_lat - lat == pytest.approx(0.006, abs=0.001)
    assert bd_lng - lng == pytest.approx(0.0065, abs=0.001)


def test_gcj02_to_bd09_matches_a_published_value():
    # Tiananmen in GCJ-02 → BD-09, as the common Python converters (e.g. geocraft) give it.
    assert geo.gcj02_to_bd09(39.915, 116.404) == pytest.approx(
        (39.92133699351021, 116.41036949371029), abs=1e-9
    )
