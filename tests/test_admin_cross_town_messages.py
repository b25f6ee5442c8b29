"""The admin's add and change forms are no oracle for another town's records: a phone, ID
number or other unique value already registered outside the user's town gets one message that
says only that the record cannot be saved here and who can help, never that it exists or whose
it is. Inside the user's own town the duplicate message stays as it was."""

from __future__ import annotations

import pytest
from django.urls import reverse

from couriers.admin_scoping import OUT_OF_SCOPE_DUPLICATE
from couriers.models import Courier, Enterprise
from tests import factories

pytestmark = pytest.mark.django_db

ADD_COURIER = "/admin/couriers/courier/add/"


@pytest.fixture
def theirs(xidu_town):
    return factories.courier(
        xidu_town, name="西渡王五", phone="13955556666", id_number=factories.id_number(seq=555)
    )


def form_errors(response) -> list[str]:
    form = response.context["adminform"].form
    return [str(e) for errors in form.errors.values() for e in errors]


def page_text(response) -> str:
    return response.content.decode()


@pytest.mark.parametrize("field", ["phone", "id_number"])
def test_another_towns_number_is_refused_without_confirming_it_exists(
    nanqiao_client, nanqiao_town, theirs, field
):
    data = factories.courier_admin_form(nanqiao_town, **{field: getattr(theirs, field)})
    if field == "id_number":
        data["phone"] = "13900000009"
    response = nanqiao_client.post(ADD_COURIER, data)
    assert response.status_code == 200
    assert form_errors(response) == [OUT_OF_SCOPE_DUPLICATE.format(label="号码")]
    html = page_text(response)
    assert "已登记" not in html
    assert theirs.name not in html and theirs.masked_phone not in html
    assert not Courier.objects.filter(name="新小哥").exists()


def test_the_message_is_the_one_the_issue_asks_for(nanqiao_client, nanqiao_town, theirs):
    response = nanqiao_client.post(
        ADD_COURIER, factories.courier_admin_form(nanqiao_town, phone=theirs.phone)
    )
    assert "无法保存：该号码不能在本街镇登记，请联系区级管理员" in form_errors(response)[0]


def test_changing_a_courier_to_another_towns_phone_says_the_same(
    nanqiao_client, nanqiao_town, theirs
):
    ours = factories.courier(nanqiao_town, name="南桥赵六", phone="13900000007")
    url = reverse("admin:couriers_courier_change", args=[ours.pk])
    data = factories.courier_admin_form(nanqiao_town, name=ours.name, phone=theirs.phone)
    response = nanqiao_client.post(url, data)
    assert form_errors(response) == [OUT_OF_SCOPE_DUPLICATE.format(label="号码")]
    assert theirs.name not in page_text(response)


@pytest.mark.parametrize("field", ["phone", "id_number"])
def test_a_duplicate_in_the_users_own_town_keeps_its_message(nanqiao_client, nanqiao_town, field):
    ours = factories.courier(
        nanqiao_town, name="南桥赵六", phone="13900000007", id_number=factories.id_number(seq=7)
    )
    data = factories.courier_admin_form(nanqiao_town, **{field: getattr(ours, field)})
    if field == "id_number":
        data["phone"] = "13900000009"
    response = nanqiao_client.post(ADD_COURIER, data)
    expected = {"phone": "该手机号码已登记。", "id_number": "该身份证号码已登记。"}[field]
    assert form_errors(response) == [expected]


def test_district_staff_still_learn_of_the_duplicate(district_client, nanqiao_town, theirs):
    response = district_client.post(
        ADD_COURIER, factories.courier_admin_form(nanqiao_town, phone=theirs.phone)
    )
    assert form_errors(response) == ["该手机号码已登记。"]


def test_another_towns_enterprise_name_and_credit_code_are_no_oracle(
    nanqiao_client, nanqiao_town, xidu_town
):
    elsewhere = factories.enterprise(xidu_town, name="西渡顺达快递有限公司")
    elsewhere.credit_code = "91310120MA1HKXY3TP"
    elsewhere.full_clean()
    elsewhere.save()
    response = nanqiao_client.post(
        "/admin/couriers/enterprise/add/",
        {
            "name": elsewhere.name,
            "brand": elsewhere.brand_id,
            "town": nanqiao_town.pk,
            "credit_code": elsewhere.credit_code,
            "address": "",
            "contact_person": "",
            "contact_phone": "",
        },
    )
    assert response.status_code == 200
    errors = form_errors(response)
    assert errors == [
        OUT_OF_SCOPE_DUPLICATE.format(label="企业名称"),
        OUT_OF_SCOPE_DUPLICATE.format(label="统一社会信用代码"),
    ]
    assert "已存在" not in page_text(response) and "已登记" not in page_text(response)
    assert Enterprise.objects.filter(name=elsewhere.name).count() == 1
