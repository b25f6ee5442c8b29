"""The registry's reference data in memory, so spreadsheet rows are resolved without a query
each: towns (by name or short name), brands (by name or alias), enterprises, outlets,
communities and party organisations, limited to what the importing user may see."""

from __future__ import annotations

from couriers.models import Brand, Community, Enterprise, Outlet, PartyOrganization, Town
from couriers.scoping import ALL_TOWNS
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
