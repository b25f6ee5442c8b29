"""Migrations are complete, and every migrate leaves the staff groups in place."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from couriers.roles import DISTRICT_ADMIN, TOWN_ADMIN

pytestmark = pytest.mark.django_db


def test_no_missing_migrations():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_staff_groups_exist_with_the_right_permissions():
    district = set(
        Group.objects.get(name=DISTRICT_ADMIN).permissions.values_list("codename", flat=True)
    )
    town = set(Group.objects.get(name=TOWN_ADMIN).permissions.values_list("codename", flat=True))
    assert {"change_courier", "delete_town", "view_full_id_number", "change_brand"} <= district
    assert {"add_courier", "change_courier", "delete_outlet", "view_town", "view_brand"} <= town
    assert not town & {"change_town", "add_brand", "view_full_id_number", "view_staffprofile"}
