"""Poster scans counted as station visits, so that a station's usage figures mean something.

At most one visit per device per station per hour. A browser without a device cookie we issued
(none, or a made-up one) counts by its address instead: once per station per hour. And however
many fresh cookies one address collects from the site, it adds at most
VISITS_PER_ADDRESS_PER_HOUR visits to a station an hour (generous: couriers resting at a
station share its Wi-Fi, and so one address).
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from couriers.models import Courier
from couriers.security.ratelimit import digest, hit
from stations.models import Station, StationVisit

VISIT_EVERY = datetime.timedelta(hours=1)
VISITS_PER_ADDRESS_PER_HOUR = 30


def record_visit(
    station: Station,
    *,
    device: str,
    device_known: bool,
    address: str,
    courier: Courier | None = None,
) -> StationVisit | None:
    """Count a scan by `device` from `address` (both hashes) as a visit, or None when it is
    not one; `device_known` says the browser brought a device cookie we issued."""
    now = timezone.now()
    hour = int(VISIT_EVERY.total_seconds())
    if device_known:
        if StationVisit.objects.filter(
            station=station, device=device, visited_at__gte=now - VISIT_EVERY
        ).exists():
            return None
    elif hit(digest("visit-by-address", str(station.pk), address), hour) > 1:
        return None
    if hit(digest("visits-from-address", str(station.pk), address), hour) > (
        VISITS_PER_ADDRESS_PER_HOUR
    ):
        return None
    return StationVisit.objects.create(
        station=station, device=device, visited_at=now, courier=courier
    )
