"""Phone and ID numbers cannot be recovered through the admin's query string: a lookup on a
sensitive field (`?id_number__startswith=3101…`, `?courier__phone__regex=…`, on any registered
admin, along any relation) is refused for staff who may not see the full value, with the same
answer whatever the data; sorting by such a field is ignored for them; searching matches only a
whole number. Every refused attempt leaves an audit entry that names the lookup, never the value.
"""

from __future__ import annotations

import logging

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.auth.models import User
from django.urls import reverse

from activities.claims import claim
from activities.models import Claim, SignUp, VolunteerPost
from activities.programmes import signups
from couriers.models import Courier
from couriers.privacy import sensitive
from couriers.privacy.admin import PersonalDataAdmin
from stations.models import SixI
from tests import factories

pytestmark = pytest.mark.django_db

PHONE = "13912345678"
ID_NUMBER = factories.id_number(seq=341)
# One value that matches the data and one that does not, per lookup: the answers must agree.
LOOKUPS = {
    "": (PHONE, "13000000000"),
    "exact": (PHONE, "13000000000"),
    "iexact": (PHONE, "13000000000"),
    "startswith": ("1391", "1300"),
    "istartswith": ("1391", "1300"),
    "endswith": ("5678", "0000"),
    "contains": ("2345", "0000"),
    "icontains": ("2345", "0000"),
    "regex": ("^1391", "^1300"),
    "iregex": ("^1391", "^1300"),
    "gt": ("139", "199"),
    "gte": ("139", "199"),
    "lt": ("1399", "1300"),
    "lte": ("1399", "1300"),
    "in": (f"{PHONE},13000000000", "13000000000"),
    "range": ("139,1399", "100,101"),
    "isnull": ("False", "True"),
}


@pytest.fixture
def world(nanqiao_town, xidu_town):
    """A 南桥 courier with the phone and ID number an attacker is after, and a 西渡 courier who
    signed up for a 南桥 activity and claimed a 南桥 post (reachable from 南桥's lists)."""
    ours = factories.courier(nanqiao_town, name="南桥小哥", phone=PHONE, id_number=ID_NUMBER)
    theirs = factories.courier(
        xidu_town, name="西渡小哥", phone="13912340000", id_number=factories.id_number(seq=342)
    )
    enterprise = factories.enterprise(nanqiao_town)
    enterprise.contact_phone = PHONE
    enterprise.save()
    activity = factories.activity(nanqiao_town)
    signups.sign_up(activity, theirs)
    post = VolunteerPost.objects.create(
        title="文明交通劝导", town=nanqiao_town, category=SixI.GOVERN, points_per_service=5
    )
    claim(post, theirs)
    return {"ours": ours, "theirs": theirs, "activity": activity}


def _relation_paths(model, prefix: str = "", depth: int = 1) -> set[str]:
    """Paths to every sensitive field of `model` and of models one relation away."""
    paths = {prefix + name for name in sensitive.field_names(model)}
    if depth:
        for field in model._meta.get_fields():
            if field.is_relation and field.related_model not in (None, model):
                name = f"{prefix}{field.name}__"
                paths |= _relation_paths(field.related_model, name, depth - 1)
    return paths


def sensitive_paths(model_admin) -> set[str]:
    """Sensitive fields of the admin's model, of models one relation away, and of every model
    on the way along the admin's list_filter paths."""
    model = model_admin.model
    paths = _relation_paths(model)
    for item in model_admin.list_filter:
        path = item[0] if isinstance(item, (list, tuple)) else item
        if not isinstance(path, str):
            continue
        steps = path.split("__")
        for i, field in enumerate(get_fields_from_path(model, path)):
            if field.is_relation and field.related_model is not None:
                paths |= _relation_paths(field.related_model, "__".join(steps[: i + 1]) + "__", 0)
    return paths


def every_admin() -> list:
    return sorted(admin.site._registry.values(), key=lambda a: a.opts.label)


def changelist(model_admin) -> str:
    return reverse(f"admin:{model_admin.opts.app_label}_{model_admin.opts.model_name}_changelist")


def refused(response) -> bool:
    if response.status_code in (400, 403):
        return True
    return response.status_code == 302 and response["Location"].endswith("?e=1")


def test_the_generic_walk_finds_the_paths_an_attacker_would_try():
    registry = admin.site._registry
    assert {"phone", "id_number"} <= sensitive_paths(registry[Courier])
    assert {"courier__phone", "courier__id_number"} <= sensitive_paths(registry[SignUp])
    assert {"courier__phone", "courier__id_number"} <= sensitive_paths(registry[Claim])
    assert "password" in sensitive_paths(registry[User])


@pytest.mark.parametrize("model_admin", every_admin(), ids=lambda a: a.opts.label)
def test_town_staff_cannot_filter_any_list_by_a_sensitive_field(nanqiao_client, world, model_admin):
    url = changelist(model_admin)
    paths = sensitive_paths(model_admin)
    answers = set()
    for path in sorted(paths):
        for lookup, values in LOOKUPS.items():
            key = f"{path}__{lookup}" if lookup else path
            for value in values:
                response = nanqiao_client.get(url, {key: value})
                assert refused(response), (key, value, response.status_code)
                answers.add((response.status_code, response.content))
    # Refused before any query: the same answer whether or not the value matches.
    assert len(answers) <= 1, (model_admin, {a[0] for a in answers})


def test_the_id_number_oracle_of_the_issue_is_closed(nanqiao_client, world):
    """The attack that recovered a full ID number in ~95 requests."""
    courier = world["ours"]
    url = reverse("admin:couriers_courier_changelist")
    right = nanqiao_client.get(url, {"id__exact": courier.pk, "id_number__startswith": "3101"})
    wrong = nanqiao_client.get(url, {"id__exact": courier.pk, "id_number__startswith": "9999"})
    assert right.status_code == wrong.status_code == 400
    assert right.content == wrong.content
    assert ID_NUMBER not in right.content.decode()


def test_staff_who_may_see_full_numbers_can_filter_and_it_is_logged(district_client, world):
    url = reverse("admin:couriers_courier_changelist")
    response = district_client.get(url, {"id_number": ID_NUMBER})
    assert response.status_code == 200
    assert [c.pk for c in response.context["cl"].result_list] == [world["ours"].pk]
    entry = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).latest("id")
    assert entry.actor.username == "district"
    assert "按身份证号码筛选" in str(entry.changes) and ID_NUMBER not in str(entry.changes)


def test_nobody_filters_staff_accounts_by_password_hash(world):
    from django.test import Client

    client = Client()
    client.force_login(User.objects.create_superuser("root", password="pw-for-tests-only"))
    url = reverse("admin:auth_user_changelist")
    assert client.get(url, {"password__startswith": "md5$"}).status_code == 400
    assert client.get(url, {"username": "root"}).status_code == 200


def test_a_refused_lookup_leaves_an_audit_entry_without_the_value(
    nanqiao_client, nanqiao, world, caplog
):
    url = reverse("admin:activities_signup_changelist")
    with caplog.at_level(logging.WARNING):
        response = nanqiao_client.get(url, {"courier__id_number__startswith": "31012019"})
    assert response.status_code == 400
    entry = LogEntry.objects.latest("id")
    assert entry.actor == nanqiao
    text = f"{entry.object_repr} {entry.changes}"
    assert "courier__id_number__startswith" in text and "31012019" not in text
    lines = [r.getMessage() for r in caplog.records if r.name == "couriers.privacy"]
    assert any("courier__id_number__startswith" in line for line in lines), lines
    assert not any("31012019" in line for line in lines)


def test_sorting_by_phone_is_ignored_for_town_staff(nanqiao_client, nanqiao_town, world):
    factories.courier(nanqiao_town, name="后登记", phone="13000000001")
    url = reverse("admin:couriers_courier_changelist")
    response = nanqiao_client.get(url)
    cl = response.context["cl"]
    column = cl.list_display.index("phone_masked")
    assert "phone_masked" not in cl.sortable_by
    default = [c.pk for c in cl.result_list]
    for order in (str(column), f"-{column}"):
        sorted_ = nanqiao_client.get(url, {"o": order}).context["cl"].result_list
        assert [c.pk for c in sorted_] == default


def test_district_staff_may_still_sort_by_phone(district_client, nanqiao_town, world):
    factories.courier(nanqiao_town, name="后登记", phone="13000000001")
    url = reverse("admin:couriers_courier_changelist")
    cl = district_client.get(url).context["cl"]
    column = cl.list_display.index("phone_masked")
    rows = district_client.get(url, {"o": str(column)}).context["cl"].result_list
    phones = [c.phone for c in rows]
    assert phones == sorted(phones)


def test_search_on_a_related_phone_matches_only_the_whole_number(nanqiao_client, world):
    """The sign-up list searches its couriers' phones: a few digits must not narrow it down."""
    url = reverse("admin:activities_signup_changelist")
    theirs = world["theirs"]
    whole = nanqiao_client.get(url, {"q": theirs.phone}).context["cl"].result_list
    assert [s.courier_id for s in whole] == [theirs.pk]
    for part in (theirs.phone[:7], theirs.phone[3:]):
        assert list(nanqiao_client.get(url, {"q": part}).context["cl"].result_list) == []


def test_the_courier_search_box_still_finds_a_whole_id_number_or_phone(nanqiao_client, world):
    url = reverse("admin:couriers_courier_changelist")
    for term in (ID_NUMBER, PHONE, "139 1234 5678"):
        rows = nanqiao_client.get(url, {"q": term}).context["cl"].result_list
        assert [c.pk for c in rows] == [world["ours"].pk], term


def test_every_registered_admin_goes_through_the_guard():
    unguarded = [
        a.opts.label for a in admin.site._registry.values() if not isinstance(a, PersonalDataAdmin)
    ]
    assert unguarded == []


def test_the_fields_masked_in_the_audit_log_are_the_sensitive_ones():
    assert set(settings.AUDITLOG_MASK_TRACKING_FIELDS) == set(sensitive.SENSITIVE_FIELDS)
