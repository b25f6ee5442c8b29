"""Many generated couriers at once, written with PostgreSQL COPY: how bench/admin_changelist.py
and bench/dashboard.py grow the demo district to 200,000 couriers.

The rows are valid and unique, spread over the demo's outlets with the demo's mix of names,
political status, education and employment; their phone numbers are `phone_prefix` and an
8-digit counter, so a prefix that demo.py never draws keeps them apart from the demo's
couriers (and each batch's prefix from the others).
"""

from __future__ import annotations

import datetime
import random
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import common
from common import BenchError
from psycopg import sql

if TYPE_CHECKING:
    from couriers.models import Outlet

SEED = 20250210


def generated_rows(
    count: int, columns: list[str], outlets: list[Outlet], phone_prefix: str
) -> Iterator[tuple[Any, ...]]:
    """`count` valid, unique couriers spread over `outlets`, as COPY tuples of `columns`.

    Runs no query: it is consumed while the connection is busy with COPY.
    """
    from django.utils import timezone

    from couriers.demo import GIVEN, SURNAMES
    from couriers.models import Courier

    rng = random.Random(SEED)
    statuses = Courier.PoliticalStatus
    status_choices = [
        statuses.MASSES,
        statuses.LEAGUE,
        statuses.APPLICANT,
        statuses.ACTIVIST,
        statuses.MEMBER,
        statuses.PROBATIONARY,
    ]
    status_weights = [88, 8, 2.4, 0.6, 0.8, 0.2]
    educations = Courier.Education.values
    now = timezone.now()
    fields = {f.column: f for f in Courier._meta.concrete_fields if not f.primary_key}
    for i in range(count):
        outlet = rng.choice(outlets)
        values: dict[str, Any] = {
            "name": rng.choice(SURNAMES)
            + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2]))),
            "gender": "M" if rng.random() < 0.86 else "F",
            "phone": f"{phone_prefix}{i:08d}",
            "id_number": "",
            "birth_date": datetime.date(
                rng.randint(1972, 2004), rng.randint(1, 12), rng.randint(1, 28)
            ),
            "education": rng.choices(educations, weights=[30, 40, 20, 9, 1])[0],
            "political_status": rng.choices(status_choices, weights=status_weights)[0],
            "is_mobile_party_member": False,
            "membership_location": "",
            "is_business_backbone": rng.random() < 0.03,
            "brand_id": outlet.enterprise.brand_id,
            "enterprise_id": outlet.enterprise_id,
            "outlet_id": outlet.id,
            "work_town_id": outlet.town_id,
            "employment_status": Courier.EmploymentStatus.ACTIVE
            if rng.random() < 0.97
            else Courier.EmploymentStatus.LEFT,
            "notes": "",
            "created_at": now,
            "updated_at": now,
        }
        row = []
        for column in columns:
            if column in values:
                row.append(values[column])
            elif fields[column].null:
                row.append(None)
            elif fields[column].has_default():
                row.append(fields[column].get_default())
            else:
                raise BenchError(f"no generated value for required column {column!r}")
        yield tuple(row)


def grow_couriers(rows: int, phone_prefix: str) -> float:
    """Add generated couriers with COPY until there are `rows`; returns the seconds it took."""
    from django.db import connection, transaction

    from couriers.models import Courier, Outlet

    started = time.perf_counter()
    missing = rows - Courier.objects.count()
    if missing <= 0:
        return 0.0
    # Query before COPY starts: the connection cannot run other queries during COPY.
    outlets = list(Outlet.objects.select_related("enterprise").order_by("id"))
    columns = [f.column for f in Courier._meta.concrete_fields if not f.primary_key]
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(Courier._meta.db_table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(copy_sql) as copy:
            for row in generated_rows(missing, columns, outlets, phone_prefix):
                copy.write_row(row)
    seconds = time.perf_counter() - started
    if Courier.objects.count() != rows:
        raise BenchError(f"expected {rows} couriers after COPY, found {Courier.objects.count()}")
    return seconds


def grow_and_vacuum(rows: int, phone_prefix: str, *tables: str) -> None:
    """grow_couriers, then VACUUM ANALYZE `tables` (all if none), and say how long COPY took."""
    seconds = grow_couriers(rows, phone_prefix)
    common.vacuum_analyze(*tables)
    print(f"grew to {rows:,} couriers with COPY in {seconds:.1f} s (then VACUUM ANALYZE)")
