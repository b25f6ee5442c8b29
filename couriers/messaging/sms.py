"""Sending text messages through a pluggable backend, like Django's e-mail backends.

SMS_BACKEND names the class: `couriers.messaging.backends.ConsoleBackend` (development: the message
goes to the server log), `couriers.messaging.backends.LocmemBackend` (tests: kept in `outbox`), or
`couriers.messaging.backends.HttpBackend` (production: POSTs to an SMS provider's gateway; see its
docstring for the interface).
"""

from django.conf import settings
from django.utils.module_loading import import_string


def send_sms(phone: str, message: str) -> None:
    backend = import_string(settings.SMS_BACKEND)()
    backend.send(phone, message)
