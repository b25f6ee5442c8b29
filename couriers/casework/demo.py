"""Demo casework for `load_demo`: 三送三问 visits in every town (some this month) with needs in
every state (some overdue), party-pipeline histories that agree with the registry's political
statuses, and mobile members with and without recent organisational life. Idempotent."""

from __future__ import annotations

import datetime
import random

from django.contrib.auth.models import User
from django.utils import timezone

from couriers.casework import pipeline
from couriers.models import (
    Courier,
    Enterprise,
    Need,
    Outlet,
    PartyStage,
    PipelineStage,
    Town,
    Visit,
)

VISITS = 160
POLICY = [
    "宣讲新就业群体劳动权益保障政策",
    "介绍灵活就业人员参保政策",
    "解读电动自行车安全管理新规",
    "宣传骑乐融融站点和小哥报到季",
]
SERVICE = ["免费体检预约", "法律咨询", "电动车安全检测", "技能培训报名", "子女暑托班报名"]
WARMTH = ["送上防暑降温用品", "送上冬季护膝手套", "中秋月饼慰问", "春节留沪过年慰问"]
NEEDS = [
    ("rest", "希望附近增设能充电的歇脚点", "街镇党群服务中心"),
    ("rights", "反映站点扣款规则不透明", "区总工会 权益部"),
    ("housing", "想申请保障性租赁住房", "区房管局"),
    ("children", "孩子暑期无人照看", "团区委"),
    ("health", "希望安排一次免费体检", "区卫健委"),
    ("traffic", "小区不让电动车进，送件难", "街镇城运中心"),
    ("training", "想参加电工证培训", "区人社局"),
    ("opinion", "建议快递柜增加夜间照明", "街镇城运中心"),
]
OPINIONS = ["希望站点开放时间更长", "建议多组织篮球赛", "建议统一小区送件通道"]
IDEAS = ["小哥可以帮忙发现独居老人异常", "可以在驿站设学习角", "建议建立小哥议事会"]


def load() -> dict[str, int]:
    rng = random.Random(3311)
    today = timezone.localdate()
    if not PartyStage.objects.exists():
        _pipeline(rng, today)
    _mobile_contacts(rng, today)
    if not Visit.objects.exists():
        _visits(rng, today)
    return {
        "入党进程记录": PartyStage.objects.count(),
        "三送三问走访": Visit.objects.count(),
        "走访需求": Need.objects.count(),
        "逾期需求": Need.objects.overdue(today).count(),
    }


def _history(rng: random.Random, top: PipelineStage, last: datetime.date):
    """Stages up to `top`, the last on `last`, each earlier one months before the next."""
    stages = list(PipelineStage)[: top.rank + 1]
    dates, day = [], last
    for _ in stages:
        dates.append(day)
        day -= datetime.timedelta(days=rng.randint(120, 400))
    return list(zip(stages, reversed(dates), strict=True))


def _pipeline(rng: random.Random, today: datetime.date) -> None:
    S = Courier.PoliticalStatus
    couriers = Courier.objects.filter(
        political_status__in=[S.APPLICANT, S.ACTIVIST, S.PROBATIONARY, S.MEMBER]
    ).order_by("pk")
    new: list[PartyStage] = []
    touched: list[int] = []
    for courier in couriers.only("pk", "political_status", "is_mobile_party_member"):
        status = courier.political_status
        if courier.is_mobile_party_member:
            continue  # joined where their membership is held; no local history
        if status == S.MEMBER:
            if rng.random() < 0.5:
                continue  # members of long standing: status recorded, history not entered
            top, last = PipelineStage.MEMBER, today - datetime.timedelta(rng.randint(200, 2000))
        elif status == S.PROBATIONARY:
            top, last = PipelineStage.PROBATIONARY, today - datetime.timedelta(rng.randint(30, 300))
        elif status == S.ACTIVIST:
            top = PipelineStage.CANDIDATE if rng.random() < 0.35 else PipelineStage.ACTIVIST
            last = today - datetime.timedelta(rng.randint(20, 420))  # some past the stall limit
        else:
            if rng.random() < 0.3:
                continue  # said so in the survey; no date recorded yet
            top, last = PipelineStage.WILLING, today - datetime.timedelta(rng.randint(10, 400))
        for stage, date in _history(rng, top, last):
            new.append(PartyStage(courier_id=courier.pk, stage=stage, date=date))
        touched.append(courier.pk)
    PartyStage.objects.bulk_create(new, batch_size=500)
    pipeline.sync_many(touched)


def _mobile_contacts(rng: random.Random, today: datetime.date) -> None:
    """Most mobile members joined organisational life recently; a few did not."""
    mobile = Courier.objects.filter(
        is_mobile_party_member=True, last_organization_contact__isnull=True
    ).order_by("pk")
    if Courier.objects.filter(last_organization_contact__isnull=False).exists():
        return
    updated = []
    for n, courier in enumerate(mobile):
        if n % 4 == 3:
            continue  # never recorded
        days = rng.randint(100, 300) if n % 4 == 2 else rng.randint(3, 60)
        courier.last_organization_contact = today - datetime.timedelta(days=days)
        updated.append(courier)
    Courier.objects.bulk_update(updated, ["last_organization_contact"])


def _visits(rng: random.Random, today: datetime.date) -> None:
    towns = list(Town.objects.all())
    staff = {
        u.username: u for u in User.objects.filter(username__in=["district", "nanqiao", "xidu"])
    }
    fallback = staff.get("district") or User.objects.filter(is_superuser=True).first()
    if fallback is None:
        return
    couriers: dict[int, list[int]] = {}
    for pk, town_id in Courier.objects.order_by("pk").values_list("pk", "work_town_id"):
        couriers.setdefault(town_id, []).append(pk)
    outlets: dict[int, list[int]] = {}
    for pk, town_id in Outlet.objects.order_by("pk").values_list("pk", "town_id"):
        outlets.setdefault(town_id, []).append(pk)
    enterprises: dict[int, list[int]] = {}
    for pk, town_id in Enterprise.objects.order_by("pk").values_list("pk", "town_id"):
        enterprises.setdefault(town_id, []).append(pk)
    town_user = {"南桥镇": staff.get("nanqiao"), "西渡街道": staff.get("xidu")}
    visits = []
    seen: set[tuple] = set()  # one visit per staff member, target and day
    for n in range(VISITS):
        town = towns[n % len(towns)]
        # A third in this month, the rest over the previous four months.
        days_ago = rng.randint(0, today.day - 1) if n % 3 == 0 else rng.randint(today.day, 120)
        kind = rng.random()
        target = {}
        if kind < 0.7 or not (outlets.get(town.pk) or enterprises.get(town.pk)):
            target["courier_id"] = rng.choice(couriers[town.pk])
        elif kind < 0.9 and outlets.get(town.pk):
            target["outlet_id"] = rng.choice(outlets[town.pk])
        elif enterprises.get(town.pk):
            target["enterprise_id"] = rng.choice(enterprises[town.pk])
        else:
            target["outlet_id"] = rng.choice(outlets[town.pk])
        staff = town_user.get(town.name) or fallback
        key = (staff.pk, days_ago, *sorted(target.items()))
        if key in seen:
            continue
        seen.add(key)
        visits.append(
            Visit(
                town=town,
                date=today - datetime.timedelta(days=days_ago),
                staff=staff,
                policy_note=rng.choice(POLICY),
                service_note=rng.choice(SERVICE) if rng.random() < 0.7 else "",
                warmth_note=rng.choice(WARMTH) if rng.random() < 0.6 else "",
                needs_answer="",
                opinions_answer=rng.choice(OPINIONS) if rng.random() < 0.4 else "",
                ideas_answer=rng.choice(IDEAS) if rng.random() < 0.3 else "",
                **target,
            )
        )
    Visit.objects.bulk_create(visits)
    needs = []
    statuses = list(Need.Status)
    for n, visit in enumerate(visits):
        if n % 5 >= 2:
            continue  # two visits in five raise a need
        category, text, who = NEEDS[n % len(NEEDS)]
        status = statuses[(n // 5) % len(statuses)]
        deadline = visit.date + datetime.timedelta(days=rng.choice([7, 15, 30]))
        closed = status in (Need.Status.RESOLVED, Need.Status.UNRESOLVABLE)
        closed_on = min(visit.date + datetime.timedelta(days=rng.randint(2, 20)), today)
        informed = closed and rng.random() < 0.7
        needs.append(
            Need(
                visit=visit,
                category=category,
                description=text,
                responsible=who,
                deadline=deadline,
                status=status,
                resolution="已协调解决，并回访确认" if status == Need.Status.RESOLVED else "",
                reason="超出本级职权，已向上级反映" if status == Need.Status.UNRESOLVABLE else "",
                closed_on=closed_on if closed else None,
                courier_informed=informed,
                informed_on=closed_on if informed else None,
            )
        )
        visit.needs_answer = text
    Need.objects.bulk_create(needs)
    Visit.objects.bulk_update(visits, ["needs_answer"])
