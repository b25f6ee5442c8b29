"""Personal data in the admin, for every registered ModelAdmin (the site adds the mixin to each):

- sensitive fields (couriers.privacy.sensitive: phone and ID numbers …) cannot be used in the
  query string by staff who may not see them in full: a filter on one, along any relation and
  with any lookup, is refused (400) before any query runs, so the answer never depends on the
  data, and the attempt is recorded in the audit log without the value; sorting by one is
  ignored; a search on one matches the whole number only.
"""

from __future__ import annotations

import functools
import logging
import re

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db.models import F, OrderBy
from django.db.models.constants import LOOKUP_SEP

from couriers.privacy import sensitive

logger = logging.getLogger("couriers.privacy")


def _refuse(request, model, lookup: str) -> None:
    """A refused lookup is an attempt at personal data: log it (the lookup, never its value,
    digits masked in case a guess was typed into the name)."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from couriers.security.ratelimit import client_address

    shown = re.sub(r"\d", "#", lookup)[:100]
    logger.warning(
        "refused admin lookup %s on %s by %s", shown, model._meta.label, request.user.get_username()
    )
    LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(model),
        object_pk="*",
        object_repr=f"拒绝的查询条件：{shown}"[:200],
        action=LogEntry.Action.ACCESS,
        actor=request.user if request.user.is_authenticated else None,
        remote_addr=client_address(request) or None,
        changes={"拒绝的查询条件": [shown, "无权查看完整内容，已拒绝"]},
    )


def _order_name(order) -> str | None:
    """The field path of an admin ordering ("phone", "-courier__phone", F("phone").asc())."""
    if isinstance(order, OrderBy):
        order = order.expression
    if isinstance(order, F):
        order = order.name
    return order if isinstance(order, str) else None


@functools.cache
def _guarded_sorting(changelist_class):
    class ChangeList(changelist_class):
        # ?o= sorts by any column's index, whether or not its header offers sorting.
        def __init__(self, request, *args, **kwargs):
            self.sorting_user = request.user
            super().__init__(request, *args, **kwargs)

        def get_ordering_field(self, field_name):
            order = super().get_ordering_field(field_name)
            name = _order_name(order)
            if name and sensitive.hidden_from(self.sorting_user, self.model, name):
                return None
            return order

    return ChangeList


class PersonalDataAdmin(admin.ModelAdmin):
    """Mixed into every registered ModelAdmin by `PortalAdminSite` (TownScopedAdmin too)."""

    # --- the query string ---------------------------------------------------------------------

    def lookup_allowed(self, lookup, value, request=None):
        step = sensitive.sensitive_step(self.model, lookup)
        if step is None:
            return super().lookup_allowed(lookup, value, request)
        field = step[1]
        if request is None or not sensitive.may_see_full(request.user, field.name):
            if request is not None:
                _refuse(request, self.model, lookup)
            return False
        allowed = super().lookup_allowed(lookup, value, request)
        if allowed:
            from couriers.privacy import audit

            # Filtering by a full number is looking at it: recorded, like the reveal link.
            audit.log_access(request, self.model, f"按{field.verbose_name}筛选")
        return allowed

    def _order_path(self, name) -> str | None:
        """The field a list_display column sorts by, as ChangeList.get_ordering_field finds it."""
        if callable(name):
            attr = name
        else:
            try:
                return self.opts.get_field(name).name
            except FieldDoesNotExist:
                attr = getattr(self, name, None) or getattr(self.model, name, None)
            if attr is None:
                return name if LOOKUP_SEP in name else None
        if isinstance(attr, property):
            attr = attr.fget
        return _order_name(getattr(attr, "admin_order_field", None))

    def get_sortable_by(self, request):
        return [
            name
            for name in super().get_sortable_by(request)
            if not (
                (order := self._order_path(name))
                and sensitive.hidden_from(request.user, self.model, order)
            )
        ]

    def get_changelist(self, request, **kwargs):
        return _guarded_sorting(super().get_changelist(request, **kwargs))

    def get_search_fields(self, request):
        fields = []
        for name in super().get_search_fields(request):
            bare = name.lstrip("^=@")
            if sensitive.hidden_from(request.user, self.model, bare):
                name = f"={bare}"  # the whole number, never a part of it
            fields.append(name)
        return fields


def with_personal_data_guard(admin_class):
    """`admin_class` with PersonalDataAdmin in front, unless it already has it."""
    if issubclass(admin_class, PersonalDataAdmin):
        return admin_class
    return type(
        admin_class.__name__,
        (PersonalDataAdmin, admin_class),
        {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__},
    )


class PortalAdminSite(admin.AdminSite):
    """The admin site (fengxian.apps.PortalAdminConfig): every ModelAdmin registered on it,
    the project's, Django's and third-party apps', goes through PersonalDataAdmin."""

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = with_personal_data_guard(admin_class or admin.ModelAdmin)
        return super().register(model_or_iterable, admin_class, **options)
