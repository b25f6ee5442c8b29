"""小哥报到: point tokens, and registering a courier at a point in the current campaign.

`check_in()` is the one workflow; the database's unique (courier, campaign) constraint and a
row lock make a double-submitted form or two simultaneous requests end in one registration.
"""

from __future__ import annotations

import dataclasses

from django.db import IntegrityError, transaction
from django.utils import timezone

from couriers.messaging.notify import notify
from couriers.models import Courier
from stations.models import Campaign, CheckIn, CheckInMove, CheckinPoint
from stations.models.checkin import looks_like_poster_token


def point_token(point: CheckinPoint) -> str:
    return point.token


def point_from_token(token: str) -> CheckinPoint | None:
    """The active point a token names, or None for a tampered or unknown token. Tokens are
    stored per point (not signed with SECRET_KEY), so a new key voids no poster."""
    if not looks_like_poster_token(token):
        return None
    return (
        CheckinPoint.objects.filter(poster_token=token, is_active=True)
        .select_related("town")
        .first()
    )


@dataclasses.dataclass
class Outcome:
    checkin: CheckIn
    status: str  # "new", "already" (same point) or "moved"


def existing_checkin(courier: Courier, campaign: Campaign) -> CheckIn | None:
    return (
        CheckIn.objects.filter(courier=courier, campaign=campaign)
        .select_related("point__town", "campaign")
        .first()
    )


def check_in(
    courier: Courier,
    point: CheckinPoint,
    campaign: Campaign,
    *,
    interests: list[str],
    sensitive_consent: bool,
    move: bool = False,
) -> Outcome:
    """Register `courier` at `point`; at another point it moves only when `move` is set."""
    now = timezone.now()
    with transaction.atomic():
        Courier.objects.select_for_update().filter(pk=courier.pk).first()  # one at a time
        if sensitive_consent:  # consent given again after withdrawing it
            Courier.objects.filter(pk=courier.pk).update(sensitive_consent_withdrawn_at=None)
        current = existing_checkin(courier, campaign)
        if current is None:
            try:
                with transaction.atomic():
                    checkin = CheckIn.objects.create(
                        courier=courier,
                        campaign=campaign,
                        point=point,
                        interests=interests,
                        privacy_consent_at=now,
                        sensitive_consent_at=now if sensitive_consent else None,
                    )
                # Welcomed once per registration (its campaign), with the way back to 「我的」
                # (fixed in the template's text: providers refuse links in variables).
                notify(courier, "checkin_welcome", {}, event="checkin_welcome", about=checkin)
                return Outcome(checkin, "new")
            except IntegrityError:
                current = existing_checkin(courier, campaign)
        if current.point_id == point.pk or not move:
            return Outcome(current, "already")
        CheckInMove.objects.create(
            checkin=current, from_point=current.point, to_point=point, moved_at=now
        )
        current.point = point
        current.interests = interests or current.interests
        if sensitive_consent:
            current.sensitive_consent_at = now
        current.save(update_fields=["point", "interests", "sensitive_consent_at", "updated_at"])
        return Outcome(current, "moved")
