"""What erasing a courier means for what they do: their waiting-list places go.

An anonymous shell must never be promoted into a post or an activity (nobody would come, and
a courier who is really waiting would lose the place). Held places and past sign-ups stay, as
bare facts for the district's figures. Connected to couriers' `courier_erased` signal in
ActivitiesConfig.ready, since the registry cannot import this app.
"""

from __future__ import annotations

from django.utils import timezone

from activities.models import Claim, SignUp
from couriers.models import Courier


def withdraw_waiting(sender, courier: Courier, **kwargs) -> dict[str, int]:
    """Take the erased courier off every waiting list; counts of what was withdrawn."""
    now = timezone.now()
    claims = Claim.objects.filter(courier=courier, status=Claim.Status.WAITING).update(
        status=Claim.Status.WITHDRAWN, withdrawn_at=now
    )
    signups = SignUp.objects.filter(courier=courier, status=SignUp.Status.WAITING).update(
        status=SignUp.Status.CANCELLED, cancelled_at=now
    )
    return {"claims": claims, "signups": signups}
