"""What couriers are told about the activities they signed up for: a place from the waiting
list, a sign-up confirmed or cancelled by staff, an activity moved or cancelled.

Each function queues the message with `couriers.messaging.notify.notify` and must be called
inside the transaction of the change (the callers in `signups.py` and the activity admin hold
the activity's row locked): the message commits or rolls back with it. Reminders are in
`reminders.py`.
"""

from __future__ import annotations

from django.utils import timezone

from activities.models import Activity, SignUp
from couriers.messaging.notify import notify

# What a courier is told when it changes: the time and the place.
WHEN_AND_WHERE = ("starts_at", "ends_at", "station_id", "checkin_point_id", "address", "online_url")


def when(activity: Activity) -> str:
    """The start as a short phrase: 12月3日 14:00 (a provider variable holds ~20 characters)."""
    local = timezone.localtime(activity.starts_at)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def details(activity: Activity) -> dict[str, str]:
    return {"activity": activity.title, "time": when(activity), "place": activity.venue}


def tell_promoted(activity: Activity, promoted: list[SignUp]) -> None:
    """Couriers just moved from the waiting list into a place of `activity`."""
    for signup in promoted:
        notify(
            signup.courier,
            "signup_promoted",
            details(activity),
            event="signup_promoted",
            about=signup,
        )


def tell_confirmed(signup: SignUp) -> None:
    notify(
        signup.courier,
        "signup_confirmed",
        details(signup.activity),
        event="signup_confirmed",
        about=signup,
    )


def tell_cancelled(signup: SignUp, reason: str) -> None:
    notify(
        signup.courier,
        "signup_cancelled",
        {"activity": signup.activity.title, "reason": reason},
        event="signup_cancelled",
        about=signup,
    )


def _signed_up(activity: Activity):
    """Everyone holding a place or waiting for one: both need to know of a change."""
    return (
        SignUp.objects.filter(activity=activity)
        .exclude(status=SignUp.Status.CANCELLED)
        .select_related("courier")
        .order_by("id")
    )


def changed_fields(before: Activity, after: Activity) -> list[str]:
    return [name for name in WHEN_AND_WHERE if getattr(before, name) != getattr(after, name)]


def tell_activity_saved(before: Activity, after: Activity) -> int:
    """Staff saved `after` (it was `before`, read under the row lock): tell everyone signed up
    when it was cancelled, or when its time or place changed (un-cancelling counts as a
    change: it takes place after all). Nothing changed, nobody is told. Returns how many
    messages were queued."""
    now = timezone.now()
    # Each change is its own occasion, so a second change is told too; the lock the caller
    # holds makes a double-submitted form see no change the second time.
    occasion = now.isoformat()
    today = timezone.localdate(now)
    # A change on the day itself cannot wait for the end of quiet hours.
    urgent = today in (timezone.localdate(before.starts_at), timezone.localdate(after.starts_at))
    if after.is_cancelled and not before.is_cancelled:
        template = "activity_cancelled"
        params = {
            "activity": after.title,
            "time": when(before),
            "reason": after.cancel_note.strip() or "另行通知",
        }
    elif not after.is_cancelled and (before.is_cancelled or changed_fields(before, after)):
        template, params = "activity_changed", details(after)
    else:
        return 0
    if after.ends_at <= now:
        return 0  # an activity already over: a correction of the record, not news
    told = 0
    for signup in _signed_up(after):
        message = notify(
            signup.courier,
            template,
            params,
            event=template,
            about=after,
            occasion=occasion,
            urgent=urgent,
        )
        told += message is not None
    return told
