"""Personal data in the admin, for every registered ModelAdmin (the site adds the mixin to each):

- sensitive fields (couriers.privacy.sensitive: phone and ID numbers …) cannot be used in the
  query string by staff who may not see them in full: a filter on one, along any relation and
  with any lookup, is refused (400) before any query runs, so the answer never depends on the
  data, and the attempt is recorded in the audit log without the value; sorting by one is
  ignored; a search on one matches the whole number only;
- files in private storage (photos, uploaded spreadsheets) are never asked for a URL, which
  they do not have: forms, read-only fields and lists show a thumbnail served by a staff-only
  view that finds the object within the user's town.
"""

from __future__ import annotations

import functools
import logging
import mimetypes
import re

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import F, OrderBy
from django.db.models.constants import LOOKUP_SEP
from django.http import FileResponse, Http404
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html

from couriers.privacy import sensitive
from couriers.privacy.images import image_view
from couriers.privacy.storage import PrivateStorage
from couriers.scoping import staff_object_or_404

logger = logging.getLogger("couriers.privacy")

# An image opened on its own is shown in a document the browser makes up, with inline styles.


def private_file_fields(model) -> dict[str, models.FileField]:
    return {
        f.name: f
        for f in model._meta.concrete_fields
        if isinstance(f, models.FileField) and isinstance(f.storage, PrivateStorage)
    }


def preview_url(file, site_name: str = "admin") -> str:
    """The staff-only address of a private image, or "" (not an image, not saved yet)."""
    instance, field = getattr(file, "instance", None), getattr(file, "field", None)
    if not (file and isinstance(field, models.ImageField) and instance and instance.pk):
        return ""
    opts = instance._meta
    try:
        return reverse(
            f"{site_name}:{opts.app_label}_{opts.model_name}_private_file",
            args=[quote(instance.pk), field.name],
        )
    except NoReverseMatch:  # a model without an admin of its own (an inline's)
        return ""


def preview(file, site_name: str = "admin") -> str:
    if not file:
        return ""
    url = preview_url(file, site_name)
    if not url:
        return "已保存（不公开）"
    return format_html(
        '<a href="{0}" target="_blank" rel="noopener"><img src="{0}" alt="{1}" width="160"></a>',
        url,
        file.field.verbose_name,
    )


class PrivateFileWidget(forms.ClearableFileInput):
    """The admin's file input for private storage: a thumbnail through the staff-only view
    where Django's widget links to the file's `.url`, which private storage does not have."""

    def __init__(self, attrs=None, site_name: str = "admin"):
        super().__init__(attrs)
        self.site_name = site_name

    def is_initial(self, value) -> bool:
        return bool(value and getattr(value, "name", None))

    def render(self, name, value, attrs=None, renderer=None):
        file_input = forms.FileInput(self.attrs).render(name, None, attrs, renderer)
        if not self.is_initial(value):
            return file_input
        clear = ""
        if not self.is_required:
            checkbox = self.clear_checkbox_name(name)
            clear = format_html(
                '<span class="clearable-file-input"><input type="checkbox" name="{0}" id="{1}">'
                ' <label for="{1}">{2}</label></span>',
                checkbox,
                self.clear_checkbox_id(checkbox),
                self.clear_checkbox_label,
            )
        return format_html(
            '<p class="file-upload">{}: {} {}<br>{}: {}</p>',
            self.initial_text,
            preview(value, self.site_name),
            clear,
            self.input_text,
            file_input,
        )


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

    # --- files in private storage ---------------------------------------------------------------

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in private_file_fields(self.model) and db_field.model is self.model:
            kwargs["widget"] = PrivateFileWidget(site_name=self.admin_site.name)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def _file_display(self, name: str):
        """A read-only column showing a private file (Django's would ask for its `.url`)."""
        shown = self.__dict__.setdefault("_private_file_displays", {})
        if name not in shown:
            site = self.admin_site.name

            def display(obj):
                return preview(getattr(obj, name), site) or self.get_empty_value_display()

            display.__name__ = name
            display.short_description = self.opts.get_field(name).verbose_name
            display.private_file_field = name
            shown[name] = display
        return shown[name]

    def _swap_files(self, names, which) -> list:
        return [self._file_display(n) if isinstance(n, str) and n in which else n for n in names]

    def _swap_line(self, line, which):
        if isinstance(line, (list, tuple)):
            return tuple(self._swap_files(line, which))
        return self._swap_files([line], which)[0]

    def _read_only_files(self, request, obj) -> set[str]:
        files = set(private_file_fields(self.model))
        if not files:
            return set()
        if obj is not None and not self.has_change_permission(request, obj):
            return files  # the whole form is read-only
        return {
            getattr(n, "private_file_field", n) for n in self.get_readonly_fields(request, obj)
        } & files

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return self._swap_files(fields, private_file_fields(self.model))

    def get_fieldsets(self, request, obj=None):
        read_only = self._read_only_files(request, obj)
        fieldsets = super().get_fieldsets(request, obj)
        if not read_only:
            return fieldsets
        return [
            (title, {**opts, "fields": [self._swap_line(f, read_only) for f in opts["fields"]]})
            for title, opts in fieldsets
        ]

    def get_exclude(self, request, obj=None):
        read_only = self._read_only_files(request, obj)
        exclude = super().get_exclude(request, obj)
        if not read_only:
            return exclude
        return [*(exclude or ()), *sorted(read_only)]

    def get_list_display(self, request):
        return self._swap_files(super().get_list_display(request), private_file_fields(self.model))

    def get_urls(self):
        opts = self.opts
        return [
            path(
                "<path:object_id>/private-file/<str:field_name>/",
                self.admin_site.admin_view(image_view(self.private_file_view)),
                name=f"{opts.app_label}_{opts.model_name}_private_file",
            ),
            *super().get_urls(),
        ]

    def private_file_view(self, request, object_id, field_name):
        """A private image, for staff who may view its record in their town."""
        field = private_file_fields(self.model).get(field_name)
        if not isinstance(field, models.ImageField):
            raise Http404  # only pictures are shown; spreadsheets are never served back
        obj = staff_object_or_404(request.user, self.get_queryset(request), pk=unquote(object_id))
        file = getattr(obj, field_name)
        content_type = mimetypes.guess_type(file.name or "")[0] or ""
        if not file or not content_type.startswith("image/"):
            raise Http404
        return FileResponse(file.open("rb"), content_type=content_type)  # never cached (admin)


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
