"""The providers' callbacks: delivery receipts move messages to 已送达 or 失败, a 退订 reply stops
everything but codes, behind a secret address, and the answer never tells whether a number is
a courier's."""

from __future__ import annotations

import json

import pytest
from django.urls import resolve
from django.utils import timezone

from couriers.messaging import callbacks
from couriers.messaging.notify import notify
from couriers.models import Message, MessagePreference
from tests import factories

pytestmark = pytest.mark.django_db

TOKEN = "cb-7f3a9c2e51d84b6f"


@pytest.fixture(autouse=True)
def token(settings):
    settings.SMS_CALLBACK_TOKEN = TOKEN


@pytest.fixture
def courier():
    return factories.courier(factories.town("南桥镇"))


def post(client, provider: str, kind: str, payload, token: str = TOKEN):
    return client.post(
        f"/sms/callback/{provider}/{kind}/{token}/",
        data=payload if isinstance(payload, bytes) else json.dumps(payload),
        content_type="application/json",
    )


def sent(courier, provider: str, provider_id: str) -> Message:
    return Message.objects.create(
        courier=courier,
        template="checkin_welcome",
        params={"link": "https://portal.example/me/"},
        event="welcome",
        occasion=provider_id,
        state=Message.State.SENT,
        provider=provider,
        provider_message_id=provider_id,
        sent_at=timezone.now(),
    )


def stopped(courier) -> bool:
    preference = MessagePreference.objects.filter(courier=courier).first()
    return preference is not None and preference.stopped_at is not None


# --- the address --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["report", "reply"])
@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_a_wrong_token_finds_nothing(client, courier, provider, kind):
    response = post(
        client, provider, kind, [{"phone_number": courier.phone, "content": "TD"}], "guess"
    )
    assert response.status_code == 404
    assert not stopped(courier)


def test_without_a_configured_token_the_callbacks_are_off(client, courier, settings):
    settings.SMS_CALLBACK_TOKEN = ""
    response = post(
        client, "aliyun", "reply", [{"phone_number": courier.phone, "content": "TD"}], ""
    )
    assert response.status_code == 404
    assert not stopped(courier)


def test_only_posts_are_taken(client):
    assert client.get(f"/sms/callback/aliyun/report/{TOKEN}/").status_code == 405


def test_a_provider_posts_without_a_csrf_token(courier):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = post(strict, "tencent", "reply", {"mobile": courier.phone, "text": "TD"})
    assert response.status_code == 200
    assert stopped(courier)


def test_callbacks_are_rate_limited_like_other_public_posts(client, monkeypatch):
    view = resolve(f"/sms/callback/aliyun/report/{TOKEN}/").func
    assert view.rate_limits == {"device": (600, 600), "address": (600, 600)}
    monkeypatch.setattr(view, "rate_limits", {"address": (2, 600)})
    answers = [post(client, "aliyun", "report", []).status_code for _ in range(3)]
    assert answers == [200, 200, 429]


def test_a_body_that_is_not_the_documented_json_is_refused(client):
    assert post(client, "aliyun", "report", b"phone=1").status_code == 400
    assert post(client, "tencent", "report", {"mobile": 1, "nested": [1]}).status_code == 200
    assert post(client, "tencent", "report", [1, 2]).status_code == 400


# --- receipts -----------------------------------------------------------------------------------


def test_aliyun_receipts_mark_messages_delivered_or_failed(client, courier):
    delivered = sent(courier, "aliyun", "900619746936498440^0")
    undelivered = sent(courier, "aliyun", "900619746936498441^0")
    other_provider = sent(courier, "tencent", "900619746936498442^0")
    receipts = [
        {
            "phone_number": courier.phone,
            "send_time": "2026-12-01 10:00:00",
            "report_time": "2026-12-01 10:00:08",
            "success": True,
            "err_code": "DELIVERED",
            "err_msg": "用户接收成功",
            "sms_size": "1",
            "biz_id": delivered.provider_message_id,
            "out_id": "",
        },
        {
            "phone_number": courier.phone,
            "send_time": "2026-12-01 10:00:00",
            "report_time": "2026-12-01 10:00:09",
            "success": False,
            "err_code": "MK:0001",
            "err_msg": "关机",
            "sms_size": "1",
            "biz_id": undelivered.provider_message_id,
            "out_id": "",
        },
        {"biz_id": other_provider.provider_message_id, "success": True},
    ]

    response = post(client, "aliyun", "report", receipts)

    assert response.status_code == 200 and response.json() == {"code": 0, "msg": "成功"}
    for message in (delivered, undelivered, other_provider):
        message.refresh_from_db()
    assert delivered.state == Message.State.DELIVERED
    assert delivered.delivered_at.isoformat() == "2026-12-01T02:00:08+00:00"
    assert undelivered.state == Message.State.FAILED and "关机" in undelivered.last_error
    assert other_provider.state == Message.State.SENT  # another provider's id: not ours


def test_a_receipt_posted_twice_changes_nothing_more(client, courier):
    message = sent(courier, "tencent", "2019:538884*********")
    receipt = [
        {
            "user_receive_time": "2026-12-01 10:03:04",
            "nationcode": "86",
            "mobile": courier.phone,
            "report_status": "SUCCESS",
            "errmsg": "DELIVRD",
            "description": "用户短信送达成功",
            "sid": message.provider_message_id,
        }
    ]
    assert post(client, "tencent", "report", receipt).json() == {"result": 0, "errmsg": "OK"}
    message.refresh_from_db()
    first = message.delivered_at
    assert message.state == Message.State.DELIVERED

    receipt[0] |= {"report_status": "FAIL", "user_receive_time": "2026-12-01 11:00:00"}
    post(client, "tencent", "report", receipt)
    message.refresh_from_db()
    assert message.state == Message.State.DELIVERED and message.delivered_at == first


# --- 退订 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["TD", "td", " T ", "N", "R", "退订", "请帮我退订，谢谢", "拒收"])
def test_an_aliyun_reply_that_means_stop_stops_all_but_codes(client, courier, text):
    reply = [
        {
            "phone_number": courier.phone,
            "send_time": "2026-12-01 10:00:00",
            "content": text,
            "sign_name": "奉贤快递小哥",
            "dest_code": "1234",
            "sequence_id": 1234567890,
        }
    ]
    assert post(client, "aliyun", "reply", reply).json() == {"code": 0, "msg": "成功"}
    assert stopped(courier)
    assert notify(courier, "checkin_welcome", {"link": "l"}, event="welcome") is None


@pytest.mark.parametrize("text", ["好的", "OK", "TDL", "收到，谢谢", "T恤什么时候发"])
def test_other_replies_change_nothing(client, courier, text):
    post(client, "aliyun", "reply", [{"phone_number": courier.phone, "content": text}])
    assert not stopped(courier)


def test_a_tencent_reply_stops_the_courier_with_that_number(client, courier):
    reply = {
        "extend": "",
        "mobile": courier.phone,
        "nationcode": "86",
        "sign": "奉贤快递小哥",
        "text": "TD",
        "time": 1764554400,
    }
    assert post(client, "tencent", "reply", reply).json() == {"result": 0, "errmsg": "OK"}
    assert stopped(courier)


def test_a_number_written_with_its_country_code_is_still_the_couriers(client, courier):
    post(client, "aliyun", "reply", [{"phone_number": f"86{courier.phone}", "content": "TD"}])
    assert stopped(courier)


def test_the_answer_is_the_same_whether_or_not_the_number_is_a_couriers(client, courier):
    known = post(client, "aliyun", "reply", [{"phone_number": courier.phone, "content": "TD"}])
    unknown = post(client, "aliyun", "reply", [{"phone_number": "13900009999", "content": "TD"}])
    assert (known.status_code, known.content) == (unknown.status_code, unknown.content)
    known = post(client, "tencent", "reply", {"mobile": courier.phone, "text": "TD"})
    unknown = post(client, "tencent", "reply", {"mobile": "13900009999", "text": "TD"})
    assert (known.status_code, known.content) == (unknown.status_code, unknown.content)


def test_a_foreign_number_is_never_taken_for_a_mainland_one(courier):
    assert callbacks.mobile(courier.phone, "852") == ""
    assert callbacks.mobile(f"+86{courier.phone}") == courier.phone
    assert callbacks.mobile("12345") == ""
