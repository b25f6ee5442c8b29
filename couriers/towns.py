"""Fengxian's 8 towns and 3 subdistricts, in the district's customary order.

Used by the seeding data migration and by anything that must match a town written with or
without its 镇/街道 suffix.
"""

FENGXIAN_TOWNS: list[tuple[str, str]] = [
    # (full name, kind)
    ("南桥镇", "town"),
    ("奉城镇", "town"),
    ("庄行镇", "town"),
    ("金汇镇", "town"),
    ("四团镇", "town"),
    ("青村镇", "town"),
    ("柘林镇", "town"),
    ("海湾镇", "town"),
    ("西渡街道", "subdistrict"),
    ("奉浦街道", "subdistrict"),
    ("金海街道", "subdistrict"),
]


def short_name(full_name: str) -> str:
    """南桥镇 → 南桥, 西渡街道 → 西渡."""
    for suffix in ("街道", "镇"):
        if full_name.endswith(suffix):
            return full_name[: -len(suffix)]
    return full_name


def seed_towns(town_model) -> None:
    """Create the towns that are missing; takes the model so migrations can pass theirs."""
    for order, (name, kind) in enumerate(FENGXIAN_TOWNS, start=1):
        town_model.objects.update_or_create(
            name=name,
            defaults={"short_name": short_name(name), "kind": kind, "sort_order": order},
        )
