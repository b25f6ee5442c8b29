"""Signing up for activities, cancelling, and the waiting list.

The activity's row is locked while places are counted, so capacity holds under simultaneous
sign-ups; the database allows one live sign-up per courier per activity, so a double-submitted
form ends in one. A cancellation hands the place to the first courier waiting, in the same
transaction.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from activities.models import Activity, SignUp
from activities.programmes import notices
from couriers.models import Courier


class SignUpRefused(Exception):
    """The message says why, in Chinese."""


def live_signup(activity: Activity, courier: Courier) -> SignUp | None:
    return (
        SignUp.objects.filter(activity=activity, courier=courier)
        .exclude(status=SignUp.Status.CANCELLED)
        .first()
    )


def sign_up(activity: Activity, courier: Courier) -> SignUp:
    """A confirmed place while there is one, otherwise a place on the waiting list."""
    now = timezone.now()
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(pk=activity.pk)
        if not locked.is_published:
            raise SignUpRefused("这个活动不接受报名。")
        if locked.is_cancelled:
            raise SignUpRefused("这个活动已取消。")
        if now >= locked.starts_at:
            raise SignUpRefused("活动已开始，不能再报名。")
        if now >= locked.deadline:
            raise SignUpRefused("报名已截止。")
        existing = live_signup(locked, courier)
        if existing is not None:
            if existing.status == SignUp.Status.WAITING:
                raise SignUpRefused("你已在候补名单中。")
            raise SignUpRefused("你已报名这个活动。")
        taken = SignUp.objects.filter(activity=locked, status=SignUp.Status.CONFIRMED).count()
        status = SignUp.Status.CONFIRMED if taken < locked.capacity else SignUp.Status.WAITING
        try:
            with transaction.atomic():
                return SignUp.objects.create(
                    activity=locked, courier=courier, status=status, created_at=now
                )
        except IntegrityError:
            raise SignUpRefused("你已报名这个活动。") from None


def cancel(activity: Activity, courier: Courier) -> SignUp | None:
    """Cancel the courier's sign-up (or waiting place). Returns the cancelled sign-up, or None
    when there was nothing to cancel."""
    now = timezone.now()
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(pk=activity.pk)
        if now >= locked.starts_at:
            raise SignUpRefused("活动已开始，不能再取消报名。")
        mine = live_signup(locked, courier)
        if mine is None:
            return None
        mine.status = SignUp.Status.CANCELLED
        mine.cancelled_at = now
        mine.save(update_fields=["status", "cancelled_at"])
        fill_places(locked)
        return mine


def fill_places(activity: Activity) -> list[SignUp]:
    """Promote waiting couriers, first come first served, into free places. Call with the
    activity's row locked (inside the caller's transaction)."""
    if timezone.now() >= activity.starts_at:
        return []  # no promotion once it has begun: nobody could act on it
    taken = SignUp.objects.filter(activity=activity, status=SignUp.Status.CONFIRMED).count()
    free = activity.capacity - taken
    if free <= 0:
        return []
    promoted = list(
        SignUp.objects.filter(activity=activity, status=SignUp.Status.WAITING)
        .exclude(courier__in=Courier.objects.erased())  # an anonymous shell never moves up
        .order_by("created_at", "id")[:free]
    )
    now = timezone.now()
    for signup in promoted:
        signup.status = SignUp.Status.CONFIRMED
        signup.promoted_at = now
        signup.save(update_fields=["status", "promoted_at"])
    notices.tell_promoted(activity, promoted)
    return promoted


def refill(activity: Activity) -> list[SignUp]:
    """After staff change the capacity or cancel sign-ups: lock and promote."""
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(pk=activity.pk)
        return fill_places(locked)


def staff_cancel(signup: SignUp, reason: str) -> bool:
    """Staff cancel a sign-up (e.g. the courier phoned in), saying why; the courier is told and
    the place goes to the next waiting. False when it was already cancelled."""
    reason = reason.strip()
    if not reason:
        raise SignUpRefused("取消报名须写明原因（会通过短信告诉小哥）。")
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(pk=signup.activity_id)
        updated = (
            SignUp.objects.filter(pk=signup.pk)
            .exclude(status=SignUp.Status.CANCELLED)
            .update(status=SignUp.Status.CANCELLED, cancelled_at=timezone.now())
        )
        if updated:
            signup = SignUp.objects.select_related("courier", "activity").get(pk=signup.pk)
            notices.tell_cancelled(signup, reason)
            fill_places(locked)
        return bool(updated)


def staff_confirm(signup: SignUp) -> bool:
    """Staff give a waiting courier a place out of turn (a chair was found, the courier is
    needed): the places grow by one when the activity is full, so the count still holds.
    The courier is told. False when the sign-up was not waiting."""
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(pk=signup.activity_id)
        if timezone.now() >= locked.starts_at:
            raise SignUpRefused("活动已开始，不能再确认报名。")
        waiting = SignUp.objects.filter(pk=signup.pk, status=SignUp.Status.WAITING).first()
        if waiting is None:
            return False
        taken = SignUp.objects.filter(activity=locked, status=SignUp.Status.CONFIRMED).count()
        if taken >= locked.capacity:
            locked.capacity = taken + 1
            locked.save(update_fields=["capacity"])
        waiting.status = SignUp.Status.CONFIRMED
        waiting.promoted_at = timezone.now()
        waiting.save(update_fields=["status", "promoted_at"])
        waiting.activity = locked
        notices.tell_confirmed(waiting)
        return True


def with_waiting_position(signups):
    """Annotate `position`: 1 for the first courier waiting for that activity, and so on."""
    ahead = (
        SignUp.objects.filter(activity=OuterRef("activity"), status=SignUp.Status.WAITING)
        .filter(
            Q(created_at__lt=OuterRef("created_at"))
            | Q(created_at=OuterRef("created_at"), id__lt=OuterRef("id"))
        )
        .order_by()
        .values("activity")
        .annotate(n=Count("id"))
        .values("n")
    )
    return signups.annotate(position=Coalesce(Subquery(ahead), 0) + 1)


def upcoming_for(courier: Courier):
    """The courier's live sign-ups for activities not yet over, soonest first."""
    return with_waiting_position(
        SignUp.objects.filter(courier=courier, activity__ends_at__gte=timezone.now())
        .exclude(status=SignUp.Status.CANCELLED)
        .select_related("activity__town", "activity__station", "activity__checkin_point")
        .order_by("activity__starts_at", "id")
    )
