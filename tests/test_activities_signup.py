"""Activities through the public pages: the list (upcoming first, filters, pages, constant
queries), an activity's page, signing up and cancelling as the signed-in courier, the waiting
list and its automatic promotion seen on /me/, the deadline and the start, the calendar file,
and simultaneous sign-ups on PostgreSQL."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from activities.models import Activity, SignUp
from activities.programmes import signups
from couriers.models import Courier
from tests import factories
from tests.concurrency import at_once, needs_postgresql
from tests.factories import courier_client

pytestmark = pytest.mark.django_db

NOW = timezone.now


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def couriers(nanqiao_town) -> list[Courier]:
    names = ["王小明", "李小红", "张大力", "陈阿四", "刘小五"]
    return [factories.courier(nanqiao_town, name=name) for name in names]


@pytest.fixture
def lesson(nanqiao_town) -> Activity:
    return factories.activity(nanqiao_town, capacity=2)


def sign_up(who: Courier, activity: Activity, follow: bool = True):
    return courier_client(who).post(f"/activities/{activity.pk}/signup/", follow=follow)


# --- the list ---------------------------------------------------------------------------------


def test_the_list_puts_coming_activities_first_soonest_first(anonymous, nanqiao_town):
    now = NOW()
    past = factories.activity(nanqiao_town, "上月课堂", starts_at=now - datetime.timedelta(days=30))
    later = factories.activity(nanqiao_town, "下周课堂", starts_at=now + datetime.timedelta(days=7))
    soon = factories.activity(nanqiao_town, "明天课堂", starts_at=now + datetime.timedelta(days=1))
    older = factories.activity(
        nanqiao_town, "去年课堂", starts_at=now - datetime.timedelta(days=300)
    )
    running = factories.activity(
        nanqiao_town, "正在上课", starts_at=now - datetime.timedelta(minutes=30)
    )
    response = anonymous.get("/activities/")
    assert [a.pk for a in response.context["page"]] == [
        running.pk,
        soon.pk,
        later.pk,
        past.pk,
        older.pk,
    ]
    assert "已结束" in response.content.decode()


def test_the_list_filters_by_kind_and_town(anonymous, nanqiao_town, xidu_town):
    factories.activity(nanqiao_town, "南桥流动课堂")
    factories.activity(xidu_town, "西渡夏送清凉", kind=Activity.Kind.SUMMER, topic="", capacity=50)
    factories.activity(xidu_town, "西渡流动课堂")
    titles = lambda **q: {a.title for a in anonymous.get("/activities/", q).context["page"]}  # noqa: E731
    assert titles(kind="summer") == {"西渡夏送清凉"}
    assert titles(town=xidu_town.pk) == {"西渡夏送清凉", "西渡流动课堂"}
    assert titles(kind="mobile_class", town=nanqiao_town.pk) == {"南桥流动课堂"}
    assert titles(kind="nonsense") == {"南桥流动课堂", "西渡夏送清凉", "西渡流动课堂"}


def test_unpublished_activities_are_not_shown(anonymous, nanqiao_town):
    hidden = factories.activity(nanqiao_town, "内部筹备会", is_published=False)
    assert hidden.title not in anonymous.get("/activities/").content.decode()
    assert anonymous.get(f"/activities/{hidden.pk}/").status_code == 404
    assert anonymous.get(f"/activities/{hidden.pk}.ics").status_code == 404


def test_the_list_is_paginated_and_keeps_the_filter_in_page_links(anonymous, nanqiao_town):
    for n in range(23):
        factories.activity(nanqiao_town, f"课堂{n}")
    first = anonymous.get("/activities/", {"kind": "mobile_class"})
    assert len(first.context["page"]) == 20
    assert "kind=mobile_class&amp;page=2" in first.content.decode()
    second = anonymous.get("/activities/", {"kind": "mobile_class", "page": 2})
    assert len(second.context["page"]) == 3
    assert anonymous.get("/activities/", {"page": "abc"}).status_code == 200


def _grow(town, couriers: list[Courier], n: int) -> None:
    for i in range(n):
        activity = factories.activity(town, f"{town.short_name}活动{i}", capacity=1)
        for who in couriers[:2]:
            signups.sign_up(activity, who)


@pytest.mark.parametrize(
    "params, queries", [({}, 3), ({"kind": "mobile_class"}, 3), ({"town": "nanqiao"}, 4)]
)
def test_the_list_keeps_a_constant_query_count(
    params, queries, anonymous, nanqiao_town, xidu_town, couriers, django_assert_num_queries
):
    if params.get("town"):
        params = {"town": nanqiao_town.pk}
    _grow(nanqiao_town, couriers, 2)
    # the count, the page of activities with their places, the towns for the filter (and the
    # chosen town, when filtering by town)
    with django_assert_num_queries(queries):
        assert anonymous.get("/activities/", params).status_code == 200
    _grow(nanqiao_town, couriers, 25)
    _grow(xidu_town, couriers, 5)
    with django_assert_num_queries(queries):
        response = anonymous.get("/activities/", params)
    assert len(response.context["page"]) == 20


def test_the_activity_page_keeps_a_constant_query_count(
    lesson, couriers, django_assert_num_queries
):
    client = courier_client(couriers[0])
    signups.sign_up(lesson, couriers[0])
    # session, courier, activity with places, organisers, partners, my sign-up, my attendance
    with django_assert_num_queries(7):
        assert client.get(f"/activities/{lesson.pk}/").status_code == 200
    for who in couriers[1:]:
        signups.sign_up(lesson, who)
    with django_assert_num_queries(7):
        assert client.get(f"/activities/{lesson.pk}/").status_code == 200


# --- signing up and cancelling ----------------------------------------------------------------


def test_a_visitor_is_asked_to_sign_in_first(anonymous, lesson):
    page = anonymous.get(f"/activities/{lesson.pk}/").content.decode()
    assert "登录后报名" in page
    response = anonymous.post(f"/activities/{lesson.pk}/signup/")
    assert response.status_code == 302
    assert response["Location"] == f"/me/signin/?next=/activities/{lesson.pk}/signup/"
    assert not SignUp.objects.exists()


def test_a_courier_signs_up_and_sees_it_on_the_page_and_on_me(lesson, couriers):
    response = sign_up(couriers[0], lesson)
    assert messages_of(response) == [f"报名成功：“{lesson.title}”。记得按时参加！"]
    assert "你已报名" in response.content.decode()
    signup = SignUp.objects.get()
    assert (signup.courier, signup.status) == (couriers[0], SignUp.Status.CONFIRMED)
    me = courier_client(couriers[0]).get("/me/").content.decode()
    assert lesson.title in me and "已报名" in me


def test_signing_up_needs_a_post_request(lesson, couriers):
    assert courier_client(couriers[0]).get(f"/activities/{lesson.pk}/signup/").status_code == 405
    assert not SignUp.objects.exists()


def test_a_double_submitted_sign_up_keeps_one(lesson, couriers):
    sign_up(couriers[0], lesson)
    response = sign_up(couriers[0], lesson)
    assert messages_of(response) == ["你已报名这个活动。"]
    assert SignUp.objects.count() == 1


def test_when_full_a_courier_joins_the_waiting_list_in_order(lesson, couriers):
    for who in couriers[:2]:
        sign_up(who, lesson)
    response = sign_up(couriers[2], lesson)
    assert "你已加入候补名单" in messages_of(response)[0]
    assert "候补名单第 1 位" in response.content.decode()
    sign_up(couriers[3], lesson)
    page = courier_client(couriers[3]).get(f"/activities/{lesson.pk}/").content.decode()
    assert "候补名单第 2 位" in page
    assert "候补第 2 位" in courier_client(couriers[3]).get("/me/").content.decode()
    again = sign_up(couriers[3], lesson)
    assert messages_of(again) == ["你已在候补名单中。"]
    statuses = list(SignUp.objects.order_by("id").values_list("status", flat=True))
    assert statuses == ["confirmed", "confirmed", "waiting", "waiting"]


def test_a_cancellation_promotes_the_first_waiting_courier_who_sees_it_on_me(lesson, couriers):
    for who in couriers[:4]:
        sign_up(who, lesson)
    response = courier_client(couriers[0]).post(f"/activities/{lesson.pk}/cancel/", follow=True)
    assert messages_of(response) == ["已取消报名。"]
    by_courier = {s.courier_id: s for s in SignUp.objects.all()}
    assert by_courier[couriers[0].pk].status == SignUp.Status.CANCELLED
    assert by_courier[couriers[2].pk].status == SignUp.Status.CONFIRMED
    assert by_courier[couriers[2].pk].promoted_at is not None
    assert by_courier[couriers[3].pk].status == SignUp.Status.WAITING
    me = courier_client(couriers[2]).get("/me/").content.decode()
    assert "你已从候补转为正式报名" in me and lesson.title in me
    still_waiting = courier_client(couriers[3]).get("/me/").content.decode()
    assert "候补第 1 位" in still_waiting and "转为正式报名" not in still_waiting


def test_leaving_the_waiting_list_promotes_nobody(lesson, couriers):
    for who in couriers[:4]:
        sign_up(who, lesson)
    courier_client(couriers[2]).post(f"/activities/{lesson.pk}/cancel/")
    assert SignUp.objects.filter(status=SignUp.Status.CONFIRMED).count() == 2
    assert SignUp.objects.get(courier=couriers[3]).status == SignUp.Status.WAITING
    assert SignUp.objects.get(courier=couriers[3]).promoted_at is None


def test_a_courier_can_sign_up_again_after_cancelling(lesson, couriers):
    sign_up(couriers[0], lesson)
    courier_client(couriers[0]).post(f"/activities/{lesson.pk}/cancel/")
    response = sign_up(couriers[0], lesson)
    assert messages_of(response)[0].startswith("报名成功")
    assert SignUp.objects.filter(courier=couriers[0]).count() == 2  # the history stays


def test_cancelling_without_a_sign_up_changes_nothing(lesson, couriers):
    response = courier_client(couriers[0]).post(f"/activities/{lesson.pk}/cancel/", follow=True)
    assert messages_of(response) == []
    assert not SignUp.objects.exists()


def test_sign_up_closes_at_the_deadline(nanqiao_town, couriers):
    closed = factories.activity(nanqiao_town, signup_deadline=NOW() - datetime.timedelta(minutes=1))
    response = sign_up(couriers[0], closed)
    assert messages_of(response) == ["报名已截止。"]
    assert "报名已截止" in response.content.decode()
    assert "我要报名" not in response.content.decode()
    assert not SignUp.objects.exists()


def test_no_sign_up_or_cancelling_once_it_has_started(nanqiao_town, couriers):
    started = factories.activity(nanqiao_town, starts_at=NOW() - datetime.timedelta(minutes=5))
    assert messages_of(sign_up(couriers[0], started)) == ["活动已开始，不能再报名。"]
    SignUp.objects.create(activity=started, courier=couriers[1], status="confirmed")
    response = courier_client(couriers[1]).post(f"/activities/{started.pk}/cancel/", follow=True)
    assert messages_of(response) == ["活动已开始，不能再取消报名。"]
    assert SignUp.objects.get(courier=couriers[1]).status == SignUp.Status.CONFIRMED


def test_the_online_link_is_shown_only_to_confirmed_couriers(nanqiao_town, couriers):
    online = factories.activity(
        nanqiao_town,
        "云端课堂：劳动权益",
        kind=Activity.Kind.ONLINE_CLASS,
        topic=Activity.Topic.RIGHTS,
        address="",
        online_url="https://meeting.example.cn/room-42",
    )
    assert "room-42" not in Client().get(f"/activities/{online.pk}/").content.decode()
    sign_up(couriers[0], online)
    page = courier_client(couriers[0]).get(f"/activities/{online.pk}/").content.decode()
    assert "https://meeting.example.cn/room-42" in page
    calendar = Client().get(f"/activities/{online.pk}.ics").content.decode()
    assert "room-42" not in calendar and "LOCATION:线上（云端课堂）" in calendar


# --- the venue rules --------------------------------------------------------------------------


def _errors(activity: Activity) -> dict:
    from django.core.exceptions import ValidationError

    try:
        activity.full_clean()
    except ValidationError as problem:
        return problem.message_dict
    return {}


def test_venue_rules_give_chinese_reasons(nanqiao_town, xidu_town):
    from stations.models import Station

    start = NOW() + datetime.timedelta(days=1)
    base = {"title": "课堂", "town": nanqiao_town, "starts_at": start, "capacity": 5}
    base["ends_at"] = start + datetime.timedelta(hours=1)
    mobile = {**base, "kind": "mobile_class", "topic": "law"}
    assert _errors(Activity(**mobile)) == {"address": ["请选择站点或报到点，或填写地址。"]}
    assert _errors(Activity(**mobile, address="南桥镇社区中心")) == {}
    online = {**base, "kind": "online_class", "topic": "law"}
    assert _errors(Activity(**online)) == {"online_url": ["云端课堂请填写线上链接。"]}
    assert "address" in _errors(Activity(**online, online_url="https://x.cn/", address="某地"))
    assert _errors(Activity(**mobile, address="某地", online_url="https://x.cn/")) == {
        "online_url": ["只有云端课堂填写线上链接。"]
    }
    assert _errors(Activity(**{**mobile, "topic": ""}, address="某地")) == {
        "topic": ["课堂请选择培训主题。"]
    }
    elsewhere = Station.objects.create(
        name="西渡站", town=xidu_town, address="西渡", latitude=30.95, longitude=121.45
    )
    assert _errors(Activity(**mobile, station=elsewhere)) == {"station": ["站点不在所选街镇内。"]}
    late = {**mobile, "address": "某地", "signup_deadline": start + datetime.timedelta(hours=1)}
    assert _errors(Activity(**late)) == {"signup_deadline": ["报名截止不能晚于开始时间。"]}


# --- the calendar file ------------------------------------------------------------------------


def _unfold(body: str) -> dict[str, str]:
    """Parse an iCalendar body: check CRLF and 75-octet lines, unfold, unescape."""
    assert body.endswith("\r\n")
    raw = body.split("\r\n")[:-1]
    for line in raw:
        assert "\n" not in line and "\r" not in line
        assert len(line.encode()) <= 75, line
    logical: list[str] = []
    for line in raw:
        if line.startswith(" "):
            logical[-1] += line[1:]
        else:
            logical.append(line)
    fields = {}
    for line in logical:
        name, _, value = line.partition(":")
        value = value.replace("\\n", "\n").replace("\\,", ",").replace("\\;", ";")
        fields.setdefault(name, value.replace("\\\\", "\\"))
    return fields


def test_the_calendar_file_describes_the_activity(anonymous, nanqiao_town):
    starts = datetime.datetime(2030, 6, 8, 19, 0, tzinfo=timezone.get_current_timezone())
    activity = factories.activity(
        nanqiao_town,
        "流动课堂：电动车安全，头盔；规范（夜间）" + "很长的标题" * 10,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(minutes=90),
        description="带上头盔,\n可以现场检测电池。",
        address="南桥镇解放东路1号, 3楼",
    )
    response = anonymous.get(f"/activities/{activity.pk}.ics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert f'filename="activity-{activity.pk}.ics"' in response["Content-Disposition"]
    fields = _unfold(response.content.decode())
    assert fields["BEGIN"] == "VCALENDAR" and fields["VERSION"] == "2.0"
    assert fields["UID"] == f"activity-{activity.pk}@testserver"
    assert fields["DTSTART"] == "20300608T110000Z"  # 19:00 in Shanghai
    assert fields["DTEND"] == "20300608T123000Z"
    assert fields["SUMMARY"] == activity.title
    assert fields["LOCATION"] == "南桥镇解放东路1号, 3楼"
    assert "带上头盔,\n可以现场检测电池。" in fields["DESCRIPTION"]
    assert f"http://testserver/activities/{activity.pk}/" in fields["DESCRIPTION"]
    assert fields["URL"] == f"http://testserver/activities/{activity.pk}/"
    assert len(fields["DTSTAMP"]) == 16 and fields["DTSTAMP"].endswith("Z")
    assert response.content.decode().count("BEGIN:VEVENT") == 1


# --- simultaneous sign-ups (PostgreSQL) --------------------------------------------------------


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_thirty_simultaneous_sign_ups_fill_exactly_the_places(committed_db):
    town = factories.town("南桥镇")
    activity = factories.activity(town, "热门课堂", capacity=5)
    people = [factories.courier(town, phone=factories.phone(70_000 + n)) for n in range(30)]
    results, problems = at_once([lambda who=who: signups.sign_up(activity, who) for who in people])
    assert problems == []
    assert sorted(s.status for s in results).count("confirmed") == 5
    assert SignUp.objects.filter(activity=activity, status="confirmed").count() == 5
    assert SignUp.objects.filter(activity=activity, status="waiting").count() == 25


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_simultaneous_cancellations_promote_each_waiting_courier_once(committed_db):
    town = factories.town("南桥镇")
    activity = factories.activity(town, "热门课堂", capacity=5)
    people = [factories.courier(town, phone=factories.phone(71_000 + n)) for n in range(10)]
    for who in people:
        signups.sign_up(activity, who)
    results, problems = at_once(
        [lambda who=who: signups.cancel(activity, who) for who in people[:5]]
    )
    assert problems == [] and len(results) == 5
    confirmed = SignUp.objects.filter(activity=activity, status="confirmed")
    assert sorted(confirmed.values_list("courier_id", flat=True)) == [p.pk for p in people[5:]]
    assert not SignUp.objects.filter(activity=activity, status="waiting").exists()


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_one_courier_signing_up_twice_at_once_gets_one_place(committed_db):
    town = factories.town("南桥镇")
    activity = factories.activity(town, "热门课堂", capacity=5)
    who = factories.courier(town, phone=factories.phone(72_000))
    results, problems = at_once([lambda: signups.sign_up(activity, who)] * 4)
    assert len(results) == 1
    assert [str(p) for p in problems] == ["你已报名这个活动。"] * 3
    assert SignUp.objects.filter(activity=activity, courier=who).count() == 1
