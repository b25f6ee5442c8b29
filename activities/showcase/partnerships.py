"""The district's service-partnership figures (快递进厂 / 快递进村), summed in the database."""

from __future__ import annotations

from django.db.models import Count, Sum

from activities.models import Partnership, PartnershipYear


def readable(row: dict) -> dict:
    """The row with its large figures also as text in 万 / 亿, as Chinese reports write them."""
    return {
        **row,
        "items_text": in_wan(row["items"]),
        "output_text": in_yi(row["output_value"]),
    }


def totals_by_year() -> list[dict]:
    """Per year, newest first: companies taking part (distinct enterprises), partnerships,
    items delivered and output value supported."""
    rows = (
        PartnershipYear.objects.values("year")
        .annotate(
            companies=Count("partnership__enterprise", distinct=True),
            partnerships=Count("partnership", distinct=True),
            items=Sum("items"),
            output_value=Sum("output_value"),
        )
        .order_by("-year")
    )
    return [readable(row) for row in rows]


def totals_by_year_and_kind() -> dict[int, list[dict]]:
    """Per year, the same totals split by 快递进厂 / 快递进村."""
    labels = dict(Partnership.Kind.choices)
    rows = (
        PartnershipYear.objects.values("year", "partnership__kind")
        .annotate(
            companies=Count("partnership__enterprise", distinct=True),
            partnerships=Count("partnership", distinct=True),
            items=Sum("items"),
            output_value=Sum("output_value"),
        )
        .order_by("-year", "partnership__kind")
    )
    result: dict[int, list[dict]] = {}
    for row in rows:
        kind = row.pop("partnership__kind")
        result.setdefault(row["year"], []).append(
            readable({**row, "kind": kind, "label": labels[kind]})
        )
    return result


def totals_by_detail(year: int) -> list[dict]:
    """One year split by 进厂方式 and by produce."""
    modes = dict(Partnership.Mode.choices)
    rows = (
        PartnershipYear.objects.filter(year=year)
        .values("partnership__kind", "partnership__mode", "partnership__produce")
        .annotate(
            partnerships=Count("partnership", distinct=True),
            items=Sum("items"),
            output_value=Sum("output_value"),
        )
        .order_by("partnership__kind", "-output_value")
    )
    return [
        readable(
            {
                "kind": Partnership.Kind(row["partnership__kind"]).label,
                "detail": modes.get(row["partnership__mode"]) or row["partnership__produce"],
                "partnerships": row["partnerships"],
                "items": row["items"],
                "output_value": row["output_value"],
            }
        )
        for row in rows
    ]


def in_wan(n: int) -> str:
    """12,360,000 → "1236万" (the unit Chinese reports use for counts)."""
    return f"{n / 10_000:.0f}万" if n >= 10_000 else str(n)


def in_yi(n: int) -> str:
    """1,500,000,000 → "15亿"; 1,250,000,000 → "12.5亿"."""
    if n < 100_000_000:
        return in_wan(n)
    return f"{n / 100_000_000:.2f}".rstrip("0").rstrip(".") + "亿"
