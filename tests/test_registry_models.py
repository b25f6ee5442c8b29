"""The registry's models: seeded towns, normalised identifiers, integrity in the database."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from couriers.models import Brand, Courier, Town
from tests import factories

pytestmark = pytest.mark.django_db


def test_fengxian_towns_are_seeded_by_migration():
    names = list(Town.objects.values_list("name", flat=True))
    assert names == [
        "南桥镇",
        "奉城镇",
        "庄行镇",
        "金汇镇",
        "四团镇",
        "青村镇",
        "柘林镇",
        "海湾镇",
        "西渡街道",
        "奉浦街道",
        "金海街道",
    ]
    assert Town.objects.get(name="西渡街道").short_name == "西渡"


def _unsaved(**fields) -> Courier:
    fields.setdefault("work_town", factories.town("南桥镇"))
    fields.setdefault("name", "李强")
    return Courier(**fields)


def test_full_clean_stores_phone_as_eleven_digits():
    courier = _unsaved(phone="+86 139-0000-1111")
    courier.full_clean()
    courier.save()
    assert Courier.objects.get().phone == "13900001111"


def test_duplicate_phone_written_differently_is_caught():
    factories.courier(factories.town("南桥镇"), phone="13900001111")
    courier = _unsaved(phone="139 0000 1111")
    with pytest.raises(ValidationError) as caught:
        courier.full_clean()
    assert "该手机号码已登记。" in caught.value.messages


def test_duplicate_id_number_is_caught_and_blank_ids_are_not_duplicates():
    nanqiao = factories.town("南桥镇")
    factories.courier(nanqiao, id_number=factories.id_number())
    factories.courier(nanqiao)
    factories.courier(nanqiao)  # two blank ID numbers are fine
    courier = _unsaved(phone=factories.phone(), id_number=factories.id_number().lower())
    with pytest.raises(ValidationError) as caught:
        courier.full_clean()
    assert "该身份证号码已登记。" in caught.value.messages


def test_birth_date_and_gender_are_taken_from_the_id_number():
    courier = _unsaved(phone=factories.phone(), id_number=factories.id_number("19900521", 123))
    courier.full_clean()
    assert courier.birth_date == datetime.date(1990, 5, 21)
    assert courier.gender == "M"  # 17th digit 3 is odd


def test_birth_date_contradicting_the_id_number_is_an_error():
    courier = _unsaved(
        phone=factories.phone(),
        id_number=factories.id_number("19900521"),
        birth_date=datetime.date(1991, 1, 1),
    )
    with pytest.raises(ValidationError) as caught:
        courier.full_clean()
    assert "出生日期与身份证号码不一致" in caught.value.message_dict["birth_date"][0]


def test_invalid_id_number_reports_one_clear_error():
    courier = _unsaved(phone=factories.phone(), id_number="310120199005211230")
    with pytest.raises(ValidationError) as caught:
        courier.full_clean()
    assert list(caught.value.message_dict) == ["id_number"]
    assert "校验位" in caught.value.message_dict["id_number"][0]


def test_brand_and_enterprise_follow_the_outlet():
    nanqiao = factories.town("南桥镇")
    outlet = factories.outlet(nanqiao)
    courier = _unsaved(phone=factories.phone(), outlet=outlet)
    courier.full_clean()
    assert courier.enterprise == outlet.enterprise
    assert courier.brand == outlet.enterprise.brand


def test_outlet_of_another_enterprise_is_rejected():
    nanqiao = factories.town("南桥镇")
    courier = _unsaved(
        phone=factories.phone(),
        outlet=factories.outlet(nanqiao),
        enterprise=factories.enterprise(nanqiao),
    )
    with pytest.raises(ValidationError) as caught:
        courier.full_clean()
    assert "该网点不属于所选加盟企业。" in caught.value.message_dict["outlet"]


def test_mobile_member_must_be_a_party_member_in_form_and_database():
    courier = _unsaved(
        phone=factories.phone(), is_mobile_party_member=True, membership_location="安徽省临泉县"
    )
    with pytest.raises(ValidationError) as caught:
        courier.full_clean()
    assert "只有党员" in caught.value.message_dict["is_mobile_party_member"][0]
    with pytest.raises(IntegrityError), transaction.atomic():
        courier.save()


def test_mobile_member_needs_where_membership_is_held():
    courier = _unsaved(
        phone=factories.phone(),
        is_mobile_party_member=True,
        political_status=Courier.PoliticalStatus.MEMBER,
    )
    with pytest.raises(ValidationError) as caught:
        courier.full_clean()
    assert "组织关系所在地" in caught.value.message_dict["membership_location"][0]


def test_brand_matches_its_aliases_ignoring_case_and_spaces():
    sf = factories.brand("顺丰", aliases="顺丰速运\nSF顺丰")
    factories.brand("极兔", aliases="J&T极兔")
    assert Brand.objects.match(" sf顺丰 ") == sf
    assert Brand.objects.match("顺丰") == sf
    assert Brand.objects.match("J&T 极兔").name == "极兔"
    assert Brand.objects.match("不存在的快递") is None


def test_str_masks_the_phone():
    courier = factories.courier(factories.town("南桥镇"), name="王芳", phone="13912345678")
    assert str(courier) == "王芳（139****5678）"


def test_headline_figures_count_members_and_managed_members():
    nanqiao = factories.town("南桥镇")
    org = factories.party_org(nanqiao)
    factories.courier(
        nanqiao, political_status=Courier.PoliticalStatus.MEMBER, managing_organization=org
    )
    factories.courier(nanqiao, political_status=Courier.PoliticalStatus.PROBATIONARY)
    factories.courier(
        nanqiao, political_status=Courier.PoliticalStatus.ACTIVIST, managing_organization=org
    )
    factories.courier(nanqiao)
    figures = Courier.objects.headline_figures()
    assert figures["couriers"] == 4
    assert figures["party_members"] == 2
    assert figures["managed_members"] == 1
