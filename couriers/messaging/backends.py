"""SMS backends.

Each has `send_template(phone, template, params)`, which sends one templated message and returns
the provider's message id (or ""), and raises `SMSError` when it cannot: `TemporaryError` (the
network, a 5xx, the provider's flow control: worth retrying later) or `PermanentError` (a
number the provider refuses, a template it has not approved: retrying cannot help). The plain
backends also keep `send(phone, text)`.

The providers' own SDK backends live in `couriers.messaging.providers` (Aliyun, Tencent Cloud).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import urllib.request

from django.conf import settings

from couriers.messaging.templates import Template, signed
from couriers.privacy.masking import mask_phone

logger = logging.getLogger("couriers.messaging.sms")

outbox: list[tuple[str, str]] = []  # LocmemBackend's messages, for tests


class SMSError(Exception):
    """The message was not sent; by default worth trying again later."""


class TemporaryError(SMSError):
    """Worth trying again. `retry_after`, when the provider says how long trying is pointless
    (a number's daily limit: until the day is over), is the earliest sensible next attempt;
    None leaves the wait to the outbox's own backoff."""

    def __init__(self, message: str = "", *, retry_after: datetime.timedelta | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(SMSError):
    """Retrying cannot help: the message fails and staff see why."""


@dataclasses.dataclass(frozen=True)
class Receipt:
    """A provider's word on one sent message: it reached the phone, or it did not (why)."""

    provider_message_id: str
    delivered: bool
    at: datetime.datetime | None = None
    error: str = ""


class BaseBackend:
    name = "base"

    def delivery_reports(self, messages) -> list[Receipt]:
        """What the provider knows by now of `messages` (sent through this backend); backends
        without delivery reports know nothing."""
        return []

    def send(self, phone: str, message: str) -> None:
        raise NotImplementedError

    def send_template(self, phone: str, template: Template, params: dict) -> str:
        """Providers without templates get the rendered text under the signature."""
        self.send(phone, signed(template.render(params)))
        return ""


class TemplateOnlyBackend(BaseBackend):
    """A provider that takes only its approved templates (Aliyun, Tencent Cloud): free text
    cannot be sent through it at all."""

    def send(self, phone: str, message: str) -> None:
        raise PermanentError(
            f"{self.name} 短信通道只能发送已登记的模板，不能发送自由文本：请通过发件箱按模板发送"
        )


class ConsoleBackend(BaseBackend):
    """Development: the message (with its code) is written to the server log, the number
    masked like any number in a log."""

    name = "console"

    def send(self, phone: str, message: str) -> None:
        logger.warning("短信（开发环境，未真正发送）→ %s：%s", mask_phone(phone), message)


class LocmemBackend(BaseBackend):
    """Tests: messages are appended to `couriers.messaging.backends.outbox`."""

    name = "locmem"

    def send(self, phone: str, message: str) -> None:
        outbox.append((phone, message))


class HttpBackend(BaseBackend):
    """Production: an HTTP gateway in front of the SMS provider.

    Interface: POST SMS_HTTP_URL with JSON {"phone": "13812345678", "message": "…",
    "sign": SMS_SIGN_NAME} and header "Authorization: Bearer SMS_HTTP_TOKEN"; any 2xx status
    means accepted. For a district whose provider is neither Aliyun nor Tencent Cloud (those
    two have their own backends in `couriers.messaging.providers`), a small gateway that
    speaks this keeps the provider's keys out of the portal.
    """

    name = "http"

    timeout = 5

    def send(self, phone: str, message: str) -> None:
        body = json.dumps(
            {"phone": phone, "message": message, "sign": settings.SMS_SIGN_NAME}
        ).encode()
        request = urllib.request.Request(
            settings.SMS_HTTP_URL,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {settings.SMS_HTTP_TOKEN}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                if not 200 <= response.status < 300:
                    raise SMSError(f"gateway answered {response.status}")
        except OSError as problem:
            raise SMSError(str(problem)) from problem
