"""Sending the outbox: what the background worker does with messages that are due.

Each message is claimed under a row lock (`SKIP LOCKED` where the database has it), so two
workers never send the same one; it is marked sent, retried later, or failed in the same
transaction as the claim.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from couriers.messaging import templates
from couriers.messaging.backends import BaseBackend, PermanentError, SMSError
from couriers.models import Message

logger = logging.getLogger("couriers.messaging.sms")

MAX_ATTEMPTS = 6
BACKOFF = datetime.timedelta(minutes=1)  # doubled after each failed attempt


def backend() -> BaseBackend:
    return import_string(settings.SMS_BACKEND)()


def _claim(now: datetime.datetime) -> Message | None:
    due = Message.objects.due(now).select_related("courier")
    if connection.features.has_select_for_update_skip_locked:
        due = due.select_for_update(skip_locked=True, of=("self",))
    return due.first()


def send_one(message: Message, sender: BaseBackend, now: datetime.datetime) -> None:
    """Send `message` (locked by the caller) and record the outcome on it."""
    template = templates.get(message.template)
    phone = message.courier.phone if message.courier_id else message.phone
    message.attempts += 1
    message.provider = sender.name
    try:
        message.provider_message_id = sender.send_template(phone, template, message.params)
    except PermanentError as problem:
        message.state, message.last_error = Message.State.FAILED, str(problem)[:300]
    except SMSError as problem:
        message.last_error = str(problem)[:300]
        if message.attempts >= MAX_ATTEMPTS:
            message.state = Message.State.FAILED
        else:
            message.send_after = now + BACKOFF * 2 ** (message.attempts - 1)
    else:
        message.state, message.sent_at, message.last_error = Message.State.SENT, now, ""
    message.save()


def send_due(limit: int | None = None) -> int:
    """Send messages that are due, one transaction each; returns how many were tried."""
    sender = backend()
    tried = 0
    while limit is None or tried < limit:
        with transaction.atomic():
            now = timezone.now()
            message = _claim(now)
            if message is None:
                break
            send_one(message, sender, now)
        tried += 1
    return tried
