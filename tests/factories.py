"""Small factory functions for test data (no JSON fixtures)."""

from __future__ import annotations

import itertools

from django.contrib.auth.models import Group, User
from django.test import Client

from couriers import identity
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
from couriers.validators import id_check_char

_seq = itertools.count(1)


def sign_in(client: Client, courier: Courier) -> Client:
    """Sign a courier in on this test browser: the session key couriers.identity reads, as
    signing in with a code leaves it."""
    session = client.session
    session[identity.SESSION_KEY] = courier.pk
    session.save()
    return client


def courier_client(courier: Courier) -> Client:
    """A fresh test browser with `courier` signed in."""
    return sign_in(Client(), courier)


def town(name: str) -> Town:
    return Town.objects.get(name=name)


def brand(name: str = "中通", aliases: str = "") -> Brand:
    return Brand.objects.get_or_create(name=name, defaults={"aliases": aliases})[0]


def enterprise(in_town: Town, name: str | None = None, of_brand: Brand | None = None) -> Enterprise:
    n = next(_seq)
    return Enterprise.objects.create(
        name=name or f"测试{in_town.short_name}快递公司{n}",
        brand=of_brand or brand(),
        town=in_town,
    )


def outlet(
    in_town: Town, of_enterprise: Enterprise | None = None, name: str | None = None
) -> Outlet:
    n = next(_seq)
    of_enterprise = of_enterprise or enterprise(in_town)
    return Outlet.objects.create(
        name=name or f"{in_town.short_name}测试网点{n}", enterprise=of_enterprise, town=in_town
    )


def community(in_town: Town, name: str | None = None) -> Community:
    return Community.objects.create(town=in_town, name=name or f"测试居委会{next(_seq)}")


def party_org(in_town: Town, name: str | None = None) -> PartyOrganization:
    return PartyOrganization.objects.create(
        name=name or f"{in_town.name}测试党支部{next(_seq)}",
        level=PartyOrganization.Level.BRANCH,
        town=in_town,
    )


def phone(n: int | None = None) -> str:
    return f"139{(n if n is not None else next(_seq)):08d}"


def id_number(birth: str = "19900521", seq: int = 123) -> str:
    body = f"310120{birth}{seq:03d}"
    return body + id_check_char(body)


def courier(in_town: Town, name: str = "张伟", **fields) -> Courier:
    fields.setdefault("phone", phone())
    return Courier.objects.create(name=name, work_town=in_town, **fields)


def courier_admin_form(town: Town, **overrides) -> dict:
    """The admin's courier add/change form as staff fill it in (the 入党进程 inline empty)."""
    data = {
        "name": "新小哥",
        "gender": "M",
        "phone": "13988880001",
        "id_number": "",
        "birth_date": "",
        "education": "senior",
        "employment_status": "active",
        "brand": "",
        "enterprise": "",
        "outlet": "",
        "work_town": town.pk,
        "residence_community": "",
        "political_status": "masses",
        "membership_location": "",
        "managing_organization": "",
        "notes": "",
        "party_stages-TOTAL_FORMS": 0,
        "party_stages-INITIAL_FORMS": 0,
    }
    data.update(overrides)
    return data


def staff_user(username: str, group_name: str, in_town: Town | None) -> User:
    user = User.objects.create_user(username, password="pw-for-tests-only", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    StaffProfile.objects.create(user=user, town=in_town)
    return user


def district_staff(username: str = "district") -> User:
    return staff_user(username, DISTRICT_ADMIN, None)


def town_staff(username: str, in_town: Town) -> User:
    return staff_user(username, TOWN_ADMIN, in_town)


def activity(in_town: Town, title: str = "流动课堂：交通安全", **fields):
    """A published activity at an address, starting in three days unless told otherwise."""
    import datetime

    from django.utils import timezone

    from activities.models import Activity

    starts = fields.pop("starts_at", timezone.now() + datetime.timedelta(days=3))
    fields.setdefault("kind", Activity.Kind.MOBILE_CLASS)
    fields.setdefault("topic", Activity.Topic.TRAFFIC)
    fields.setdefault("address", f"{in_town.name}党群服务中心")
    fields.setdefault("capacity", 3)
    fields.setdefault("points", 5)
    fields.setdefault("ends_at", starts + datetime.timedelta(hours=2))
    return Activity.objects.create(title=title, town=in_town, starts_at=starts, **fields)


# --- casework and the party pipeline (issue 8) ------------------------------------------------


def visit(by: User, courier: Courier | None = None, **fields):
    """A 三送三问 visit (to `courier` unless outlet= or enterprise= is given)."""
    import datetime

    from couriers.models import Visit

    if courier is not None:
        fields["courier"] = courier
    target = fields.get("courier") or fields.get("outlet") or fields.get("enterprise")
    fields.setdefault("town", getattr(target, "work_town", None) or target.town)
    fields.setdefault("date", datetime.date.today())
    fields.setdefault("policy_note", "宣讲劳动权益政策")
    return Visit.objects.create(staff=by, **fields)


def need(of_visit, **fields):
    import datetime

    from couriers.models import Need

    fields.setdefault("category", Need.Category.REST)
    fields.setdefault("description", "希望增设歇脚点")
    fields.setdefault("responsible", "街镇党群服务中心")
    fields.setdefault("deadline", datetime.date.today() + datetime.timedelta(days=15))
    return Need.objects.create(visit=of_visit, **fields)


def stages(of_courier: Courier, *history: tuple[str, str]) -> Courier:
    """Record ("activist", "2025-03-01") … through the casework pipeline; returns the courier."""
    import datetime

    from couriers.casework import pipeline

    for stage, date in history:
        pipeline.record_stage(of_courier, stage, datetime.date.fromisoformat(date))
    of_courier.refresh_from_db()
    return of_courier


# --- rewards and vouchers (issue 18) ----------------------------------------------------------


def partner(in_town: Town | None, name: str | None = None, **fields):
    from activities.models import Partner

    fields.setdefault("kind", Partner.Kind.SHOP)
    return Partner.objects.create(name=name or f"测试爱心超市{next(_seq)}", town=in_town, **fields)


def reward(of_partner, name: str = "洗衣液一瓶", **fields):
    """A reward on offer from `of_partner`, in its town, collected at an address."""
    from activities.models import Reward

    fields.setdefault("kind", Reward.Kind.GOODS)
    fields.setdefault("price", 10)
    fields.setdefault("town", of_partner.town)
    fields.setdefault("address", "南桥镇解放东路1号")
    return Reward.objects.create(name=name, partner=of_partner, **fields)


def partner_account(username: str, of_partner) -> User:
    """A counter account: a staff user linked to the partner, with no group and no profile."""
    from activities.models import PartnerMember

    user = User.objects.create_user(username, password="pw-for-tests-only", is_staff=True)
    PartnerMember.objects.create(user=user, partner=of_partner)
    return user


def give_points(to_courier: Courier, amount: int):
    from activities import points

    return points.adjust(to_courier, amount, "测试发放积分", None)


def photo(name: str = "photo.jpg"):
    """A small real JPEG: every stored photo is decoded and re-encoded on save
    (couriers.privacy.images), so a few fake bytes are refused."""
    import io

    from django.core.files.base import ContentFile
    from PIL import Image

    output = io.BytesIO()
    Image.new("RGB", (8, 6), (180, 30, 30)).save(output, format="JPEG")
    return ContentFile(output.getvalue(), name=name)
