"""The registry's dashboard section: couriers by town, brand and political status, the highly
educated, party members and how many are managed locally, the pipeline by stage, the action
lists, visits this month and needs open/overdue. Seven aggregate queries however many
couriers there are."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, Q

from couriers.figures import Cell, Scope, Section, Table, changelist
from couriers.models import (
    Brand,
    Community,
    Courier,
    Need,
    PipelineStage,
    Visit,
    contact_cutoff,
    stall_cutoff,
)

Status = Courier.PoliticalStatus
MEMBERS = ",".join(Status.member_values())
HIGHLY_EDUCATED = ",".join(Courier.Education.highly_educated_values())
OPEN_NEEDS = ",".join(Need.Status.open_values())


def _couriers(**params) -> str:
    return changelist("couriers.courier", **params)


def section(scope: Scope) -> Section:
    user, today = scope.user, scope.today
    couriers = Courier.objects.for_user(user)
    brands = list(Brand.objects.all())

    # 1. Every courier once: town × brand × political status × backbone × education, a few
    # thousand groups at most. COUNT(*) over exactly the columns of courier_dashboard_idx lets
    # PostgreSQL read the index alone, in group order (no table scan, no sort).
    by_town: dict[int, int] = defaultdict(int)
    high_by_town: dict[int, int] = defaultdict(int)
    by_brand: dict[int | None, int] = defaultdict(int)
    by_status: dict[str, int] = defaultdict(int)
    willing_backbones = 0
    high = set(Courier.Education.highly_educated_values())
    for row in couriers.values(
        "work_town_id", "brand_id", "political_status", "is_business_backbone", "education"
    ).annotate(n=Count("*")):
        by_town[row["work_town_id"]] += row["n"]
        if row["education"] in high:
            high_by_town[row["work_town_id"]] += row["n"]
        by_brand[row["brand_id"]] += row["n"]
        by_status[row["political_status"]] += row["n"]
        if row["is_business_backbone"] and row["political_status"] == Status.APPLICANT:
            willing_backbones += row["n"]

    # 2. Party members only (a partial index): managed locally, mobile, recent contact.
    cutoff = contact_cutoff(today)
    members = {
        row["work_town_id"]: row
        for row in couriers.party_members()
        .values("work_town_id")
        .annotate(
            n=Count("pk"),
            managed=Count("pk", filter=Q(managing_organization__isnull=False)),
            mobile=Count("pk", filter=Q(is_mobile_party_member=True)),
            no_contact=Count(
                "pk",
                filter=Q(is_mobile_party_member=True)
                & (
                    Q(last_organization_contact__isnull=True)
                    | Q(last_organization_contact__lt=cutoff)
                ),
            ),
        )
    }

    # 3. The pipeline (only couriers with a stage history).
    stall = stall_cutoff(today)
    stages: dict[str, dict[str, int]] = defaultdict(lambda: {"n": 0, "stalled": 0})
    for row in (
        couriers.exclude(party_stage="")
        .values("party_stage")
        .annotate(
            n=Count("pk"),
            stalled=Count(
                "pk",
                filter=Q(
                    party_stage__in=PipelineStage.waiting_values(), party_stage_since__lt=stall
                ),
            ),
        )
    ):
        stages[row["party_stage"]] = {"n": row["n"], "stalled": row["stalled"]}

    # 4. Visits this month and needs, per town.
    month = scope.month_start
    visits = dict(
        Visit.objects.for_user(user)
        .filter(date__gte=month)
        .values_list("town_id")
        .annotate(n=Count("pk"))
        .values_list("town_id", "n")
    )
    needs = {
        row["visit__town_id"]: row
        for row in Need.objects.for_user(user)
        .values("visit__town_id")
        .annotate(
            open=Count("pk", filter=Q(status__in=Need.Status.open_values())),
            overdue=Count("pk", filter=Q(status__in=Need.Status.open_values(), deadline__lt=today)),
        )
    }

    def total(rows: dict, key: str) -> int:
        return sum(row[key] for row in rows.values())

    n_members = total(members, "n")
    managed = total(members, "managed")
    figures = [
        ("登记快递小哥", Cell(sum(by_town.values()), _couriers())),
        ("党员（含预备党员）", Cell(n_members, _couriers(political_status__in=MEMBERS))),
        (
            "纳入属地党组织管理",
            Cell(
                f"{managed} / {n_members}",
                _couriers(political_status__in=MEMBERS, managing_organization__isnull="False"),
            ),
        ),
        (
            "流动党员",
            Cell(total(members, "mobile"), _couriers(is_mobile_party_member__exact="1")),
        ),
        (
            "高学历（大专及以上）",
            Cell(sum(high_by_town.values()), _couriers(education__in=HIGHLY_EDUCATED)),
        ),
        (
            "有入党意愿",
            Cell(by_status.get(Status.APPLICANT, 0), _couriers(political_status__exact="willing")),
        ),
        (
            "本月走访",
            Cell(sum(visits.values()), changelist("couriers.visit", date__gte=month.isoformat())),
        ),
        (
            "未办结需求",
            Cell(total(needs, "open"), changelist("couriers.need", status__in=OPEN_NEEDS)),
        ),
        ("已逾期需求", Cell(total(needs, "overdue"), changelist("couriers.need", overdue="yes"))),
    ]
    worklists = Table(
        key="worklists",
        title="待办名单",
        columns=["名单", "人数"],
        rows=[
            (
                "党员未纳入属地党组织管理",
                [Cell(n_members - managed, _couriers(worklist="unmanaged"))],
            ),
            (
                "流动党员近期未参加组织生活",
                [Cell(total(members, "no_contact"), _couriers(worklist="no_contact"))],
            ),
            (
                "入党进程停滞",
                [Cell(sum(s["stalled"] for s in stages.values()), _couriers(worklist="stalled"))],
            ),
            (
                "有入党意愿的业务骨干",
                [Cell(willing_backbones, _couriers(worklist="backbone_willing"))],
            ),
        ],
        note="流动党员超过设定天数未参加组织生活、入党进程在同一阶段超过设定天数即列入名单。",
    )
    towns = Table(
        key="towns",
        title="按街镇",
        columns=[
            "街镇",
            "小哥",
            "党员",
            "纳入属地管理",
            "高学历",
            "本月走访",
            "未办结需求",
            "已逾期需求",
        ],
        rows=[],
        chart="bar",
    )
    for town in scope.towns:
        here = {"work_town__id__exact": town.pk}
        member_row = members.get(town.pk, {"n": 0, "managed": 0})
        need_row = needs.get(town.pk, {"open": 0, "overdue": 0})
        towns.rows.append(
            (
                town.name,
                [
                    Cell(by_town.get(town.pk, 0), _couriers(**here)),
                    Cell(member_row["n"], _couriers(political_status__in=MEMBERS, **here)),
                    Cell(
                        member_row["managed"],
                        _couriers(
                            political_status__in=MEMBERS,
                            managing_organization__isnull="False",
                            **here,
                        ),
                    ),
                    Cell(
                        high_by_town.get(town.pk, 0),
                        _couriers(education__in=HIGHLY_EDUCATED, **here),
                    ),
                    Cell(
                        visits.get(town.pk, 0),
                        changelist(
                            "couriers.visit", date__gte=month.isoformat(), town__id__exact=town.pk
                        ),
                    ),
                    Cell(
                        need_row["open"],
                        changelist(
                            "couriers.need", status__in=OPEN_NEEDS, visit__town__id__exact=town.pk
                        ),
                    ),
                    Cell(
                        need_row["overdue"],
                        changelist("couriers.need", overdue="yes", visit__town__id__exact=town.pk),
                    ),
                ],
            )
        )
    brand_table = Table(
        key="brands",
        title="按品牌",
        columns=["品牌", "小哥"],
        rows=[
            (brand.name, [Cell(by_brand.get(brand.pk, 0), _couriers(brand__id__exact=brand.pk))])
            for brand in brands
        ]
        + [("未填品牌", [Cell(by_brand.get(None, 0), _couriers(brand__isnull="True"))])],
        chart="bar",
    )
    status_table = Table(
        key="political_status",
        title="按政治面貌",
        columns=["政治面貌", "小哥"],
        rows=[
            (
                str(label),
                [Cell(by_status.get(value, 0), _couriers(political_status__exact=value))],
            )
            for value, label in Status.choices
        ],
        chart="bar",
    )
    pipeline_table = Table(
        key="pipeline",
        title="入党进程（按最新阶段）",
        columns=["阶段", "人数", "停滞"],
        rows=[
            (
                str(stage.label),
                [
                    Cell(stages[stage]["n"], _couriers(party_stage__exact=stage.value)),
                    Cell(
                        stages[stage]["stalled"],
                        _couriers(party_stage__exact=stage.value, worklist="stalled"),
                    )
                    if stage in PipelineStage.waiting_values()
                    else Cell("—"),
                ],
            )
            for stage in PipelineStage
        ],
        chart="bar",
        note="按入党进程的最新阶段统计已登记进程的小哥；停滞：在该阶段超过设定天数。",
    )
    tables = [towns, worklists, status_table, brand_table, pipeline_table]
    if not scope.is_district and scope.towns:
        # A town's own "by town" table is one row: its communities say more.
        tables.insert(1, communities_table(scope, couriers))
    return Section(
        key="couriers",
        title="快递小哥与党建（底数清、情况明）",
        figures=figures,
        tables=tables,
    )


def communities_table(scope: Scope, couriers) -> Table:
    """Couriers by the 村居委 of their outlet, for town staff (two queries)."""
    counts = dict(
        couriers.values_list("outlet__community_id")
        .annotate(n=Count("*"))
        .values_list("outlet__community_id", "n")
    )
    rows = [
        (str(community.name), [Cell(counts.get(community.pk, 0))])
        for community in Community.objects.filter(town__in=scope.towns).order_by("name")
    ]
    rows.sort(key=lambda row: -row[1][0].value)
    if counts.get(None):
        rows.append(("网点未填村居", [Cell(counts[None])]))
    return Table(
        key="communities",
        title="按村居委（网点所在）",
        columns=["村居委", "小哥"],
        rows=rows,
        chart="bar",
        note="按小哥所在网点的村居委统计。",
    )
