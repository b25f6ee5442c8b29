"""The same message to many couriers at once (broadcasts): one bulk insert into the outbox.

`notify()` writes one row per call, with a query to look for an earlier one; for 20,000
couriers that is 40,000 queries. `notify_many` reads the reachable couriers' ids in one query,
leaves out those who refuse the template's kind, and writes the rows at once: on PostgreSQL
in one `INSERT … SELECT` over the array of ids (the database makes the 20,000 rows; building
and sending 20,000 rows of parameters from Python took seconds), elsewhere in a few
multi-row INSERTs (`bulk_create`). Conflicts with the outbox's unique `why` (event, record,
courier, occasion) are ignored, so running it twice for the same broadcast (a double
approval, a redelivered task) queues each message once.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, models
from django.utils import timezone

from couriers.messaging import preferences, templates
from couriers.messaging.notify import about_fields, wake_worker
from couriers.messaging.preferences import MOBILE
from couriers.models import Courier, Message

BATCH = 2_000  # rows per INSERT: a few statements for a district, none too large to parse
ID_CHUNK = 5_000  # ids per `IN (…)` when given a list (SQLite allows 32,766 parameters)
# preferences.reachable's rule, in SQL: an erased courier's phone is a placeholder, never a mobile.
MOBILE_SQL = rf"^{MOBILE.pattern}$"


def id_chunks(ids: Iterable[int]) -> list[list[int]]:
    """`ids`, sorted and without repeats, in pieces small enough for one `IN (…)`."""
    ordered = sorted(set(ids))
    return [ordered[start : start + ID_CHUNK] for start in range(0, len(ordered), ID_CHUNK)]


def reachable_ids(couriers: models.QuerySet | Iterable[int], kind: str) -> list[int]:
    """Ids of the couriers among `couriers` who may be told a message of `kind`: not erased
    and not opted out. In id order (the order their messages go out in)."""
    if isinstance(couriers, models.QuerySet):
        groups = [couriers.filter(phone__regex=MOBILE_SQL)]
    else:
        groups = [
            Courier.objects.filter(pk__in=chunk, phone__regex=MOBILE_SQL)
            for chunk in id_chunks(couriers)
        ]
    found: set[int] = set()
    for group in groups:
        found.update(group.order_by().values_list("pk", flat=True))
    return sorted(found - preferences.refusing(kind))


def notify_many(
    couriers: models.QuerySet | Iterable[int],
    template: str,
    params: dict,
    *,
    event: str,
    about: models.Model,
    occasion: str = "",
    urgent: bool = False,
) -> int:
    """Queue `template` with `params` to every reachable courier among `couriers` (a
    queryset or ids) who has not refused its kind; returns how many messages were added
    (rows already queued for the same why are not added again). Call it inside the
    transaction of the change; the worker is woken once, when it commits."""
    chosen = templates.get(template)
    ids = reachable_ids(couriers, chosen.kind)
    why = {"event": event, **about_fields(about), "occasion": occasion}
    now = timezone.now()
    row = Message(  # every message but for its courier
        **why,
        template=chosen.code,
        params=chosen.fill(params),
        urgent=urgent,
        created_at=now,
        send_after=now,
    )
    if connection.vendor == "postgresql":
        added = _insert_select(row, ids)
    else:
        queued = Message.objects.filter(**why)
        before = queued.count()
        Message.objects.bulk_create(
            (_copy_for(row, courier_id) for courier_id in ids),
            batch_size=BATCH,
            ignore_conflicts=True,
        )
        added = queued.count() - before
    if added:
        wake_worker()
    return added


def _copy_for(row: Message, courier_id: int) -> Message:
    fields = {f.attname: getattr(row, f.attname) for f in Message._meta.concrete_fields}
    return Message(**{**fields, "id": None, "courier_id": courier_id})


def _insert_select(row: Message, ids: list[int]) -> int:
    """One statement: `row` for each of `ids` (in id order), its values prepared by each
    field as Django would save them (so a column added to Message later is filled too);
    returns how many rows were written."""
    columns, values, params = [], [], []
    for field in Message._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.attname == "courier_id":
            values.append("chosen.id")
        else:
            values.append(f"%s::{field.db_type(connection)}")
            params.append(field.get_db_prep_save(getattr(row, field.attname), connection))
    sql = (
        f"INSERT INTO {connection.ops.quote_name(Message._meta.db_table)} "
        f"({', '.join(columns)}) SELECT {', '.join(values)} "
        "FROM unnest(%s::bigint[]) AS chosen(id) ORDER BY chosen.id ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, ids])
        return cursor.rowcount
