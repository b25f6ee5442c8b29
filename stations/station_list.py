"""The station list sheet (骑乐融融站点名单), through the survey-import machinery: the same error
reports, all or nothing, town scoping. Stations are matched by (town, name)."""

from __future__ import annotations

import dataclasses
import datetime
import re

from couriers.imports import cell_values
from couriers.imports.sheet_import import Column, ImportReport, Record, SheetImporter
from couriers.references import References
from couriers.scoping import ALL_TOWNS
from stations import geo
from stations.hours import WEEKDAYS
from stations.models import OpeningHours, Service, Station

HOST_WORDS = {str(label): value for value, label in Station.HostType.choices} | {
    "党群服务站": Station.HostType.PARTY_SERVICE,
    "党群服务中心": Station.HostType.PARTY_SERVICE,
    "新时代文明实践站": Station.HostType.CIVILIZATION,
    "文明实践站": Station.HostType.CIVILIZATION,
    "爱心接力站": Station.HostType.RELAY,
    "户外职工爱心接力站": Station.HostType.RELAY,
}
_DAY_CHARS = "一二三四五六日天七"
_DAY_INDEX = {c: i for i, c in enumerate("一二三四五六日")} | {"天": 6, "七": 6}
_RANGE = re.compile(r"(\d{1,2})[:：](\d{2})\s*[-–—~～至到]\s*(次日)?\s*(\d{1,2})[:：](\d{2})")
_DAYS = re.compile(
    rf"(?:周|星期)([{_DAY_CHARS}])(?:\s*[至到\-–~～]\s*(?:周|星期)?([{_DAY_CHARS}]))?"
)


# Groups ("周一至周五 …；周六 …") are separated by semicolons, line breaks, or a comma
# that comes before the next group's days.
_GROUP_SPLIT = re.compile(r"[；;\n]|[，,]\s*(?=周|星期|每天|每日|天天|工作日|周末)")
_ALL_DAY = re.compile(
    r"(全天|24\s*小时|24h|二十四小时)(开放|营业)?|(每天|每日)?\s*0?0:00\s*[-–—~～至到]\s*24:00",
    re.IGNORECASE,
)


def parse_hours(value: object) -> tuple[bool, list[tuple[int, datetime.time, datetime.time]]]:
    """ "24小时", "每天 08:00-20:00", "周一至周五 8:00-12:00、14:00-20:00；周六 9:00-17:00",
    "工作日 …，周末 …" (groups may also sit on separate lines of the cell).

    Returns (open 24 hours, ranges). Days not named are closed. Raises ValueError.
    """
    raw = ("" if value is None else str(value)).replace("：", ":").replace("\u3000", " ")
    if not raw.strip():
        return False, []
    if _ALL_DAY.fullmatch(raw.strip()):
        return True, []
    ranges = []
    for group in _GROUP_SPLIT.split(raw):
        part = " ".join(group.split())
        if not part:
            continue
        first_time = _RANGE.search(part)
        if first_time is None:
            raise ValueError(
                f"看不懂开放时间“{part}”（可写：周一至周五 08:00-20:00；周六 09:00-17:00）"
            )
        days = _days(part[: first_time.start()].strip(), part)
        for h1, m1, _next, h2, m2 in _RANGE.findall(part):
            opens, closes = _time(h1, m1, part), _time(h2, m2, part, closing=True)
            if opens == closes:
                raise ValueError(f"开门和关门时间相同：“{part}”（全天开放请写“24小时”）")
            ranges += [(day, opens, closes) for day in days]
    return False, ranges


def _time(hour: str, minute: str, part: str, closing: bool = False) -> datetime.time:
    h, m = int(hour), int(minute)
    if closing and h == 24 and m == 0:
        return datetime.time(0, 0)  # 24:00 is midnight at the end of the day
    if h > 23 or m > 59:
        raise ValueError(f"时间不存在：“{part}”")
    return datetime.time(h, m)


def _days(spec: str, part: str) -> list[int]:
    """The weekdays a group's day words name; no words means every day."""
    if not spec or spec.startswith(("每天", "每日", "天天")):
        return list(range(7))
    if spec.startswith("工作日"):
        return list(range(5))
    if spec.startswith(("周末", "双休日")):
        return [5, 6]
    found = _DAYS.findall(spec)
    if not found:
        raise ValueError(f"看不懂“{part}”中的日期（可写：每天、工作日、周末、周一至周五、周六）")
    days: list[int] = []
    for first, last in found:
        start = _DAY_INDEX[first]
        end = _DAY_INDEX[last] if last else start
        days += list(range(start, end + 1)) if end >= start else [*range(start, 7), *range(end + 1)]
    return sorted(set(days))


def _host_type(value: object) -> str:
    word = cell_values.text(value)
    if not word:
        return ""
    if word not in HOST_WORDS:
        raise ValueError("承载阵地应为：" + "、".join(map(str, Station.HostType.labels)))
    return HOST_WORDS[word]


def coordinates_cell(value: object):
    """A "lat,lng" cell (either order) → (lat, lng), or None when blank."""
    text = cell_values.text(value)
    return geo.parse_coordinates(text) if text else None


def _float(value: object):
    text = cell_values.text(value)
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError("应为数字") from None


COLUMNS = [
    Column(
        "name",
        "站点名称",
        aliases=("站点", "名称", "驿站名称"),
        required=True,
        help="必填；同一街镇内按名称识别同一站点。",
    ),
    Column(
        "host_type",
        "承载阵地",
        _host_type,
        aliases=("站点类型", "类型"),
        help="、".join(map(str, Station.HostType.labels)) + "；留空为党群服务站点。",
    ),
    Column("town", "街镇", aliases=("所在街镇",), required=True, help="必填，如 南桥镇 或 南桥。"),
    Column("community", "村居委", aliases=("所在村居委",), help="须是该街镇已登记的村居委。"),
    Column("address", "地址", aliases=("详细地址",), required=True, help="必填。"),
    Column(
        "coordinates",
        "坐标",
        coordinates_cell,
        aliases=("经纬度",),
        help="“纬度,经度”（WGS-84），如 30.918,121.474；或分别填写“纬度”“经度”两列。",
    ),
    Column("latitude", "纬度", _float, takes_cell=True),
    Column("longitude", "经度", _float, takes_cell=True),
    Column("phone", "联系电话", aliases=("电话",)),
    Column(
        "hours",
        "开放时间",
        parse_hours,
        takes_cell=True,  # keeps the cell's line breaks, which separate groups
        aliases=("开放时段", "营业时间"),
        help="如 24小时；每天 08:00-20:00；周一至周五 08:00-12:00、14:00-20:00；周六 09:00-17:00。"
        "跨过午夜写作 18:00-02:00。未写到的日子为休息。",
    ),
    Column(
        "services",
        "服务项目",
        aliases=("服务", "提供服务"),
        help="用顿号或逗号分隔，如 饮水、充电、卫生间；须是系统中的服务项目。",
    ),
    Column(
        "is_demonstration",
        "示范站点",
        cell_values.yes_no,
        aliases=("是否示范站点", "示范"),
        help="是 / 否，留空为否。",
    ),
]


@dataclasses.dataclass
class StationPlan:
    new: list[tuple[Station, list, list]] = dataclasses.field(default_factory=list)
    updated: list[tuple[Station, list, list]] = dataclasses.field(default_factory=list)


class StationListImporter(SheetImporter):
    columns = COLUMNS
    model = Station
    title = "奉贤区骑乐融融站点名单"
    sheet_name = "站点名单"

    def start(self, report: ImportReport) -> None:
        self.refs = References(ALL_TOWNS)
        self.services = {s.name: s for s in Service.objects.all()}
        self._seen: dict = {}
        self.stations = {
            (s.town_id, s.name): s for s in Station.objects.prefetch_related("services", "hours")
        }

    def new_plan(self, records: list[Record], report: ImportReport) -> StationPlan:
        return StationPlan()

    def plan_row(self, record: Record, report: ImportReport, plan: StationPlan) -> str | None:
        values = record.values
        town = self.town_of(record, "town", report, "只能导入本街镇的站点")
        community = self.community_of(record, "community", town, report)
        position = values.get("coordinates")
        if position is None and values.get("latitude") is not None:
            lat, lng = values["latitude"], values.get("longitude")
            if lng is None or not geo.in_fengxian(lat, lng):
                self.fail(record, "latitude", report, "坐标不在奉贤区范围内，请核对")
            else:
                position = (lat, lng)
        if position is None and not record.failed:
            self.fail(record, "coordinates", report, "请填写坐标（“坐标”列，或“纬度”“经度”两列）")
        services = []
        for name in re.split(r"[、，,;；/\s]+", values.get("services") or ""):
            if not name:
                continue
            if name not in self.services:
                self.fail(record, "services", report, f"没有“{name}”这个服务项目")
            else:
                services.append(self.services[name])
        if town is not None and values.get("name"):
            key = (town.pk, values["name"])
            if key in self._seen:
                self.fail(record, "name", report, f"与第 {self._seen[key]} 行的站点重复")
            self._seen[key] = record.row
        if record.failed or town is None:
            return None
        all_day, ranges = values.get("hours", (False, []))
        fields = {
            "host_type": values.get("host_type") or Station.HostType.PARTY_SERVICE,
            "town_id": town.pk,
            "community_id": community.pk if community else None,
            "address": values["address"],
            "latitude": round(position[0], 6),
            "longitude": round(position[1], 6),
            "phone": values.get("phone", ""),
            "open_24_hours": all_day,
            "is_demonstration": values.get("is_demonstration", False),
        }
        station = self.stations.get((town.pk, values["name"]))
        if not self.check_editable(record, station, report, "name"):
            return None
        if station is None:
            plan.new.append((Station(name=values["name"], **fields), services, ranges))
            return "new"
        changed = [k for k, v in fields.items() if getattr(station, k) != v]
        old_ranges = sorted((h.weekday, h.opens, h.closes) for h in station.hours.all())
        old_services = {s.pk for s in station.services.all()}
        if "services" not in self.file_headers:
            services = None
        if "hours" not in self.file_headers:
            ranges = None
        if (
            not changed
            and (ranges is None or sorted(ranges) == old_ranges)
            and (services is None or {s.pk for s in services} == old_services)
        ):
            return "unchanged"
        for key in changed:
            setattr(station, key, fields[key])
        plan.updated.append((station, services, ranges))
        return "updated"

    def write(self, plan: StationPlan) -> None:
        Station.objects.bulk_create([station for station, _, _ in plan.new])
        for station, _, _ in plan.updated:
            station.save()
        for station, services, ranges in plan.new + plan.updated:
            if services is not None:
                station.services.set(services)
            if ranges is not None:
                OpeningHours.objects.filter(station=station).delete()
                OpeningHours.objects.bulk_create(
                    OpeningHours(station=station, weekday=d, opens=o, closes=c)
                    for d, o, c in ranges
                )


__all__ = ["WEEKDAYS", "StationListImporter", "parse_hours"]
