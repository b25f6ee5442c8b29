"""SMS backends.

Each has `send_template(phone, template, params)`, which sends one templated message and returns
the provider's message id (or ""), and raises `SMSError` when it cannot: `TemporaryError` (the
network, a 5xx, the provider's flow control: worth retrying later) or `PermanentError` (a
number the provider refuses, a template it has not approved: retrying cannot help). The plain
backends also keep `send(phone, text)`.
"""

from __future__ import annotations

import json
import logging
import urllib.request

from django.conf import settings

from couriers.messaging.templates import Template
from couriers.privacy.masking import mask_phone

logger = logging.getLogger("couriers.messaging.sms")

outbox: list[tuple[str, str]] = []  # LocmemBackend's messages, for tests


class SMSError(Exception):
    """The message was not sent; by default worth trying again later."""


class TemporaryError(SMSError):
    pass


class PermanentError(SMSError):
    """Retrying cannot help: the message fails and staff see why."""


class BaseBackend:
    name = "base"

    def send(self, phone: str, message: str) -> None:
        raise NotImplementedError

    def send_template(self, phone: str, template: Template, params: dict) -> str:
        """Providers without templates get the rendered text under the signature."""
        self.send(phone, f"【{settings.SMS_SIGN_NAME}】{template.render(params)}")
        return ""


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
    means accepted. Providers' own APIs (Aliyun, Tencent Cloud …) are reached through a small
    gateway that speaks this, so the portal holds no provider SDK or keys of its own.
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
