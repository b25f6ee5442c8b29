"""Outbox rows for the provider tests (tests/test_sms_*.py): queued as notify() would, each
for its own occasion, and sent once through the worker's own `send_one`."""

from __future__ import annotations

import itertools

from django.utils import timezone

from couriers.messaging import sending
from couriers.models import Message

_occasion = itertools.count()


def queue_message(courier, template: str, params: dict) -> Message:
    return Message.objects.create(
        courier=courier,
        template=template,
        params=params,
        event="test",
        occasion=str(next(_occasion)),
    )


def send(message: Message) -> Message:
    sending.send_one(message, sending.backend(), timezone.now())
    message.refresh_from_db()
    return message
