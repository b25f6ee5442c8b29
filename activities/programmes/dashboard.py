"""The dashboard section for 四季关爱 / training activities and service partnerships: activities,
confirmed sign-ups and attendance by kind and by town, and the partnerships' yearly totals.
Four aggregate queries however much data there is."""

from __future__ import annotations

from django.db.models import Count, Sum

from activities.models import Activity, Attendance, PartnershipYear, SignUp
from couriers.figures import Cell, Scope, Section, Table, changelist, totals_by


def section(scope: Scope) -> Section:
    user = scope.user
    activities = {
        (row["town_id"], row["kind"]): row["n"]
        for row in Activity.objects.for_user(user).values("town_id", "kind").annotate(n=Count("pk"))
    }
    confirmed = {
        (row["activity__town_id"], row["activity__kind"]): row["n"]
        for row in SignUp.objects.for_user(user)
        .filter(status=SignUp.Status.CONFIRMED)
        .values("activity__town_id", "activity__kind")
        .annotate(n=Count("pk"))
    }
    attended = {
        (row["activity__town_id"], row["activity__kind"]): row["n"]
        for row in Attendance.objects.for_user(user)
        .values("activity__town_id", "activity__kind")
        .annotate(n=Count("pk"))
    }
    years = list(
        PartnershipYear.objects.for_user(user)
        .values("year")
        .annotate(
            companies=Count("partnership__enterprise", distinct=True),
            items=Sum("items"),
            output=Sum("output_value"),
        )
        .order_by("year")
    )
    kinds_activities, kinds_confirmed, kinds_attended = (
        totals_by(1, activities),
        totals_by(1, confirmed),
        totals_by(1, attended),
    )
    towns_activities, towns_attended = totals_by(0, activities), totals_by(0, attended)
    signed_up = {"status__exact": SignUp.Status.CONFIRMED}
    latest = years[-1] if years else None
    figures = [
        ("活动与培训", Cell(sum(activities.values()), changelist("activities.activity"))),
        ("已报名", Cell(sum(confirmed.values()), changelist("activities.signup", **signed_up))),
        ("参加人次", Cell(sum(attended.values()), changelist("activities.attendance"))),
    ]
    if latest:
        partnerships = changelist("activities.partnership")
        figures += [
            (f"{latest['year']}年合作快递企业", Cell(latest["companies"], partnerships, False)),
            (
                f"{latest['year']}年合作业务量（件）",
                Cell(latest["items"] or 0, partnerships, False),
            ),
            (f"{latest['year']}年带动产值（元）", Cell(latest["output"] or 0, partnerships, False)),
        ]
    tables = [
        Table(
            key="activity_kinds",
            title="活动与培训（按类型）",
            columns=["类型", "参加人次", "活动", "已报名"],
            rows=[
                (
                    str(label),
                    [
                        Cell(
                            kinds_attended.get(value, 0),
                            changelist("activities.attendance", activity__kind__exact=value),
                        ),
                        Cell(
                            kinds_activities.get(value, 0),
                            changelist("activities.activity", kind__exact=value),
                        ),
                        Cell(
                            kinds_confirmed.get(value, 0),
                            changelist(
                                "activities.signup", activity__kind__exact=value, **signed_up
                            ),
                        ),
                    ],
                )
                for value, label in Activity.Kind.choices
            ],
            chart="bar",
        ),
        Table(
            key="activity_towns",
            title="活动参与（按街镇）",
            columns=["街镇", "活动", "参加人次"],
            rows=[
                (
                    town.name,
                    [
                        Cell(
                            towns_activities.get(town.pk, 0),
                            changelist("activities.activity", town__id__exact=town.pk),
                        ),
                        Cell(
                            towns_attended.get(town.pk, 0),
                            changelist(
                                "activities.attendance",
                                activity__town__id__exact=town.pk,
                            ),
                        ),
                    ],
                )
                for town in scope.towns
            ],
        ),
        Table(
            key="partnership_years",
            title="快递进厂、进村（按年度）",
            columns=["年度", "合作快递企业", "业务量（件）", "带动产值（元）"],
            rows=[
                (
                    str(row["year"]),
                    [
                        Cell(row["companies"], changelist("activities.partnership"), False),
                        Cell(row["items"] or 0, changelist("activities.partnership"), False),
                        Cell(row["output"] or 0, changelist("activities.partnership"), False),
                    ],
                )
                for row in years
            ],
            note="合作企业按当年有合作数据的快递企业计（去重）。",
        ),
    ]
    return Section(
        key="programmes", title="关爱活动、培训与服务合作", figures=figures, tables=tables
    )
