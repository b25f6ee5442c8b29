"""The outbox's core promise: a message is a row written with the change that causes it, once
per (event, record, recipient, occasion), and the worker sends what is due."""

import pytest
from django.db import transaction

from couriers.messaging import sending
from couriers.messaging.backends import PermanentError, TemporaryError
from couriers.messaging.notify import notify
from couriers.models import Message
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def courier():
    return factories.courier(factories.town("南桥镇"))


def test_a_message_rolls_back_with_the_change(courier):
    with pytest.raises(RuntimeError), transaction.atomic():
        notify(courier, "points_adjusted", {"change": "+5", "reason": "补录"}, event="e")
        raise RuntimeError
    assert not Message.objects.exists()


def test_the_same_why_is_queued_once(courier):
    first = notify(courier, "points_adjusted", {"change": "+5"}, event="e", about=courier)
    again = notify(courier, "points_adjusted", {"change": "+5"}, event="e", about=courier)
    other = notify(courier, "points_adjusted", {"change": "+5"}, event="e", occasion="2")
    assert first.pk == again.pk != other.pk
    assert Message.objects.count() == 2
    assert first.params == {"change": "+5", "reason": ""}


def test_the_worker_sends_on_commit(
    courier, sms_outbox, django_capture_on_commit_callbacks, settings
):
    settings.PUBLIC_BASE_URL = "https://x.example"
    with django_capture_on_commit_callbacks(execute=True):
        notify(courier, "checkin_welcome", {"link": "https://x.example/me/"}, event="welcome")
    message = Message.objects.get()
    assert message.state == Message.State.SENT and message.attempts == 1
    assert sms_outbox == [
        (
            courier.phone,
            "【奉贤快递小哥】欢迎您报到！积分、活动和消息都在“我的”：https://x.example/me/",
        )
    ]


def test_an_erased_courier_is_not_told(courier):
    courier.phone = "X0000000001"
    assert notify(courier, "checkin_welcome", {"link": "l"}, event="welcome") is None


@pytest.mark.parametrize(
    ("problem", "state", "retried"),
    [
        (TemporaryError("超时"), Message.State.PENDING, True),
        (PermanentError("号码错误"), Message.State.FAILED, False),
    ],
)
def test_failures(courier, monkeypatch, problem, state, retried):
    notify(courier, "checkin_welcome", {"link": "l"}, event="welcome")

    def fail(self, phone, template, params):
        raise problem

    monkeypatch.setattr(sending.backend().__class__, "send_template", fail)
    assert sending.send_due() == 1
    message = Message.objects.get()
    assert message.state == state and message.last_error == str(problem)
    assert (message.send_after > message.created_at) is retried


def test_a_courier_who_muted_a_kind_is_not_told(courier):
    from couriers.messaging.preferences import stop_all
    from couriers.models import MessagePreference

    MessagePreference.objects.create(courier=courier, muted_kinds=["welcome"])
    assert notify(courier, "checkin_welcome", {"link": "l"}, event="welcome") is None
    assert notify(courier, "points_adjusted", {"change": "1"}, event="p") is not None
    from couriers.messaging.preferences import refusing

    assert refusing("welcome") == {courier.pk} and refusing("points") == set()
    assert stop_all(courier.phone)
    assert refusing("points") == {courier.pk} and refusing("code") == set()
    assert notify(courier, "points_adjusted", {"change": "1"}, event="p", occasion="2") is None
    assert notify(courier, "login_code", {"code": "123456"}, event="code") is not None


def test_segments():
    from couriers.messaging.templates import segments

    assert segments("字" * 64, "奉贤快递小哥") == 2  # 64 + 6 + 【】 = 72 > 70
    assert segments("字" * 62, "奉贤快递小哥") == 1
    assert segments("字" * 63, "奉贤快递小哥") == 2
