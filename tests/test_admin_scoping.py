"""Town scoping in the admin: town staff see and change only their own town.

Every scoped screen is tested for the outsider (404 or absent), not only for the insider.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User

from couriers.models import Community, Courier, Enterprise, Outlet
from tests import factories

pytestmark = pytest.mark.django_db

ADMIN = "/admin/couriers"


@pytest.fixture
def registry(nanqiao_town, xidu_town):
    """One of each registry record in 南桥镇 (ours) and in 西渡街道 (theirs)."""
    data = {}
    for key, town in (("ours", nanqiao_town), ("theirs", xidu_town)):
        enterprise = factories.enterprise(town, name=f"{town.short_name}示例快递有限公司")
        outlet = factories.outlet(town, enterprise, name=f"{town.short_name}示例网点")
        community = factories.community(town, name=f"{town.short_name}示例居委会")
        org = factories.party_org(town, name=f"{town.short_name}示例党支部")
        courier = factories.courier(
            town,
            name=f"{town.short_name}小哥",
            outlet=outlet,
            enterprise=enterprise,
            brand=enterprise.brand,
            residence_community=community,
            id_number=factories.id_number(seq=100 if key == "ours" else 200),
        )
        data[key] = {
            "enterprise": enterprise,
            "outlet": outlet,
            "community": community,
            "partyorganization": org,
            "courier": courier,
        }
    return data


SCOPED_MODELS = ["courier", "outlet", "enterprise", "community", "partyorganization"]


@pytest.mark.parametrize("model", SCOPED_MODELS)
def test_town_staff_changelist_lists_only_their_town(nanqiao_client, registry, model):
    html = nanqiao_client.get(f"{ADMIN}/{model}/").content.decode()
    assert str(registry["ours"][model]) in html
    assert str(registry["theirs"][model]) not in html


@pytest.mark.parametrize("model", SCOPED_MODELS)
def test_district_staff_changelist_lists_every_town(district_client, registry, model):
    html = district_client.get(f"{ADMIN}/{model}/").content.decode()
    assert str(registry["ours"][model]) in html
    assert str(registry["theirs"][model]) in html


@pytest.mark.parametrize("model", SCOPED_MODELS)
@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_town_staff_cannot_open_another_towns_record(nanqiao_client, registry, model, view):
    theirs = registry["theirs"][model]
    assert nanqiao_client.get(f"{ADMIN}/{model}/{theirs.pk}/{view}/").status_code == 404
    ours = registry["ours"][model]
    assert nanqiao_client.get(f"{ADMIN}/{model}/{ours.pk}/{view}/").status_code == 200


@pytest.mark.parametrize("model", SCOPED_MODELS)
def test_town_staff_cannot_delete_another_towns_record(nanqiao_client, registry, model):
    theirs = registry["theirs"][model]
    response = nanqiao_client.post(f"{ADMIN}/{model}/{theirs.pk}/delete/", {"post": "yes"})
    assert response.status_code == 404
    assert type(theirs).objects.filter(pk=theirs.pk).exists()


def test_town_staff_bulk_delete_action_ignores_other_towns(nanqiao_client, registry):
    theirs = registry["theirs"]["courier"]
    nanqiao_client.post(
        f"{ADMIN}/courier/",
        {
            "action": "delete_selected",
            "_selected_action": [theirs.pk],
            "post": "yes",
        },
    )
    assert Courier.objects.filter(pk=theirs.pk).exists()


def test_town_staff_cannot_edit_another_towns_courier(nanqiao_client, registry):
    theirs = registry["theirs"]["courier"]
    response = nanqiao_client.post(f"{ADMIN}/courier/{theirs.pk}/change/", {"name": "改名"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "西渡小哥"


def _options(html: str, select_name: str) -> list[str]:
    select = re.search(rf'<select name="{select_name}".*?</select>', html, re.S).group(0)
    return [
        label.strip()
        for label in re.findall(r"<option[^>]*>([^<]*)</option>", select)
        if label.strip() != "---------"
    ]


def test_town_dropdown_offers_only_their_own_town(nanqiao_client, district_client, registry):
    html = nanqiao_client.get(f"{ADMIN}/courier/add/").content.decode()
    assert _options(html, "work_town") == ["南桥镇"]
    html = nanqiao_client.get(f"{ADMIN}/outlet/add/").content.decode()
    assert _options(html, "town") == ["南桥镇"]
    html = district_client.get(f"{ADMIN}/courier/add/").content.decode()
    assert len(_options(html, "work_town")) == 11


@pytest.mark.parametrize(
    ("model_name", "field_name", "key"),
    [
        ("courier", "outlet", "outlet"),
        ("courier", "enterprise", "enterprise"),
        ("courier", "residence_community", "community"),
        ("courier", "managing_organization", "partyorganization"),
        ("outlet", "enterprise", "enterprise"),
        ("outlet", "community", "community"),
    ],
)
def test_autocomplete_finds_only_their_towns_objects(
    nanqiao_client, district_client, registry, model_name, field_name, key
):
    url = (
        f"/admin/autocomplete/?app_label=couriers&model_name={model_name}"
        f"&field_name={field_name}&term=示例"
    )
    ids = {r["id"] for r in nanqiao_client.get(url).json()["results"]}
    assert ids == {str(registry["ours"][key].pk)}
    ids = {r["id"] for r in district_client.get(url).json()["results"]}
    assert ids == {str(registry["ours"][key].pk), str(registry["theirs"][key].pk)}


def _filter_choices(client, url: str, field: str) -> list[str]:
    specs = client.get(url).context["cl"].filter_specs
    spec = next(s for s in specs if getattr(s, "field_path", None) == field)
    return [label for _, label in spec.lookup_choices]


def test_town_list_filter_offers_only_their_town(nanqiao_client, district_client, registry):
    assert _filter_choices(nanqiao_client, f"{ADMIN}/courier/", "work_town") == ["南桥镇"]
    assert _filter_choices(nanqiao_client, f"{ADMIN}/outlet/", "town") == ["南桥镇"]
    assert len(_filter_choices(district_client, f"{ADMIN}/courier/", "work_town")) == 11
    # Filters along a relation path are scoped too; brands belong to no town.
    brand = registry["ours"]["enterprise"].brand.name
    assert _filter_choices(nanqiao_client, f"{ADMIN}/outlet/", "enterprise__brand") == [brand]


def test_filtering_to_another_town_shows_nothing(nanqiao_client, registry, xidu_town):
    response = nanqiao_client.get(f"{ADMIN}/courier/?work_town__id__exact={xidu_town.pk}")
    assert list(response.context["cl"].result_list) == []
    response = nanqiao_client.get(f"{ADMIN}/outlet/?town__id__exact={xidu_town.pk}")
    assert list(response.context["cl"].result_list) == []


def test_search_does_not_reach_another_town(nanqiao_client, registry):
    theirs = registry["theirs"]["courier"]
    response = nanqiao_client.get(f"{ADMIN}/courier/", {"q": theirs.phone})
    assert list(response.context["cl"].result_list) == []
    response = nanqiao_client.get(f"{ADMIN}/courier/", {"q": "西渡"})
    assert list(response.context["cl"].result_list) == []


def test_town_staff_add_courier_in_own_town_normalises_phone(nanqiao_client, nanqiao_town):
    data = factories.courier_admin_form(nanqiao_town, phone="139 8888 0001")
    response = nanqiao_client.post(f"{ADMIN}/courier/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Courier.objects.get(name="新小哥").phone == "13988880001"


def test_town_staff_cannot_add_a_courier_to_another_town(nanqiao_client, xidu_town):
    response = nanqiao_client.post(f"{ADMIN}/courier/add/", factories.courier_admin_form(xidu_town))
    assert response.status_code == 200
    assert "work_town" in response.context["adminform"].form.errors
    assert not Courier.objects.filter(name="新小哥").exists()


def test_town_staff_cannot_move_their_courier_to_another_town(nanqiao_client, registry, xidu_town):
    ours = registry["ours"]["courier"]
    data = factories.courier_admin_form(xidu_town, name=ours.name, phone=ours.phone)
    response = nanqiao_client.post(f"{ADMIN}/courier/{ours.pk}/change/", data)
    assert "work_town" in response.context["adminform"].form.errors
    ours.refresh_from_db()
    assert ours.work_town.name == "南桥镇"


def test_town_staff_cannot_pick_another_towns_outlet_by_id(nanqiao_client, registry, nanqiao_town):
    theirs = registry["theirs"]["outlet"]
    response = nanqiao_client.post(
        f"{ADMIN}/courier/add/", factories.courier_admin_form(nanqiao_town, outlet=theirs.pk)
    )
    assert "outlet" in response.context["adminform"].form.errors
    assert not Courier.objects.filter(name="新小哥").exists()


def test_town_staff_cannot_add_enterprise_or_community_elsewhere(
    nanqiao_client, registry, xidu_town
):
    brand = registry["ours"]["enterprise"].brand
    nanqiao_client.post(
        f"{ADMIN}/enterprise/add/",
        {
            "name": "越界企业",
            "brand": brand.pk,
            "town": xidu_town.pk,
            "credit_code": "",
            "address": "",
            "contact_person": "",
            "contact_phone": "",
        },
    )
    nanqiao_client.post(
        f"{ADMIN}/community/add/", {"name": "越界居委会", "town": xidu_town.pk, "kind": "residents"}
    )
    assert not Enterprise.objects.filter(name="越界企业").exists()
    assert not Community.objects.filter(name="越界居委会").exists()


def test_changelist_masks_phone_and_id_number(district_client, registry):
    html = district_client.get(f"{ADMIN}/courier/").content.decode()
    courier = registry["ours"]["courier"]
    assert courier.masked_phone in html
    assert courier.masked_id_number in html
    assert not re.search(r"1[3-9]\d{9}", html)
    assert not re.search(r"\d{17}[\dXx]", html)


def test_search_by_phone_typed_any_way_finds_the_courier(district_client, registry):
    ours = registry["ours"]["courier"]
    typed = f"{ours.phone[:3]} {ours.phone[3:7]}-{ours.phone[7:]}"
    response = district_client.get(f"{ADMIN}/courier/", {"q": typed})
    assert list(response.context["cl"].result_list) == [ours]
    response = district_client.get(f"{ADMIN}/courier/", {"q": ours.phone[:7]})
    assert ours in response.context["cl"].result_list
    response = district_client.get(f"{ADMIN}/courier/", {"q": ours.id_number.lower()})
    assert list(response.context["cl"].result_list) == [ours]


def test_town_staff_see_id_number_masked_and_can_keep_it(nanqiao_client, registry, nanqiao_town):
    ours = registry["ours"]["courier"]
    html = nanqiao_client.get(f"{ADMIN}/courier/{ours.pk}/change/").content.decode()
    assert ours.id_number not in html
    assert ours.masked_id_number in html
    data = factories.courier_admin_form(
        nanqiao_town,
        name="改过名",
        phone=ours.phone,
        outlet=ours.outlet_id,
        enterprise=ours.enterprise_id,
        brand=ours.brand_id,
        gender="",
        birth_date="",
    )
    response = nanqiao_client.post(f"{ADMIN}/courier/{ours.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    ours.refresh_from_db()
    assert ours.name == "改过名"
    assert ours.id_number == factories.id_number(seq=100)
    assert ours.birth_date.isoformat() == "1990-05-21"  # filled in from the kept ID number


def test_district_staff_see_the_full_id_number_on_request_and_it_is_logged(
    district, district_client, registry, nanqiao_client
):
    from auditlog.models import LogEntry

    ours = registry["ours"]["courier"]
    form = district_client.get(f"{ADMIN}/courier/{ours.pk}/change/").content.decode()
    assert ours.id_number not in form  # masked until asked for
    reveal = f"{ADMIN}/courier/{ours.pk}/id-number/"
    assert reveal in form
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()

    response = district_client.get(reveal)
    assert ours.id_number in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    entry = LogEntry.objects.get(action=LogEntry.Action.ACCESS)
    assert entry.actor == district and entry.object_id == ours.pk
    # Town staff may not see full numbers, not even in their own town.
    assert nanqiao_client.get(reveal).status_code == 403


def _export_csv(client) -> str:
    url = f"{ADMIN}/courier/export/"
    form = client.get(url).context["form"]
    csv_index = next(
        value for value, label in form.fields["format"].choices if str(label).lower() == "csv"
    )
    data = {"format": csv_index, "resource": 0}
    data.update({name: "on" for name in form.fields if name.startswith("courierresource_")})
    response = client.post(url, data)
    assert response.status_code == 200
    return response.content.decode("utf-8-sig")


def test_town_staff_export_contains_only_their_town_with_masked_ids(nanqiao_client, registry):
    csv = _export_csv(nanqiao_client)
    assert "南桥小哥" in csv
    assert "西渡小哥" not in csv
    assert "工作街镇" in csv.splitlines()[0]
    assert registry["ours"]["courier"].masked_id_number in csv
    assert registry["ours"]["courier"].id_number not in csv


def test_district_export_contains_every_town_with_full_ids(district_client, registry):
    csv = _export_csv(district_client)
    assert "南桥小哥" in csv and "西渡小哥" in csv
    assert registry["theirs"]["courier"].id_number in csv


def test_staff_without_a_profile_see_no_couriers(registry):
    user = User.objects.create_user("noprofile", password="x", is_staff=True)
    user.user_permissions.add(*factories.Group.objects.get(name="街镇管理员").permissions.all())
    from django.test import Client

    client = Client()
    client.force_login(user)
    response = client.get(f"{ADMIN}/courier/")
    assert list(response.context["cl"].result_list) == []


def test_town_staff_cannot_manage_towns_or_brands(nanqiao_client, registry):
    assert nanqiao_client.get(f"{ADMIN}/town/add/").status_code == 403
    assert nanqiao_client.get(f"{ADMIN}/brand/add/").status_code == 403
    assert nanqiao_client.get("/admin/auth/user/").status_code == 403


def test_anonymous_visitor_is_sent_to_login(anonymous, registry):
    response = anonymous.get(f"{ADMIN}/courier/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_outlet_and_community_are_not_scoped_by_accident(nanqiao_town):
    # Guard for the mixin: every town-owned registry model declares where its town is.
    for model in (Courier, Outlet, Enterprise, Community):
        assert model.town_lookup
