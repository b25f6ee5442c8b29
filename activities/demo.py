"""Demo 6I posts, ~300 claims, confirmed services and their points, photo reports in every
state (with small generated images), activities of every kind in past and coming months with
sign-ups, waiting lists and attendance, service partnerships reproducing the article's 2024
figures, and role-model stories. Idempotent."""

from __future__ import annotations

import datetime
import io
import random

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image, ImageDraw

from activities import points, reports
from activities.models import (
    Activity,
    Attendance,
    Claim,
    Department,
    Partnership,
    PartnershipYear,
    PhotoReport,
    PointsEntry,
    ServiceRecord,
    SignUp,
    Story,
    VolunteerPost,
)
from activities.programmes import attendance
from activities.rewards import demo as rewards_demo
from activities.services import record_service
from couriers.models import Courier, Enterprise, Town
from stations.models import CheckinPoint, SixI, Station

# Accounts this app adds to the demo (load_demo lists them with the others).
DEMO_ACCOUNTS = rewards_demo.DEMO_ACCOUNTS

POSTS = {
    SixI.LEARN: ["快递驿站理论宣讲员", "新业态新就业群体学习小组", "红色故事分享员"],
    SixI.SEE: ["贤城文明观察员", "奉贤新城风貌随手拍", "美丽乡村走访员"],
    SixI.GOVERN: ["社区议事会小哥代表", "楼道微治理联络员", "城市管理社会监督员"],
    SixI.SAFETY: ["平安守护骑手", "交通安全劝导员", "消防隐患排查员"],
    SixI.CHARITY: ["爱心送餐志愿者", "独居老人关爱走访", "社区义务理发助手"],
    SixI.HEALTH: ["健康骑行领队", "行走的健康吧服务员", "工间操带操员"],
}
CLAIMS = 296
# (category, town, where, what): the report is filed in the town of its address, by a courier
# who works there, so 办结公示 reads 「交通安全 · 海湾镇」 for a place in 海湾镇.
REPORTS = [
    ("city", "南桥镇", "南桥镇沪杭公路公交站旁", "垃圾桶满溢，周边有散落垃圾"),
    ("traffic", "金海街道", "金海街道金海公路与望园路路口", "红绿灯故障，电动车和汽车抢行"),
    ("facility", "西渡街道", "西渡街道浦江居委会门口", "人行道地砖松动翘起"),
    ("hazard", "奉城镇", "奉城镇洪庙村桥头", "护栏断裂，夜间骑行有坠河危险"),
    ("city", "奉浦街道", "奉浦街道绿洲居委会小区北门", "共享单车乱停放堵住消防通道"),
    ("facility", "青村镇", "青村镇钱桥居委会", "路灯不亮，晚上送件看不清门牌"),
    ("other", "柘林镇", "柘林镇胡桥居委会", "小区快递柜屏幕损坏无法取件"),
    ("traffic", "海湾镇", "海湾镇五四居委会附近", "道路积水较深，电动车无法通行"),
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
        **load_programmes(rng, staff),
        **rewards_demo.load(),  # after the services that paid the points spent there
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
    couriers: dict[str, list[Courier]] = {}
    registered = Courier.objects.filter(checkins__isnull=False).distinct().order_by("pk")
    for courier in registered.select_related("work_town"):
        couriers.setdefault(courier.work_town.name, []).append(courier)
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
    for i, (category, town_name, address, description) in enumerate(REPORTS):
        local = couriers.get(town_name)
        if not local:
            continue  # a registry without couriers in that town
        courier = rng.choice(local)
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
    first = Courier.objects.filter(checkins__isnull=False).order_by("pk").first()
    if staff is not None and first is not None:
        points.adjust(first, 10, "年度优秀志愿者奖励", staff)


# --- activities, partnerships and stories -----------------------------------------------------

K, T = Activity.Kind, Activity.Topic
ACTIVITIES = [
    # title, kind, topic, "organisers|partners",
    # "capacity points days-from-today start-hour hours"
    ("夏送清凉·绿豆汤和防暑药品发放", K.SUMMER, "", "区总工会|区卫健委", "60 3 -100 14 2"),
    ("冬送温暖·护膝手套暖心包", K.WINTER, "", "区总工会|区妇联", "50 3 20 14 2"),
    ("春节留奉小哥年夜饭", K.SPRING_FESTIVAL, "", "区委社会工作部|团区委", "40 5 60 17 3"),
    ("中秋月饼送到站点", K.MID_AUTUMN, "", "区委社会工作部|区邮政管理局", "40 3 -70 15 2"),
    ("流动课堂：电动车交通安全", K.MOBILE_CLASS, T.TRAFFIC, "区公安分局|", "30 5 -40 19 1.5"),
    ("流动课堂：交通安全（第二期）", K.MOBILE_CLASS, T.TRAFFIC, "区公安分局|", "4 5 5 19 1.5"),
    ("流动课堂：食品安全与配送卫生", K.MOBILE_CLASS, T.FOOD, "区市场监管局|", "30 5 -20 19 1.5"),
    ("云端课堂：劳动合同与权益保障", K.ONLINE_CLASS, T.RIGHTS, "区总工会|", "200 5 3 20 1"),
    (
        "云端课堂：民法典与交通事故处理",
        K.ONLINE_CLASS,
        T.LAW,
        "区委社会工作部|区公安分局",
        "200 5 -10 20 1",
    ),
    (
        "快递小哥技能创新大赛（初赛）",
        K.MOBILE_CLASS,
        T.CONTEST,
        "区总工会|区邮政管理局",
        "3 10 12 9 4",
    ),
    ("青年夜校：手机摄影", K.NIGHT_SCHOOL, "", "团区委|", "25 3 8 19 2"),
    ("青年夜校：普通话与沟通", K.NIGHT_SCHOOL, "", "团区委|", "25 3 -30 19 2"),
    ("行走的健康吧：义诊和颈肩腰放松", K.HEALTH_BAR, "", "区卫健委|", "40 3 -5 10 3"),
    ("行走的健康吧：夏季防暑体检", K.HEALTH_BAR, "", "区卫健委|区总工会", "40 3 30 10 3"),
    ("友好工作圈：小哥和社区面对面", K.WORK_CIRCLE, "", "区委社会工作部|区房管局", "30 3 15 15 2"),
    ("小哥议事会：快递车停放怎么管", K.GATHERING, "", "区委社会工作部|区房管局", "20 5 -15 15 2"),
    ("关爱女快递员：妇女之家茶话会", K.CARE, "", "区妇联|", "20 3 25 14 2"),
]

# 2023 and 2024 partnership figures; 2024 is the source article's: 22 companies, 12 million+
# items, 1.5 billion yuan of output supported.
FACTORY_PARTNERS = [
    ("上海奉贤化妆品产业园某日化厂", Partnership.Mode.WAREHOUSE, "金海街道"),
    ("东方美谷美妆代工厂", Partnership.Mode.LAST_MILE, "奉浦街道"),
    ("临港奉贤园区汽配厂", Partnership.Mode.INBOUND, "海湾镇"),
    ("奉贤经济开发区电子元件厂", Partnership.Mode.INBOUND, "南桥镇"),
    ("青村镇服装厂", Partnership.Mode.LAST_MILE, "青村镇"),
    ("金汇镇食品厂", Partnership.Mode.WAREHOUSE, "金汇镇"),
    ("庄行镇五金工具厂", Partnership.Mode.INBOUND, "庄行镇"),
    ("柘林镇医疗器械厂", Partnership.Mode.WAREHOUSE, "柘林镇"),
]
VILLAGE_PARTNERS = [
    ("庄行镇黄桃专业合作社", "黄桃", "庄行镇"),
    ("青村镇吴房村黄桃合作社", "黄桃", "青村镇"),
    ("金汇镇蜜梨合作社", "蜜梨", "金汇镇"),
    ("庄行镇蜜梨家庭农场", "蜜梨", "庄行镇"),
    ("奉城镇番茄合作社", "番茄", "奉城镇"),
    ("四团镇鲜切花基地", "鲜花", "四团镇"),
]
ITEMS_2024 = 12_360_000
OUTPUT_2024 = 1_500_000_000
STORIES = [
    (
        "雨夜送药的“平安骑手”",
        "暴雨夜里，他把急需的药品准时送到独居老人家中。",
        "去年夏天的一个暴雨夜，他在送件途中接到社区求助：一位独居老人急需的药品还在驿站。"
        "他绕路取药，冒雨送到老人家中，又帮老人把积水的门口清理干净。\n"
        "他说：“大家都叫我们小哥，社区就是我们的家。”如今他是社区议事会的小哥代表，"
        "常把送件路上看到的问题带到议事会上。",
        "顺丰小哥 王师傅",
        True,
    ),
    (
        "从快递员到技能大赛冠军",
        "五年送件路，她把分拣经验整理成了一套“快准稳”工作法。",
        "她在网点做了五年快递员，琢磨出按楼栋、时段分拣的“快准稳”工作法，"
        "在区快递小哥技能创新大赛中获得一等奖，并在流动课堂上把经验分享给新入行的小哥。",
        "",
        True,
    ),
    (
        "拍贤城的“啄木鸟”",
        "一年随手拍报告三十多处城市问题，件件有回音。",
        "他在送件路上随手拍下破损的护栏、不亮的路灯和堵住消防通道的车辆，"
        "通过“拍贤城、美奉贤”报给街镇。一年下来，三十多处问题都得到了处理。",
        "",
        True,
    ),
    (
        "黄桃季的“桃园快递站”",
        "（待小哥同意后发布）",
        "黄桃季里，他每天凌晨到桃园收件，把刚摘的黄桃当天发往全国。",
        "",
        False,
    ),
]


def _at(today: datetime.date, days: int, hour: float) -> datetime.datetime:
    tz = timezone.get_current_timezone()
    day = today + datetime.timedelta(days=days)
    return datetime.datetime.combine(day, datetime.time(int(hour), int(hour % 1 * 60)), tz)


def _deadline(starts: datetime.datetime) -> datetime.datetime:
    """Sign-up closes at 20:00 the evening before, as a town office would set it (never at
    02:00 in the night for a 14:00 class)."""
    day_before = timezone.localtime(starts).date() - datetime.timedelta(days=1)
    return datetime.datetime.combine(day_before, datetime.time(20), starts.tzinfo)


def load_programmes(rng: random.Random, staff) -> dict[str, int]:
    if not Activity.objects.exists():
        _activities(rng, staff)
    if not Partnership.objects.exists():
        _partnerships(rng)
    if not Story.objects.exists():
        _stories(rng, staff)
    return {
        "活动与课堂": Activity.objects.count(),
        "活动报名": SignUp.objects.exclude(status=SignUp.Status.CANCELLED).count(),
        "活动签到": Attendance.objects.count(),
        "服务合作": Partnership.objects.count(),
        "先进典型（已发布）": Story.objects.public().count(),
    }


def _activities(rng: random.Random, staff) -> None:
    towns = list(Town.objects.all())
    departments = {d.name: d for d in Department.objects.all()}
    couriers = list(Courier.objects.filter(checkins__isnull=False).order_by("pk")[:400])
    today = timezone.localdate()
    now = timezone.now()
    for n, (title, kind, topic, who, figures) in enumerate(ACTIVITIES):
        organisers, partners = (part.split() for part in who.split("|"))
        capacity, pts, days = (int(x) for x in figures.split()[:3])
        hour, hours = (float(x) for x in figures.split()[3:])
        town = towns[n % len(towns)]
        venue: dict = {}
        if kind == Activity.Kind.ONLINE_CLASS:
            venue["online_url"] = "https://meeting.example.cn/fengxian-courier-class"
        elif n % 3 == 0:
            venue["checkin_point"] = CheckinPoint.objects.filter(town=town).first()
        else:
            venue["station"] = Station.objects.filter(town=town).first()
        if not any(venue.values()):
            venue = {"address": f"{town.name}党群服务中心"}
        starts = _at(today, days, hour)
        activity = Activity.objects.create(
            title=title,
            kind=kind,
            topic=topic,
            town=town,
            description=f"{title}。欢迎快递小哥报名参加，名额有限，先到先得。",
            starts_at=starts,
            ends_at=starts + datetime.timedelta(hours=hours),
            signup_deadline=_deadline(starts),
            capacity=capacity,
            points=pts,
            **venue,
        )
        activity.full_clean()
        activity.organisers.set([departments[d] for d in organisers if d in departments])
        activity.partners.set([departments[d] for d in partners if d in departments])
        # Sign-ups a few days before: small classes fill up and keep a waiting list.
        wanted = min(len(couriers), capacity + 3 if capacity < 10 else rng.randint(8, capacity))
        chosen = rng.sample(couriers, wanted)
        created = starts - datetime.timedelta(days=10)
        rows = []
        for i, courier in enumerate(chosen):
            status = SignUp.Status.CONFIRMED if i < capacity else SignUp.Status.WAITING
            rows.append(
                SignUp(
                    activity=activity,
                    courier=courier,
                    status=status,
                    created_at=min(created + datetime.timedelta(minutes=17 * i), now),
                )
            )
        SignUp.objects.bulk_create(rows)
        if activity.ends_at < now:
            came = [r.courier for r in rows if r.status == SignUp.Status.CONFIRMED]
            for courier in came[: int(len(came) * 0.8)]:
                attendance.mark(activity, courier, via=Attendance.Via.SCAN, at=starts)
            if staff is not None and came:
                walk_in = rng.choice(couriers)
                attendance.mark(activity, walk_in, via=Attendance.Via.STAFF, by=staff, at=starts)


def _split(total: int, weights: list[float], unit: int) -> list[int]:
    """`total` shared by weight, rounded to `unit`, the last share taking the remainder."""
    scale = total / sum(weights)
    shares = [int(w * scale) // unit * unit for w in weights[:-1]]
    return [*shares, total - sum(shares)]


def _partnerships(rng: random.Random) -> None:
    towns = {t.name: t for t in Town.objects.all()}
    enterprises = list(Enterprise.objects.order_by("pk")[:22])
    places = [("factory", *p) for p in FACTORY_PARTNERS] + [
        ("village", *p) for p in VILLAGE_PARTNERS
    ]
    made = []
    for n, enterprise in enumerate(enterprises):
        # Every enterprise serves one or two partners; each partner has several carriers.
        for k in range(1 + (n % 3 == 0)):
            kind, partner, detail, town_name = places[(n + k * 5) % len(places)]
            made.append(
                Partnership(
                    enterprise=enterprise,
                    partner=partner,
                    kind=kind,
                    mode=detail if kind == "factory" else "",
                    produce=detail if kind == "village" else "",
                    town=towns.get(town_name) or enterprise.town,
                    since=datetime.date(2019 + (n + k) % 5, 1 + n % 12, 1),
                )
            )
    Partnership.objects.bulk_create(made)
    partnerships = list(Partnership.objects.order_by("pk"))
    weights = [rng.uniform(0.5, 2.0) for _ in partnerships]
    items = _split(ITEMS_2024, weights, 1_000)
    output = _split(OUTPUT_2024, [w * rng.uniform(0.7, 1.3) for w in weights], 10_000)
    rows = []
    for p, n_items, value in zip(partnerships, items, output, strict=True):
        rows.append(PartnershipYear(partnership=p, year=2024, items=n_items, output_value=value))
        if p.since.year < 2024:
            rows.append(
                PartnershipYear(
                    partnership=p,
                    year=2023,
                    items=n_items * 4 // 5 // 1_000 * 1_000,
                    output_value=value * 4 // 5 // 10_000 * 10_000,
                )
            )
    PartnershipYear.objects.bulk_create(rows)


def _portrait(seed: int) -> ContentFile:
    image = Image.new("RGB", (640, 400), (183, 28, 28))
    draw = ImageDraw.Draw(image)
    draw.ellipse([250, 60, 390, 200], fill=(255, 224, 178))
    draw.rectangle([210, 220, 430, 400], fill=(255, 193, 7 + seed * 30))
    output = io.BytesIO()
    image.save(output, format="JPEG", quality=80)
    return ContentFile(output.getvalue(), name=f"story-{seed}.jpg")


def _stories(rng: random.Random, staff) -> None:
    couriers = list(Courier.objects.filter(checkins__isnull=False).order_by("pk")[:50])
    today = timezone.localdate()
    for n, (title, summary, body, display_name, consent) in enumerate(STORIES):
        Story.objects.create(
            title=title,
            summary=summary,
            body=body,
            photo=_portrait(n),
            courier=couriers[n * 7 % len(couriers)],
            display_name=display_name,
            consent_given_at=timezone.now() - datetime.timedelta(days=40) if consent else None,
            consent_note="本人签署书面同意书，原件存街镇" if consent else "",
            consent_recorded_by=staff if consent else None,
            published_on=today - datetime.timedelta(days=30 - n * 7) if consent else None,
        )
