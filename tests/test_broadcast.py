"""Broadcasts (群发通知): one bulk insert into the outbox, the 「发送通知短信」 action on the
courier, sign-up and claim lists with its preview, town scoping of the posted ids, approval
of large broadcasts by district staff, one broadcast per confirm, and delivery figures."""

from __future__ import annotations

import re

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from activities.models import Claim, SignUp, VolunteerPost
from couriers.messaging import broadcasts
from couriers.messaging.bulk import notify_many
from couriers.models import Broadcast, Courier, Message, MessagePreference
from couriers.privacy.personal_data import anonymous_courier_fields
from stations.models import SixI
from tests import factories
from tests.test_admin_styles import INLINE_STYLE

pytestmark = pytest.mark.django_db

COMPOSE = "/admin/couriers/broadcast/compose/"
COURIERS = "/admin/couriers/courier/"


@pytest.fixture
def nanqiao_couriers(nanqiao_town):
    return [factories.courier(nanqiao_town, name=f"南桥小哥{n}") for n in range(4)]


def _ids(couriers) -> str:
    return ",".join(str(c.pk) for c in couriers)


def _messages(broadcast):
    return broadcasts.messages_of(broadcast)


def _open_compose(client, couriers, url=COURIERS):
    response = client.post(
        url, {"action": "send_notice", "_selected_action": [c.pk for c in couriers]}
    )
    assert response.status_code == 200
    return response


def _token(response) -> str:
    html = response.content.decode()
    return re.search(r'name="token" value="([0-9a-f-]+)"', html).group(1)


def _post(client, couriers, token, button, **fields):
    data = {"couriers": _ids(couriers), "token": token, "title": "高温预警"}
    data["content"] = "今天各骑乐融融站点提供防暑药品"
    data.update(fields)
    data[button] = "1"
    return client.post(COMPOSE, data)


# --- notify_many ----------------------------------------------------------------------------


def test_notify_many_writes_one_bulk_insert_leaving_out_erased_and_opted_out(
    nanqiao_town, nanqiao, django_capture_on_commit_callbacks
):
    couriers = [factories.courier(nanqiao_town) for _ in range(30)]
    erased, stopped, muted, other_kind = couriers[0], couriers[1], couriers[2], couriers[3]
    Courier.objects.filter(pk=erased.pk).update(**anonymous_courier_fields(erased))
    MessagePreference.objects.create(courier=stopped, stopped_at="2026-01-01T00:00Z")
    MessagePreference.objects.create(courier=muted, muted_kinds=["broadcast"])
    MessagePreference.objects.create(courier=other_kind, muted_kinds=["reminder"])
    about = Broadcast.objects.create(title="t", content="c", created_by=nanqiao)
    with django_capture_on_commit_callbacks() as woken:
        added = notify_many(
            Courier.objects.all(), "broadcast", {"title": "t", "content": "c"},
            event="broadcast", about=about,
        )  # fmt: skip
    assert added == 27
    assert len(woken) == 1  # the worker is woken once, not once per message
    told = set(Message.objects.values_list("courier_id", flat=True))
    assert told == {c.pk for c in couriers} - {erased.pk, stopped.pk, muted.pk}
    assert other_kind.pk in told
    assert Message.objects.filter(params={"title": "t", "content": "c"}).count() == 27


def test_notify_many_twice_queues_each_message_once(nanqiao_town, nanqiao):
    couriers = [factories.courier(nanqiao_town) for _ in range(5)]
    about = Broadcast.objects.create(title="t", content="c", created_by=nanqiao)
    args = ("broadcast", {"title": "t", "content": "c"})
    assert notify_many([c.pk for c in couriers[:3]], *args, event="b", about=about) == 3
    assert notify_many([c.pk for c in couriers], *args, event="b", about=about) == 2
    assert Message.objects.count() == 5


def test_notify_many_needs_no_query_per_courier(nanqiao_town, nanqiao):
    def queries_for(how_many: int) -> tuple[int, int]:
        """(queries other than INSERTs, INSERT statements)"""
        couriers = [factories.courier(nanqiao_town) for _ in range(how_many)]
        about = Broadcast.objects.create(title="t", content="c", created_by=nanqiao)
        with CaptureQueriesContext(connection) as captured:
            added = notify_many(
                [c.pk for c in couriers], "broadcast", {"title": "t", "content": "c"},
                event="b", about=about,
            )  # fmt: skip
        assert added == how_many
        inserts = sum(q["sql"].startswith("INSERT") for q in captured)
        return len(captured) - inserts, inserts

    few, many = queries_for(3), queries_for(150)
    assert few[0] == many[0] <= 6
    # Multi-row INSERTs: one on PostgreSQL; SQLite caps a statement at 999 parameters.
    assert few[1] == 1 and many[1] * 20 <= 150


# --- the action and its page ----------------------------------------------------------------


def test_the_action_opens_a_page_without_inline_styles(nanqiao_client, nanqiao_couriers):
    html = _open_compose(nanqiao_client, nanqiao_couriers[:3]).content.decode()
    assert "已选 3 位快递小哥" in html
    assert INLINE_STYLE.search(html) is None
    assert 'maxlength="35"' in html


def test_the_preview_shows_text_recipients_segments_and_cost(
    nanqiao_client, nanqiao_couriers, settings
):
    settings.SMS_COST_PER_SEGMENT = 0.05
    MessagePreference.objects.create(courier=nanqiao_couriers[0], muted_kinds=["broadcast"])
    token = _token(_open_compose(nanqiao_client, nanqiao_couriers))
    html = _post(nanqiao_client, nanqiao_couriers, token, "preview").content.decode()
    assert "【奉贤快递小哥】通知：高温预警，今天各骑乐融融站点提供防暑药品" in html
    assert "3 人（已排除 1 位退订通知或已注销的快递小哥）" in html
    assert "1 条（含签名" in html
    assert "0.150 元" in html
    assert 'name="confirm"' in html
    assert not Broadcast.objects.exists() and not Message.objects.exists()


def test_segments_follow_the_signature_length(nanqiao_couriers, settings):
    settings.SMS_SIGN_NAME = "奉贤区快递行业党建服务平台" * 3  # 39 characters
    shown = broadcasts.preview([c.pk for c in nanqiao_couriers], "高温预警", "今" * 35)
    assert len(shown.text) == 39 + 2 + 3 + 4 + 1 + 35  # 【sign】通知：title，content
    assert shown.segments == 2


def test_too_long_a_text_is_refused(nanqiao_client, nanqiao_couriers):
    token = _token(_open_compose(nanqiao_client, nanqiao_couriers))
    response = _post(nanqiao_client, nanqiao_couriers, token, "preview", content="长" * 36)
    assert "内容不能超过 35 个字" in response.content.decode()
    assert 'name="confirm"' not in response.content.decode()


def test_confirming_queues_one_message_each_and_the_worker_sends_them(
    nanqiao_client,
    nanqiao,
    nanqiao_couriers,
    sms_outbox,
    django_capture_on_commit_callbacks,
    settings,
):
    settings.SMS_QUIET_HOURS = ""  # a notice is not urgent: whatever the hour the test runs
    token = _token(_open_compose(nanqiao_client, nanqiao_couriers))
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(nanqiao_client, nanqiao_couriers, token, "confirm")
    broadcast = Broadcast.objects.get()
    assert response.url == reverse("admin:couriers_broadcast_change", args=[broadcast.pk])
    assert broadcast.town == nanqiao.staff_profile.town and broadcast.created_by == nanqiao
    assert broadcast.recipients == 4 and broadcast.audience == []
    assert _messages(broadcast).filter(state=Message.State.SENT).count() == 4
    assert {phone for phone, _ in sms_outbox} == {c.phone for c in nanqiao_couriers}
    assert sms_outbox[0][1] == "【奉贤快递小哥】通知：高温预警，今天各骑乐融融站点提供防暑药品"
    # Attributable: the broadcast's creation is in the audit log under its sender.
    entry = LogEntry.objects.get_for_object(broadcast).get(action=LogEntry.Action.CREATE)
    assert entry.actor == nanqiao


def test_the_change_page_shows_delivery_figures_and_completes(
    nanqiao_client, nanqiao_couriers, sms_outbox, django_capture_on_commit_callbacks
):
    token = _token(_open_compose(nanqiao_client, nanqiao_couriers))
    _post(nanqiao_client, nanqiao_couriers, token, "confirm")  # on commit never runs: pending
    broadcast = Broadcast.objects.get()
    url = reverse("admin:couriers_broadcast_change", args=[broadcast.pk])
    html = nanqiao_client.get(url).content.decode()
    assert "<li>待发送：4</li>" in html and "<li>已发送：0</li>" in html
    assert INLINE_STYLE.search(html) is None
    assert broadcast.state == Broadcast.State.SENDING
    messages = list(_messages(broadcast))
    Message.objects.filter(pk=messages[0].pk).update(state=Message.State.DELIVERED)
    Message.objects.filter(pk=messages[1].pk).update(state=Message.State.FAILED)
    Message.objects.filter(pk__in=[m.pk for m in messages[2:]]).update(state=Message.State.SENT)
    html = nanqiao_client.get(url).content.decode()
    for figure in ("待发送：0", "已发送：2", "已送达：1", "失败：1", "已取消：0"):
        assert f"<li>{figure}</li>" in html
    broadcast.refresh_from_db()
    assert broadcast.state == Broadcast.State.DONE


def test_a_double_submitted_confirm_creates_one_broadcast(nanqiao_client, nanqiao_couriers):
    token = _token(_open_compose(nanqiao_client, nanqiao_couriers))
    _post(nanqiao_client, nanqiao_couriers, token, "confirm")
    again = _post(nanqiao_client, nanqiao_couriers, token, "confirm")
    assert again.status_code == 302
    assert Broadcast.objects.count() == 1 and Message.objects.count() == 4


# --- town scoping ---------------------------------------------------------------------------


def test_another_towns_couriers_are_refused(nanqiao_client, nanqiao_couriers, xidu_town):
    theirs = factories.courier(xidu_town, name="西渡小哥")
    token = _token(_open_compose(nanqiao_client, nanqiao_couriers))
    for button in ("preview", "confirm"):
        response = _post(nanqiao_client, [*nanqiao_couriers, theirs], token, button)
        assert response.status_code == 403
        assert theirs.name not in response.content.decode()
    assert not Broadcast.objects.exists() and not Message.objects.exists()


def test_a_town_user_selects_only_their_couriers(xidu_client, nanqiao_couriers):
    # 南桥's ids posted to 西渡's courier list: the admin's queryset finds none of them.
    response = xidu_client.post(
        COURIERS, {"action": "send_notice", "_selected_action": [c.pk for c in nanqiao_couriers]}
    )
    assert response.status_code == 302 and not Broadcast.objects.exists()


def test_staff_without_the_permission_have_no_action(nanqiao_client, nanqiao, nanqiao_couriers):
    nanqiao.groups.clear()
    nanqiao.user_permissions.add(Permission.objects.get(codename="view_courier"))
    html = nanqiao_client.get(COURIERS).content.decode()
    assert "send_notice" not in html
    assert nanqiao_client.post(COMPOSE, {}).status_code == 403


def test_the_district_broadcast_and_a_towns_are_seen_by_their_own(
    district_client, nanqiao_client, xidu_client, district, nanqiao_couriers
):
    token = _token(_open_compose(district_client, nanqiao_couriers))
    _post(district_client, nanqiao_couriers, token, "confirm")
    broadcast = Broadcast.objects.get()
    assert broadcast.town is None and broadcast.scope_name == "全区"
    url = reverse("admin:couriers_broadcast_change", args=[broadcast.pk])
    assert nanqiao_client.get(url).status_code == 404  # a district broadcast
    token = _token(_open_compose(nanqiao_client, nanqiao_couriers))
    _post(nanqiao_client, nanqiao_couriers, token, "confirm")
    ours = Broadcast.objects.exclude(pk=broadcast.pk).get()
    url = reverse("admin:couriers_broadcast_change", args=[ours.pk])
    assert nanqiao_client.get(url).status_code == 200
    assert xidu_client.get(url).status_code == 404


# --- sign-up and claim lists ----------------------------------------------------------------


def test_the_sign_up_list_sends_to_its_couriers_of_the_users_town(
    nanqiao_client, nanqiao_town, xidu_town, nanqiao_couriers
):
    activity = factories.activity(nanqiao_town, capacity=10)
    visitor = factories.courier(xidu_town, name="西渡来的小哥")
    rows = [
        SignUp.objects.create(activity=activity, courier=c, status=SignUp.Status.CONFIRMED)
        for c in [*nanqiao_couriers[:2], visitor]
    ]
    response = _open_compose(nanqiao_client, rows, url="/admin/activities/signup/")
    html = response.content.decode()
    assert "已选 2 位快递小哥" in html and "另有 1 位不属于您负责的街镇" in html
    assert f'value="{_ids(nanqiao_couriers[:2])}"' in html


def test_the_claim_list_sends_to_its_couriers(nanqiao_client, nanqiao_town, nanqiao_couriers):
    post = VolunteerPost.objects.create(
        title="南桥值守", town=nanqiao_town, category=SixI.GOVERN, capacity=5
    )
    rows = [Claim.objects.create(post=post, courier=c) for c in nanqiao_couriers[1:3]]
    html = _open_compose(nanqiao_client, rows, url="/admin/activities/claim/").content.decode()
    assert f'value="{_ids(nanqiao_couriers[1:3])}"' in html


# --- approval -------------------------------------------------------------------------------


def test_a_large_town_broadcast_waits_for_district_approval(
    nanqiao_client, district_client, district, nanqiao_couriers, settings
):
    settings.SMS_BROADCAST_APPROVAL_OVER = 3
    token = _token(_open_compose(nanqiao_client, nanqiao_couriers))
    preview = _post(nanqiao_client, nanqiao_couriers, token, "preview").content.decode()
    assert "区级工作人员审批后才会发送" in preview
    _post(nanqiao_client, nanqiao_couriers, token, "confirm")
    broadcast = Broadcast.objects.get()
    assert broadcast.state == Broadcast.State.PENDING_APPROVAL
    assert not Message.objects.exists()
    assert len(broadcast.audience) == 4

    # The town user cannot approve their own: the action is not theirs.
    changelist = reverse("admin:couriers_broadcast_changelist")
    assert 'value="approve"' not in nanqiao_client.get(changelist).content.decode()
    assert 'value="approve"' in district_client.get(changelist).content.decode()
    nanqiao_client.post(changelist, {"action": "approve", "_selected_action": [broadcast.pk]})
    broadcast.refresh_from_db()
    assert broadcast.state == Broadcast.State.PENDING_APPROVAL and not Message.objects.exists()

    district_client.post(changelist, {"action": "approve", "_selected_action": [broadcast.pk]})
    broadcast.refresh_from_db()
    assert broadcast.state == Broadcast.State.SENDING and broadcast.approved_by == district
    assert _messages(broadcast).count() == 4
    # Approving again (a second click) writes nothing more.
    district_client.post(changelist, {"action": "approve", "_selected_action": [broadcast.pk]})
    assert Message.objects.count() == 4


def test_a_rejected_broadcast_sends_nothing(
    nanqiao_client, district_client, nanqiao_couriers, settings
):
    settings.SMS_BROADCAST_APPROVAL_OVER = 1
    token = _token(_open_compose(nanqiao_client, nanqiao_couriers))
    _post(nanqiao_client, nanqiao_couriers, token, "confirm")
    broadcast = Broadcast.objects.get()
    changelist = reverse("admin:couriers_broadcast_changelist")
    district_client.post(changelist, {"action": "reject", "_selected_action": [broadcast.pk]})
    district_client.post(changelist, {"action": "approve", "_selected_action": [broadcast.pk]})
    broadcast.refresh_from_db()
    assert broadcast.state == Broadcast.State.REJECTED and not Message.objects.exists()


def test_district_staff_send_a_large_broadcast_at_once(
    district_client, district, nanqiao_couriers, settings
):
    settings.SMS_BROADCAST_APPROVAL_OVER = 1
    token = _token(_open_compose(district_client, nanqiao_couriers))
    _post(district_client, nanqiao_couriers, token, "confirm")
    broadcast = Broadcast.objects.get()
    assert broadcast.state == Broadcast.State.SENDING and broadcast.approved_by == district


def test_a_broadcasts_messages_point_at_it(nanqiao_client, nanqiao_couriers):
    token = _token(_open_compose(nanqiao_client, nanqiao_couriers))
    _post(nanqiao_client, nanqiao_couriers, token, "confirm")
    broadcast = Broadcast.objects.get()
    kind = ContentType.objects.get_for_model(Broadcast)
    assert set(Message.objects.values_list("about_type", "about_id")) == {(kind.pk, broadcast.pk)}
