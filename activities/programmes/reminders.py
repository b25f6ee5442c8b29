"""Reminders of an activity, to each courier holding a place (not those waiting, not for a
cancelled activity): the evening before and 2 hours before it starts.

`queue_reminders(now)` may run as often as wanted — every quarter hour from the worker
(`activities.programmes.tasks.send_reminders`), hourly from the housekeeping timer
(`manage.py send_reminders`): a reminder is one outbox row per (activity, courier, occasion),
so a second run adds nothing. The occasion names the start time as well, so an activity moved
to another day is reminded again for its new date.
"""

from __future__ import annotations

import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from activities.models import Activity, SignUp
from activities.programmes.notices import details
from couriers.messaging.notify import notify
from couriers.models import Message

EVENT = "activity_reminder"
BEFORE = datetime.timedelta(hours=2)
# The evening reminder goes out from 19:00 until quiet hours begin at 21:00: queued later it
# would wait for the morning and arrive beside the 2-hour one.
EVENING_FROM = datetime.time(19)
EVENING_UNTIL = datetime.time(21)


def windows(now: datetime.datetime) -> list[tuple[str, datetime.datetime, datetime.datetime]]:
    """(occasion, after, until): remind of activities starting in (after, until]."""
    due = [("2h", now, now + BEFORE)]
    local = timezone.localtime(now)
    if EVENING_FROM <= local.time() < EVENING_UNTIL:
        tomorrow = timezone.make_aware(
            datetime.datetime.combine(local.date() + datetime.timedelta(days=1), datetime.time())
        )
        # Tomorrow's activities, except any that would start within 2 hours of now.
        due.append(("evening", max(tomorrow, now + BEFORE), tomorrow + datetime.timedelta(days=1)))
    return due


def occasion(kind: str, activity: Activity) -> str:
    return f"{kind} {timezone.localtime(activity.starts_at):%Y-%m-%d %H:%M}"


def queue_reminders(now: datetime.datetime | None = None) -> int:
    """Queue the reminders due at `now`; returns how many were new."""
    now = now or timezone.now()
    about_type = ContentType.objects.get_for_model(Activity)
    queued = 0
    with transaction.atomic():
        for kind, after, until in windows(now):
            places = (
                SignUp.objects.filter(
                    status=SignUp.Status.CONFIRMED,
                    activity__is_cancelled=False,
                    activity__starts_at__gt=after,
                    activity__starts_at__lte=until,
                )
                .select_related("courier", "activity__station", "activity__checkin_point")
                .order_by("activity__starts_at", "id")
            )
            places = list(places)
            # A run after the first finds its reminders queued: skip them in one query.
            sent = set(
                Message.objects.filter(
                    event=EVENT,
                    about_type=about_type,
                    about_id__in={signup.activity_id for signup in places},
                ).values_list("about_id", "courier_id", "occasion")
            )
            for signup in places:
                activity = signup.activity
                why = occasion(kind, activity)
                if (activity.pk, signup.courier_id, why) in sent:
                    continue
                message = notify(
                    signup.courier,
                    "activity_reminder",
                    details(activity),
                    event=EVENT,
                    about=activity,
                    occasion=why,
                    send_before=activity.starts_at,  # a reminder after the start is noise
                )
                queued += message is not None
    return queued
