"""Demo 6I posts, ~300 claims, confirmed services and their points, and photo reports in
every state (with small generated images). Idempotent."""

from __future__ import annotations

import datetime
import io
import random

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw

from activities import points, reports
from activities.models import Claim, PhotoReport, PointsEntry, ServiceRecord, VolunteerPost
from activities.services import record_service
from couriers.models import Courier, Town
from stations.models import SixI

POSTS = {
    SixI.LEARN: ["快递驿站理论宣讲员", "新业态新就业群体学习小组", "红色故事分享员"],
    SixI.SEE: ["贤城文明观察员", "奉贤新城风貌随手拍", "美丽乡村走访员"],
    SixI.GOVERN: ["社区议事会小哥代表", "楼道微治理联络员", "城市管理社会监督员"],
    SixI.SAFETY: ["平安守护骑手", "交通安全劝导员", "消防隐患排查员"],
    SixI.CHARITY: ["爱心送餐志愿者", "独居老人关爱走访", "社区义务理发助手"],
    SixI.HEALTH: ["健康骑行领队", "行走的健康吧服务员", "工间操带操员"],
}
CLAIMS = 296
REPORTS = [
    ("city", "南桥镇沪杭公路公交站旁", "垃圾桶满溢，周边有散落垃圾"),
    ("traffic", "金海公路与望园路路口", "红绿灯故障，电动车和汽车抢行"),
    ("facility", "西渡街道浦江居委会门口", "人行道地砖松动翘起"),
    ("hazard", "奉城镇洪庙村桥头", "护栏断裂，夜间骑行有坠河危险"),
    ("city", "奉浦街道绿洲居委会小区北门", "共享单车乱停放堵住消防通道"),
    ("facility", "青村镇钱桥居委会", "路灯不亮，晚上送件看不清门牌"),
    ("other", "柘林镇胡桥居委会", "小区快递柜屏幕损坏无法取件"),
    ("traffic", "海湾镇五四居委会附近", "道路积水较深，电动车无法通行"),
]


def _image(seed: int) -> ContentFile:
    image = Image.new("RGB", (320, 240), (200 - seed * 10, 210, 190 + seed * 5))
    draw = ImageDraw.Draw(image)
    draw.rectangle([40 + seed * 5, 60, 280, 200], outline=(183, 28, 28), width=6)
    output = io.BytesIO()
    image.save(output, format="JPEG", quality=80)
    return ContentFile(output.getvalue(), name=f"demo-{seed}.jpg")


def load() -> dict[str, int]:
    rng = random.Random(6)
    towns = list(Town.objects.all())
    staff = (
        User.objects.filter(username="district").first()
        or User.objects.filter(is_superuser=True).first()
    )
    posts = []
    n = 0
    for category, titles in POSTS.items():
        for title in titles:
            town = towns[n % len(towns)]
            post, _ = VolunteerPost.objects.get_or_create(
                title=title,
                town=town,
                defaults={
                    "category": category,
                    "capacity": rng.choice([10, 15, 20, 25]),
                    "schedule": rng.choice(
                        ["每周六上午 9:00-11:00", "每月第一个周日下午", "工作日傍晚 18:00-19:30"]
                    ),
                    "points_per_service": rng.choice([5, 8, 10]),
                    "description": f"{town.name}{title}，欢迎快递小哥利用空闲时间参与。",
                },
            )
            posts.append(post)
            n += 1
    if not Claim.objects.exists():
        _claims(rng, posts, staff)
    if not PhotoReport.objects.exists():
        _reports(rng, staff)
    return {
        "志愿服务岗位": VolunteerPost.objects.count(),
        "岗位认领": Claim.objects.filter(status=Claim.Status.ACTIVE).count(),
        "服务记录": ServiceRecord.objects.count(),
        "积分记录": PointsEntry.objects.count(),
        "拍贤城报告": PhotoReport.objects.count(),
    }


def _claims(rng: random.Random, posts: list[VolunteerPost], staff) -> None:
    couriers = list(Courier.objects.filter(checkins__isnull=False).order_by("pk")[:600])
    rng.shuffle(couriers)
    made = 0
    claims = []
    for courier in couriers:
        local = [p for p in posts if p.town_id == courier.work_town_id] or posts
        post = rng.choice(local)
        taken = sum(1 for c in claims if c.post_id == post.pk)
        if taken >= post.capacity:
            continue
        claims.append(
            Claim(
                post=post,
                courier=courier,
                created_at=timezone.now() - datetime.timedelta(days=rng.randint(1, 50)),
            )
        )
        made += 1
        if made == CLAIMS:
            break
    Claim.objects.bulk_create(claims)
    if staff is None:
        return
    today = timezone.localdate()
    for claim in Claim.objects.select_related("courier", "post")[:180]:
        for days_ago in rng.sample(range(1, 40), rng.randint(1, 3)):
            record_service(
                claim, today - datetime.timedelta(days=days_ago), rng.choice([1.5, 2, 3]), "", staff
            )


def _reports(rng: random.Random, staff) -> None:
    couriers = list(Courier.objects.filter(checkins__isnull=False).order_by("pk")[:40])
    steps = [
        [],
        ["accepted"],
        ["accepted", "in_progress"],
        ["accepted", "in_progress", "resolved"],
        ["rejected"],
        ["accepted", "resolved"],
        [],
        ["accepted", "in_progress", "resolved"],
    ]
    for i, (category, address, description) in enumerate(REPORTS):
        courier = rng.choice(couriers)
        report = PhotoReport.objects.create(
            courier=courier,
            town=courier.work_town,
            category=category,
            address=address,
            description=description,
            photo=_image(i),
            created_at=timezone.now() - datetime.timedelta(days=len(REPORTS) - i),
        )
        for status in steps[i]:
            note = {
                "rejected": "经核实不属于本街镇管辖，已转交相关部门。",
                "resolved": "已安排维修，感谢小哥的报告！",
            }.get(status, "")
            reports.advance(report, status, staff, note)
        if steps[i] and steps[i][-1] == "resolved" and i % 2:
            PhotoReport.objects.filter(pk=report.pk).update(is_published=True)
    if staff is not None and couriers:
        points.adjust(couriers[0], 10, "年度优秀志愿者奖励", staff)
