"""Couriers' status reports on stations, rate-limited so one person cannot flood a station.

The limits are counted in the database, so they hold across every app server and worker.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from stations.models import Station, StatusReport

SAME_STATION_EVERY = datetime.timedelta(minutes=10)  # one report per station per device
PER_DEVICE_PER_HOUR = 12
PER_ADDRESS_PER_HOUR = 60  # an office or a phone network shares one address


class TooManyReports(Exception):
    """The message says, in Chinese, when the courier may report again."""


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
        if recent.filter(mine, station=station, created_at__gte=now - SAME_STATION_EVERY).exists():
            raise TooManyReports("你刚刚报告过这个站点，请 10 分钟后再报。")
        if recent.filter(mine).count() >= PER_DEVICE_PER_HOUR:
            raise TooManyReports("报告太频繁了，请一小时后再试。")
        if recent.filter(address=address).count() >= PER_ADDRESS_PER_HOUR:
            raise TooManyReports("来自同一网络的报告太多，请稍后再试。")
        return StatusReport.objects.create(
            station=station, kind=kind, device=device, address=address, created_at=now
        )
