"""Activities in the admin: town scoping of activities, sign-ups and attendance; the sign-up
export with masked phones; copying a recurring class; staff cancelling and raising the places,
both moving the waiting list up; the seeded department list."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.test import Client
from django.utils import timezone

from activities.models import Activity, Attendance, Department, SignUp
from activities.programmes import attendance, signups
from tests import factories

pytestmark = pytest.mark.django_db

ADMIN = "/admin/activities"


@pytest.fixture
def data(nanqiao_town, xidu_town):
    out = {}
    for key, town in (("nanqiao", nanqiao_town), ("xidu", xidu_town)):
        activity = factories.activity(town, f"{town.short_name}流动课堂", capacity=1)
        first = factories.courier(town, name=f"{town.short_name}甲", phone=factories.phone())
        second = factories.courier(town, name=f"{town.short_name}乙", phone=factories.phone())
        signups.sign_up(activity, first)
        signups.sign_up(activity, second)  # waiting
        attendance.mark(activity, first, via=Attendance.Via.STAFF)
        out[key] = {"activity": activity, "first": first, "second": second}
    return out


def test_the_departments_the_article_names_are_seeded():
    names = set(Department.objects.values_list("name", flat=True))
    assert {
        "区总工会",
        "团区委",
        "区妇联",
        "区市场监管局",
        "区公安分局",
        "区卫健委",
        "区房管局",
    } <= names


@pytest.mark.parametrize("model", ["activity", "signup", "attendance"])
def test_town_staff_list_only_their_towns_records(nanqiao_client, data, model):
    response = nanqiao_client.get(f"{ADMIN}/{model}/")
    assert response.status_code == 200
    towns = set()
    for row in response.context["cl"].result_list:
        activity = row if model == "activity" else row.activity
        towns.add(activity.town.name)
    assert towns == {"南桥镇"}


@pytest.mark.parametrize("model", ["activity", "signup", "attendance"])
def test_town_staff_cannot_open_another_towns_records(nanqiao_client, data, model):
    xidu = data["xidu"]["activity"]
    record = {
        "activity": xidu,
        "signup": SignUp.objects.filter(activity=xidu).first(),
        "attendance": Attendance.objects.filter(activity=xidu).first(),
    }[model]
    assert nanqiao_client.get(f"{ADMIN}/{model}/{record.pk}/change/").status_code == 404


def test_town_staff_cannot_edit_another_towns_activity_or_add_one_there(
    nanqiao_client, data, xidu_town
):
    xidu = data["xidu"]["activity"]
    response = nanqiao_client.post(f"{ADMIN}/activity/{xidu.pk}/change/", {"title": "改掉"})
    assert response.status_code == 404
    xidu.refresh_from_db()
    assert xidu.title == "西渡流动课堂"
    form = nanqiao_client.get(f"{ADMIN}/activity/add/").context["adminform"].form
    assert list(form.fields["town"].queryset.values_list("name", flat=True)) == ["南桥镇"]


def test_town_staff_cannot_tick_another_towns_sign_ups(nanqiao_client, data):
    theirs = SignUp.objects.get(courier=data["xidu"]["second"])
    nanqiao_client.post(
        f"{ADMIN}/signup/", {"action": "mark_attended", "_selected_action": [theirs.pk]}
    )
    assert not Attendance.objects.filter(courier=data["xidu"]["second"]).exists()


def test_the_activity_changelist_shows_places_waiting_and_attendance(nanqiao_client, data):
    page = nanqiao_client.get(f"{ADMIN}/activity/").content.decode()
    assert "1 / 1" in page  # confirmed / places
    row = nanqiao_client.get(f"{ADMIN}/activity/").context["cl"].result_list[0]
    assert (row.confirmed, row.waiting, row.attended) == (1, 1, 1)


def test_the_activity_changelist_keeps_a_constant_query_count(
    district_client, data, nanqiao_town, django_assert_num_queries
):
    district_client.get(f"{ADMIN}/activity/")  # warm the session and content types
    # session, user, profile, permissions, towns filter, date hierarchy, counts, page …
    with django_assert_num_queries(10):
        district_client.get(f"{ADMIN}/activity/")
    for n in range(15):
        factories.activity(nanqiao_town, f"更多课堂{n}")
    with django_assert_num_queries(10):
        district_client.get(f"{ADMIN}/activity/")


# --- exports ----------------------------------------------------------------------------------


def _export(client: Client, model: str) -> list[dict]:
    url = f"{ADMIN}/{model}/export/"
    form = client.get(url).context["form"]
    index = next(v for v, label in form.fields["format"].choices if str(label).lower() == "csv")
    post = {"format": index, "resource": 0}
    post.update({name: "on" for name in form.fields if "resource_" in name})
    response = client.post(url, post)
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_sign_up_export_is_scoped_and_masks_phones(nanqiao_client, data):
    rows = _export(nanqiao_client, "signup")
    assert [(r["姓名"], r["状态"], r["签到"]) for r in rows] == [
        ("南桥甲", "已报名", "是"),
        ("南桥乙", "候补", "否"),
    ]
    phone = data["nanqiao"]["first"].phone
    assert rows[0]["手机号码"] == f"{phone[:3]}****{phone[-4:]}"


def test_district_staff_with_the_permission_export_full_phones(district_client, data):
    rows = _export(district_client, "signup")
    assert {r["手机号码"] for r in rows} == {
        data[t][w].phone for t in ("nanqiao", "xidu") for w in ("first", "second")
    }


def test_the_attendance_export_is_scoped_and_masks_phones(nanqiao_client, data):
    rows = _export(nanqiao_client, "attendance")
    assert [(r["活动"], r["姓名"], r["方式"]) for r in rows] == [
        ("南桥流动课堂", "南桥甲", "工作人员登记")
    ]
    assert "****" in rows[0]["手机号码"]


# --- copying a class --------------------------------------------------------------------------


def test_copying_makes_next_weeks_class_without_sign_ups(nanqiao_client, data):
    original = data["nanqiao"]["activity"]
    original.organisers.set(Department.objects.filter(name="区公安分局"))
    original.signup_deadline = original.starts_at - datetime.timedelta(hours=6)
    original.save()
    asked = nanqiao_client.post(
        f"{ADMIN}/activity/", {"action": "copy_activities", "_selected_action": [original.pk]}
    )
    assert asked.status_code == 200 and "新日期" in asked.content.decode()
    nanqiao_client.post(
        f"{ADMIN}/activity/",
        {"action": "copy_activities", "_selected_action": [original.pk], "confirm": "1"},
    )
    copy = Activity.objects.exclude(pk__in=[data[t]["activity"].pk for t in data]).get()
    week = datetime.timedelta(days=7)
    assert copy.starts_at == original.starts_at + week
    assert copy.ends_at == original.ends_at + week
    assert copy.signup_deadline == original.signup_deadline + week
    assert (copy.title, copy.town, copy.capacity) == (original.title, original.town, 1)
    assert [d.name for d in copy.organisers.all()] == ["区公安分局"]
    assert not copy.signups.exists() and not copy.attendances.exists()


def test_copying_to_a_chosen_date_keeps_the_hours(nanqiao_client, data):
    original = data["nanqiao"]["activity"]
    nanqiao_client.post(
        f"{ADMIN}/activity/",
        {
            "action": "copy_activities",
            "_selected_action": [original.pk],
            "confirm": "1",
            "date": "2031-03-05",
        },
    )
    copy = Activity.objects.order_by("-pk").first()
    start, old = timezone.localtime(copy.starts_at), timezone.localtime(original.starts_at)
    assert start.date() == datetime.date(2031, 3, 5) and start.time() == old.time()
    assert copy.ends_at - copy.starts_at == original.ends_at - original.starts_at


# --- staff moving the waiting list ------------------------------------------------------------


def test_staff_cancelling_a_sign_up_promotes_the_next_waiting(nanqiao_client, data):
    first = SignUp.objects.get(courier=data["nanqiao"]["first"])
    nanqiao_client.post(
        f"{ADMIN}/signup/",
        {
            "action": "cancel_signups",
            "_selected_action": [first.pk],
            "reason": "本人电话取消",
            "confirm": "1",
        },
    )
    first.refresh_from_db()
    second = SignUp.objects.get(courier=data["nanqiao"]["second"])
    assert first.status == SignUp.Status.CANCELLED
    assert second.status == SignUp.Status.CONFIRMED and second.promoted_at is not None


def test_raising_the_places_promotes_the_waiting(data):
    activity = data["nanqiao"]["activity"]
    activity.capacity = 2
    activity.save()
    promoted = signups.refill(activity)
    assert [s.courier for s in promoted] == [data["nanqiao"]["second"]]
