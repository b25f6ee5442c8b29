"""The admin's town scoping, in one mixin that every town-owned model's admin reuses.

`TownScopedAdmin` limits, for town staff:
- the changelist, search, actions and export (all built on `get_queryset`);
- change, delete and history views: another town's record is "not found" (Django looks the
  object up through `get_queryset`);
- foreign-key and many-to-many choices, including autocomplete (Django's autocomplete view asks
  the target model's admin for its queryset, and the form field rejects ids outside the scope);
- related-object list filters: they list only the user's objects;
- saving: a record can only be saved into a town the user may see;
- duplicates: a phone, ID number or other unique value already held by a record outside the
  user's town gets one message that neither confirms the record nor names its owner.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import IntegrityError, connections
from django.db.models import UniqueConstraint
from django.http import Http404, HttpResponseRedirect
from django.utils.functional import cached_property

from couriers.privacy.admin import PersonalDataAdmin
from couriers.privacy.sensitive import SENSITIVE_FIELDS
from couriers.scoping import is_town_scoped, scoped


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A related-object filter that offers only the objects the user may see.

    Unlike RelatedOnlyFieldListFilter it does not scan the (large) filtered table for the
    distinct values in use; it lists the related table, which is small.
    """

    def has_output(self) -> bool:
        # Shown (and applied) even with a single choice: a town user's filter to another
        # town must give an empty list, not be silently dropped.
        return bool(self.lookup_choices) or bool(self.used_parameters)

    def field_choices(self, field, request, model_admin):
        ordering = self.field_admin_ordering(field, request, model_admin)
        related = scoped(field.related_model._default_manager.all(), request.user)
        if ordering:
            related = related.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in related]


OUT_OF_SCOPE_DUPLICATE = "无法保存：该{label}不能在本街镇登记，请联系区级管理员。"


def unique_rules(model) -> list[tuple[tuple[str, ...], object, str]]:
    """Every uniqueness rule on a model's own fields: (fields, condition, custom message)."""
    rules = [((f.name,), None, "") for f in model._meta.concrete_fields if f.unique]
    rules += [(tuple(fields), None, "") for fields in model._meta.unique_together]
    for constraint in model._meta.constraints:
        if isinstance(constraint, UniqueConstraint) and constraint.fields:
            message = str(constraint.get_violation_error_message())
            rules.append((tuple(constraint.fields), constraint.condition, message))
    return rules


class OutOfScopeDuplicates(forms.ModelForm):
    """Mixed into the admin's forms of town-owned models (TownScopedAdmin.get_form): when a
    duplicate is another town's record, Django's message ("该手机号码已登记。", "具有此企业名称的
    加盟企业已存在。") would confirm that it exists; it is replaced by one that says only that
    the record cannot be saved here. A duplicate within the user's own scope keeps its message.
    """

    scope_user = None

    def _post_clean(self):
        super()._post_clean()
        model = type(self.instance)
        for fields, condition, message in unique_rules(model):
            # Django words a duplicate either way, depending on the rule and its message.
            said = {message, *ValidationError(self.instance.unique_error_message(model, fields))}
            keys = [*fields, forms.forms.NON_FIELD_ERRORS]
            if self._duplicate_errors(keys, said) and self._clash_is_out_of_scope(
                fields, condition
            ):
                self._duplicate_errors(keys, said, drop=True)
                self._say_out_of_scope(fields)

    def _duplicate_errors(self, keys, said: set[str], drop: bool = False) -> bool:
        found = False
        for key in keys:
            if key not in self._errors:
                continue
            errors = self._errors[key]
            kept = [e for e in errors.as_data() if not said & set(e.messages)]
            found |= len(kept) < len(errors)
            if drop:
                errors.data = kept
                if not kept:
                    del self._errors[key]
        return found

    def _clash_is_out_of_scope(self, fields, condition) -> bool:
        model, opts = type(self.instance), self.instance._meta
        values = {
            opts.get_field(f).attname: getattr(self.instance, opts.get_field(f).attname)
            for f in fields
        }
        others = model._default_manager.filter(**values)
        if condition is not None:
            others = others.filter(condition)
        if self.instance.pk is not None:
            others = others.exclude(pk=self.instance.pk)
        return others.exists() and not scoped(others, self.scope_user).exists()

    def _say_out_of_scope(self, fields) -> None:
        if len(fields) == 1:
            field = self.instance._meta.get_field(fields[0])
            label = "号码" if field.name in SENSITIVE_FIELDS else field.verbose_name
        else:
            label = "记录"
        target = fields[0] if len(fields) == 1 and fields[0] in self.fields else None
        self.add_error(target, OUT_OF_SCOPE_DUPLICATE.format(label=label))


class EstimatedCountPaginator(Paginator):
    """Exact counts for small results; the planner's estimate for very large ones.

    The admin shows "约 N 快递小哥" instead of running COUNT(*) over hundreds of thousands of
    rows on every page view. Only PostgreSQL gives a usable estimate; elsewhere the count is
    exact. With an estimate, a page is served if it has rows, whatever the estimate says, so
    an estimate that is too low never hides real pages and one too high gives "no such page".
    """

    exact_limit = 10_000
    is_estimate = False

    @cached_property
    def count(self) -> int:
        qs = self.object_list
        capped = qs[: self.exact_limit + 1].count()
        if capped <= self.exact_limit:
            return capped
        if connections[qs.db].vendor != "postgresql":
            return qs.count()
        self.is_estimate = True
        return max(self._planner_rows(qs), capped)

    @staticmethod
    def _planner_rows(qs) -> int:
        plan = qs.order_by().explain(format="json")
        return int(json.loads(plan)[0]["Plan"]["Plan Rows"])

    def validate_number(self, number) -> int:
        if not (self.count and self.is_estimate):
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("页码须为整数。") from None
        if number < 1:
            raise EmptyPage("页码须大于 0。")
        return number

    def page(self, number):
        number = self.validate_number(number)
        if not self.is_estimate:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page])
        if not rows and number > 1:
            raise EmptyPage("该页没有结果。")
        return self._get_page(rows, number, self)


class TownScopedAdmin(PersonalDataAdmin):
    """Base admin for every model that declares `town_lookup` (with the personal-data guards
    that every registered admin has)."""

    # No COUNT(*) over large tables: no "N total" figure, no per-filter facet counts.
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = EstimatedCountPaginator

    def get_queryset(self, request):
        return scoped(super().get_queryset(request), request.user)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Another town's record is simply not found: a 404, not a hint that it exists.
        raise Http404(f"{opts.verbose_name} {object_id} 不存在。")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs and is_town_scoped(db_field.related_model):
            kwargs["queryset"] = self._scoped_choices(db_field, request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs and is_town_scoped(db_field.related_model):
            kwargs["queryset"] = self._scoped_choices(db_field, request)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _scoped_choices(self, db_field, request):
        base = self.get_field_queryset(None, db_field, request)
        if base is None:
            base = db_field.remote_field.model._default_manager.all()
        return scoped(base, request.user)

    def get_list_filter(self, request):
        """Relation paths in `list_filter` ("town", "outlet__town") become scoped filters."""
        filters = []
        for item in super().get_list_filter(request):
            if isinstance(item, str):
                field = get_fields_from_path(self.model, item)[-1]
                if field.many_to_one or field.many_to_many:
                    item = (item, ScopedRelatedFieldListFilter)
            filters.append(item)
        return filters

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (OutOfScopeDuplicates, form), {"scope_user": request.user})

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except IntegrityError:
            if request.method != "POST":
                raise
            # The form was valid, but the same record was saved a moment ago by another
            # request (a double-clicked button): the database kept one; say so, not a 500.
            self.message_user(
                request,
                "同样的内容刚刚已经保存过（可能重复提交了），本次没有重复登记。",
                messages.WARNING,
            )
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # Re-check after saving, inside the admin's transaction: a town user can never leave
        # a record in a town they cannot see (the transaction rolls back).
        if not scoped(type(obj)._default_manager.filter(pk=obj.pk), request.user).exists():
            raise PermissionDenied
