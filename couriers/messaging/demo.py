"""Demo outbox: messages in every state (待发送, 已发送, 已送达, 失败, 已取消), each with its
history, written straight to the table (the demo sends nothing). Loaded once."""

from __future__ import annotations

import datetime
import random

from django.conf import settings
from django.utils import timezone

from couriers.messaging import templates
from couriers.models import Courier, Message, MessageLog

State, What = Message.State, MessageLog.What

EXAMPLES = [
    ("points_adjusted", {"change": "+5", "reason": "补录志愿服务"}, "points_adjusted"),
    ("checkin_welcome", {}, "checkin_welcome"),
    (
        "activity_reminder",
        {"activity": "交通安全课", "time": "明天 14:00", "place": "南桥党群服务中心"},
        "activity_reminder",
    ),
    ("service_confirmed", {"post": "文明交通劝导", "points": "10"}, "service_confirmed"),
    ("broadcast", {"title": "高温预警", "content": "今天各骑乐融融站点提供防暑药品"}, "broadcast"),
]
# (state, what happened, its note): every state of the outbox, the way it came about.
STORIES = [
    (State.SENT, [(What.SENT, "第 1 次（demo）")]),
    (State.DELIVERED, [(What.SENT, "第 1 次（demo）"), (What.DELIVERED, "运营商回执：已送达")]),
    (
        State.FAILED,
        [(What.FAILED, "第 1 次（demo）：isv.MOBILE_NUMBER_ILLEGAL 号码格式错误")],
    ),
    (State.PENDING, [(What.DEFERRED, "免打扰时段，推迟到 08:00")]),
    (
        State.PENDING,
        [(What.RETRY, "第 1 次（demo）：isv.BUSINESS_LIMIT_CONTROL 触发流控；稍后再试")],
    ),
    (State.CANCELLED, [(What.CANCELLED, "工作人员取消")]),
]


def load() -> dict[str, int]:
    if Message.objects.exists():
        return {"短信": Message.objects.count()}
    rng = random.Random(1717)
    couriers = list(Courier.objects.order_by("id")[:60])
    now = timezone.now()
    for index, courier in enumerate(couriers):
        code, params, event = EXAMPLES[index % len(EXAMPLES)]
        state, story = STORIES[index % len(STORIES)]
        created = now - datetime.timedelta(days=rng.randint(0, 20), minutes=rng.randint(0, 600))
        template = templates.get(code)
        sent = state in (State.SENT, State.DELIVERED)
        message = Message.objects.create(
            courier=courier,
            template=code,
            params=params,
            event=event,
            occasion=f"demo-{index}",
            state=state,
            attempts=0 if state in (State.CANCELLED,) else 1,
            created_at=created,
            send_after=created + datetime.timedelta(hours=10)
            if state == State.PENDING
            else created,
            sent_at=created + datetime.timedelta(seconds=3) if sent else None,
            delivered_at=created + datetime.timedelta(seconds=9)
            if state == State.DELIVERED
            else None,
            provider="demo",
            segments=templates.segments(template.render(params), settings.SMS_SIGN_NAME)
            if sent
            else 0,
            last_error=story[-1][1] if state in (State.FAILED, State.CANCELLED) else "",
        )
        MessageLog.objects.bulk_create(
            MessageLog(
                message=message,
                at=created + datetime.timedelta(seconds=3 * n),
                what=what,
                note=note,
            )
            for n, (what, note) in enumerate(story, start=1)
        )
    return {"短信": Message.objects.count()}
