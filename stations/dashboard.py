"""The stations' dashboard section: 小哥报到 progress by point and by town, the campaign's
trend (cumulative check-ins by day), and the 骑乐融融 stations with their use in the last 30
days. Five aggregate queries however many check-ins there are."""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from couriers.figures import Cell, Scope, Section, Table, changelist
from stations.models import Campaign, CheckIn, CheckinPoint, Station, StationVisit

USAGE_DAYS = 30
TOP_STATIONS = 10


def section(scope: Scope) -> Section:
    user = scope.user
    campaign = Campaign.objects.current()
    campaign_id = campaign.pk if campaign else None
    points = list(
        CheckinPoint.objects.for_user(user)
        .filter(is_active=True)
        .annotate(n=Count("checkins", filter=Q(checkins__campaign_id=campaign_id)))
        .order_by("-n", "name")
        .values("pk", "name", "town_id", "target", "n")
    )
    checkins = changelist("stations.checkin", campaign__id__exact=campaign_id)
    town_done: dict[int, int] = defaultdict(int)
    town_target: dict[int, int] = defaultdict(int)
    for point in points:
        town_done[point["town_id"]] += point["n"]
        town_target[point["town_id"]] += point["target"]

    by_day = list(
        CheckIn.objects.for_user(user)
        .filter(campaign_id=campaign_id)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by("day")
    )
    running, trend_rows = 0, []
    for row in by_day:
        running += row["n"]
        day = row["day"]
        trend_rows.append(
            (
                f"{day:%m-%d}",
                [
                    Cell(running),
                    Cell(
                        row["n"],
                        changelist(
                            "stations.checkin",
                            campaign__id__exact=campaign_id,
                            created_at__date=day.isoformat(),
                        ),
                    ),
                ],
            )
        )

    stations = {
        row["town_id"]: row
        for row in Station.objects.for_user(user)
        .active()
        .values("town_id")
        .annotate(n=Count("pk"), demonstration=Count("pk", filter=Q(is_demonstration=True)))
    }
    # Whole local days, so the figure and the admin list behind it count the same visits.
    since_day = scope.today - datetime.timedelta(days=USAGE_DAYS - 1)
    recent_visits = StationVisit.objects.for_user(user).filter(visited_at__date__gte=since_day)
    usage = list(
        recent_visits.values("station_id", "station__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "station__name")[:TOP_STATIONS]
    )

    total = sum(town_done.values())
    target = sum(town_target.values())
    figures = [
        ("本季报到", Cell(total, checkins)),
        (
            "报到目标",
            Cell(target, changelist("stations.checkinpoint", is_active__exact="1"), False),
        ),
        ("报到点", Cell(len(points), changelist("stations.checkinpoint", is_active__exact="1"))),
        (
            "骑乐融融站点",
            Cell(
                sum(r["n"] for r in stations.values()),
                changelist("stations.station", is_active__exact="1"),
            ),
        ),
        (
            f"近{USAGE_DAYS}天站点到访",
            Cell(
                recent_visits.count(),
                changelist("stations.stationvisit", visited_at__date__gte=since_day.isoformat()),
            ),
        ),
    ]
    town_rows = []
    for town in scope.towns:
        done, goal = town_done.get(town.pk, 0), town_target.get(town.pk, 0)
        here = stations.get(town.pk, {"n": 0, "demonstration": 0})
        station_list = changelist("stations.station", is_active__exact="1", town__id__exact=town.pk)
        town_rows.append(
            (
                town.name,
                [
                    Cell(
                        done,
                        changelist(
                            "stations.checkin",
                            campaign__id__exact=campaign_id,
                            point__town__id__exact=town.pk,
                        ),
                    ),
                    Cell(goal),
                    Cell(f"{100 * done // goal}%" if goal else "—"),
                    Cell(here["n"], station_list),
                    Cell(
                        here["demonstration"],
                        changelist(
                            "stations.station",
                            is_active__exact="1",
                            is_demonstration__exact="1",
                            town__id__exact=town.pk,
                        ),
                    ),
                ],
            )
        )
    tables = [
        Table(
            key="checkin_towns",
            title="报到进度与站点（按街镇）",
            columns=["街镇", "本季报到", "目标", "完成", "骑乐融融站点", "示范站点"],
            rows=town_rows,
            chart="bar",
        ),
        Table(
            key="checkin_trend",
            title="报到累计（按日）",
            columns=["日期", "累计报到", "当天报到"],
            rows=trend_rows,
            chart="line",
            chart_url=checkins,
            note=campaign.name if campaign else "目前没有当前报到季。",
        ),
        Table(
            key="checkin_points",
            title="报到进度（按报到点）",
            columns=["报到点", "本季报到", "目标"],
            rows=[
                (
                    point["name"],
                    [
                        Cell(
                            point["n"],
                            changelist(
                                "stations.checkin",
                                campaign__id__exact=campaign_id,
                                point__id__exact=point["pk"],
                            ),
                        ),
                        Cell(point["target"]),
                    ],
                )
                for point in points
            ],
        ),
        Table(
            key="station_usage",
            title=f"到访最多的站点（近{USAGE_DAYS}天扫码）",
            columns=["站点", "到访"],
            rows=[
                (
                    row["station__name"],
                    [
                        Cell(
                            row["n"],
                            changelist(
                                "stations.stationvisit",
                                station__id__exact=row["station_id"],
                                visited_at__date__gte=since_day.isoformat(),
                            ),
                        )
                    ],
                )
                for row in usage
            ],
            chart="bar",
        ),
    ]
    return Section(key="stations", title="阵地与报到", figures=figures, tables=tables)
