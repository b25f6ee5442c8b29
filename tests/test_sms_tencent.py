"""Tencent Cloud SMS through its real SDK, against a local server that checks the request as
Tencent documents it (TC3-HMAC-SHA256 over the body, X-TC-Action, X-TC-Version, the body's
fields) and answers with Tencent's documented bodies — including a call that succeeds while
the number's SendStatus says it was not sent."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from couriers.messaging import delivery, sending, templates
from couriers.messaging.backends import TemporaryError
from couriers.messaging.providers.mapping import CHINA, HOUR
from couriers.models import Message
from tests import factories
from tests.sms_fakes import TENCENT_CODES, Answer, TencentFake, use_tencent
from tests.sms_messages import queue_message, send

pytestmark = pytest.mark.django_db

REMINDER = {"activity": "消防培训", "time": "14:00", "place": "南桥驿站"}


@pytest.fixture
def fake(settings):
    with TencentFake() as fake:
        use_tencent(settings, fake)
        yield fake


@pytest.fixture
def courier():
    return factories.courier(factories.town("南桥镇"))


def queued(courier, template="activity_reminder", params=None) -> Message:
    return queue_message(courier, template, REMINDER if params is None else params)


def test_a_message_goes_out_signed_with_positional_parameters_to_a_plus86_number(fake, courier):
    message = send(queued(courier))

    assert message.state == Message.State.SENT and message.provider == "tencent"
    (request,) = fake.seen
    assert request.signature_ok and not fake.refused
    assert request.action == "SendSms"
    assert request.headers["x-tc-version"] == "2021-01-11"
    assert request.headers["x-tc-region"] == "ap-guangzhou"
    assert request.params["PhoneNumberSet"] == [f"+86{courier.phone}"]
    assert request.params["SmsSdkAppId"] == "1400100001"
    assert request.params["SignName"] == "奉贤快递小哥"
    assert request.params["TemplateId"] == TENCENT_CODES["activity_reminder"]
    # In the order of Template.params: the registered text numbers them {1}, {2}, {3}.
    assert request.params["TemplateParamSet"] == ["消防培训", "14:00", "南桥驿站"]
    assert message.provider_message_id.startswith("5000:")  # the number's SerialNo


def test_a_request_signed_with_another_key_is_refused_and_not_retried(fake, courier, settings):
    settings.TENCENTCLOUD_SECRET_KEY = "not-the-key-tencent-knows"
    message = send(queued(courier))

    assert fake.refused == ["signature does not match"]
    assert message.state == Message.State.FAILED
    assert "AuthFailure.SignatureFailure" in message.last_error


@pytest.mark.parametrize(
    ("code", "said", "state"),
    [
        (
            "LimitExceeded.PhoneNumberDailyLimit",
            "the number of sms messages sent from a single mobile number every day exceeds "
            "the upper limit",
            Message.State.PENDING,
        ),
        (
            "LimitExceeded.PhoneNumberThirtySecondLimit",
            "the number of sms messages sent from a single mobile number within 30 seconds "
            "exceeds the upper limit",
            Message.State.PENDING,
        ),
        ("LimitExceeded.PhoneNumberOneHourLimit", "1 hour limit", Message.State.PENDING),
        ("LimitExceeded.AppDailyLimit", "app daily limit", Message.State.PENDING),
        ("InternalError.Timeout", "send sms timeout", Message.State.PENDING),
        (
            "FailedOperation.TemplateIncorrectOrUnapproved",
            "template is not approved or request content does not match the approved "
            "template content",
            Message.State.FAILED,
        ),
        ("InvalidParameterValue.IncorrectPhoneNumber", "incorrect number format", "failed"),
        ("FailedOperation.PhoneNumberInBlacklist", "phone number in blacklist", "failed"),
        (
            "InvalidParameterValue.TemplateParameterLengthLimit",
            "single variable of template exceeds limit",
            Message.State.FAILED,
        ),
        ("FailedOperation.ContainSensitiveWord", "content contains sensitive word", "failed"),
    ],
)
def test_a_numbers_send_status_is_retried_or_given_up_as_tencent_means_it(
    fake, courier, code, said, state
):
    fake.refuse_number(code, said)  # the call succeeds; the number was not sent
    message = send(queued(courier))

    assert message.state == state
    assert code in message.last_error
    assert (message.send_after > message.created_at) is (state == Message.State.PENDING)


@pytest.mark.parametrize(
    ("code", "state"),
    [
        ("InternalError.OtherError", Message.State.PENDING),
        ("RequestLimitExceeded", Message.State.PENDING),
        ("AuthFailure.SecretIdNotFound", Message.State.FAILED),
        ("UnauthorizedOperation.SmsSdkAppIdVerifyFail", Message.State.FAILED),
        ("MissingParameter.EmptyPhoneNumberSet", Message.State.FAILED),
    ],
)
def test_a_call_tencent_refuses_is_retried_or_given_up(fake, courier, code, state):
    fake.fail(code, "documented message")
    message = send(queued(courier))
    assert message.state == state and code in message.last_error


def _temporary(fake, courier, code) -> TemporaryError:
    fake.refuse_number(code, "limit")
    with pytest.raises(TemporaryError) as caught:
        sending.backend().send_template(courier.phone, templates.get("activity_reminder"), REMINDER)
    return caught.value


def test_daily_limits_wait_for_tomorrow_an_hourly_one_an_hour(fake, courier):
    tomorrow = timezone.now().astimezone(CHINA).date() + datetime.timedelta(days=1)
    for code in ("LimitExceeded.PhoneNumberDailyLimit", "LimitExceeded.AppDailyLimit"):
        problem = _temporary(fake, courier, code)
        assert (timezone.now() + problem.retry_after).astimezone(CHINA).date() == tomorrow
    assert _temporary(fake, courier, "LimitExceeded.PhoneNumberOneHourLimit").retry_after == HOUR
    thirty = _temporary(fake, courier, "LimitExceeded.PhoneNumberThirtySecondLimit")
    assert thirty.retry_after is None  # the outbox's first backoff is longer than 30 s


def test_a_5xx_is_retried(fake, courier):
    fake.answers.append(
        Answer("<html>502 Bad Gateway</html>", status=502, content_type="text/html")
    )
    message = send(queued(courier))
    assert message.state == Message.State.PENDING and message.attempts == 1


def test_a_provider_slower_than_the_timeout_is_retried(fake, courier, settings):
    settings.SMS_PROVIDER_TIMEOUT = 0.3
    fake.answers.append(Answer({"Response": {"SendStatusSet": []}}, delay=5))
    message = send(queued(courier))
    assert message.state == Message.State.PENDING
    assert "ClientNetworkError" in message.last_error


def test_a_template_without_a_code_fails_with_the_reason_and_asks_nothing(fake, courier, settings):
    settings.SMS_TEMPLATE_CODES = {}
    message = send(queued(courier))
    assert message.state == Message.State.FAILED and "SMS_TEMPLATE_CODES" in message.last_error
    assert fake.seen == []


def test_parameters_are_shortened_to_the_accounts_limit(fake, courier, settings):
    settings.SMS_TENCENT_PARAM_MAX = 6
    send(queued(courier, params={**REMINDER, "activity": "安全骑行培训班结业式", "place": "A-12"}))
    assert fake.seen[0].params["TemplateParamSet"] == ["安全骑行培…", "14:00", "A-12"]

    settings.SMS_TENCENT_PARAM_MAX = 0  # an account without a per-variable limit
    send(queued(courier, params={**REMINDER, "activity": "安全骑行培训班结业式"}))
    assert fake.seen[1].params["TemplateParamSet"][0] == "安全骑行培训班结业式"


def test_pulled_status_reports_are_recorded(fake, courier):
    delivered, undelivered = send(queued(courier)), send(queued(courier))
    fake.reports = [
        {
            "UserReceiveTime": 1764554405,
            "CountryCode": "86",
            "SubscriberNumber": courier.phone,
            "PhoneNumber": f"+86{courier.phone}",
            "SerialNo": delivered.provider_message_id,
            "ReportStatus": "SUCCESS",
            "Description": "用户短信送达成功",
            "SessionContext": "",
        },
        {
            "UserReceiveTime": 1764554406,
            "CountryCode": "86",
            "SubscriberNumber": courier.phone,
            "PhoneNumber": f"+86{courier.phone}",
            "SerialNo": undelivered.provider_message_id,
            "ReportStatus": "FAIL",
            "Description": "关机/停机/无法接通手机/不在服务区",
            "SessionContext": "",
        },
    ]

    assert delivery.poll() == 2
    delivered.refresh_from_db()
    undelivered.refresh_from_db()
    assert delivered.state == Message.State.DELIVERED
    assert delivered.delivered_at == datetime.datetime.fromtimestamp(1764554405, tz=CHINA)
    assert undelivered.state == Message.State.FAILED and "关机" in undelivered.last_error
    pull = fake.seen[-1]
    assert pull.action == "PullSmsSendStatus" and pull.signature_ok
    assert pull.params["SmsSdkAppId"] == "1400100001"


def test_api_flow_control_is_retried(settings, courier):
    with TencentFake(qps=0) as fake:  # every request past the (zero) rate is throttled
        use_tencent(settings, fake)
        message = send(queued(courier))
    assert fake.throttled == 1
    assert message.state == Message.State.PENDING and "RequestLimitExceeded" in message.last_error


def test_a_one_time_code_is_never_shortened(fake, settings):
    settings.SMS_TENCENT_PARAM_MAX = 4
    message = Message.objects.create(
        phone="13900001111", template="login_code", params={"code": "402915"}, event="otp"
    )
    assert send(message).state == Message.State.SENT
    assert fake.seen[0].params["TemplateParamSet"] == ["402915"]
