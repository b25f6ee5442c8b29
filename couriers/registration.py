"""Registering a courier who identifies themselves on the web (check-in, sign-in).

The courier is matched to the registry by phone: one imported from a survey is updated, never
duplicated; a new one is created. Blank answers never erase what the registry holds, and the
political status of a courier with a party-stage history follows the history, not the answer
(`couriers.casework.pipeline.answered_status`).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from couriers.casework import pipeline
from couriers.models import Brand, Courier, Outlet, Town

# The fields a courier's own answers can change.
ANSWERED = (
    "name",
    "work_town_id",
    "outlet_id",
    "enterprise_id",
    "brand_id",
    "political_status",
    "is_mobile_party_member",
    "notes",
)


def _answers(courier: Courier) -> tuple:
    return tuple(getattr(courier, field) for field in ANSWERED)


def find_or_register(
    phone: str,
    *,
    name: str,
    town: Town,
    brand: Brand | None = None,
    outlet: Outlet | None = None,
    political_status: str = "",
    workplace: str = "",
) -> tuple[Courier, bool]:
    """The courier with this (normalised) phone, updated with what they told us; or a new one.

    Safe under concurrency: two requests for the same phone end with one courier.
    """
    with transaction.atomic():
        courier = Courier.objects.select_for_update().filter(phone=phone).first()
        created = courier is None
        if created:
            courier = Courier(phone=phone, name=name, work_town=town)
        before = _answers(courier)
        courier.name = name or courier.name
        if not created and town is not None:
            courier.work_town = town
        if outlet is not None:
            courier.outlet, courier.enterprise, courier.brand = (
                outlet,
                outlet.enterprise,
                outlet.enterprise.brand,
            )
        elif brand is not None and (
            courier.enterprise_id is None or courier.enterprise.brand_id != brand.pk
        ):
            courier.brand, courier.enterprise, courier.outlet = brand, None, None
        if political_status:
            courier.political_status = pipeline.answered_status(courier, political_status)
            if courier.is_mobile_party_member and not courier.is_party_member:
                courier.is_mobile_party_member = False
        if workplace and outlet is None:
            note = f"自填网点：{workplace}"
            if note not in courier.notes:
                courier.notes = f"{courier.notes}\n{note}".strip()
        if not created and _answers(courier) == before:
            return courier, False  # nothing new: no write (a courier checks in every season)
        # Uniqueness is left to the database (the IntegrityError below), so a phone registered
        # by another request a moment ago is not a validation error.
        courier.full_clean(validate_unique=False, validate_constraints=False)
        try:
            with transaction.atomic():
                courier.save()
        except IntegrityError:
            # Another request registered the same phone a moment ago: use that courier.
            courier = Courier.objects.select_for_update().get(phone=phone)
            created = False
        return courier, created
