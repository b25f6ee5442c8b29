"""The registry's reference data: in memory, so spreadsheet rows are resolved without a query
each (towns by name or short name, brands by name or alias, enterprises, outlets,
communities and party organisations, limited to what the importing user may see); and the
merge of an enterprise or outlet into the one it really is, when a census registered it
twice (couriers.imports.new_references registers what it does not know as 待核实)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from couriers.models import (
    Brand,
    Community,
    Courier,
    Enterprise,
    Outlet,
    PartyOrganization,
    Town,
)
from couriers.privacy import audit
from couriers.scoping import ALL_TOWNS, scoped
from couriers.towns import short_name


class References:
    """Every town, brand, enterprise, outlet, community and party organisation in memory:
    rows are resolved without a query each. Lookups are limited to what the user may see."""

    def __init__(self, town_id):
        def visible(qs):
            return qs if town_id is ALL_TOWNS else qs.in_town(town_id)

        self.towns = {}
        for town in Town.objects.all():
            self.towns[town.name] = self.towns[town.short_name] = town
        self.brands = {}
        for brand in Brand.objects.all():
            for key in brand.match_keys():
                self.brands[key] = brand
        self.enterprises = {e.name: e for e in visible(Enterprise.objects.select_related("brand"))}
        self.outlets: dict[str, list[Outlet]] = {}
        for outlet in visible(Outlet.objects.select_related("enterprise__brand", "town")):
            self.outlets.setdefault(outlet.name, []).append(outlet)
        self.communities: dict[str, list[Community]] = {}
        for community in visible(Community.objects.select_related("town")):
            self.communities.setdefault(community.name, []).append(community)
            self.communities.setdefault(str(community), []).append(community)
        self.organizations = {o.name: o for o in visible(PartyOrganization.objects.all())}
        # For the model's clean() on existing couriers: related objects by id, whatever town.
        self.outlet_by_id = {o.pk: o for group in self.outlets.values() for o in group}
        self.enterprise_by_id = {e.pk: e for e in self.enterprises.values()}

    def town(self, name: str) -> Town | None:
        """南桥镇 or 南桥."""
        return self.towns.get(name) or self.towns.get(short_name(name))

    def brand(self, text: str) -> Brand | None:
        """顺丰, 顺丰速运, SF … (spaces and case ignored)."""
        return self.brands.get("".join(text.split()).casefold())

    def community_in(self, name: str, town: Town) -> Community | None:
        return next((c for c in self.communities.get(name, []) if c.town_id == town.pk), None)


class MergeRefused(Exception):
    """Why a merge cannot be made; nothing was changed."""


def brand_id_of(record: Enterprise | Outlet) -> int:
    return record.enterprise.brand_id if isinstance(record, Outlet) else record.brand_id


def merge_into(source: Enterprise | Outlet, target: Enterprise | Outlet, actor) -> int:
    """Merge `source` into `target` (two outlets or two enterprises of one brand): everything
    that points at `source` — every foreign key of every model, found from the model's
    relations so a new one is never forgotten — then points at `target`; moved couriers take
    the target's enterprise and brand; `source` is deleted; one audit entry names both. All in
    one transaction. `actor` must see both (town staff: both in their town). Returns the
    number of records moved."""
    model = type(source)
    if type(target) is not model or source.pk == target.pk:
        raise MergeRefused("请选择另一个同类的对象作为合并目标。")
    if scoped(model.objects.filter(pk__in=[source.pk, target.pk]), actor).count() != 2:
        raise MergeRefused("只能合并本街镇的企业和网点。")
    if brand_id_of(source) != brand_id_of(target):
        raise MergeRefused("两者品牌不同，不能合并。")
    try:
        with transaction.atomic():
            moved = _move_references(source, target)
            source_pk = source.pk
            source.delete()
            source.pk = source_pk  # for the audit entry, which names it by its number too
            audit.log_merge(actor=actor, source=source, target=target, moved=moved)
    except IntegrityError:
        raise MergeRefused(
            "两者有不能并存的记录（如同名网点，或同一工作人员同一天的走访），请先处理后再合并。"
        ) from None
    return moved


def _move_references(source, target) -> int:
    # Couriers first: they also take the target's enterprise (and so its brand, the same).
    if isinstance(source, Outlet):
        couriers = Courier.objects.filter(outlet=source)
        moved = couriers.update(
            outlet=target, enterprise=target.enterprise_id, updated_at=timezone.now()
        )
    else:
        couriers = Courier.objects.filter(enterprise=source)
        moved = couriers.update(enterprise=target, updated_at=timezone.now())
    for relation in source._meta.related_objects:
        if relation.related_model is Courier or not relation.field.concrete:
            continue
        if relation.many_to_many:  # none today: say so loudly the day one is added
            raise TypeError(f"merge_into cannot move the many-to-many {relation}")
        name = relation.field.name
        manager = relation.related_model._base_manager
        moved += manager.filter(**{name: source}).update(**{name: target})
    return moved
