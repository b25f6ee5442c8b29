"""Demo rewards: partners (station hosts, unions, enterprises, a 爱心超市), a dozen rewards
across the towns, vouchers in every state through the real code paths, and the counter account
`partner-nanqiao` for 南桥镇 爱心超市. Idempotent: a second run writes nothing new."""

from __future__ import annotations

import datetime
import random

from django.contrib.auth.models import User
from django.utils import timezone

from activities.models import Department, Partner, PartnerMember, PointsEntry, Reward, Voucher
from activities.rewards import redeeming, vouchers
from couriers.demo import DEMO_PASSWORD
from couriers.models import Courier, Enterprise, Town
from stations.models import CheckinPoint, Station

PARTNER_ACCOUNT = "partner-nanqiao"
DEMO_ACCOUNTS = [(PARTNER_ACCOUNT, "兑换合作方核销账号，南桥镇爱心超市")]

# (partner, kind, town, how it is linked)
PARTNERS = [
    ("南桥镇爱心超市", Partner.Kind.SHOP, "南桥镇", "station"),
    ("区总工会", Partner.Kind.UNION, None, "department:区总工会"),
    ("区卫健委", Partner.Kind.DEPARTMENT, None, "department:区卫健委"),
    ("西渡街道骑乐融融驿站", Partner.Kind.STATION, "西渡街道", "station"),
    ("奉城镇快递企业联盟", Partner.Kind.ENTERPRISE, "奉城镇", "enterprise"),
]
# (name, kind, price, partner, stock, monthly limit, collect hours)
REWARDS = [
    ("洗衣液 2 kg", Reward.Kind.GOODS, 30, "南桥镇爱心超市", 40, 2, "每天 9:00-20:00"),
    ("大米 5 斤", Reward.Kind.GOODS, 50, "南桥镇爱心超市", 25, 1, "每天 9:00-20:00"),
    ("头盔一顶", Reward.Kind.GOODS, 80, "南桥镇爱心超市", 5, 1, "每天 9:00-20:00"),
    ("矿泉水一箱", Reward.Kind.GOODS, 15, "南桥镇爱心超市", None, 4, "每天 9:00-20:00"),
    ("免费理发", Reward.Kind.SERVICE, 20, "西渡街道骑乐融融驿站", 30, 2, "每周三 14:00-17:00"),
    ("手机贴膜", Reward.Kind.SERVICE, 10, "西渡街道骑乐融融驿站", None, 2, "工作日 10:00-18:00"),
    ("免费体检", Reward.Kind.SERVICE, 60, "区卫健委", 50, 1, "工作日 8:00-11:00"),
    ("法律咨询一次", Reward.Kind.SERVICE, 20, "区总工会", None, 2, "工作日 9:00-17:00"),
    ("职工疗休养名额", Reward.Kind.PLACE, 150, "区总工会", 3, 1, "报名后电话通知"),
    ("电动车检修", Reward.Kind.SERVICE, 25, "奉城镇快递企业联盟", 20, 1, "周六 9:00-16:00"),
    ("电动车充电卡 30 元", Reward.Kind.GOODS, 40, "奉城镇快递企业联盟", 0, 1, "工作日 9:00-17:00"),
    ("青年夜校名额", Reward.Kind.PLACE, 30, "区总工会", 12, 1, "开课前一周通知"),
]


def load() -> dict[str, int]:
    partners = _partners()
    _rewards(partners)
    _account(partners["南桥镇爱心超市"])
    if not Voucher.objects.exists():
        _vouchers(partners)
    return {
        "兑换合作方": Partner.objects.count(),
        "兑换奖品": Reward.objects.count(),
        "兑换券": Voucher.objects.count(),
    }


def _partners() -> dict[str, Partner]:
    towns = {t.name: t for t in Town.objects.all()}
    found = {}
    for name, kind, town_name, link in PARTNERS:
        town = towns.get(town_name) if town_name else None
        extra: dict = {}
        if link == "station" and town is not None:
            extra["station"] = Station.objects.filter(town=town).order_by("pk").first()
        elif link == "enterprise" and town is not None:
            extra["enterprise"] = Enterprise.objects.filter(town=town).order_by("pk").first()
        elif link.startswith("department:"):
            extra["department"] = Department.objects.filter(name=link.split(":", 1)[1]).first()
        found[name], _ = Partner.objects.get_or_create(
            name=name, defaults={"kind": kind, "town": town, "contact": "021-5710 0000", **extra}
        )
    return found


def _rewards(partners: dict[str, Partner]) -> None:
    today = timezone.localdate()
    for name, kind, price, partner_name, stock, monthly, hours in REWARDS:
        partner = partners[partner_name]
        place: dict = {"address": ""}
        if partner.station_id:
            place["station"] = partner.station
        elif partner.town_id:
            point = CheckinPoint.objects.filter(town=partner.town).order_by("pk").first()
            place = (
                {"checkin_point": point}
                if point
                else {"address": f"{partner.town.name}党群服务中心"}
            )
        else:
            place["address"] = "奉贤区南桥镇解放东路 889 号（区职工服务中心）"
        Reward.objects.get_or_create(
            name=name,
            partner=partner,
            defaults={
                "kind": kind,
                "price": price,
                "town": partner.town,
                "stock": stock,
                "monthly_limit": monthly,
                "collect_hours": hours,
                "description": f"{partner.name}为快递小哥提供的{kind.label}，凭积分兑换。",
                "available_until": today + datetime.timedelta(days=180),
                **place,
            },
        )


def _account(partner: Partner) -> None:
    user, created = User.objects.get_or_create(
        username=PARTNER_ACCOUNT, defaults={"first_name": "爱心超市收银台", "is_staff": True}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    PartnerMember.objects.get_or_create(user=user, defaults={"partner": partner})


def _vouchers(partners: dict[str, Partner]) -> None:
    """Vouchers in every state, made the way couriers and counters make them."""
    rng = random.Random(18)
    cashier = User.objects.get(username=PARTNER_ACCOUNT)
    staff = User.objects.filter(username="district").first()
    rich = list(
        Courier.objects.filter(points__source=PointsEntry.Source.SERVICE)
        .distinct()
        .order_by("pk")[:60]
    )
    rewards = list(Reward.objects.filter(stock__gt=0) | Reward.objects.filter(stock__isnull=True))
    now = timezone.now()
    for n, courier in enumerate(rich):
        reward = rng.choice(rewards)
        when = now - datetime.timedelta(days=rng.randint(0, 40), hours=rng.randint(0, 8))
        try:
            voucher = redeeming.redeem(courier, reward.pk, now=when)
        except redeeming.RedeemRefused:
            continue
        kind = n % 5
        if kind in (0, 1) and reward.partner_id == cashier.partner_membership.partner_id:
            vouchers.use(voucher.code, reward.partner, cashier, now=when + datetime.timedelta(1))
        elif kind == 1:
            vouchers.use(voucher.code, reward.partner, staff, now=when + datetime.timedelta(1))
        elif kind == 2:
            vouchers.cancel(voucher, "本人取消", now=when + datetime.timedelta(hours=2))
        elif kind == 3 and staff is not None:
            vouchers.cancel(voucher, "奖品暂时缺货", by=staff, now=when + datetime.timedelta(1))
    # A few past their date, expired by the same sweep the worker runs.
    for voucher in Voucher.objects.open().order_by("pk")[:3]:
        Voucher.objects.filter(pk=voucher.pk).update(expires_at=now - datetime.timedelta(days=1))
    vouchers.expire_due(now)
