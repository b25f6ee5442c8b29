"""Demo registry for development and demonstrations: a realistic district with the source
article's figures — 22 enterprises, 1,800+ couriers, 24 party members all managed locally.

Everything is generated from a fixed seed and written by natural key, so running it again
changes nothing. Names and numbers are invented; ID numbers and credit codes are
checksum-valid but belong to nobody.
"""

from __future__ import annotations

import datetime
import random

from django.contrib.auth.models import Group, User

from couriers.casework import demo as casework_demo
from couriers.messaging import demo as messaging_demo
from couriers.models import (
    Brand,
    Community,
    Courier,
    Enterprise,
    Outlet,
    PartyOrganization,
    StaffProfile,
    Town,
)
from couriers.roles import DISTRICT_ADMIN, TOWN_ADMIN
from couriers.validators import id_check_char, uscc_check_char

DEMO_PASSWORD = "fengxian-demo"
COURIER_COUNT = 1826
PARTY_MEMBERS = 21  # 中共党员
PROBATIONARY_MEMBERS = 3  # 中共预备党员; 24 members in all, as in the article
MOBILE_MEMBERS = 9

BRANDS = [
    ("顺丰", ["顺丰速运", "SF", "SF顺丰", "顺丰快递"]),
    ("京东", ["京东物流", "京东快递", "JD"]),
    ("中国邮政", ["邮政", "EMS", "邮政EMS", "中国邮政速递", "邮政快递包裹"]),
    ("中通", ["中通快递", "ZTO"]),
    ("圆通", ["圆通速递", "YTO"]),
    ("申通", ["申通快递", "STO"]),
    ("韵达", ["韵达快递", "韵达速递", "YUNDA"]),
    ("极兔", ["极兔速递", "J&T", "J&T极兔", "极兔快递"]),
]

COMMUNITIES = {
    "南桥镇": ["江海居委会", "贝港居委会", "正阳居委会", "光明村委会"],
    "奉城镇": ["奉城居委会", "洪庙村委会", "头桥居委会"],
    "庄行镇": ["庄行居委会", "潘垫村委会"],
    "金汇镇": ["金汇居委会", "齐贤居委会", "南行村委会"],
    "四团镇": ["四团居委会", "平安村委会"],
    "青村镇": ["青村居委会", "钱桥居委会", "李窑村委会"],
    "柘林镇": ["柘林居委会", "胡桥居委会"],
    "海湾镇": ["海湾居委会", "五四居委会"],
    "西渡街道": ["西渡居委会", "浦江居委会", "关港村委会"],
    "奉浦街道": ["奉浦居委会", "绿洲居委会", "肖塘村委会"],
    "金海街道": ["金海居委会", "汇丰居委会", "金水苑居委会"],
}

# Real roads of each town (the demo's addresses are invented numbers on them), so that an
# address reads like one a courier delivers to: 「南桥镇解放东路388号」, never 「南桥镇244号」.
TOWN_ROADS = {
    "南桥镇": [
        "解放东路",
        "解放中路",
        "南桥路",
        "环城东路",
        "环城西路",
        "江海路",
        "育秀路",
        "百齐路",
    ],
    "奉城镇": ["南奉公路", "川南奉公路", "新奉公路", "奉城大街", "洪庙路"],
    "庄行镇": ["南亭公路", "大叶公路", "庄良路", "东街"],
    "金汇镇": ["大叶公路", "金汇港路", "齐贤路", "金斗路"],
    "四团镇": ["川南奉公路", "平海公路", "团青公路", "四团大街"],
    "青村镇": ["平庄公路", "青村大道", "南奉公路", "钱桥路"],
    "柘林镇": ["沪杭公路", "柘林路", "胡桥路", "浦卫公路"],
    "海湾镇": ["海思路", "海湾路", "五四公路", "随塘河路"],
    "西渡街道": ["西闸公路", "浦星公路", "沪闵路", "浦江路"],
    "奉浦街道": ["奉浦大道", "环城东路", "肖南路", "韩谊路", "八字桥路"],
    "金海街道": ["金海公路", "望园路", "金海路", "汇丰北路", "国顺路"],
}


def street_address(town_name: str, number: int) -> str:
    """A plausible address in `town_name`: a road of that town and a house number.

    The road is picked from `number` so callers keep drawing exactly what they drew before."""
    roads = TOWN_ROADS[town_name]
    return f"{town_name}{roads[number % len(roads)]}{number}号"


# (brand, number of enterprises): 22 enterprises in all.
ENTERPRISES_PER_BRAND = [
    ("顺丰", 3),
    ("京东", 2),
    ("中国邮政", 2),
    ("中通", 4),
    ("圆通", 3),
    ("申通", 3),
    ("韵达", 3),
    ("极兔", 2),
]
OUTLET_PLACES = ["中心", "东", "西", "南", "北", "工业区", "新城", "商业街"]

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余"
    "杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方邹熊白孟秦邱侯江尹薛闫段雷"
)
GIVEN = (
    "伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学祥才发"
    "武新利清飞彬富顺信子杰涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会思群豪"
    "心邦承乐绍功松善厚庆磊民友裕河哲江超浩亮政谦亨奇固之轮翰朗伯宏言若鸣朋斌梁栋维启"
    "克伦翔旭鹏泽晨辰士以建家致树炎德行时泰盛雄琛钧冠策腾楠榕风航弘秀娟英华慧巧美娜静"
    "淑惠珠翠雅芝玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳"
    "嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉"
    "眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹"
    "霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽"
)
HOME_REGIONS = [  # 户籍地 region codes and where a mobile member's membership is held
    ("310120", "上海市奉贤区"),
    ("340121", "安徽省长丰县"),
    ("341221", "安徽省临泉县"),
    ("412722", "河南省西华县"),
    ("411524", "河南省商城县"),
    ("320923", "江苏省阜宁县"),
    ("510722", "四川省三台县"),
    ("362421", "江西省吉安县"),
    ("430524", "湖南省隆回县"),
    ("370921", "山东省宁阳县"),
]


def _rng() -> random.Random:
    return random.Random(20250210)  # the source article's date: same district every time


def load(stdout=None) -> dict[str, int]:
    rng = _rng()
    towns = {t.name: t for t in Town.objects.all()}
    brands = _load_brands()
    communities = _load_communities(towns)
    orgs = _load_party_organizations(towns)
    enterprises = _load_enterprises(rng, towns, brands)
    outlets = _load_outlets(rng, towns, enterprises, communities)
    _load_couriers(rng, outlets, communities, orgs)
    _load_staff(towns)
    casework = casework_demo.load()
    outbox = messaging_demo.load()
    return {
        "街镇": Town.objects.count(),
        "村居委": Community.objects.count(),
        "属地党组织": PartyOrganization.objects.count(),
        "快递品牌": Brand.objects.count(),
        "加盟企业": Enterprise.objects.count(),
        "网点": Outlet.objects.count(),
        "快递小哥": Courier.objects.count(),
        "党员": Courier.objects.party_members().count(),
        **casework,
        **outbox,
    }


def _load_brands() -> dict[str, Brand]:
    brands = {}
    for order, (name, aliases) in enumerate(BRANDS, start=1):
        brands[name] = Brand.objects.update_or_create(
            name=name, defaults={"aliases": "\n".join(aliases), "sort_order": order}
        )[0]
    return brands


def _load_communities(towns: dict[str, Town]) -> dict[str, list[Community]]:
    result: dict[str, list[Community]] = {}
    for town_name, names in COMMUNITIES.items():
        town = towns[town_name]
        result[town_name] = [
            Community.objects.get_or_create(
                town=town,
                name=name,
                defaults={
                    "kind": Community.Kind.VILLAGE
                    if name.endswith("村委会")
                    else Community.Kind.RESIDENTS
                },
            )[0]
            for name in names
        ]
    return result


def _load_party_organizations(towns: dict[str, Town]) -> dict[str, PartyOrganization]:
    """Per town: a community party committee and, under it, the couriers' joint branch."""
    branches = {}
    for name, town in towns.items():
        committee = PartyOrganization.objects.get_or_create(
            name=f"{name}社区党委",
            defaults={"level": PartyOrganization.Level.COMMITTEE, "town": town},
        )[0]
        level = (
            PartyOrganization.Level.GENERAL_BRANCH
            if name in ("南桥镇", "金汇镇")
            else PartyOrganization.Level.BRANCH
        )
        label = (
            "快递行业联合党总支"
            if level == PartyOrganization.Level.GENERAL_BRANCH
            else "快递行业联合党支部"
        )
        branches[name] = PartyOrganization.objects.get_or_create(
            name=f"{name}{label}",
            defaults={"level": level, "town": town, "parent": committee},
        )[0]
    return branches


def _credit_code(rng: random.Random) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "91310120" + "".join(rng.choice(alphabet) for _ in range(9))
    return body + uscc_check_char(body)


def _phone(rng: random.Random, index: int, base: int) -> str:
    prefix = rng.choice(
        [
            "135",
            "136",
            "137",
            "138",
            "139",
            "150",
            "151",
            "152",
            "157",
            "158",
            "159",
            "177",
            "180",
            "181",
            "182",
            "183",
            "185",
            "186",
            "187",
            "188",
            "189",
            "199",
        ]
    )
    # 7919 is coprime to 10^8, so distinct indexes give distinct tails.
    return f"{prefix}{(index * 7919 + base) % 10**8:08d}"


def _load_enterprises(rng, towns, brands) -> list[Enterprise]:
    town_list = list(towns.values())
    enterprises = []
    for brand_name, count in ENTERPRISES_PER_BRAND:
        for n in range(count):
            town = town_list[(len(enterprises) * 5 + n) % len(town_list)]
            name = f"上海{town.short_name}{brand_name}快递服务有限公司"
            code, person, phone = (
                _credit_code(rng),
                rng.choice(SURNAMES) + "经理",
                _phone(rng, len(enterprises), 55_000_000),
            )
            enterprises.append(
                Enterprise.objects.get_or_create(
                    name=name,
                    defaults={
                        "brand": brands[brand_name],
                        "town": town,
                        "credit_code": code,
                        "contact_person": person,
                        "contact_phone": phone,
                        "address": "上海市奉贤区" + street_address(town.name, rng.randint(1, 999)),
                    },
                )[0]
            )
    return enterprises


def _load_outlets(rng, towns, enterprises, communities) -> list[Outlet]:
    town_list = list(towns.values())
    outlets = []
    for i, enterprise in enumerate(enterprises):
        per = 3 + (i % 3 == 0) + (i % 4 == 0)  # 3 to 5 outlets each, about 80 in all
        for n in range(per):
            town = enterprise.town if n == 0 else town_list[(i + n * 3) % len(town_list)]
            place = OUTLET_PLACES[n % len(OUTLET_PLACES)]
            community = rng.choice(communities[town.name])
            outlets.append(
                Outlet.objects.get_or_create(
                    enterprise=enterprise,
                    name=f"{enterprise.brand.name}{town.short_name}{place}网点",
                    defaults={
                        "town": town,
                        "community": community,
                        "address": f"{town.name}{community.name[:-3]}路{rng.randint(1, 400)}号",
                    },
                )[0]
            )
    return outlets


def _id_number(rng: random.Random, region: str, born: datetime.date, seq: int) -> str:
    body = f"{region}{born:%Y%m%d}{seq:03d}"
    return body + id_check_char(body)


def _load_couriers(rng, outlets, communities, orgs) -> None:
    existing = set(Courier.objects.values_list("phone", flat=True))
    all_communities = [c for group in communities.values() for c in group]
    statuses = (
        [Courier.PoliticalStatus.MEMBER] * PARTY_MEMBERS
        + [Courier.PoliticalStatus.PROBATIONARY] * PROBATIONARY_MEMBERS
        + [Courier.PoliticalStatus.ACTIVIST] * 12
        + [Courier.PoliticalStatus.APPLICANT] * 45
        + [Courier.PoliticalStatus.LEAGUE] * 160
    )
    statuses += [Courier.PoliticalStatus.MASSES] * (COURIER_COUNT - len(statuses))
    rng.shuffle(statuses)
    educations = Courier.Education.values
    education_weights = [30, 40, 20, 9, 1]
    mobile_left = MOBILE_MEMBERS
    new = []
    used_ids: set[str] = set(
        Courier.objects.exclude(id_number="").values_list("id_number", flat=True)
    )
    for i, status in enumerate(statuses):
        # Draw every value whether or not the courier exists, so the sequence is stable.
        outlet = rng.choice(outlets)
        gender = "M" if rng.random() < 0.86 else "F"
        born = datetime.date(rng.randint(1972, 2004), rng.randint(1, 12), rng.randint(1, 28))
        region, home = rng.choice(HOME_REGIONS)
        has_id = rng.random() < 0.7
        seq = rng.randint(0, 499) * 2 + (1 if gender == "M" else 0)
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))
        phone = _phone(rng, i, 10_000_000)
        education = rng.choices(educations, weights=education_weights)[0]
        residence = rng.choice(all_communities) if rng.random() < 0.7 else None
        backbone = rng.random() < (0.5 if status != Courier.PoliticalStatus.MASSES else 0.02)
        left = rng.random() < 0.03
        if phone in existing:
            continue
        member = status in Courier.PoliticalStatus.member_values()
        mobile = member and region != "310120" and mobile_left > 0
        mobile_left -= mobile
        id_number = _id_number(rng, region, born, seq) if has_id else ""
        if id_number in used_ids:
            id_number = ""
        used_ids.add(id_number)
        new.append(
            Courier(
                name=name,
                gender=gender,
                phone=phone,
                id_number=id_number,
                birth_date=born,
                education=education,
                political_status=status,
                is_mobile_party_member=mobile,
                membership_location=f"{home}党员服务中心党支部" if mobile else "",
                managing_organization=orgs[outlet.town.name] if member else None,
                is_business_backbone=backbone,
                brand=outlet.enterprise.brand,
                enterprise=outlet.enterprise,
                outlet=outlet,
                work_town=outlet.town,
                residence_community=residence,
                employment_status=Courier.EmploymentStatus.LEFT
                if left and not member
                else Courier.EmploymentStatus.ACTIVE,
            )
        )
    Courier.objects.bulk_create(new, batch_size=500)


def _load_staff(towns: dict[str, Town]) -> None:
    district_group = Group.objects.get(name=DISTRICT_ADMIN)
    town_group = Group.objects.get(name=TOWN_ADMIN)
    accounts = [
        ("admin", "系统管理员", None, None, True),
        ("district", "区级工作人员", district_group, None, False),
        ("nanqiao", "南桥镇工作人员", town_group, towns["南桥镇"], False),
        ("xidu", "西渡街道工作人员", town_group, towns["西渡街道"], False),
    ]
    for username, first_name, group, town, superuser in accounts:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first_name, "is_staff": True, "is_superuser": superuser},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        if group is not None:
            user.groups.add(group)
        StaffProfile.objects.update_or_create(user=user, defaults={"town": town})


DEMO_ACCOUNTS = [
    ("admin", "超级管理员，全区"),
    ("district", "区级管理员，全区"),
    ("nanqiao", "街镇管理员，南桥镇"),
    ("xidu", "街镇管理员，西渡街道"),
]
