"""Which messages a courier has chosen to receive."""

from __future__ import annotations

import re

from django.utils import timezone

from couriers.messaging.templates import Kind
from couriers.models import Courier, MessagePreference

MOBILE = re.compile(r"1\d{10}")  # an erased courier's phone is a placeholder: never a mobile


def reachable(courier: Courier) -> bool:
    """Whether a message may go to this courier at all (erased couriers: never)."""
    return bool(MOBILE.fullmatch(courier.phone or ""))


def allows(courier: Courier, kind: str) -> bool:
    if kind == Kind.CODE:
        return True
    preference = MessagePreference.objects.filter(courier=courier).first()
    return preference is None or preference.allows(kind)


def refusing(kind: str) -> set[int]:
    """Ids of couriers who do not want messages of `kind`, for bulk sends. Few couriers have
    a preference at all, and JSON containment is not portable (SQLite), so it is read here."""
    if kind == Kind.CODE:
        return set()
    chosen = MessagePreference.objects.exclude(stopped_at__isnull=True, muted_kinds=[])
    return {
        courier_id
        for courier_id, stopped_at, muted in chosen.values_list(
            "courier_id", "stopped_at", "muted_kinds"
        )
        if stopped_at is not None or kind in muted
    }


def stop_all(phone: str) -> bool:
    """A reply of TD (退订) from `phone`: nothing but codes from now on. Returns whether the
    phone is a courier's."""
    courier = Courier.objects.filter(phone=phone).first()
    if courier is None:
        return False
    MessagePreference.objects.update_or_create(
        courier=courier, defaults={"stopped_at": timezone.now()}
    )
    return True
