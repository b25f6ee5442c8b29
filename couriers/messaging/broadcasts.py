"""Broadcasts (群发通知): staff tell a selection of couriers one notice.

- `preview`: what the couriers will read, to how many (opt-outs and erased couriers left
  out), in how many billed segments and at what estimated cost;
- `submit`: record the broadcast (once per confirm form: its token) in the sender's scope —
  a town user's broadcast belongs to their town, a district user's to the district; above
  SMS_BROADCAST_APPROVAL_OVER recipients it waits as 待审批 unless the sender is district
  staff who may approve broadcasts;
- `approve` / `reject`: district staff decide on one that waits;
- `deliver`: write its messages to the outbox in one bulk insert (`bulk.notify_many`);
- `figures` / `refresh_state`: its delivery figures, from its outbox rows.

Who may reach whom is decided here, not by the page: `out_of_scope` checks every courier id
a form posts against the user's town.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from couriers.messaging import bulk, templates
from couriers.models import Broadcast, Courier, Message
from couriers.scoping import ALL_TOWNS, staff_town_id

TEMPLATE = "broadcast"
EVENT = "broadcast"


@dataclasses.dataclass(frozen=True)
class Preview:
    text: str  # as the courier reads it, signature included
    selected: int
    recipients: int
    segments: int
    cost: Decimal

    @property
    def left_out(self) -> int:
        return self.selected - self.recipients


def out_of_scope(user, courier_ids: Iterable[int]) -> bool:
    """Whether any of `courier_ids` is a courier `user` may not reach (another town's, or
    none at all): a posted form is refused whole, never quietly trimmed."""
    chunks = bulk.id_chunks(courier_ids)
    mine = Courier.objects.for_user(user)
    found = sum(mine.filter(pk__in=chunk).count() for chunk in chunks)
    return found != sum(map(len, chunks))


def _body(title: str, content: str) -> str:
    return templates.get(TEMPLATE).render({"title": title, "content": content})


def rendered(title: str, content: str) -> str:
    return templates.signed(_body(title, content))


def cost_of(recipients: int, segments: int) -> Decimal:
    per_segment = Decimal(str(settings.SMS_COST_PER_SEGMENT))
    return (per_segment * segments * recipients).quantize(Decimal("0.001"))


def preview(courier_ids: Iterable[int], title: str, content: str) -> Preview:
    ids = set(courier_ids)
    body = _body(title, content)
    count = len(bulk.reachable_ids(ids, templates.get(TEMPLATE).kind))
    pieces = templates.segments(body, settings.SMS_SIGN_NAME)
    return Preview(templates.signed(body), len(ids), count, pieces, cost_of(count, pieces))


def may_approve(user) -> bool:
    return staff_town_id(user) is ALL_TOWNS and user.has_perm("couriers.approve_broadcast")


def submit(
    *, user, courier_ids: Iterable[int], title: str, content: str, token
) -> tuple[Broadcast, bool]:
    """Record a confirmed broadcast; (the broadcast, whether this call created it). A second
    confirm with the same token returns the first one and sends nothing more. The caller has
    checked `out_of_scope`."""
    existing = Broadcast.objects.filter(token=token).first()
    if existing is not None:
        return existing, False
    town_id = staff_town_id(user)
    if town_id is None:
        raise PermissionDenied("该账号未设置负责范围")
    ids = sorted(set(courier_ids))
    shown = preview(ids, title, content)
    waits = shown.recipients > settings.SMS_BROADCAST_APPROVAL_OVER and not may_approve(user)
    now = timezone.now()
    try:
        with transaction.atomic():
            broadcast = Broadcast.objects.create(
                token=token,
                title=title,
                content=content,
                town_id=None if town_id is ALL_TOWNS else town_id,
                audience=ids,
                recipients=shown.recipients,
                segments=shown.segments,
                estimated_cost=shown.cost,
                created_by=user,
                created_at=now,
                state=Broadcast.State.PENDING_APPROVAL if waits else Broadcast.State.APPROVED,
                approved_by=None if waits else user,
                approved_at=None if waits else now,
            )
            if not waits:
                deliver(broadcast)
    except IntegrityError:  # the same confirm, a moment ago, in another request
        return Broadcast.objects.get(token=token), False
    return broadcast, True


def _decide(broadcast: Broadcast, user, state: str) -> bool:
    """Move a broadcast that waits to `state`, under a row lock (two approvers at once: one
    decides). Returns whether this call did."""
    if not may_approve(user):
        raise PermissionDenied("只有区级工作人员可以审批群发通知")
    with transaction.atomic():
        locked = Broadcast.objects.select_for_update().get(pk=broadcast.pk)
        if locked.state != Broadcast.State.PENDING_APPROVAL:
            return False
        locked.state, locked.approved_by, locked.approved_at = state, user, timezone.now()
        locked.save(update_fields=["state", "approved_by", "approved_at"])
        if state == Broadcast.State.APPROVED:
            deliver(locked)
    broadcast.refresh_from_db()
    return True


def approve(broadcast: Broadcast, user) -> bool:
    return _decide(broadcast, user, Broadcast.State.APPROVED)


def reject(broadcast: Broadcast, user) -> bool:
    return _decide(broadcast, user, Broadcast.State.REJECTED)


def deliver(broadcast: Broadcast) -> int:
    """Write an approved broadcast's messages (inside the caller's transaction); they are
    sent by the worker once it commits. Opt-outs are applied as they stand now."""
    added = bulk.notify_many(
        broadcast.audience,
        TEMPLATE,
        {"title": broadcast.title, "content": broadcast.content},
        event=EVENT,
        about=broadcast,
    )
    broadcast.state = Broadcast.State.SENDING if added else Broadcast.State.DONE
    broadcast.recipients = messages_of(broadcast).count()
    broadcast.estimated_cost = cost_of(broadcast.recipients, broadcast.segments)
    broadcast.audience = []  # the outbox rows are now the list of who is told
    broadcast.save(update_fields=["state", "recipients", "estimated_cost", "audience"])
    return added


def messages_of(broadcast: Broadcast):
    return Message.objects.filter(
        event=EVENT,
        about_type=ContentType.objects.get_for_model(Broadcast),
        about_id=broadcast.pk,
    )


def figures(broadcast: Broadcast) -> list[tuple[str, int]]:
    """(state label, number of messages) for every outbox state, in the states' order."""
    counts = dict(messages_of(broadcast).order_by().values_list("state").annotate(n=Count("id")))
    return [(label, counts.get(value, 0)) for value, label in Message.State.choices]


def refresh_state(broadcast: Broadcast) -> None:
    """发送中 becomes 已完成 once none of its messages waits any more."""
    if broadcast.state != Broadcast.State.SENDING:
        return
    if not messages_of(broadcast).filter(state=Message.State.PENDING).exists():
        Broadcast.objects.filter(pk=broadcast.pk, state=Broadcast.State.SENDING).update(
            state=Broadcast.State.DONE
        )
        broadcast.state = Broadcast.State.DONE
