"""The check-in points list sheet (小哥报到点名单), through the survey-import machinery.
Points are matched by (town, name)."""

from __future__ import annotations

import dataclasses

from couriers.imports import cell_values
from couriers.imports.sheet_import import Column, ImportReport, Record, SheetImporter
from couriers.privacy.masking import mask_phone
from couriers.references import References
from couriers.scoping import ALL_TOWNS
from stations.models import CheckinPoint
from stations.station_list import coordinates_cell

KIND_WORDS = {str(label): value for value, label in CheckinPoint.Kind.choices} | {
    "党群服务站": CheckinPoint.Kind.PARTY_SITE,
    "党群服务中心": CheckinPoint.Kind.PARTY_SITE,
    "居委会": CheckinPoint.Kind.COMMUNITY,
    "村委会": CheckinPoint.Kind.COMMUNITY,
}


def _kind(value: object) -> str:
    word = cell_values.text(value)
    if word and word not in KIND_WORDS:
        raise ValueError("类型应为：党群服务阵地、社区或其他")
    return KIND_WORDS.get(word, "")


def _target(value: object) -> int | None:
    text = cell_values.text(value)
    if not text:
        return None
    if not text.isdigit():
        raise ValueError("报到目标应为整数")
    return int(text)


COLUMNS = [
    Column(
        "name",
        "报到点名称",
        aliases=("报到点", "名称"),
        required=True,
        help="必填；同一街镇内按名称识别同一报到点。",
    ),
    Column("kind", "类型", _kind, help="党群服务阵地 / 社区 / 其他；留空为党群服务阵地。"),
    Column("town", "街镇", aliases=("所在街镇",), required=True, help="必填，如 南桥镇 或 南桥。"),
    Column("community", "村居委", aliases=("所在村居委",)),
    Column("address", "地址", required=True, help="必填。"),
    Column(
        "coordinates",
        "坐标",
        coordinates_cell,
        aliases=("经纬度",),
        help="选填，“纬度,经度”（WGS-84）。",
    ),
    Column("contact_name", "联系人"),
    Column("contact_phone", "联系电话", mask=mask_phone),
    Column("target", "报到目标", _target, aliases=("目标人数",), help="选填，默认 30。"),
]


@dataclasses.dataclass
class PointPlan:
    new: list[CheckinPoint] = dataclasses.field(default_factory=list)
    updated: list[CheckinPoint] = dataclasses.field(default_factory=list)


class PointListImporter(SheetImporter):
    columns = COLUMNS
    model = CheckinPoint
    title = "奉贤区小哥报到点名单"
    sheet_name = "报到点名单"

    def start(self, report: ImportReport) -> None:
        self.refs = References(ALL_TOWNS)
        self.points = {(p.town_id, p.name): p for p in CheckinPoint.objects.all()}
        self.seen: dict = {}

    def new_plan(self, records: list[Record], report: ImportReport) -> PointPlan:
        return PointPlan()

    def plan_row(self, record: Record, report: ImportReport, plan: PointPlan) -> str | None:
        values = record.values
        town = self.town_of(record, "town", report, "只能导入本街镇的报到点")
        community = self.community_of(record, "community", town, report)
        if town is not None and values.get("name"):
            key = (town.pk, values["name"])
            if key in self.seen:
                self.fail(record, "name", report, f"与第 {self.seen[key]} 行的报到点重复")
            self.seen[key] = record.row
        if record.failed or town is None:
            return None
        position = values.get("coordinates") or (None, None)
        fields = {
            "kind": values.get("kind") or CheckinPoint.Kind.PARTY_SITE,
            "town_id": town.pk,
            "community_id": community.pk if community else None,
            "address": values["address"],
            "latitude": position[0],
            "longitude": position[1],
            "contact_name": values.get("contact_name", ""),
            "contact_phone": values.get("contact_phone", ""),
        }
        if values.get("target") is not None:
            fields["target"] = values["target"]
        point = self.points.get((town.pk, values["name"]))
        if not self.check_editable(record, point, report, "name"):
            return None
        if point is None:
            plan.new.append(CheckinPoint(name=values["name"], **fields))
            return "new"
        changed = [k for k, v in fields.items() if getattr(point, k) != v]
        if not changed:
            return "unchanged"
        for key in changed:
            setattr(point, key, fields[key])
        plan.updated.append(point)
        return "updated"

    def write(self, plan: PointPlan) -> None:
        CheckinPoint.objects.bulk_create(plan.new)
        for point in plan.updated:
            point.save()
