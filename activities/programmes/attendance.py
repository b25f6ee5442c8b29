"""Attendance at activities: the QR code's signed token, recording attendance once, and the
points it pays through the ledger.

The token is the activity's own random one (stored, not signed with SECRET_KEY, so a new key
voids no printed code), so it cannot be forged or guessed; it is
accepted only from ACTIVITY_ATTENDANCE_EARLY_MINUTES before the start until
ACTIVITY_ATTENDANCE_LATE_MINUTES after the end, so a photo of the code is useless another day.

Walk-ins count: a courier who scans at the venue without a confirmed place (not signed up, or
still waiting) is recorded as attending, marked 现场参加, and earns the same points. Being
there is what the programme wants; places limit reservations, not who may listen.
"""

from __future__ import annotations

import datetime
import enum

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from activities import points
from activities.models import Activity, Attendance, PointsEntry, SignUp
from couriers.models import Courier
from stations.models.checkin import looks_like_poster_token


class Window(enum.Enum):
    EARLY = "early"
    OPEN = "open"
    LATE = "late"
    CANCELLED = "cancelled"  # the activity will not take place: nobody can scan in


def token(activity: Activity) -> str:
    return activity.attendance_token


def activity_from_token(value: str) -> Activity | None:
    """The published activity a token names, or None for a tampered or unknown token."""
    if not looks_like_poster_token(value):
        return None
    return (
        Activity.objects.published().select_related("town").filter(attendance_token=value).first()
    )


def window(activity: Activity) -> tuple[datetime.datetime, datetime.datetime]:
    early = datetime.timedelta(minutes=settings.ACTIVITY_ATTENDANCE_EARLY_MINUTES)
    late = datetime.timedelta(minutes=settings.ACTIVITY_ATTENDANCE_LATE_MINUTES)
    return activity.starts_at - early, activity.ends_at + late


def window_state(activity: Activity, now: datetime.datetime | None = None) -> Window:
    if activity.is_cancelled:
        return Window.CANCELLED
    now = now or timezone.now()
    opens, closes = window(activity)
    if now < opens:
        return Window.EARLY
    if now > closes:
        return Window.LATE
    return Window.OPEN


def _reason(activity: Activity) -> str:
    return f"参加活动：{activity.title}"[:200]


def mark(
    activity: Activity,
    courier: Courier,
    *,
    via: str,
    by=None,
    at: datetime.datetime | None = None,
) -> tuple[Attendance, bool]:
    """Record that `courier` attended, once; pay the activity's points once.
    Returns the attendance and whether it is new."""
    with transaction.atomic():
        existing = Attendance.objects.filter(activity=activity, courier=courier).first()
        if existing is not None:
            return existing, False
        confirmed = SignUp.objects.filter(
            activity=activity, courier=courier, status=SignUp.Status.CONFIRMED
        ).exists()
        try:
            with transaction.atomic():
                attendance = Attendance.objects.create(
                    activity=activity,
                    courier=courier,
                    via=via,
                    walk_in=not confirmed,
                    recorded_by=by,
                    at=at or timezone.now(),
                )
        except IntegrityError:  # a second scan at the same moment
            return Attendance.objects.get(activity=activity, courier=courier), False
        if activity.points:
            points.award(
                courier,
                activity.points,
                _reason(activity),
                PointsEntry.Source.ACTIVITY,
                source_id=attendance.pk,
                by=by,
                at=at,
            )
        return attendance, True


def unmark(attendance: Attendance, by) -> None:
    """Staff remove an attendance ticked by mistake: its points are reversed, then it goes.
    Ticking again later is a new attendance and pays again."""
    with transaction.atomic():
        paid = PointsEntry.objects.filter(
            source=PointsEntry.Source.ACTIVITY, source_id=attendance.pk, reverses__isnull=True
        ).first()
        if paid is not None and not PointsEntry.objects.filter(reverses=paid).exists():
            points.reverse(paid, "取消活动签到", by)
        attendance.delete()
