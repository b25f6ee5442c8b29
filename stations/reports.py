"""Couriers' status reports on stations, rate-limited so one person cannot flood a station.

The limits are counted in the database, so they hold across every app server and worker.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from stations.models import Station, StatusReport

# One report of each kind per station per device: a courier who tapped 没水了 may still
# correct it to 关门了 at once, but tapping 没水了 twice counts once.
SAME_KIND_EVERY = datetime.timedelta(minutes=10)
PER_DEVICE_PER_HOUR = 12
PER_ADDRESS_PER_HOUR = 60  # an office or a phone network shares one address


class TooManyReports(Exception):
    """The message says, in Chinese, when the courier may report again."""


class AlreadyReported(TooManyReports):
    """The same device reported the same thing here moments ago: nothing to refuse, the
    report stands; the page just says so."""


def submit_report(
    station: Station, kind: str, device: str, address: str, *, device_known: bool
) -> StatusReport:
    """Record a report from `device` at `address` (both hashes). A browser that brought no
    device cookie of ours (`device_known` False) is counted by its address in the device
    limits: otherwise each made-up cookie would be a fresh device."""
    now = timezone.now()
    mine = Q(device=device) if device_known else Q(address=address)
    with transaction.atomic():
        # Reports on one station queue behind each other, so two taps at once count as two.
        Station.objects.select_for_update().filter(pk=station.pk).first()
        recent = StatusReport.objects.filter(created_at__gte=now - datetime.timedelta(hours=1))
        repeat = recent.filter(mine, station=station, kind=kind)
        if repeat.filter(created_at__gte=now - SAME_KIND_EVERY).exists():
            label = StatusReport.Kind(kind).label
            raise AlreadyReported(f"你刚刚已报告过“{label}”，10 分钟内不用再报。")
        if recent.filter(mine).count() >= PER_DEVICE_PER_HOUR:
            raise TooManyReports("报告太频繁了，请一小时后再试。")
        if recent.filter(address=address).count() >= PER_ADDRESS_PER_HOUR:
            raise TooManyReports("来自同一网络的报告太多，请稍后再试。")
        return StatusReport.objects.create(
            station=station, kind=kind, device=device, address=address, created_at=now
        )
