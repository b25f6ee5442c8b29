"""Partner accounts: a staff user linked to a partner works its counter and sees its own rewards
and vouchers, nothing else (it holds no permissions on the registry; see rewards/admin.py)."""

from __future__ import annotations

from activities.models import Partner


def partner_of(user) -> Partner | None:
    """The partner a signed-in staff account works for, or None."""
    if not (user.is_authenticated and user.is_active and user.is_staff) or user.is_superuser:
        return None
    # District and town staff (a staff profile, read anyway for their scoping) are never
    # partner accounts: no extra query on their admin pages.
    if getattr(user, "staff_profile", None) is not None:
        return None
    membership = getattr(user, "partner_membership", None)  # missing: RelatedObjectDoesNotExist
    return membership.partner if membership is not None else None
