"""Telling couriers what concerns them: every message is an outbox row
(`couriers.models.Message`) written inside the caller's transaction.

Call `notify()` from the code that makes the change, inside its `transaction.atomic()`: the
message commits or rolls back with the change, and the background worker is woken only once
the transaction has committed. A second call for the same (event, record, courier, occasion) —
a double click, a redelivered task — finds the first row and adds nothing.
"""

from __future__ import annotations

import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from couriers.messaging import preferences, tasks, templates
from couriers.models import Courier, Message


def about_fields(about: models.Model | None) -> dict:
    """The outbox columns that name the record a message is about."""
    if about is None:
        return {"about_type": None, "about_id": None}
    return {"about_type": ContentType.objects.get_for_model(about), "about_id": about.pk}


def notify(
    courier: Courier,
    template: str,
    params: dict,
    *,
    event: str,
    about: models.Model | None = None,
    occasion: str = "",
    urgent: bool | None = None,
    send_before: datetime.datetime | None = None,
) -> Message | None:
    """Queue one message to `courier`; returns its row (the existing one if this exact
    message was already queued), or None when the courier cannot be reached or has chosen not
    to receive this kind of message. A message held past `send_before` is cancelled, not
    sent late."""
    chosen = templates.get(template)
    if not preferences.reachable(courier) or not preferences.allows(courier, chosen.kind):
        return None
    why = {"event": event, **about_fields(about), "courier": courier, "occasion": occasion}
    existing = Message.objects.filter(**why).first()
    if existing is not None:
        return existing
    try:
        now = timezone.now()
        with transaction.atomic():  # a savepoint: a lost race leaves the caller's work intact
            message = Message.objects.create(
                created_at=now,
                send_after=now,
                **why,
                template=chosen.code,
                params=chosen.fill(params),
                urgent=chosen.urgent if urgent is None else urgent,
                send_before=send_before,
            )
    except IntegrityError:
        return Message.objects.filter(**why).first()
    wake_worker()
    return message


def wake_worker() -> None:
    """After the current transaction commits, ask the worker to send what is due (unless a
    run that has not started yet is already waiting: it will see this message too)."""
    transaction.on_commit(tasks.wake, robust=True)
