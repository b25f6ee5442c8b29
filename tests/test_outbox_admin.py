"""The outbox in the admin: town staff see their couriers' messages only (list, filters, a
message by id, actions); a message opens to its text (never a code) and its history; a failed
one can be sent again and a waiting one cancelled, each attributed to the staff member."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from couriers.messaging import otp
from couriers.messaging.notify import notify
from couriers.models import Message, MessageLog
from tests import factories

pytestmark = pytest.mark.django_db

LIST = reverse("admin:couriers_message_changelist")


def change(message: Message) -> str:
    return reverse("admin:couriers_message_change", args=[message.pk])


@pytest.fixture
def world(nanqiao_town, xidu_town):
    ours = factories.courier(nanqiao_town, name="南桥小哥", phone="13911112222")
    theirs = factories.courier(xidu_town, name="西渡小哥", phone="13922223333")
    mine = notify(ours, "points_adjusted", {"change": "+5", "reason": "补录"}, event="points")
    other = notify(theirs, "points_adjusted", {"change": "+3", "reason": "补录"}, event="points")
    return {"ours": ours, "theirs": theirs, "mine": mine, "other": other}


def test_town_staff_list_only_their_couriers_messages(nanqiao_client, world):
    response = nanqiao_client.get(LIST)
    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert rows == [world["mine"]]
    page = response.content.decode()
    assert "南桥小哥（139****2222）" in page and "13911112222" not in page
    assert "积分调整" in page and "西渡小哥" not in page


def test_another_towns_message_is_not_found(xidu_client, world):
    assert xidu_client.get(change(world["mine"])).status_code == 404


def test_filtering_by_another_town_lists_nothing(nanqiao_client, world, xidu_town):
    response = nanqiao_client.get(LIST, {"courier__work_town__id__exact": xidu_town.pk})
    assert list(response.context["cl"].result_list) == []


def test_the_filters_by_state_event_and_day_work(district_client, world):
    Message.objects.filter(pk=world["other"].pk).update(state=Message.State.FAILED)
    response = district_client.get(LIST, {"state__exact": "failed"})
    assert list(response.context["cl"].result_list) == [world["other"]]
    response = district_client.get(
        LIST, {"event": "points", "created_at__gte": "2000-01-01 00:00:00+08:00"}
    )
    assert len(response.context["cl"].result_list) == 2


@pytest.mark.parametrize("lookup", ["courier__phone__startswith", "phone__startswith"])
def test_phone_lookups_are_refused_for_town_staff(nanqiao_client, world, lookup):
    right = nanqiao_client.get(LIST, {lookup: "1391"})
    wrong = nanqiao_client.get(LIST, {lookup: "1300"})
    assert right.status_code == wrong.status_code == 400
    assert right.content == wrong.content


def test_a_message_opens_to_its_text_and_history(district_client, world, sms_outbox):
    from couriers.messaging import sending

    sending.send_due()
    page = district_client.get(change(world["mine"])).content.decode()
    assert "您的积分调整+5分，原因：补录。" in page
    assert "已发送" in page and "第 1 次" in page


def test_a_codes_digits_are_never_shown(district_client, sms_outbox, monkeypatch):
    from couriers.messaging import backends

    def fail(self, phone, template, params):
        raise backends.TemporaryError("超时")

    monkeypatch.setattr(backends.LocmemBackend, "send_template", fail)
    code = otp.send_code("13900000001", "address", "device")  # still pending: code kept
    message = Message.objects.get(event="login_code")
    assert message.params == {"code": code}
    page = district_client.get(change(message)).content.decode()
    assert code not in page and "验证码 ******" in page
    assert code not in district_client.get(LIST).content.decode()


def test_codes_are_not_listed_for_town_staff(nanqiao_client, world, sms_outbox):
    otp.send_code("13900000001", "address", "device")
    rows = nanqiao_client.get(LIST).context["cl"].result_list
    assert [m.event for m in rows] == ["points"]


def _act(client, action, message, **extra):
    return client.post(
        LIST, {"action": action, "_selected_action": [message.pk], "index": 0, **extra}
    )


def test_a_failed_message_is_sent_again_and_the_staff_member_recorded(
    nanqiao_client, nanqiao, world, sms_outbox
):
    mine = world["mine"]
    Message.objects.filter(pk=mine.pk).update(
        state=Message.State.FAILED, attempts=10, last_error="超时"
    )
    response = _act(nanqiao_client, "resend", mine, _from="change")
    assert response.status_code == 302 and response["Location"] == change(mine)
    mine.refresh_from_db()
    # A new attempt: back to 待发送, its tries counted afresh (the worker is woken on commit).
    assert mine.state == Message.State.PENDING and mine.attempts == 0 and not mine.last_error
    entry = mine.history.get(what=MessageLog.What.RESENT)
    assert entry.by == nanqiao
    audit = LogEntry.objects.filter(object_pk=str(mine.pk), actor=nanqiao).get()
    assert "重新发送" in str(audit.changes)


def test_a_pending_message_is_cancelled(nanqiao_client, nanqiao, world):
    mine = world["mine"]
    _act(nanqiao_client, "cancel_pending", mine)
    mine.refresh_from_db()
    assert mine.state == Message.State.CANCELLED and mine.last_error == "工作人员取消"
    assert mine.history.get().by == nanqiao


def test_actions_on_another_towns_message_do_nothing(xidu_client, world):
    mine = world["mine"]
    _act(xidu_client, "cancel_pending", mine)
    mine.refresh_from_db()
    assert mine.state == Message.State.PENDING


def test_the_outbox_is_read_only(district_client, world):
    mine = world["mine"]
    assert district_client.get(reverse("admin:couriers_message_add")).status_code == 403
    page = district_client.get(change(mine)).content.decode()
    assert 'name="_save"' not in page and 'id="message-cancel"' in page
    district_client.post(change(mine), {"state": "sent"})
    mine.refresh_from_db()
    assert mine.state == Message.State.PENDING


def test_the_list_keeps_its_query_count(
    district_client, world, django_assert_max_num_queries, nanqiao_town
):
    for n in range(10):
        courier = factories.courier(nanqiao_town, name=f"小哥{n}", phone=f"1390000{n:04d}")
        notify(courier, "checkin_welcome", {"link": "/me/"}, event="welcome")
    with django_assert_max_num_queries(20):
        assert district_client.get(LIST).status_code == 200


def test_the_dashboard_counts_this_months_messages_and_cost_by_town(
    nanqiao, district, world, sms_outbox, settings
):
    from django.utils import timezone

    from couriers.figures import Scope
    from couriers.messaging import dashboard, sending

    settings.SMS_COST_PER_SEGMENT = 0.05
    sending.send_due()
    Message.objects.filter(pk=world["other"].pk).update(state=Message.State.FAILED, segments=0)
    ours = dashboard.section(Scope.for_user(nanqiao, timezone.localdate()))
    figures = dict(ours.figures)
    assert figures["本月已发送"].value == 1 and figures["本月发送失败"].value == 0
    assert figures["本月短信费用（元，估算）"].value == "0.05"
    assert [label for label, _ in ours.tables[0].rows] == ["南桥镇"]
    everyone = dict(dashboard.section(Scope.for_user(district, timezone.localdate())).figures)
    assert everyone["本月已发送"].value == 1 and everyone["本月发送失败"].value == 1


def test_the_demo_outbox_has_messages_in_every_state(nanqiao_town, district_client):
    from couriers.messaging import demo

    for n in range(12):
        factories.courier(nanqiao_town, name=f"演示{n}", phone=f"1380000{n:04d}")
    demo.load()
    assert set(Message.objects.values_list("state", flat=True)) == set(Message.State.values)
    assert not Message.objects.filter(history__isnull=True).exists()
    assert demo.load() == {"短信": Message.objects.count()}  # loaded once
    assert district_client.get(LIST).status_code == 200
