"""List pages keep a constant number of queries as the registry grows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from couriers.models import Courier
from tests import factories

pytestmark = pytest.mark.django_db


def _add_couriers(town, count: int, start: int) -> None:
    org = factories.party_org(town)
    outlets = [factories.outlet(town) for _ in range(3)]
    Courier.objects.bulk_create(
        Courier(
            name=f"小哥{n}",
            phone=factories.phone(50_000 + start + n),
            work_town=town,
            outlet=outlets[n % 3],
            enterprise=outlets[n % 3].enterprise,
            brand=outlets[n % 3].enterprise.brand,
            political_status=Courier.PoliticalStatus.MEMBER if n % 5 == 0 else "masses",
            managing_organization=org if n % 5 == 0 else None,
        )
        for n in range(count)
    )


def _count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


# session, user, 2 x permissions, staff profile, town and brand filter choices, capped count,
# the page of couriers with its related rows.
@pytest.mark.parametrize(("who", "queries"), [("district_client", 9), ("nanqiao_client", 9)])
def test_courier_changelist_query_count_is_constant(
    request, who, queries, nanqiao_town, django_assert_num_queries
):
    client = request.getfixturevalue(who)
    _add_couriers(nanqiao_town, 5, start=0)
    with django_assert_num_queries(queries):
        client.get("/admin/couriers/courier/")
    _add_couriers(nanqiao_town, 120, start=1000)
    with django_assert_num_queries(queries):
        client.get("/admin/couriers/courier/")


def test_outlet_changelist_query_count_is_constant(district_client, nanqiao_town):
    factories.outlet(nanqiao_town)
    few = _count_queries(district_client, "/admin/couriers/outlet/")
    for _ in range(30):
        factories.outlet(nanqiao_town, factories.outlet(nanqiao_town).enterprise)
    assert _count_queries(district_client, "/admin/couriers/outlet/") == few


def test_home_page_query_count_is_constant(anonymous, nanqiao_town, django_assert_num_queries):
    _add_couriers(nanqiao_town, 5, start=0)
    with django_assert_num_queries(8):
        anonymous.get("/")
    _add_couriers(nanqiao_town, 200, start=1000)
    with django_assert_num_queries(8):
        anonymous.get("/")


def test_large_changelist_never_counts_the_whole_table(district_client, nanqiao_town, monkeypatch):
    from couriers.admin_scoping import EstimatedCountPaginator

    monkeypatch.setattr(EstimatedCountPaginator, "exact_limit", 10)
    _add_couriers(nanqiao_town, 30, start=0)
    with CaptureQueriesContext(connection) as queries:
        response = district_client.get("/admin/couriers/courier/")
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    html = response.content.decode()
    if connection.vendor == "postgresql":
        assert all("LIMIT 11" in sql for sql in counts), counts
        assert "约 " in html
        assert response.context["cl"].result_count >= 11


@pytest.mark.skipif(connection.vendor != "postgresql", reason="estimates come from PostgreSQL")
@pytest.mark.parametrize("estimate", [11, 1000])
def test_estimated_pages_are_served_by_their_rows(
    district_client, nanqiao_town, monkeypatch, estimate
):
    from couriers.admin import CourierAdmin
    from couriers.admin_scoping import EstimatedCountPaginator

    monkeypatch.setattr(EstimatedCountPaginator, "exact_limit", 10)
    monkeypatch.setattr(EstimatedCountPaginator, "_planner_rows", staticmethod(lambda qs: estimate))
    monkeypatch.setattr(CourierAdmin, "list_per_page", 10)
    _add_couriers(nanqiao_town, 30, start=0)
    # An estimate too low (11: two pages) does not hide the real third page ...
    third = district_client.get("/admin/couriers/courier/", {"p": 3})
    assert third.status_code == 200
    assert len(third.context["cl"].result_list) == 10
    # ... and one too high (1000: a hundred pages) does not invent a fourth.
    beyond = district_client.get("/admin/couriers/courier/", {"p": 4})
    assert beyond.status_code == 302
    assert "e=1" in beyond["Location"]
