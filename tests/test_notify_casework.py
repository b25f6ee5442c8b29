"""Issue 17, casework and check-in: the result of a need raised on a visit to a courier is sent
to them when staff choose 通过短信告知 (which ticks 已告知), and a courier's check-in is welcomed
with the link to 「我的」."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from couriers.casework import workflow
from couriers.messaging import templates
from couriers.models import Message, MessagePreference, Need
from fengxian.links import public_url
from stations.models import CheckIn
from tests import factories
from tests.test_checkin import PHONE, check_in

pytestmark = pytest.mark.django_db

NEEDS = "/admin/couriers/need/"
Status = Need.Status


def text(message: Message) -> str:
    return "【奉贤快递小哥】" + templates.get(message.template).render(message.params)


@pytest.fixture
def courier(nanqiao_town):
    return factories.courier(nanqiao_town, name="王小明")


@pytest.fixture
def need(nanqiao, courier) -> Need:
    return factories.need(factories.visit(nanqiao, courier), description="希望增设歇脚点")


def _change(client: Client, need: Need, **changes):
    """The need's change form as staff submit it, with `changes` made."""
    form = client.get(f"{NEEDS}{need.pk}/change/").context["adminform"].form
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data.update(visit=need.visit_id, **changes)
    data = {k: v for k, v in data.items() if v not in ("", None, False)}
    return client.post(f"{NEEDS}{need.pk}/change/", data)


def test_ticking_inform_by_sms_sends_the_result_and_marks_informed(
    nanqiao_client, courier, need, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _change(
            nanqiao_client,
            need,
            status=Status.RESOLVED,
            resolution="已在解放东路设爱心驿站",
            inform_by_sms="on",
        )
    assert response.status_code == 302
    need.refresh_from_db()
    assert need.courier_informed and need.informed_on == datetime.date.today()
    message = Message.objects.get()
    assert (message.courier, message.template, message.event, message.about) == (
        courier,
        "need_resolved",
        "need_resolved",
        need,
    )
    assert message.params == {"need": "希望增设歇脚点", "result": "已在解放东路设爱心驿站"}
    assert sms_outbox == [(courier.phone, text(message))]
    _change(nanqiao_client, need, inform_by_sms="on")  # submitted again
    assert Message.objects.count() == 1


def test_ticking_only_informed_sends_nothing(nanqiao_client, need):
    # Staff told the courier themselves (a call, a visit): nothing is sent.
    _change(
        nanqiao_client, need, status=Status.RESOLVED, resolution="已解决", courier_informed="on"
    )
    need.refresh_from_db()
    assert need.courier_informed and not Message.objects.exists()


def test_an_open_need_cannot_be_sent(nanqiao_client, need):
    response = _change(nanqiao_client, need, inform_by_sms="on")
    assert response.status_code == 200 and "办结后才能短信告知" in response.content.decode()
    assert not Message.objects.exists()


def test_a_need_that_cannot_be_solved_sends_the_reason(nanqiao_client, need):
    _change(nanqiao_client, need, status=Status.UNRESOLVABLE, reason="选址无场地")
    assert not Message.objects.exists()  # closed, but staff did not choose to send it
    response = nanqiao_client.post(
        NEEDS, {"action": "send_results", "_selected_action": [need.pk]}, follow=True
    )
    assert "已短信告知 1 条" in response.content.decode()
    assert Message.objects.get().params["result"] == "未能解决，原因：选址无场地"
    nanqiao_client.post(NEEDS, {"action": "send_results", "_selected_action": [need.pk]})
    assert Message.objects.count() == 1  # already informed


def test_reopened_and_closed_with_another_result_is_sent_again(need):
    workflow.move(need, Status.RESOLVED, "方案一")
    assert workflow.inform_by_message(need)
    workflow.move(need, Status.IN_PROGRESS)
    workflow.move(need, Status.RESOLVED, "方案二")
    assert workflow.inform_by_message(need)
    assert [m.params["result"] for m in Message.objects.order_by("id")] == ["方案一", "方案二"]


def test_a_courier_who_refuses_casework_messages_stays_uninformed(courier, need):
    MessagePreference.objects.create(courier=courier, muted_kinds=[templates.Kind.CASEWORK])
    workflow.move(need, Status.RESOLVED, "已解决")
    assert workflow.inform_by_message(need) is False
    need.refresh_from_db()
    assert not need.courier_informed  # staff must tell them another way


def test_a_need_from_an_outlet_visit_has_nobody_to_text(nanqiao, nanqiao_town):
    outlet = factories.outlet(nanqiao_town)
    need = factories.need(factories.visit(nanqiao, outlet=outlet))
    workflow.move(need, Status.RESOLVED, "已解决")
    with pytest.raises(ValidationError):
        workflow.inform_by_message(need)


# --- the check-in welcome -----------------------------------------------------------------------


def test_a_check_in_is_welcomed_with_the_link_to_me(
    point,
    campaign,
    settings,
    sms_outbox,
    django_capture_on_commit_callbacks,
):
    settings.PUBLIC_BASE_URL = "https://xiaoge.fengxian.example"
    with django_capture_on_commit_callbacks(execute=True):
        check_in(Client(), point, sms_outbox)
    checkin = CheckIn.objects.get()
    message = Message.objects.get(event="checkin_welcome")
    assert (message.courier, message.template, message.about) == (
        checkin.courier,
        "checkin_welcome",
        checkin,
    )
    # The link is fixed in the template's text (providers refuse links in variables), and it
    # is the public address of 「我的」.
    assert message.params == {}
    assert sms_outbox[-1] == (PHONE, text(message))
    assert sms_outbox[-1][1].endswith("：" + public_url(reverse("me")))
    assert "https://xiaoge.fengxian.example/me/" in sms_outbox[-1][1]
    check_in(Client(), point, sms_outbox)  # the same courier again: already registered
    assert Message.objects.filter(event="checkin_welcome").count() == 1
