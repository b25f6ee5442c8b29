"""Issue 15, item 11: staff find the 待核实 outlets and enterprises a census registered, mark
them verified, or merge one into the record it really is — moving its couriers and everything
else that points at it, in one transaction, town-scoped through every path, audited."""

from __future__ import annotations

import datetime

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from couriers.models import Courier, Enterprise, Outlet, Verification, Visit
from couriers.references import MergeRefused, merge_into
from tests import factories

pytestmark = pytest.mark.django_db

OUTLETS = "/admin/couriers/outlet/"
ENTERPRISES = "/admin/couriers/enterprise/"


@pytest.fixture
def pair(nanqiao_town, district):
    """A registered outlet and a 待核实 near-twin of it in 南桥镇, both of 极兔, with couriers
    and a visit on the pending one."""
    jt = factories.brand("极兔")
    real = factories.enterprise(nanqiao_town, name="上海南桥极兔快递有限公司", of_brand=jt)
    target = factories.outlet(nanqiao_town, real, name="极兔南桥2部")
    placeholder = factories.enterprise(nanqiao_town, name="极兔·南桥镇（待核实）", of_brand=jt)
    Enterprise.objects.filter(pk=placeholder.pk).update(verification=Verification.PENDING)
    source = factories.outlet(nanqiao_town, placeholder, name="极兔南桥二部")
    Outlet.objects.filter(pk=source.pk).update(verification=Verification.PENDING)
    for n in range(3):
        factories.courier(
            nanqiao_town,
            name=f"小哥{n}",
            outlet=source,
            enterprise=placeholder,
            brand=jt,
        )
    Visit.objects.create(
        outlet=source,
        town=nanqiao_town,
        staff=district,
        date=datetime.date(2025, 3, 1),
        needs_answer="需要休息点",
    )
    source.refresh_from_db()
    return source, target


def action(client, url: str, name: str, ids: list[int], **extra):
    data = {"action": name, "_selected_action": [str(i) for i in ids], "index": "0", **extra}
    return client.post(url, data, follow=True)


def test_pending_outlets_have_a_list_filter(pair, nanqiao_client):
    source, target = pair
    html = nanqiao_client.get(f"{OUTLETS}?verification__exact=pending").content.decode()
    assert "待核实" in html
    assert source.name in html and target.name not in html


def test_merge_page_offers_same_brand_targets_in_the_users_town(pair, nanqiao_client, xidu_town):
    source, target = pair
    elsewhere = factories.outlet(xidu_town, target.enterprise, name="极兔西渡1部")
    other_brand = factories.outlet(source.town, name="中通南桥网点")
    page = action(nanqiao_client, OUTLETS, "merge", [source.pk])
    choices = page.context["form"].fields["target"].queryset
    assert target in choices
    assert elsewhere not in choices and other_brand not in choices and source not in choices
    assert "确认合并" in page.content.decode()


def test_merge_moves_couriers_and_visits_deletes_the_source_and_audits(pair, nanqiao_client):
    source, target = pair
    page = action(nanqiao_client, OUTLETS, "merge", [source.pk], target=str(target.pk))
    assert "合并到“极兔南桥2部”，转入 4 条记录" in page.content.decode()
    assert not Outlet.objects.filter(pk=source.pk).exists()
    moved = Courier.objects.filter(name__startswith="小哥")
    assert set(moved.values_list("outlet", "enterprise", "brand")) == {
        (target.pk, target.enterprise_id, target.enterprise.brand_id)
    }
    assert Visit.objects.get().outlet == target
    [entry] = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Outlet),
        object_pk=str(target.pk),
        action=LogEntry.Action.UPDATE,
    )
    assert entry.changes["合并网点"] == [
        f"极兔南桥二部（#{source.pk}）",
        f"极兔南桥2部（#{target.pk}）",
    ]
    assert entry.actor.username == "nanqiao"


def test_another_towns_target_is_refused(pair, nanqiao_client, xidu_town):
    source, target = pair
    elsewhere = factories.outlet(xidu_town, target.enterprise, name="极兔西渡1部")
    page = action(nanqiao_client, OUTLETS, "merge", [source.pk], target=str(elsewhere.pk))
    assert "确认合并" in page.content.decode()  # the form again, with its error
    assert page.context["form"].errors
    assert Outlet.objects.filter(pk=source.pk).exists()
    assert not Outlet.objects.get(pk=elsewhere.pk).couriers.exists()


def test_another_towns_source_is_not_found(pair, xidu_client, xidu_town):
    source, target = pair
    mine = factories.outlet(xidu_town, target.enterprise, name="极兔西渡1部")
    page = action(xidu_client, OUTLETS, "merge", [source.pk], target=str(mine.pk))
    assert Outlet.objects.filter(pk=source.pk).exists()  # not in xidu's queryset: untouched
    assert not mine.couriers.exists()
    assert "确认合并" not in page.content.decode()


def test_merge_into_itself_checks_the_actors_town(pair, xidu):
    source, target = pair
    with pytest.raises(MergeRefused, match="只能合并本街镇"):
        merge_into(source, target, xidu)
    assert Outlet.objects.filter(pk=source.pk).exists()


def test_merge_of_different_brands_is_refused(pair, district):
    source, _ = pair
    other = factories.outlet(source.town, name="中通南桥网点")
    with pytest.raises(MergeRefused, match="品牌不同"):
        merge_into(source, other, district)


def test_a_clash_rolls_the_whole_merge_back(pair, district):
    source, target = pair
    # The same staff member visited both outlets on one day: the visits cannot both move.
    Visit.objects.create(
        outlet=target,
        town=target.town,
        staff=district,
        date=datetime.date(2025, 3, 1),
        needs_answer="另一次",
    )
    with pytest.raises(MergeRefused, match="不能并存"):
        merge_into(source, target, district)
    assert Outlet.objects.filter(pk=source.pk).exists()
    assert source.couriers.count() == 3  # the couriers moved first are back


def test_merging_the_placeholder_enterprise_moves_its_outlets(pair, district_client):
    source, target = pair
    placeholder = source.enterprise
    page = action(
        district_client, ENTERPRISES, "merge", [placeholder.pk], target=str(target.enterprise_id)
    )
    assert "已将 1 个加盟企业合并到" in page.content.decode()
    source.refresh_from_db()
    assert source.enterprise == target.enterprise
    assert set(Courier.objects.values_list("enterprise", flat=True)) == {target.enterprise_id}
    assert not Enterprise.objects.filter(pk=placeholder.pk).exists()


def test_mark_verified(pair, nanqiao_client):
    source, _ = pair
    action(nanqiao_client, OUTLETS, "mark_verified", [source.pk])
    source.refresh_from_db()
    assert source.verification == Verification.VERIFIED
    assert LogEntry.objects.filter(object_pk=str(source.pk), action=LogEntry.Action.UPDATE).exists()


def test_town_staff_cannot_verify_another_towns_outlet(pair, xidu_client):
    source, _ = pair
    action(xidu_client, OUTLETS, "mark_verified", [source.pk])
    source.refresh_from_db()
    assert source.verification == Verification.PENDING
