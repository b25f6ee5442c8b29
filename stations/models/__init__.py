"""The stations app's models, importable from `stations.models`:

- stations: 骑乐融融 rest stations, their hours and services, couriers' reports and visits
- checkin: 小哥报到 points, campaigns, check-ins and moves, the 6I categories
"""

from stations.models.checkin import (
    Campaign,
    CampaignQuerySet,
    CheckIn,
    CheckInMove,
    CheckinPoint,
    SixI,
)
from stations.models.stations import (
    OpeningHours,
    Service,
    Station,
    StationQuerySet,
    StationVisit,
    StatusReport,
    StatusReportQuerySet,
)

__all__ = [
    "Campaign",
    "CampaignQuerySet",
    "CheckIn",
    "CheckInMove",
    "CheckinPoint",
    "OpeningHours",
    "Service",
    "SixI",
    "Station",
    "StationQuerySet",
    "StationVisit",
    "StatusReport",
    "StatusReportQuerySet",
]
