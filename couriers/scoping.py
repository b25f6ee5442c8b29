"""Town scoping: which records a staff user may see.

District staff (a StaffProfile without a town) and superusers see the whole district; town
staff see only their own town; a staff account with no profile sees nothing until a superuser
gives it one, so a forgotten profile never exposes the whole district.

Every model that belongs to a town sets `town_lookup` (the ORM path to its Town) and uses
`TownScopedQuerySet`; the admin mixin in `couriers.admin_scoping` builds on `for_user()`, and
every staff page outside the admin's own screens (posters, QR sheets, import jobs, private
files …) finds its object through `staff_object_or_404`, the same rule.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404
from django.shortcuts import get_object_or_404

ALL_TOWNS = object()  # sentinel: no town restriction


def staff_town_id(user) -> int | object | None:
    """The id of the town `user` is limited to, ALL_TOWNS, or None when they may see nothing."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return None
    if user.is_superuser:
        return ALL_TOWNS
    # Reverse one-to-one raises RelatedObjectDoesNotExist (an AttributeError) when missing.
    profile = getattr(user, "staff_profile", None)
    if profile is None:
        return None
    return ALL_TOWNS if profile.town_id is None else profile.town_id


def is_town_scoped(model) -> bool:
    return getattr(model, "town_lookup", None) is not None


def town_id_of(record) -> int | None:
    """The id of the town `record` belongs to, along its model's `town_lookup`: the rule of
    `for_user()` for code that holds records rather than querysets (the spreadsheet imports)."""
    *path, last = record.town_lookup.split("__")
    for step in path:
        record = getattr(record, step)
        if record is None:
            return None
    return record.pk if last == "pk" else getattr(record, f"{last}_id")


class TownScopedQuerySet(models.QuerySet):
    def in_town(self, town) -> TownScopedQuerySet:
        return self.filter(**{self.model.town_lookup: town})

    def for_user(self, user) -> TownScopedQuerySet:
        town_id = staff_town_id(user)
        if town_id is ALL_TOWNS:
            return self
        if town_id is None:
            return self.none()
        return self.in_town(town_id)


def scoped(queryset, user):
    """`queryset` limited to `user`'s towns when its model belongs to a town."""
    if is_town_scoped(queryset.model):
        return queryset.for_user(user)
    return queryset


def staff_object_or_404(user, queryset, **lookups):
    """The one object lookup of staff pages: the object if `user` is staff who may view its
    model and it lies in their town (the admin's get_queryset rule), else 404, so a page
    never tells another town's staff that a record exists."""
    opts = queryset.model._meta
    may_view = staff_town_id(user) is not None and (
        user.has_perm(f"{opts.app_label}.view_{opts.model_name}")
        or user.has_perm(f"{opts.app_label}.change_{opts.model_name}")
    )
    if not may_view:
        raise Http404
    try:
        return get_object_or_404(scoped(queryset, user), **lookups)
    except (ValueError, ValidationError):  # a malformed id finds nothing either
        raise Http404 from None
