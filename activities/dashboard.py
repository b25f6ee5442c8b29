"""The activities' dashboard section: 6I posts claimed, points given and 拍贤城 photo reports
by status, with a per-town breakdown. Three aggregate queries however much data there is."""

from __future__ import annotations

from django.db.models import Count, Sum

from activities.models import Claim, PhotoReport, PointsEntry
from couriers.figures import Cell, Scope, Section, Table, changelist, totals_by
from stations.models import SixI

WAITING = [
    PhotoReport.Status.SUBMITTED,
    PhotoReport.Status.ACCEPTED,
    PhotoReport.Status.IN_PROGRESS,
]


def section(scope: Scope) -> Section:
    user = scope.user
    claims: dict[tuple[int, str], int] = {
        (row["post__town_id"], row["post__category"]): row["n"]
        for row in Claim.objects.for_user(user)
        .filter(status=Claim.Status.ACTIVE)
        .values("post__town_id", "post__category")
        .annotate(n=Count("pk"))
    }
    points: dict[tuple[int, str], int] = {
        (row["courier__work_town_id"], row["source"]): row["total"] or 0
        for row in PointsEntry.objects.for_user(user)
        .exclude(source=PointsEntry.Source.REDEEM)  # spending is in the rewards section
        .values("courier__work_town_id", "source")
        .annotate(total=Sum("amount"))
    }
    reports: dict[tuple[int, str], int] = {
        (row["town_id"], row["status"]): row["n"]
        for row in PhotoReport.objects.for_user(user)
        .values("town_id", "status")
        .annotate(n=Count("pk"))
    }

    claims_by_category, points_by_source, reports_by_status = (
        totals_by(1, claims),
        totals_by(1, points),
        totals_by(1, reports),
    )
    claims_by_town, points_by_town, reports_by_town = (
        totals_by(0, claims),
        totals_by(0, points),
        totals_by(0, reports),
    )
    waiting_by_town = totals_by(0, {k: v for k, v in reports.items() if k[1] in WAITING})
    active = {"status__exact": Claim.Status.ACTIVE}
    figures = [
        ("岗位认领", Cell(sum(claims.values()), changelist("activities.claim", **active))),
        (
            "积分发放（净额）",
            Cell(sum(points.values()), changelist("activities.pointsentry"), False),
        ),
        ("拍贤城报告", Cell(sum(reports.values()), changelist("activities.photoreport"))),
        (
            "报告待办结",
            Cell(
                sum(reports_by_status.get(s, 0) for s in WAITING),
                changelist("activities.photoreport", status__in=",".join(WAITING)),
            ),
        ),
    ]
    tables = [
        Table(
            key="claims",
            title="6I 岗位认领（按类别）",
            columns=["类别", "认领"],
            rows=[
                (
                    str(label),
                    [
                        Cell(
                            claims_by_category.get(value, 0),
                            changelist("activities.claim", post__category__exact=value, **active),
                        )
                    ],
                )
                for value, label in SixI.choices
            ],
            chart="bar",
        ),
        Table(
            key="points",
            title="积分发放（按来源）",
            columns=["来源", "积分"],
            rows=[
                (
                    str(label),
                    [
                        Cell(
                            points_by_source.get(value, 0),
                            changelist("activities.pointsentry", source__exact=value),
                            is_count=False,
                        )
                    ],
                )
                for value, label in PointsEntry.Source.choices
                if value != PointsEntry.Source.REDEEM
            ],
            chart="bar",
        ),
        Table(
            key="reports",
            title="拍贤城报告（按状态）",
            columns=["状态", "报告"],
            rows=[
                (
                    str(label),
                    [
                        Cell(
                            reports_by_status.get(value, 0),
                            changelist("activities.photoreport", status__exact=value),
                        )
                    ],
                )
                for value, label in PhotoReport.Status.choices
            ],
            chart="bar",
        ),
        Table(
            key="activity_towns",
            title="志愿服务与拍贤城（按街镇）",
            columns=["街镇", "岗位认领", "积分发放", "拍贤城报告", "待办结"],
            rows=[
                (
                    town.name,
                    [
                        Cell(
                            claims_by_town.get(town.pk, 0),
                            changelist("activities.claim", post__town__id__exact=town.pk, **active),
                        ),
                        Cell(
                            points_by_town.get(town.pk, 0),
                            changelist(
                                "activities.pointsentry", courier__work_town__id__exact=town.pk
                            ),
                            is_count=False,
                        ),
                        Cell(
                            reports_by_town.get(town.pk, 0),
                            changelist("activities.photoreport", town__id__exact=town.pk),
                        ),
                        Cell(
                            waiting_by_town.get(town.pk, 0),
                            changelist(
                                "activities.photoreport",
                                town__id__exact=town.pk,
                                status__in=",".join(WAITING),
                            ),
                        ),
                    ],
                )
                for town in scope.towns
            ],
        ),
    ]
    return Section(key="activities", title="志愿服务、积分与拍贤城", figures=figures, tables=tables)
