"""The staff dashboard: its figures equal counts computed here from the records, town staff
see only their town, every figure and chart bar opens the admin list behind it (showing the
same number), the query count does not grow with the data, and the .xlsx export."""

from __future__ import annotations

import datetime
import html
import io
import re
from collections import Counter

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from activities import points
from activities.models import (
    Activity,
    Attendance,
    Claim,
    Partnership,
    PartnershipYear,
    PhotoReport,
    PointsEntry,
    SignUp,
    VolunteerPost,
)
from couriers.models import Courier, Need, Visit
from stations.models import Campaign, CheckIn, CheckinPoint, SixI, Station, StationVisit
from tests import factories

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/dashboard/"
S = Courier.PoliticalStatus
TODAY = timezone.localdate()
HIGH = set(Courier.Education.highly_educated_values())


def _add_town_data(town, district, n: int, start: int) -> None:
    """Couriers of every kind, stages, visits and needs, check-ins, station visits, claims,
    points and photo reports in `town`; `n` scales it."""
    brands = [factories.brand("顺丰"), factories.brand("中通")]
    org = factories.party_org(town)
    statuses = [S.MEMBER, S.PROBATIONARY, S.ACTIVIST, S.APPLICANT, S.LEAGUE, S.MASSES]
    educations = [e for e, _ in Courier.Education.choices] + [""]
    couriers = []
    for i in range(n):
        status = statuses[i % len(statuses)]
        member = status in (S.MEMBER, S.PROBATIONARY)
        mobile = member and i % 4 == 0
        couriers.append(
            factories.courier(
                town,
                name=f"{town.short_name}小哥{start + i}",
                phone=factories.phone(start + i),
                political_status=status,
                education=educations[i % len(educations)],
                brand=brands[i % 3] if i % 3 < 2 else None,
                is_business_backbone=i % 2 == 0,
                managing_organization=org if member and i % 5 else None,
                is_mobile_party_member=mobile,
                membership_location="安徽" if mobile else "",
                last_organization_contact=TODAY - datetime.timedelta(days=10 if i % 8 else 200)
                if mobile
                else None,
            )
        )
    for i, courier in enumerate(couriers):
        if courier.political_status == S.ACTIVIST:
            old = 400 if i % 4 == 2 else 20
            factories.stages(
                courier,
                ("willing", (TODAY - datetime.timedelta(days=old + 100)).isoformat()),
                ("activist", (TODAY - datetime.timedelta(days=old)).isoformat()),
            )
    for i, courier in enumerate(couriers[: max(n // 2, 1)]):
        days = 0 if i % 2 else 40  # half this month, half earlier
        visit = factories.visit(district, courier, date=TODAY - datetime.timedelta(days=days))
        status = list(Need.Status)[i % 4]
        factories.need(
            visit,
            deadline=TODAY + datetime.timedelta(days=-5 if i % 3 else 5),
            status=status,
            resolution="已解决" if status == "resolved" else "",
            reason="无法解决" if status == "unresolvable" else "",
        )
    factories.visit(district, outlet=factories.outlet(town), date=TODAY)

    campaign = Campaign.objects.filter(is_current=True).first() or Campaign.objects.create(
        name="本季",
        starts_on=TODAY - datetime.timedelta(days=30),
        ends_on=TODAY + datetime.timedelta(days=30),
        is_current=True,
    )
    point_list = [
        CheckinPoint.objects.create(
            name=f"{town.short_name}报到点{start + k}", town=town, address="某路", target=10
        )
        for k in range(2)
    ]
    now = timezone.now()
    for i, courier in enumerate(couriers):
        if i % 3 != 2:
            CheckIn.objects.create(
                courier=courier,
                campaign=campaign,
                point=point_list[i % 2],
                privacy_consent_at=now,
                created_at=now - datetime.timedelta(days=i % 5),
            )
    station = Station.objects.create(
        name=f"{town.short_name}驿站{start}",
        town=town,
        address="某路",
        latitude=30.92,
        longitude=121.47,
        is_demonstration=start % 2 == 0,
    )
    for i in range(n // 2):
        StationVisit.objects.create(station=station, device=f"d{i}")
    post = VolunteerPost.objects.create(
        title=f"{town.short_name}岗位{start}", category=SixI.SAFETY, town=town, capacity=50
    )
    for courier in couriers[: n // 3]:
        Claim.objects.create(post=post, courier=courier)
        points.award(courier, 5, "志愿服务", PointsEntry.Source.SERVICE)
    for i, courier in enumerate(couriers[:3]):
        PhotoReport.objects.create(
            courier=courier,
            town=town,
            category="city",
            description="垃圾",
            address="某路",
            photo=factories.photo("x.jpg"),
            status=[PhotoReport.Status.SUBMITTED, PhotoReport.Status.ACCEPTED, "rejected"][i],
        )
    # Activities with sign-ups (confirmed, waiting, cancelled) and attendance; a partnership.
    for k, kind in enumerate([Activity.Kind.MOBILE_CLASS, Activity.Kind.SUMMER]):
        activity = factories.activity(
            town, title=f"{town.short_name}活动{start + k}", kind=kind, capacity=n
        )
        for i, courier in enumerate(couriers[: n // 2]):
            status = [SignUp.Status.CONFIRMED, SignUp.Status.WAITING, SignUp.Status.CANCELLED]
            SignUp.objects.create(activity=activity, courier=courier, status=status[i % 3])
            if i % 2 == 0:
                Attendance.objects.create(activity=activity, courier=courier)
    company = factories.enterprise(town, name=f"{town.short_name}合作快递{start}")
    deal = Partnership.objects.create(
        enterprise=company,
        partner="某食品厂",
        kind=Partnership.Kind.FACTORY,
        mode=Partnership.Mode.INBOUND,
        town=town,
        since=datetime.date(2023, 1, 1),
    )
    for year in (2023, 2024):
        PartnershipYear.objects.create(
            partnership=deal, year=year, items=1000 * n + year, output_value=10_000 * n
        )


@pytest.fixture
def data(nanqiao_town, xidu_town):
    district = factories.district_staff("district_setup")
    _add_town_data(nanqiao_town, district, 24, start=1000)
    _add_town_data(xidu_town, district, 12, start=2000)
    return district


def _sections(client) -> dict:
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    return {section.key: section for section in response.context["sections"]}


def _figure(section, label: str):
    return next(cell.value for name, cell in section.figures if name == label)


def _table(section, key: str) -> dict[str, list]:
    table = next(t for t in section.tables if t.key == key)
    return {label: [cell.value for cell in cells] for label, cells in table.rows}


# --- figures ----------------------------------------------------------------------------------


def test_courier_figures_equal_independent_counts(district_client, data):
    section = _sections(district_client)["couriers"]
    couriers = list(Courier.objects.all())
    members = [c for c in couriers if c.political_status in (S.MEMBER, S.PROBATIONARY)]
    managed = [c for c in members if c.managing_organization_id]
    assert _figure(section, "登记快递小哥") == len(couriers)
    assert _figure(section, "党员（含预备党员）") == len(members)
    assert _figure(section, "纳入属地党组织管理") == f"{len(managed)} / {len(members)}"
    assert _figure(section, "流动党员") == sum(c.is_mobile_party_member for c in couriers)
    assert _figure(section, "高学历（大专及以上）") == sum(c.education in HIGH for c in couriers)
    month = TODAY.replace(day=1)
    assert _figure(section, "本月走访") == sum(v.date >= month for v in Visit.objects.all())
    needs = list(Need.objects.all())
    assert _figure(section, "未办结需求") == sum(n.is_open for n in needs)
    assert _figure(section, "已逾期需求") == sum(n.is_overdue(TODAY) for n in needs)

    towns = _table(section, "towns")
    assert len(towns) == 11  # every town, those without couriers at 0
    for name in ("南桥镇", "西渡街道"):
        here = [c for c in couriers if c.work_town.name == name]
        row = towns[name]
        assert row[0] == len(here)
        assert row[1] == sum(c.is_party_member for c in here)
        assert row[2] == sum(c.is_party_member and bool(c.managing_organization_id) for c in here)
        assert row[3] == sum(c.education in HIGH for c in here)
        town_needs = [n for n in needs if n.visit.town.name == name]
        assert row[5] == sum(n.is_open for n in town_needs)
        assert row[6] == sum(n.is_overdue(TODAY) for n in town_needs)
    assert towns["奉城镇"] == [0] * 7

    statuses = Counter(c.get_political_status_display() for c in couriers)
    assert _table(section, "political_status") == {
        str(label): [statuses.get(str(label), 0)] for _, label in S.choices
    }
    brands = _table(section, "brands")
    assert brands["顺丰"] == [sum(c.brand is not None and c.brand.name == "顺丰" for c in couriers)]
    assert brands["未填品牌"] == [sum(c.brand_id is None for c in couriers)]
    pipeline = _table(section, "pipeline")
    activists = [c for c in couriers if c.party_stage == "activist"]
    assert pipeline["入党积极分子"][0] == len(activists)
    stalled = [c for c in activists if (TODAY - c.party_stage_since).days > 180]
    assert pipeline["入党积极分子"][1] == len(stalled) > 0
    worklists = _table(section, "worklists")
    assert worklists["党员未纳入属地党组织管理"] == [len(members) - len(managed)]
    assert worklists["流动党员近期未参加组织生活"] == [
        sum(
            c.is_mobile_party_member and (TODAY - c.last_organization_contact).days > 90
            for c in couriers
        )
    ]
    assert worklists["有入党意愿的业务骨干"] == [
        sum(c.is_business_backbone and c.political_status == S.APPLICANT for c in couriers)
    ]


def test_station_and_activity_figures_equal_independent_counts(district_client, data):
    sections = _sections(district_client)
    stations, activities = sections["stations"], sections["activities"]
    checkins = list(CheckIn.objects.select_related("point__town"))
    assert _figure(stations, "本季报到") == len(checkins)
    by_point = Counter(c.point.name for c in checkins)
    assert {k: v[0] for k, v in _table(stations, "checkin_points").items()} == {
        p.name: by_point.get(p.name, 0) for p in CheckinPoint.objects.all()
    }
    by_town = _table(stations, "checkin_towns")
    assert by_town["南桥镇"][0] == sum(c.point.town.name == "南桥镇" for c in checkins)
    trend = _table(stations, "checkin_trend")
    assert list(trend.values())[-1][0] == len(checkins)  # the line ends at the total
    assert sum(day[1] for day in trend.values()) == len(checkins)
    assert _figure(stations, "近30天站点到访") == StationVisit.objects.count()

    assert _figure(activities, "岗位认领") == Claim.objects.filter(status="active").count()
    assert _figure(activities, "积分发放（净额）") == sum(
        e.amount for e in PointsEntry.objects.all()
    )
    reports = Counter(r.get_status_display() for r in PhotoReport.objects.all())
    assert {k: v[0] for k, v in _table(activities, "reports").items()} == {
        str(label): reports.get(str(label), 0) for _, label in PhotoReport.Status.choices
    }


def test_activity_and_partnership_figures_equal_independent_counts(district_client, data):
    section = _sections(district_client)["programmes"]
    attendances = list(Attendance.objects.select_related("activity__town"))
    assert _figure(section, "参加人次") == len(attendances)
    assert _figure(section, "活动与培训") == Activity.objects.count()
    confirmed = [s for s in SignUp.objects.all() if s.status == SignUp.Status.CONFIRMED]
    assert _figure(section, "已报名") == len(confirmed)
    by_kind = Counter(a.activity.get_kind_display() for a in attendances)
    assert {k: v[0] for k, v in _table(section, "activity_kinds").items()} == {
        str(label): by_kind.get(str(label), 0) for _, label in Activity.Kind.choices
    }
    by_town = _table(section, "activity_towns")
    assert by_town["西渡街道"][1] == sum(a.activity.town.name == "西渡街道" for a in attendances)
    years = _table(section, "partnership_years")
    for year in ("2023", "2024"):
        rows = [
            r for r in PartnershipYear.objects.select_related("partnership") if str(r.year) == year
        ]
        assert years[year] == [
            len({r.partnership.enterprise_id for r in rows}),
            sum(r.items for r in rows),
            sum(r.output_value for r in rows),
        ]
    assert _figure(section, "2024年合作快递企业") == 2


def test_town_staff_see_only_their_towns_figures(nanqiao_client, data, nanqiao_town):
    response = nanqiao_client.get(DASHBOARD)
    sections = {s.key: s for s in response.context["sections"]}
    couriers = sections["couriers"]
    assert list(_table(couriers, "towns")) == ["南桥镇"]
    assert _figure(couriers, "登记快递小哥") == Courier.objects.in_town(nanqiao_town).count()
    assert _figure(sections["stations"], "本季报到") == (
        CheckIn.objects.filter(point__town=nanqiao_town).count()
    )
    assert _figure(sections["activities"], "拍贤城报告") == 3
    page = response.content.decode()
    assert "西渡" not in page
    assert "南桥镇的数据" in page


def test_a_staff_account_without_a_town_sees_no_figures(data, client):
    from django.contrib.auth.models import Permission, User

    user = User.objects.create_user("noprofile", password="x", is_staff=True)
    client.force_login(user)
    assert client.get(DASHBOARD).status_code == 403  # not even the registry's to view
    # Allowed to view couriers but in no town (a misconfigured account): still nothing.
    user.user_permissions.add(Permission.objects.get(codename="view_courier"))
    section = _sections(client)["couriers"]
    assert _figure(section, "登记快递小哥") == 0
    assert _table(section, "towns") == {}


def test_the_dashboard_is_for_staff_only(anonymous, data):
    response = anonymous.get(DASHBOARD)
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert anonymous.get(f"{DASHBOARD}export.xlsx").status_code == 302


def test_the_admin_index_links_the_dashboard(district_client):
    assert 'href="/admin/dashboard/"' in district_client.get("/admin/").content.decode()


# --- links ------------------------------------------------------------------------------------


def _cells(sections: dict):
    for section in sections.values():
        for label, cell in section.figures:
            yield f"{section.title} {label}", cell
        for table in section.tables:
            for label, cells in table.rows:
                for column, cell in zip(table.columns[1:], cells, strict=True):
                    yield f"{table.title} {label} {column}", cell


@pytest.mark.parametrize("who", ["district_client", "nanqiao_client"])
def test_every_figure_opens_a_list_showing_that_number(request, data, who):
    client = request.getfixturevalue(who)
    checked = 0
    for name, cell in _cells(_sections(client)):
        if not cell.url:
            continue
        response = client.get(cell.url)
        assert response.status_code == 200, f"{name}: {cell.url} → {response.status_code}"
        if cell.is_count and isinstance(cell.value, int):
            shown = response.context["cl"].result_count
            assert shown == cell.value, f"{name}: {cell.url} lists {shown}, not {cell.value}"
            checked += 1
    assert checked > 50


def test_chart_bars_link_to_their_lists(district_client, data):
    page = district_client.get(DASHBOARD).content.decode()
    charts = re.findall(r"<svg[^>]*class=\"chart .*?</svg>", page, flags=re.S)
    assert len(charts) >= 8
    for svg in charts:
        assert "<title" in svg and "<desc" in svg  # read out by screen readers
        for href in re.findall(r'<a href="([^"]+)"', svg):
            assert district_client.get(html.unescape(href)).status_code == 200


def test_a_bar_chart_prints_its_numbers(district_client, data):
    page = district_client.get(DASHBOARD).content.decode()
    svg = re.search(r"<svg[^>]*>(?:(?!</svg>).)*按政治面貌(?:(?!</svg>).)*</svg>", page, re.S)
    assert svg is not None
    members = Courier.objects.filter(political_status=S.MEMBER).count()
    assert f"中共党员：{members}" in svg.group(0)
    assert 'class="chart-value"' in svg.group(0)


# --- query count ------------------------------------------------------------------------------


# Town staff: two more, for their communities table (issue 16). The outbox's section: one.
@pytest.mark.parametrize(("who", "queries"), [("district_client", 30), ("nanqiao_client", 32)])
def test_the_query_count_does_not_grow_with_the_data(
    request, who, queries, data, nanqiao_town, xidu_town, django_assert_num_queries
):
    client = request.getfixturevalue(who)
    with django_assert_num_queries(queries):
        assert client.get(DASHBOARD).status_code == 200
    district = factories.district_staff("more_setup")
    _add_town_data(nanqiao_town, district, 30, start=5000)
    _add_town_data(xidu_town, district, 30, start=7000)
    with django_assert_num_queries(queries):
        assert client.get(DASHBOARD).status_code == 200


# --- export -----------------------------------------------------------------------------------


def test_the_export_holds_the_dashboards_tables(district_client, data):
    sections = _sections(district_client)
    response = district_client.get(f"{DASHBOARD}export.xlsx")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert len(book.sheetnames) == len(sections)
    rows = [row for sheet in book for row in sheet.iter_rows(values_only=True)]
    assert ("登记快递小哥", Courier.objects.count()) in [row[:2] for row in rows]
    towns = _table(sections["couriers"], "towns")
    assert ("南桥镇", *towns["南桥镇"]) in [row[: 1 + len(towns["南桥镇"])] for row in rows]


def test_town_staff_export_only_their_town(nanqiao_client, data):
    response = nanqiao_client.get(f"{DASHBOARD}export.xlsx")
    book = load_workbook(io.BytesIO(response.content))
    cells = [str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row]
    assert "南桥镇" in cells and not any("西渡" in v for v in cells)
