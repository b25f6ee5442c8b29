"""已送达: what the providers say became of the messages they accepted.

Two ways in, same outcome: the provider posts its receipts to the portal
(`couriers.messaging.callbacks`), or the worker asks for them now and then (`poll`, for
providers or networks where no callback can reach the portal). A receipt moves a sent message
to 已送达 (with the time the phone got it) or, when the carrier could not deliver it, to 失败
with the reason, where staff can resend it.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from couriers.messaging import sending
from couriers.messaging.backends import Receipt, SMSError
from couriers.models import Message, MessageLog

logger = logging.getLogger("couriers.messaging.sms")

# Aliyun keeps send details for 30 days; a message still without a receipt after a few is
# not going to get one, and asking again would only cost calls.
POLL_WINDOW = datetime.timedelta(days=3)


@transaction.atomic
def record(receipts: Iterable[Receipt], provider: str) -> int:
    """Apply `receipts` from `provider` to the messages it sent; how many changed. A receipt
    for a message already settled (or unknown here) changes nothing, so a provider that posts
    the same receipt twice does no harm."""
    changed = 0
    now = timezone.now()
    for receipt in receipts:
        if not receipt.provider_message_id:
            continue
        sent = Message.objects.filter(
            provider=provider,
            provider_message_id=receipt.provider_message_id,
            state=Message.State.SENT,
        )
        for message in sent.select_for_update():
            if receipt.delivered:
                message.state, message.delivered_at = Message.State.DELIVERED, receipt.at or now
                message.save(update_fields=["state", "delivered_at"])
                message.log(MessageLog.What.DELIVERED, f"回执（{provider}）", at=now)
            else:
                message.state = Message.State.FAILED
                message.last_error = f"未送达：{receipt.error or '运营商未说明原因'}"[:300]
                message.save(update_fields=["state", "last_error"])
                message.log(MessageLog.What.FAILED, message.last_error, at=now)
            changed += 1
    return changed


def poll(limit: int = 200) -> int:
    """Ask the configured provider about recently sent messages still waiting for a receipt
    (QuerySendDetails, PullSmsSendStatus); for the worker or a periodic task. Returns how many
    messages changed. A provider that cannot answer now is asked again next time."""
    sender = sending.backend()
    waiting = list(
        Message.objects.filter(
            state=Message.State.SENT,
            provider=sender.name,
            sent_at__gte=timezone.now() - POLL_WINDOW,
        )
        .exclude(provider_message_id="")
        .select_related("courier")
        .order_by("sent_at", "id")[:limit]
    )
    if not waiting:
        return 0
    try:
        receipts = sender.delivery_reports(waiting)
    except SMSError as problem:
        logger.warning("查询短信回执失败：%s", problem)
        return 0
    return record(receipts, sender.name)
