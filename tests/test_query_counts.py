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


@pytest.mark.parametrize("who", ["district_client", "nanqiao_client"])
def test_courier_changelist_query_count_is_constant(request, who, nanqiao_town):
    client = request.getfixturevalue(who)
    _add_couriers(nanqiao_town, 5, start=0)
    few = _count_queries(client, "/admin/couriers/courier/")
    _add_couriers(nanqiao_town, 120, start=1000)
    many = _count_queries(client, "/admin/couriers/courier/")
    assert few == many
    assert many <= 10


def test_outlet_changelist_query_count_is_constant(district_client, nanqiao_town):
    factories.outlet(nanqiao_town)
    few = _count_queries(district_client, "/admin/couriers/outlet/")
    for _ in range(30):
        factories.outlet(nanqiao_town, factories.outlet(nanqiao_town).enterprise)
    assert _count_queries(district_client, "/admin/couriers/outlet/") == few


def test_home_page_query_count_is_constant(anonymous, nanqiao_town, django_assert_num_queries):
    _add_couriers(nanqiao_town, 5, start=0)
    with django_assert_num_queries(3):
        anonymous.get("/")
    _add_couriers(nanqiao_town, 200, start=1000)
    with django_assert_num_queries(3):
        anonymous.get("/")
