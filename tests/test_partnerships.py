"""Service partnerships (快递进厂 / 快递进村): the rules of a partnership, the yearly totals
against a sum done here in Python, the public page and its query count, the demo reproducing
the article's 2024 figures, and town scoping in the admin."""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError

from activities.models import Partnership, PartnershipYear
from activities.showcase import partnerships
from tests import factories

pytestmark = pytest.mark.django_db

ADMIN = "/admin/activities"


def partnership(enterprise, town, partner: str, kind: str = "factory", **fields) -> Partnership:
    if kind == "factory":
        fields.setdefault("mode", Partnership.Mode.WAREHOUSE)
    else:
        fields.setdefault("produce", "黄桃")
    return Partnership.objects.create(
        enterprise=enterprise,
        partner=partner,
        kind=kind,
        town=town,
        since=datetime.date(2022, 3, 1),
        **fields,
    )


@pytest.fixture
def network(nanqiao_town, xidu_town):
    """Three enterprises, several partnerships with random yearly figures."""
    rng = random.Random(7)
    firms = [factories.enterprise(nanqiao_town) for _ in range(2)]
    firms.append(factories.enterprise(xidu_town))
    made = [
        partnership(firms[0], nanqiao_town, "电子厂"),
        partnership(firms[0], nanqiao_town, "桃园合作社", "village"),
        partnership(firms[1], nanqiao_town, "服装厂", mode=Partnership.Mode.LAST_MILE),
        partnership(firms[2], xidu_town, "蜜梨农场", "village", produce="蜜梨"),
        partnership(firms[2], xidu_town, "汽配厂", mode=Partnership.Mode.INBOUND),
    ]
    for p in made:
        for year in (2023, 2024):
            if p.partner == "服装厂" and year == 2023:
                continue  # a partnership that began later
            PartnershipYear.objects.create(
                partnership=p,
                year=year,
                items=rng.randint(1_000, 900_000),
                output_value=rng.randint(100_000, 90_000_000),
            )
    return made


def test_a_partnership_needs_the_detail_of_its_kind(nanqiao_town):
    firm = factories.enterprise(nanqiao_town)
    base = {"enterprise": firm, "partner": "某厂", "town": nanqiao_town}
    base["since"] = datetime.date(2023, 1, 1)
    with pytest.raises(ValidationError) as factory:
        Partnership(**base, kind="factory").full_clean()
    assert factory.value.message_dict == {"mode": ["快递进厂请选择进厂方式。"]}
    with pytest.raises(ValidationError) as village:
        Partnership(**base, kind="village").full_clean()
    assert village.value.message_dict == {"produce": ["快递进村请填写农产品，如：黄桃。"]}
    with pytest.raises(ValidationError) as mixed:
        Partnership(**base, kind="village", produce="黄桃", mode="inbound").full_clean()
    assert mixed.value.message_dict == {"mode": ["进厂方式只在快递进厂时选择。"]}
    Partnership(**base, kind="village", produce="蜜梨").full_clean()


def test_one_set_of_figures_per_partnership_and_year(nanqiao_town):
    p = partnership(factories.enterprise(nanqiao_town), nanqiao_town, "电子厂")
    PartnershipYear.objects.create(partnership=p, year=2024, items=1, output_value=1)
    with pytest.raises(IntegrityError):
        PartnershipYear.objects.create(partnership=p, year=2024, items=2, output_value=2)


def test_totals_by_year_and_kind_match_a_sum_done_by_hand(network):
    expected: dict = defaultdict(lambda: {"items": 0, "value": 0, "firms": set(), "ps": set()})
    by_kind: dict = defaultdict(lambda: {"items": 0, "value": 0, "firms": set()})
    for row in PartnershipYear.objects.select_related("partnership"):
        for bucket in (expected[row.year], by_kind[(row.year, row.partnership.kind)]):
            bucket["items"] += row.items
            bucket["value"] += row.output_value
            bucket["firms"].add(row.partnership.enterprise_id)
        expected[row.year]["ps"].add(row.partnership_id)
    years = partnerships.totals_by_year()
    assert [y["year"] for y in years] == [2024, 2023]
    for y in years:
        want = expected[y["year"]]
        assert (y["items"], y["output_value"]) == (want["items"], want["value"])
        assert (y["companies"], y["partnerships"]) == (len(want["firms"]), len(want["ps"]))
    assert years[0]["companies"] == 3 and years[1]["partnerships"] == 4
    kinds = partnerships.totals_by_year_and_kind()
    for year, rows in kinds.items():
        for row in rows:
            want = by_kind[(year, row["kind"])]
            assert (row["items"], row["output_value"], row["companies"]) == (
                want["items"],
                want["value"],
                len(want["firms"]),
            )
    details = {(d["kind"], d["detail"]): d for d in partnerships.totals_by_detail(2024)}
    assert set(details) == {
        ("快递进厂", "仓储+配送"),
        ("快递进厂", "订单末端配送"),
        ("快递进厂", "入厂物流"),
        ("快递进村", "黄桃"),
        ("快递进村", "蜜梨"),
    }
    assert sum(d["items"] for d in details.values()) == expected[2024]["items"]


def test_the_public_page_shows_the_totals(anonymous, network):
    response = anonymous.get("/partnerships/")
    assert response.status_code == 200
    page = response.content.decode()
    latest = partnerships.totals_by_year()[0]
    assert f"<td>{partnerships.in_wan(latest['items'])}</td>" in page
    assert f"<td>{partnerships.in_yi(latest['output_value'])}</td>" in page
    assert f"<em>{latest['items']:,} 件</em>" in page
    assert "快递进厂" in page and "快递进村" in page and "蜜梨" in page
    assert "电子厂" not in page  # totals, not the partners' own figures


def test_large_figures_read_in_wan_and_yi():
    assert partnerships.in_wan(12_360_000) == "1236万"
    assert partnerships.in_yi(1_500_000_000) == "15亿"
    assert partnerships.in_yi(1_250_000_000) == "12.5亿"
    assert partnerships.in_wan(950) == "950"


def test_the_public_page_without_figures_says_so(anonymous):
    assert "还没有填报数据" in anonymous.get("/partnerships/").content.decode()


def test_the_public_page_keeps_a_constant_query_count(
    anonymous, network, nanqiao_town, django_assert_num_queries
):
    # totals by year, by year and kind, and the latest year's detail
    with django_assert_num_queries(3):
        anonymous.get("/partnerships/")
    firm = factories.enterprise(nanqiao_town)
    for n in range(30):
        p = partnership(firm, nanqiao_town, f"工厂{n}")
        for year in (2021, 2022, 2024):
            PartnershipYear.objects.create(partnership=p, year=year, items=n, output_value=n)
    with django_assert_num_queries(3):
        anonymous.get("/partnerships/")


def test_load_demo_reproduces_the_articles_2024_figures(settings, anonymous):
    settings.DEBUG = True
    call_command("load_demo", stdout=StringIO())
    year_2024 = next(y for y in partnerships.totals_by_year() if y["year"] == 2024)
    assert year_2024["companies"] == 22
    assert year_2024["items"] >= 12_000_000
    assert year_2024["output_value"] == 1_500_000_000
    page = anonymous.get("/partnerships/").content.decode()
    assert "<strong>15亿</strong><span>元带动产值</span>" in page
    assert "<strong>22</strong><span>家快递企业参与</span>" in page
    assert "<em>1,500,000,000 元</em>" in page
    assert f"<em>{year_2024['items']:,} 件</em>" in page
    for p in Partnership.objects.all():
        p.full_clean()


# --- the admin --------------------------------------------------------------------------------


def test_town_staff_see_and_edit_only_their_towns_partnerships(
    nanqiao_client, xidu_client, network
):
    nanqiaos = [p for p in network if p.town.name == "南桥镇"]
    xidus = [p for p in network if p.town.name == "西渡街道"]
    listed = nanqiao_client.get(f"{ADMIN}/partnership/").context["cl"].queryset
    assert set(listed) == set(nanqiaos)
    assert xidu_client.get(f"{ADMIN}/partnership/{nanqiaos[0].pk}/change/").status_code == 404
    page = xidu_client.get(f"{ADMIN}/partnership/{xidus[0].pk}/change/")
    assert page.status_code == 200 and "年度数据" in page.content.decode()
    years = PartnershipYear.objects.for_user(page.wsgi_request.user)
    assert {y.partnership.town.name for y in years} == {"西渡街道"}


def test_staff_add_a_partnership_with_yearly_figures(nanqiao_client, nanqiao_town):
    firm = factories.enterprise(nanqiao_town)
    response = nanqiao_client.post(
        f"{ADMIN}/partnership/add/",
        {
            "enterprise": firm.pk,
            "partner": "南桥黄桃合作社",
            "kind": "village",
            "mode": "",
            "produce": "黄桃",
            "town": nanqiao_town.pk,
            "since": "2021-06-01",
            "note": "",
            "years-TOTAL_FORMS": 2,
            "years-INITIAL_FORMS": 0,
            "years-0-year": 2023,
            "years-0-items": 120000,
            "years-0-output_value": 3000000,
            "years-1-year": 2024,
            "years-1-items": 150000,
            "years-1-output_value": 4200000,
        },
    )
    assert response.status_code == 302
    saved = Partnership.objects.get()
    assert sorted(saved.years.values_list("year", "items")) == [(2023, 120000), (2024, 150000)]


def test_the_same_year_twice_is_refused_with_a_reason(nanqiao_client, nanqiao_town):
    firm = factories.enterprise(nanqiao_town)
    response = nanqiao_client.post(
        f"{ADMIN}/partnership/add/",
        {
            "enterprise": firm.pk,
            "partner": "电子厂",
            "kind": "factory",
            "mode": "inbound",
            "produce": "",
            "town": nanqiao_town.pk,
            "since": "2021-06-01",
            "years-TOTAL_FORMS": 2,
            "years-INITIAL_FORMS": 0,
            "years-0-year": 2024,
            "years-0-items": 1,
            "years-0-output_value": 1,
            "years-1-year": 2024,
            "years-1-items": 2,
            "years-1-output_value": 2,
        },
    )
    assert response.status_code == 200
    assert not Partnership.objects.exists()
    errors = response.context["inline_admin_formsets"][0].formset.non_form_errors()
    assert list(errors) == ["同一年度只能填写一次，请合并重复的年度。"]
