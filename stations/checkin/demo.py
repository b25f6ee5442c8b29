"""Demo 小哥报到: 62 check-in points, the current campaign, and 1,800+ check-ins by the demo
registry's couriers, spread over the campaign's weeks. Idempotent."""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from couriers.demo import street_address
from couriers.models import Community, Courier, Town
from stations.models import Campaign, CheckIn, CheckinPoint, SixI

POINT_COUNT = 62
CHECKINS = 1812
CAMPAIGN = "2026年「你好小哥，欢迎回家」小哥报到季"


def load(town_centres: dict[str, tuple[float, float]]) -> dict[str, int]:
    rng = random.Random(62)
    today = timezone.localdate()
    campaign = Campaign.objects.filter(name=CAMPAIGN).first()
    if campaign is None:
        Campaign.objects.filter(is_current=True).update(is_current=False)
        campaign = Campaign.objects.create(
            name=CAMPAIGN,
            starts_on=today - datetime.timedelta(days=56),
            ends_on=today + datetime.timedelta(days=35),
            is_current=True,
        )
    points = _points(rng, town_centres)
    _checkins(rng, campaign, points)
    return {
        "小哥报到点": CheckinPoint.objects.count(),
        "本季报到": CheckIn.objects.filter(campaign=campaign).count(),
    }


def _points(rng: random.Random, centres) -> dict[int, list[CheckinPoint]]:
    towns = list(Town.objects.all())
    communities: dict[int, list[Community]] = {}
    for community in Community.objects.all():
        communities.setdefault(community.town_id, []).append(community)
    by_town: dict[int, list[CheckinPoint]] = {}
    for n in range(POINT_COUNT):
        town = towns[n % len(towns)]
        index = n // len(towns)
        local = communities.get(town.pk, [])
        if index < len(local):
            community, kind = local[index], CheckinPoint.Kind.COMMUNITY
            name = f"{town.short_name}{community.name}报到点"
        else:
            community, kind = None, CheckinPoint.Kind.PARTY_SITE
            name = f"{town.name}党群服务站报到点（{index + 1}）"
        lat0, lng0 = centres[town.name]
        lat, lng = lat0 + rng.uniform(-0.01, 0.01), lng0 + rng.uniform(-0.012, 0.012)
        point, _ = CheckinPoint.objects.get_or_create(
            town=town,
            name=name,
            defaults={
                "kind": kind,
                "community": community,
                "address": street_address(town.name, rng.randint(1, 800)),
                "latitude": round(lat, 6),
                "longitude": round(lng, 6),
                "contact_name": "报到点联络员",
                "contact_phone": f"021-5741{n:04d}",
                "target": 30,
            },
        )
        by_town.setdefault(town.pk, []).append(point)
    return by_town


def _checkins(rng: random.Random, campaign: Campaign, points: dict[int, list[CheckinPoint]]):
    done = set(CheckIn.objects.filter(campaign=campaign).values_list("courier_id", flat=True))
    couriers = list(
        Courier.objects.order_by("pk").values_list("pk", "work_town_id", "political_status")
    )
    rng.shuffle(couriers)
    start = timezone.make_aware(datetime.datetime.combine(campaign.starts_on, datetime.time(9)))
    span = max((timezone.now() - start).total_seconds(), 3600)
    new = []
    for courier_id, town_id, status in couriers[:CHECKINS]:
        point = rng.choice(points[town_id])
        when = start + datetime.timedelta(seconds=span * rng.random() ** 0.8)
        interests = rng.sample(SixI.values, rng.randint(0, 3))
        if courier_id in done:
            continue
        new.append(
            CheckIn(
                courier_id=courier_id,
                campaign=campaign,
                point=point,
                interests=interests,
                privacy_consent_at=when,
                sensitive_consent_at=when if status != Courier.PoliticalStatus.MASSES else None,
                created_at=when,
            )
        )
    CheckIn.objects.bulk_create(new, batch_size=500)
