"""Demo stations for `load_demo`: 52 骑乐融融 stations across the district with realistic
coordinates, varied hours (some 24-hour, some past midnight) and services, 50 of them
demonstration stations, plus a few status reports and a month of visits. Idempotent."""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from couriers.demo import street_address
from couriers.models import Community, Town
from stations.checkin import demo as checkin_demo
from stations.models import OpeningHours, Service, Station, StationVisit, StatusReport
from stations.services_seed import seed_services

STATION_COUNT = 52
DEMONSTRATION = 50

# Approximate centres of the towns (WGS-84).
TOWN_CENTRES = {
    "南桥镇": (30.918, 121.458),
    "奉城镇": (30.912, 121.647),
    "庄行镇": (30.894, 121.388),
    "金汇镇": (30.994, 121.530),
    "四团镇": (30.907, 121.742),
    "青村镇": (30.934, 121.583),
    "柘林镇": (30.853, 121.507),
    "海湾镇": (30.823, 121.615),
    "西渡街道": (30.984, 121.441),
    "奉浦街道": (30.946, 121.484),
    "金海街道": (30.917, 121.515),
}
PLACES = [
    "党群服务站",
    "新时代文明实践站",
    "户外职工爱心接力站",
    "青年中心",
    "妇女之家",
    "邻里中心",
]
HOST_FOR_PLACE = {
    "党群服务站": Station.HostType.PARTY_SERVICE,
    "新时代文明实践站": Station.HostType.CIVILIZATION,
    "户外职工爱心接力站": Station.HostType.RELAY,
    "青年中心": Station.HostType.YOUTH,
    "妇女之家": Station.HostType.WOMEN,
    # A community 邻里中心 is run as one of the district's 党群服务站点, not a host of its own.
    "邻里中心": Station.HostType.PARTY_SERVICE,
}


def _hours(rng: random.Random) -> tuple[bool, list[tuple[int, str, str]]]:
    pattern = rng.choices(
        ["24h", "office", "split", "evening", "weekdays"], weights=[3, 4, 2, 1, 2]
    )[0]
    if pattern == "24h":
        return True, []
    if pattern == "office":
        return False, [(d, "08:00", "20:00") for d in range(5)] + [
            (d, "09:00", "17:00") for d in (5, 6)
        ]
    if pattern == "split":
        return False, [(d, "07:00", "12:00") for d in range(7)] + [
            (d, "13:00", "21:00") for d in range(7)
        ]
    if pattern == "evening":  # for night shifts: past midnight
        return False, [(d, "18:00", "02:00") for d in range(7)] + [
            (d, "09:00", "17:00") for d in range(5)
        ]
    return False, [(d, "08:30", "17:30") for d in range(5)]  # closed at weekends


def load() -> dict[str, int]:
    rng = random.Random(52)
    towns = list(Town.objects.all())
    seed_services(Service)  # the migration seeds them; a flushed test database has none
    services = {s.name: s for s in Service.objects.all()}
    communities: dict[int, list[Community]] = {}
    for community in Community.objects.all():
        communities.setdefault(community.town_id, []).append(community)
    stations = []
    for n in range(STATION_COUNT):
        town = towns[n % len(towns)]
        lat0, lng0 = TOWN_CENTRES[town.name]
        place = PLACES[n % len(PLACES)]
        community = rng.choice(communities.get(town.pk, [None]))
        prefix = (
            community.name.removesuffix("委会").removesuffix("居") if community else town.short_name
        )
        name = f"{town.short_name}{prefix}{place}" if community else f"{town.short_name}{place}"
        name = f"{name}（{n // len(towns) + 1}号）" if n >= len(towns) * 2 else name
        all_day, ranges = _hours(rng)
        wanted = [
            "饮水",
            "充电",
            "歇脚休息",
            *rng.sample(
                [
                    "阅读学习",
                    "避暑取暖",
                    "议事团建",
                    "卫生间",
                    "微波炉",
                    "医药箱",
                    "雨具",
                    "无线网络",
                ],
                rng.randint(1, 5),
            ),
        ]
        # Draw everything before writing, so a second run draws the same sequence.
        wanted = [s for s in wanted if rng.random() > 0.1 or s == "饮水"]
        lat = lat0 + rng.uniform(-0.012, 0.012)
        lng = lng0 + rng.uniform(-0.015, 0.015)
        station, created = Station.objects.get_or_create(
            town=town,
            name=name,
            defaults={
                "host_type": HOST_FOR_PLACE[place],
                "community": community,
                "address": street_address(town.name, rng.randint(1, 999)),
                "latitude": round(lat, 6),
                "longitude": round(lng, 6),
                "phone": f"021-57{rng.randint(100000, 999999)}",
                "open_24_hours": all_day,
                "is_demonstration": n < DEMONSTRATION,
            },
        )
        if created:
            station.services.set([services[s] for s in wanted])
            OpeningHours.objects.bulk_create(
                OpeningHours(station=station, weekday=d, opens=o, closes=c) for d, o, c in ranges
            )
        stations.append(station)
    _load_activity(rng, stations)
    return {
        "骑乐融融站点": Station.objects.count(),
        "示范站点": Station.objects.filter(is_demonstration=True).count(),
        **checkin_demo.load(TOWN_CENTRES),
    }


def _load_activity(rng: random.Random, stations: list[Station]) -> None:
    if StationVisit.objects.exists() or StatusReport.objects.exists():
        return
    now = timezone.now()
    kinds = list(StatusReport.Kind.values)
    StatusReport.objects.bulk_create(
        StatusReport(
            station=rng.choice(stations),
            kind=rng.choice(kinds),
            created_at=now - datetime.timedelta(minutes=rng.randint(5, 600)),
            device=f"demo-{n}",
            address="demo",
        )
        for n in range(8)
    )
    visits = []
    for n in range(600):
        day = now - datetime.timedelta(days=rng.randint(0, 29))
        hour = rng.choices(
            range(24),
            weights=[1, 1, 1, 1, 1, 2, 3, 4, 5, 5, 6, 9, 12, 8, 7, 8, 9, 8, 6, 5, 4, 3, 2, 1],
        )[0]
        moment = timezone.localtime(day).replace(hour=hour, minute=rng.randint(0, 59))
        visits.append(
            StationVisit(
                station=rng.choice(stations[:40]), visited_at=moment, device=f"demo-{n % 150}"
            )
        )
    StationVisit.objects.bulk_create(visits)
