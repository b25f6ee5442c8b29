"""Issue 17, activities: a courier is told by text message when the waiting list moves them
up (activities and volunteer posts), when staff confirm or cancel their sign-up, and when the
activity is moved or cancelled — each message queued in the transaction of the change, once,
and never to a courier who refused that kind or was erased."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client
from django.utils import timezone

from activities import claims
from activities.models import Activity, Claim, SignUp, VolunteerPost
from activities.programmes import signups
from couriers.messaging import templates
from couriers.models import Courier, Message, MessagePreference
from couriers.privacy.personal_data import erase, find
from stations.models import SixI
from tests import factories
from tests.concurrency import at_once, needs_postgresql

pytestmark = pytest.mark.django_db

ADMIN = "/admin/activities"
SIGN = "【奉贤快递小哥】"


def courier_client(courier: Courier) -> Client:
    client = Client()
    session = client.session
    session["courier_id"] = courier.pk
    session.save()
    return client


def text(message: Message) -> str:
    return SIGN + templates.get(message.template).render(message.params)


def about(message: Message):
    return ContentType.objects.get_for_id(message.about_type_id).get_object_for_this_type(
        pk=message.about_id
    )


@pytest.fixture
def lesson(nanqiao_town) -> Activity:
    starts = timezone.make_aware(
        datetime.datetime.combine(
            timezone.localdate() + datetime.timedelta(days=3), datetime.time(14)
        )
    )
    return factories.activity(nanqiao_town, "交通安全课", capacity=1, starts_at=starts)


@pytest.fixture
def first(nanqiao_town, lesson) -> Courier:
    courier = factories.courier(nanqiao_town, name="王小明")
    signups.sign_up(lesson, courier)
    return courier


@pytest.fixture
def second(nanqiao_town, lesson, first) -> Courier:
    courier = factories.courier(nanqiao_town, name="李小红")
    assert signups.sign_up(lesson, courier).status == SignUp.Status.WAITING
    return courier


# --- waiting-list promotion ---------------------------------------------------------------------


def test_a_courier_moved_up_from_the_waiting_list_is_told(
    lesson, first, second, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = courier_client(first).post(f"/activities/{lesson.pk}/cancel/")
    assert response.status_code == 302
    message = Message.objects.get()
    assert message.courier == second and message.template == "signup_promoted"
    assert message.event == "signup_promoted" and not message.urgent
    assert about(message) == SignUp.objects.get(courier=second, activity=lesson)
    day = timezone.localdate() + datetime.timedelta(days=3)
    assert message.params == {
        "activity": "交通安全课",
        "time": f"{day.month}月{day.day}日 14:00",
        "place": "南桥镇党群服务中心",
    }
    assert sms_outbox == [(second.phone, text(message))]
    assert message.params["time"] in sms_outbox[0][1]
    message.refresh_from_db()
    assert message.state == Message.State.SENT


def test_a_rolled_back_cancellation_tells_nobody(lesson, first, second):
    with pytest.raises(RuntimeError), transaction.atomic():
        signups.cancel(lesson, first)
        assert Message.objects.count() == 1  # queued with the change …
        raise RuntimeError
    assert not Message.objects.exists()  # … and gone with it
    assert SignUp.objects.get(courier=second).status == SignUp.Status.WAITING


def test_a_double_submitted_cancellation_tells_once(lesson, first, second):
    client = courier_client(first)
    client.post(f"/activities/{lesson.pk}/cancel/")
    client.post(f"/activities/{lesson.pk}/cancel/")
    signups.refill(lesson)
    assert Message.objects.filter(event="signup_promoted").count() == 1


def test_a_courier_who_muted_sign_up_messages_is_moved_up_silently(lesson, first, second):
    MessagePreference.objects.create(courier=second, muted_kinds=[templates.Kind.SIGNUP])
    signups.cancel(lesson, first)
    assert SignUp.objects.get(courier=second).status == SignUp.Status.CONFIRMED
    assert not Message.objects.exists()


def test_an_erased_courier_is_never_told(lesson, first, second):
    erase(find(second.phone))
    signups.cancel(lesson, first)
    assert not Message.objects.exists()


@pytest.fixture
def post(nanqiao_town) -> VolunteerPost:
    return VolunteerPost.objects.create(
        title="路口值守", category=SixI.GOVERN, town=nanqiao_town, capacity=1,
        schedule="每周六 9:00-11:00",
    )  # fmt: skip


def test_a_courier_moved_up_on_a_posts_waiting_list_is_told(
    nanqiao_town, post, sms_outbox, django_capture_on_commit_callbacks
):
    holder, waiting = factories.courier(nanqiao_town), factories.courier(nanqiao_town)
    claims.claim(post, holder)
    claims.claim(post, waiting, wait=True)
    with django_capture_on_commit_callbacks(execute=True):
        courier_client(holder).post(f"/posts/{post.pk}/withdraw/", {"confirm": "1"})
    message = Message.objects.get()
    assert (message.courier, message.template, message.event) == (
        waiting,
        "post_promoted",
        "post_promoted",
    )
    assert message.params == {"post": "路口值守", "time": "每周六 9:00-11:00"}
    assert about(message) == Claim.objects.get(courier=waiting)
    assert sms_outbox == [(waiting.phone, text(message))]
    claims.refill(post)  # the admin saving the post again
    assert Message.objects.count() == 1


# --- staff confirming and cancelling ------------------------------------------------------------


def _action(client: Client, action: str, selected, **form):
    data = {"action": action, "_selected_action": [s.pk for s in selected], **form}
    return client.post(f"{ADMIN}/signup/", data)


def test_staff_cancelling_a_sign_up_say_why_and_the_courier_is_told(
    nanqiao_client, lesson, first, second, sms_outbox, django_capture_on_commit_callbacks
):
    mine = SignUp.objects.get(courier=first)
    asked = _action(nanqiao_client, "cancel_signups", [mine])
    assert asked.status_code == 200 and "原因" in asked.content.decode()
    _action(nanqiao_client, "cancel_signups", [mine], confirm="1", reason="")
    mine.refresh_from_db()
    assert mine.status == SignUp.Status.CONFIRMED  # no reason, nothing done

    with django_capture_on_commit_callbacks(execute=True):
        done = _action(nanqiao_client, "cancel_signups", [mine], confirm="1", reason="本人来电取消")
    assert done.status_code == 302
    cancelled = Message.objects.get(event="signup_cancelled")
    assert cancelled.courier == first and cancelled.template == "signup_cancelled"
    assert cancelled.params == {"activity": "交通安全课", "reason": "本人来电取消"}
    assert about(cancelled) == mine
    promoted = Message.objects.get(event="signup_promoted")
    assert promoted.courier == second
    assert sorted(sms_outbox) == sorted(
        [(first.phone, text(cancelled)), (second.phone, text(promoted))]
    )
    assert "原因：本人来电取消" in dict(sms_outbox)[first.phone]

    _action(nanqiao_client, "cancel_signups", [mine], confirm="1", reason="本人来电取消")
    assert Message.objects.filter(event="signup_cancelled").count() == 1  # double submit


def test_staff_confirming_a_waiting_sign_up_make_room_and_the_courier_is_told(
    nanqiao_client, lesson, first, second, sms_outbox, django_capture_on_commit_callbacks
):
    waiting = SignUp.objects.get(courier=second)
    with django_capture_on_commit_callbacks(execute=True):
        _action(nanqiao_client, "confirm_signups", [waiting])
    waiting.refresh_from_db()
    lesson.refresh_from_db()
    assert waiting.status == SignUp.Status.CONFIRMED and lesson.capacity == 2
    message = Message.objects.get()
    assert (message.courier, message.template, message.event) == (
        second,
        "signup_confirmed",
        "signup_confirmed",
    )
    assert about(message) == waiting and message.params["activity"] == "交通安全课"
    assert sms_outbox == [(second.phone, text(message))]
    _action(nanqiao_client, "confirm_signups", [waiting])  # again: no longer waiting
    assert Message.objects.count() == 1 and Activity.objects.get().capacity == 2


def test_other_towns_staff_cannot_cancel_and_tell(xidu_client, lesson, first):
    mine = SignUp.objects.get(courier=first)
    _action(xidu_client, "cancel_signups", [mine], confirm="1", reason="x")
    mine.refresh_from_db()
    assert mine.status == SignUp.Status.CONFIRMED and not Message.objects.exists()


# --- the activity moved or cancelled ------------------------------------------------------------


def _form(activity: Activity, **changes) -> dict:
    """The activity's change form as the admin shows it, with `changes` made."""
    values = {
        "title": activity.title,
        "kind": activity.kind,
        "topic": activity.topic,
        "description": activity.description,
        "town": activity.town_id,
        "is_published": "on" if activity.is_published else "",
        "is_cancelled": "on" if activity.is_cancelled else "",
        "cancel_note": activity.cancel_note,
        "starts_at": activity.starts_at,
        "ends_at": activity.ends_at,
        "capacity": activity.capacity,
        "points": activity.points,
        "station": activity.station_id or "",
        "checkin_point": activity.checkin_point_id or "",
        "address": activity.address,
        "online_url": activity.online_url,
    }
    values.update(changes)
    data = {}
    for name, value in values.items():
        if isinstance(value, datetime.datetime):
            local = timezone.localtime(value)
            data[f"{name}_0"], data[f"{name}_1"] = f"{local:%Y-%m-%d}", f"{local:%H:%M:%S}"
        elif value is not None:
            data[name] = value
    data.update({"signup_deadline_0": "", "signup_deadline_1": ""})
    for prefix in ("signups", "attendances"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    return data


def _save(client: Client, activity: Activity, **changes):
    response = client.post(f"{ADMIN}/activity/{activity.pk}/change/", _form(activity, **changes))
    assert response.status_code == 302, response.context["adminform"].form.errors
    return response


def test_moving_an_activity_tells_everyone_signed_up_each_time(
    nanqiao_client, lesson, first, second, sms_outbox, django_capture_on_commit_callbacks
):
    later = lesson.starts_at + datetime.timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        _save(nanqiao_client, lesson, starts_at=later, ends_at=later + datetime.timedelta(hours=2))
    changed = Message.objects.filter(event="activity_changed")
    assert {m.courier for m in changed.all()} == {first, second}  # the waiting one too
    message = changed.get(courier=first)
    assert message.template == "activity_changed" and about(message) == lesson
    assert message.params["time"].endswith("15:00") and not message.urgent
    assert sorted(sms_outbox) == sorted((m.courier.phone, text(m)) for m in changed.all())

    lesson.refresh_from_db()
    _save(nanqiao_client, lesson)  # saved again, nothing changed
    assert changed.count() == 2
    _save(nanqiao_client, lesson, address="南桥镇文化中心二楼")  # a second change
    assert changed.count() == 4
    newest = changed.filter(courier=first).order_by("-id").first()
    assert newest.params["place"] == "南桥镇文化中心二楼"


def test_other_edits_tell_nobody(nanqiao_client, lesson, first):
    lesson.refresh_from_db()
    _save(nanqiao_client, lesson, description="带上身份证", capacity=5)
    assert not Message.objects.exists()


def test_a_change_on_the_day_goes_out_at_once(nanqiao_client, nanqiao_town, first):
    # Under way since earlier today (halfway between midnight and now: today at any hour).
    now = timezone.localtime()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    today = factories.activity(
        nanqiao_town,
        "今天的课",
        starts_at=midnight + (now - midnight) / 2,
        ends_at=now + datetime.timedelta(hours=2),
    )
    SignUp.objects.create(activity=today, courier=first, status=SignUp.Status.CONFIRMED)
    _save(nanqiao_client, today, address="改到二楼会议室")
    assert Message.objects.get().urgent
    # Three days ahead (the test above): not urgent, quiet hours apply.


def test_cancelling_an_activity_says_why_to_everyone_signed_up(
    nanqiao_client, lesson, first, second, sms_outbox, django_capture_on_commit_callbacks
):
    response = nanqiao_client.post(
        f"{ADMIN}/activity/{lesson.pk}/change/", _form(lesson, is_cancelled="on")
    )
    assert response.status_code == 200  # the note is what they are told: required
    assert not Message.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        _save(nanqiao_client, lesson, is_cancelled="on", cancel_note="台风预警")
    told = Message.objects.filter(event="activity_cancelled")
    assert {m.courier for m in told} == {first, second}
    message = told.get(courier=first)
    assert message.template == "activity_cancelled" and about(message) == lesson
    assert message.params["reason"] == "台风预警" and message.params["activity"] == "交通安全课"
    assert len(sms_outbox) == 2 and all("台风预警" in body for _phone, body in sms_outbox)
    lesson.refresh_from_db()
    _save(nanqiao_client, lesson)  # saved again while cancelled
    assert Message.objects.count() == 2


def test_a_failed_save_tells_nobody(nanqiao_client, lesson, first):
    # The end before the start: the admin refuses the form, nothing is saved or told.
    response = nanqiao_client.post(
        f"{ADMIN}/activity/{lesson.pk}/change/",
        _form(lesson, ends_at=lesson.starts_at - datetime.timedelta(hours=1)),
    )
    assert response.status_code == 200 and not Message.objects.exists()


# --- at the same moment (PostgreSQL: real row locks, real parallel transactions) ---------------


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_simultaneous_cancellations_tell_each_promoted_courier_once(committed_db):
    town = factories.town("南桥镇")
    activity = factories.activity(town, "热门课堂", capacity=3)
    people = [factories.courier(town, phone=factories.phone(81_000 + n)) for n in range(6)]
    for who in people:
        signups.sign_up(activity, who)
    results, problems = at_once(
        [lambda who=who: signups.cancel(activity, who) for who in people[:3]]
    )
    assert problems == [] and len(results) == 3
    told = Message.objects.filter(event="signup_promoted")
    assert sorted(told.values_list("courier_id", flat=True)) == [p.pk for p in people[3:]]


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_change_submitted_twice_at_once_is_told_once(committed_db):
    town = factories.town("南桥镇")
    staff = factories.town_staff("nanqiao_at_once", town)
    activity = factories.activity(town, "热门课堂", capacity=3)
    people = [factories.courier(town, phone=factories.phone(82_000 + n)) for n in range(2)]
    for who in people:
        signups.sign_up(activity, who)
    data = _form(activity, address="改到文化中心")

    def submit() -> int:
        client = Client()
        client.force_login(staff)
        return client.post(f"{ADMIN}/activity/{activity.pk}/change/", data).status_code

    results, problems = at_once([submit, submit])
    assert problems == [] and results == [302, 302]
    told = Message.objects.filter(event="activity_changed")
    assert sorted(told.values_list("courier_id", flat=True)) == [p.pk for p in people]
