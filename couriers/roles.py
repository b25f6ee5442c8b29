"""Staff groups and their permissions, kept in step with the models after every migrate.

区级管理员 may do everything with the portal's own models (and see full ID numbers).
街镇管理员 may add, change and delete records of models that belong to a town (within their
town, enforced by the admin's scoping) and view the rest. A later app's models get the right
permissions by declaring `town_lookup`, with no change here.
"""

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from couriers.scoping import is_town_scoped

DISTRICT_ADMIN = "区级管理员"
TOWN_ADMIN = "街镇管理员"
PORTAL_APPS = ("couriers", "stations", "activities")
# Reference data that town staff read but do not edit.
TOWN_READ_ONLY = {("couriers", "town")}
# Records that only the system writes (imports write their own job records).
SYSTEM_WRITTEN = {("couriers", "importjob")}
# Staff accounts and their towns are managed by superusers only.
SUPERUSER_ONLY = {("couriers", "staffprofile")}


def _town_admin_codenames(model) -> set[str]:
    name = model._meta.model_name
    label = (model._meta.app_label, name)
    if is_town_scoped(model) and label not in TOWN_READ_ONLY | SYSTEM_WRITTEN:
        return {f"{action}_{name}" for action in ("add", "change", "delete", "view", "import")}
    return {f"view_{name}"}


def sync_role_groups(**kwargs) -> None:
    """Create or update the two staff groups; safe to run any number of times."""
    district = Group.objects.get_or_create(name=DISTRICT_ADMIN)[0]
    town = Group.objects.get_or_create(name=TOWN_ADMIN)[0]
    district_perms, town_perms = [], []
    for app_label in PORTAL_APPS:
        for model in apps.get_app_config(app_label).get_models():
            if (app_label, model._meta.model_name) in SUPERUSER_ONLY:
                continue
            ct = ContentType.objects.get_for_model(model)
            perms = list(Permission.objects.filter(content_type=ct))
            if (app_label, model._meta.model_name) in SYSTEM_WRITTEN:
                district_perms += [p for p in perms if p.codename.startswith("view_")]
            else:
                district_perms += perms
            wanted = _town_admin_codenames(model)
            town_perms += [p for p in perms if p.codename in wanted]
    district.permissions.set(district_perms)
    town.permissions.set(town_perms)
