"""An activity as an iCalendar file (RFC 5545) for "add to calendar" on a phone.

Written by hand: one VEVENT, times in UTC, text escaped (backslash, semicolon, comma, newline),
lines folded at 75 octets without splitting a UTF-8 character, CRLF line endings.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from activities.models import Activity

LIMIT = 75  # octets per line, CRLF excluded (RFC 5545 §3.1)


def escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold(line: str) -> str:
    """Split a content line into 75-octet pieces; continuation lines start with a space."""
    pieces: list[str] = []
    current, size, limit = "", 0, LIMIT
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            pieces.append(current)
            current, size, limit = "", 0, LIMIT - 1  # the leading space takes one octet
        current += char
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)


def utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def ics(activity: Activity, *, url: str, host: str) -> str:
    """The event; for a cancelled activity, its cancellation under the same UID.

    A courier who added the activity earlier opens the file again (the page links it) and the
    calendar matches it by UID: METHOD:CANCEL with STATUS:CANCELLED and a higher SEQUENCE
    tells it to drop the event (RFC 5546 §3.2.5 wants an ORGANIZER on a CANCEL, so one is
    given: the portal itself)."""
    cancelled = activity.is_cancelled
    summary = f"【已取消】{activity.title}" if cancelled else activity.title
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Fengxian Courier Portal//Activities//ZH",
        "CALSCALE:GREGORIAN",
        "METHOD:CANCEL" if cancelled else "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:activity-{activity.pk}@{host}",
        f"SEQUENCE:{1 if cancelled else 0}",
        "STATUS:CANCELLED" if cancelled else "STATUS:CONFIRMED",
        *([f"ORGANIZER;CN=奉贤快递小哥党建服务平台:mailto:noreply@{host}"] if cancelled else []),
        f"DTSTAMP:{utc(timezone.now())}",
        f"DTSTART:{utc(activity.starts_at)}",
        f"DTEND:{utc(activity.ends_at)}",
        f"SUMMARY:{escape(summary)}",
        f"LOCATION:{escape(activity.venue)}",
        f"DESCRIPTION:{escape(_description(activity, url))}",
        f"URL:{url}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines)


def _description(activity: Activity, url: str) -> str:
    parts = [activity.get_kind_display()]
    if activity.is_cancelled:
        parts.insert(0, f"活动已取消。{activity.cancel_note}".strip())
    if activity.topic:
        parts.append(f"主题：{activity.get_topic_display()}")
    if activity.description:
        parts.append(activity.description)
    if activity.is_online:
        # The meeting link is for confirmed couriers only (shown on the page once signed up).
        parts.append("线上参加：报名成功后在活动页面查看链接")
    parts.append(f"详情与报名：{url}")
    return "\n".join(parts)
