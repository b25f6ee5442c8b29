"""The public home page: headline figures computed from the database."""

import pytest

from couriers.models import Courier
from tests import factories

pytestmark = pytest.mark.django_db


def test_home_shows_registered_couriers_and_managed_party_members(anonymous, nanqiao_town):
    org = factories.party_org(nanqiao_town)
    for _ in range(3):
        factories.courier(nanqiao_town)
    factories.courier(
        nanqiao_town, political_status=Courier.PoliticalStatus.MEMBER, managing_organization=org
    )
    factories.courier(nanqiao_town, political_status=Courier.PoliticalStatus.PROBATIONARY)
    response = anonymous.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    figures = {f["label"]: f for f in response.context["figures"]}
    assert figures["登记快递小哥"]["value"] == 5
    assert figures["快递行业党员"]["value"] == 2
    assert "1 名纳入属地党组织管理" in html
    assert "工作人员入口" in html


def test_home_page_is_chinese_and_phone_ready(anonymous):
    html = anonymous.get("/").content.decode()
    assert '<html lang="zh-CN">' in html
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html


def test_home_page_shows_no_personal_data(anonymous, nanqiao_town):
    factories.courier(nanqiao_town, name="隐私测试", phone="13912340000")
    html = anonymous.get("/").content.decode()
    assert "13912340000" not in html
    assert "隐私测试" not in html
