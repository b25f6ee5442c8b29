"""The same message to many couriers at once (broadcasts): one bulk insert into the outbox.

`notify()` writes one row per call, with a query to look for an earlier one; for 20,000
couriers that is 40,000 queries. `notify_many` reads the reachable couriers' ids in one query,
leaves out those who refuse the template's kind, and writes the rows in a few multi-row
INSERTs. `ignore_conflicts` lets the outbox's unique `why` (event, record, courier, occasion)
drop the rows already written, so running it twice for the same broadcast (a double
approval, a redelivered task) queues each message once.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from couriers.messaging import preferences, templates
from couriers.messaging.notify import MOBILE, wake_worker
from couriers.models import Courier, Message

BATCH = 2_000  # rows per INSERT: a few statements for a district, none too large to parse
ID_CHUNK = 5_000  # ids per `IN (…)` when given a list (SQLite allows 32,766 parameters)
# notify.reachable's rule, in SQL: an erased courier's phone is a placeholder, never a mobile.
MOBILE_SQL = rf"^{MOBILE.pattern}$"


def reachable_ids(couriers: models.QuerySet | Iterable[int], kind: str) -> list[int]:
    """Ids of the couriers among `couriers` who may be told a message of `kind`: not erased
    and not opted out. In id order (the order their messages go out in)."""
    if isinstance(couriers, models.QuerySet):
        groups = [couriers.filter(phone__regex=MOBILE_SQL)]
    else:
        ids = sorted(set(couriers))
        groups = [
            Courier.objects.filter(pk__in=ids[start : start + ID_CHUNK], phone__regex=MOBILE_SQL)
            for start in range(0, len(ids), ID_CHUNK)
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
    why = {
        "event": event,
        "about_type": ContentType.objects.get_for_model(about),
        "about_id": about.pk,
        "occasion": occasion,
    }
    values = {key: str(params.get(key, "")) for key in chosen.params}
    now = timezone.now()
    queued = Message.objects.filter(**why)
    before = queued.count()
    Message.objects.bulk_create(
        (
            Message(
                **why,
                courier_id=courier_id,
                template=chosen.code,
                params=values,
                urgent=urgent,
                created_at=now,
                send_after=now,
            )
            for courier_id in ids
        ),
        batch_size=BATCH,
        ignore_conflicts=True,
    )
    added = queued.count() - before
    if added:
        wake_worker()
    return added
