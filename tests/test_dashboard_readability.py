"""Issue 16, item 4: the staff dashboard and lists are readable at 1366 px.

Big numbers the Chinese way (1.66亿, 138.6万), bar labels that fit, no one-bar "by town"
charts for a town's staff (their communities instead), names on one line in the courier list.
"""

import re

import pytest
from django.urls import reverse

from couriers.figures import Cell, Section, chinese_number
from fengxian import charts, dashboard
from tests import factories

DASHBOARD = "/admin/dashboard/"


@pytest.mark.parametrize(
    "value, text",
    [
        (7, "7"),
        (9876, "9,876"),
        (99_999, "99,999"),
        (1_386_000, "138.6万"),
        (12_360_000, "1,236万"),
        (99_999_999, "1亿"),
        (165_930_000, "1.66亿"),
        (1_500_000_000, "15亿"),
        ("3 / 4", "3 / 4"),
    ],
)
def test_big_numbers_are_written_the_chinese_way(value, text):
    assert chinese_number(value) == text


def test_headline_figures_and_table_cells_show_wan_and_yi(district_client, monkeypatch):
    def big(scope):
        return Section(key="big", title="大数", figures=[("带动产值", Cell(165_930_000))])

    monkeypatch.setattr(dashboard, "SECTIONS", [*dashboard.SECTIONS, big])
    page = district_client.get(DASHBOARD).content.decode()
    assert 'title="165930000">1.66亿<' in page
    assert ">165930000<" not in page


def test_a_long_bar_label_fits_in_the_chart():
    label = "行村党群服务站（4号）"
    svg = charts.bar_chart("站点", [(label, 4, ""), ("南桥站", 165_930_000, "")])
    x = float(re.search(r'class="chart-label" x="([\d.]+)"', svg).group(1))
    assert x >= charts.text_width(label)  # right-aligned at x: starts at x - width ≥ 0
    assert ">1.66亿<" in svg


def test_town_staff_see_their_communities_instead_of_a_one_bar_town_chart(
    nanqiao_client, nanqiao_town
):
    here = factories.community(nanqiao_town, "杨王村")
    there = factories.community(nanqiao_town, "江海村")
    for community, couriers in ((here, 3), (there, 1)):
        outlet = factories.outlet(nanqiao_town)
        outlet.community = community
        outlet.save()
        for _ in range(couriers):
            factories.courier(nanqiao_town, outlet=outlet)
    page = nanqiao_client.get(DASHBOARD).content.decode()
    towns = re.search(r'id="table-towns".*?</table>', page, re.S).group(0)
    assert "<svg" not in towns  # one town, one bar: no chart
    communities = re.search(r'id="table-communities".*?</table>', page, re.S).group(0)
    assert "<svg" in communities
    assert "杨王村：3" in communities and "江海村：1" in communities


def test_district_staff_keep_their_by_town_chart(district_client, nanqiao_town, xidu_town):
    factories.courier(nanqiao_town), factories.courier(xidu_town)
    page = district_client.get(DASHBOARD).content.decode()
    assert "<svg" in re.search(r'id="table-towns".*?</table>', page, re.S).group(0)
    assert 'id="table-communities"' not in page


def test_names_stay_on_one_line_in_the_courier_list(district_client, nanqiao_town):
    from pathlib import Path

    from django.contrib.staticfiles import finders

    factories.courier(nanqiao_town, name="欧阳振华")
    page = district_client.get(reverse("admin:couriers_courier_changelist")).content.decode()
    assert 'class="field-name' in page
    css = Path(finders.find("css/admin_staff.css")).read_text(encoding="utf-8")
    assert re.search(r"td\.field-name[^{]*\{[^}]*white-space:\s*nowrap", css)
