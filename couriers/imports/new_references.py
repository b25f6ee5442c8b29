"""References a census discovers: the enterprises and outlets that survey rows name and the
registry does not hold yet.

A census is how the district finds its outlets, so an unknown name is not an error: the
outlet (or enterprise) is registered 待核实 (`Verification.PENDING`) under the row's brand, in
the row's work town, when the import is confirmed — in the import's own transaction, created
in bulk as each chunk is written. The preview lists each one with the number of couriers it
will get. Rules:

- a name that differs from a registered outlet's of the same brand and town only in spaces,
  full-width digits/letters or a 部/点/站 ending (`name_key`) is that outlet, and the preview
  says how it was read («“极兔奉浦２部” 按 “极兔奉浦2部” 导入»); the same holds between two
  spellings of one new outlet in the file, which is registered with ASCII digits and letters
  (`clean_name`) whichever spelling comes first;
- a new outlet hangs under the row's enterprise; a row without one puts it under its brand's
  placeholder enterprise of the town («极兔·奉浦街道（待核实）»), itself 待核实, which staff
  merge into the real enterprise once known (couriers.references.merge_into);
- a new enterprise needs the row's brand;
- town staff create only in their own town (the row's work town is checked before), and a
  name already held outside their view is refused with OTHER_TOWN rather than duplicated.
"""

from __future__ import annotations

import re
import unicodedata

from couriers.imports.sheet_import import OTHER_TOWN, ImportReport
from couriers.models import Brand, Enterprise, Outlet, Town, Verification
from couriers.references import References

# 部 (department), 点 (point), 站 (station) and 网点/站点 endings name the same outlet.
_ENDING = re.compile(r"(网点|站点|[部点站])$")


def name_key(name: str) -> str:
    """An outlet's name as compared for near-duplicates: full-width forms as ASCII (NFKC), no
    spaces of any width, case ignored, without a 部/点/站 ending."""
    key = "".join(unicodedata.normalize("NFKC", name).split()).casefold()
    return _ENDING.sub("", key) or key


# Full-width digits and Latin letters (０-９, Ａ-Ｚ, ａ-ｚ) as ASCII; Chinese punctuation such
# as （） stays as it is written.
_HALF_WIDTH = {code: code - 0xFEE0 for code in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B))}
_HALF_WIDTH |= {code: code - 0xFEE0 for code in range(0xFF41, 0xFF5B)}


def clean_name(name: str) -> str:
    """The name a new outlet is registered under: full-width digits and letters as ASCII,
    single spaces."""
    return " ".join(name.translate(_HALF_WIDTH).split())


def placeholder_name(brand: Brand, town: Town) -> str:
    """The enterprise that new outlets named without one are registered under."""
    return f"{brand.name}·{town.name}（待核实）"


class Problem(Exception):
    """A row's reference that cannot be created: the message for its cell."""


class NewReferences:
    """One import run's new enterprises and outlets, and its near-duplicate matches, kept in
    the report (`new_references`, `matched_references`) as the rows are planned."""

    def __init__(self, refs: References, report: ImportReport):
        self.refs, self.report = refs, report
        # District-wide, whatever the user sees: a new record never clashes with a unique one.
        self.taken_enterprises = set(Enterprise.objects.values_list("name", flat=True))
        self.taken_outlets = set(Outlet.objects.values_list("enterprise_id", "name"))
        self.similar: dict[tuple[int, int, str], list[Outlet]] = {}
        for group in refs.outlets.values():
            for outlet in group:
                key = (outlet.enterprise.brand_id, outlet.town_id, name_key(outlet.name))
                self.similar.setdefault(key, []).append(outlet)
        self.enterprises: dict[str, Enterprise] = {}
        self.outlets: dict[tuple[int, int, str, str], Outlet] = {}
        self.entries: dict[int, dict] = {}  # id() of a new record → its line in the report
        self.matches: dict[tuple[str, str], dict] = {}
        self.sheet = ""  # the sheet being planned (the importer sets it), named beside rows

    # --- planning -----------------------------------------------------------------------------

    def enterprise(self, name: str, brand: Brand | None, town: Town, row: int) -> Enterprise:
        """The new enterprise `name` (one per file), registered 待核实 in `town`."""
        enterprise = self.enterprises.get(name)
        if enterprise is not None:
            if brand is not None and enterprise.brand_id != brand.pk:
                first = self.entries[id(enterprise)]["row"]
                raise Problem(f"与第 {first} 行的同一新企业品牌不同")
            return enterprise
        if name in self.taken_enterprises:
            raise Problem(OTHER_TOWN)
        if brand is None:
            raise Problem("未登记的加盟企业：要登记为新企业，请填写快递品牌")
        enterprise = Enterprise(
            name=name, brand=brand, town=town, verification=Verification.PENDING
        )
        self.enterprises[name] = enterprise
        self._entry(enterprise, "enterprise", row, brand=brand, town=town)
        return enterprise

    def outlet(
        self, name: str, enterprise: Enterprise | None, brand: Brand | None, town: Town, row: int
    ) -> Outlet:
        """The outlet a row names that no registered outlet has exactly: a near-duplicate of a
        registered or new one, else a new outlet."""
        if enterprise is not None:
            brand = enterprise.brand
        if brand is None:
            raise Problem("未登记的网点（或不在本街镇）：要登记为新网点，请填写快递品牌或加盟企业")
        key = name_key(name)
        similar = self.similar.get((brand.pk, town.pk, key), [])
        if enterprise is not None:
            similar = [o for o in similar if o.enterprise_id == enterprise.pk]
        if len(similar) > 1:
            names = "、".join(f"“{o.name}”" for o in similar)
            raise Problem(f"与多个已登记网点相近（{names}），请写明全称")
        if similar:
            return self._matched(name, similar[0], row)
        pending_key = (brand.pk, town.pk, enterprise.name if enterprise else "", key)
        outlet = self.outlets.get(pending_key)
        if outlet is not None:
            return self._matched(name, outlet, row)
        if enterprise is None:
            enterprise = self._placeholder(brand, town, row)
        if enterprise.pk is not None and (enterprise.pk, clean_name(name)) in self.taken_outlets:
            raise Problem(OTHER_TOWN)  # the enterprise has it, in a town the user cannot see
        outlet = Outlet(name=clean_name(name), enterprise=enterprise, town=town)
        outlet.verification = Verification.PENDING
        self.outlets[pending_key] = outlet
        self._entry(outlet, "outlet", row, brand=brand, town=town, enterprise=enterprise)
        return self._matched(name, outlet, row)

    def _placeholder(self, brand: Brand, town: Town, row: int) -> Enterprise:
        name = placeholder_name(brand, town)
        existing = self.refs.enterprises.get(name)
        if existing is not None and existing.brand_id == brand.pk:
            return existing
        return self.enterprise(name, brand, town, row)

    def _matched(self, typed: str, outlet: Outlet, row: int) -> Outlet:
        if typed != outlet.name:
            match = self.matches.get((typed, outlet.name))
            if match is None:
                match = {"kind": "outlet", "typed": typed, "name": outlet.name, "row": row}
                match["sheet"] = self.sheet
                match["rows"] = 0
                self.matches[(typed, outlet.name)] = match
                self.report.matched_references.append(match)
            match["rows"] += 1
        return outlet

    def _entry(self, record, kind: str, row: int, *, brand, town, enterprise=None) -> None:
        entry = {
            "kind": kind,
            "name": record.name,
            "brand": brand.name,
            "town": town.name,
            "enterprise": enterprise.name if enterprise is not None else "",
            "row": row,
            "sheet": self.sheet,
            "couriers": 0,
        }
        self.entries[id(record)] = entry
        self.report.new_references.append(entry)

    def is_new(self, record) -> bool:
        return record is not None and id(record) in self.entries and record.pk is None

    def count(self, *records) -> None:
        """A courier row that will be written names these records (counted once each)."""
        for record in {id(r): r for r in records if r is not None}.values():
            entry = self.entries.get(id(record))
            if entry is not None:
                entry["couriers"] += 1

    # --- writing ------------------------------------------------------------------------------

    def save(self) -> None:
        """Create the new records the chunk about to be written names (earlier chunks' are
        saved already), in bulk: the import stays one statement per table and chunk."""
        Enterprise.objects.bulk_create([e for e in self.enterprises.values() if e.pk is None])
        # bulk_create fills each outlet's enterprise_id from its now-saved enterprise.
        Outlet.objects.bulk_create([o for o in self.outlets.values() if o.pk is None])
