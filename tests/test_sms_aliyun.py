"""Aliyun SMS through its real SDK, against a local server that checks the request as Aliyun
documents it (V3 signature, action, version, parameters) and answers with Aliyun's documented
bodies: each error is mapped to retry or give up as Aliyun's error list says."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from couriers.messaging import delivery, sending, templates
from couriers.messaging.backends import PermanentError, TemporaryError
from couriers.messaging.providers.mapping import CHINA, HOUR
from couriers.models import Message
from tests import factories
from tests.sms_fakes import ALIYUN_CODES, AliyunFake, Answer, use_aliyun
from tests.sms_messages import queue_message, send

pytestmark = pytest.mark.django_db

REMINDER = {"activity": "消防安全培训", "time": "12月3日 14:00", "place": "南桥驿站"}


@pytest.fixture
def fake(settings):
    with AliyunFake() as fake:
        use_aliyun(settings, fake)
        yield fake


@pytest.fixture
def courier():
    return factories.courier(factories.town("南桥镇"))


def queued(courier, template="activity_reminder", params=None) -> Message:
    return queue_message(courier, template, REMINDER if params is None else params)


def test_a_message_goes_out_signed_with_its_template_code_and_parameters(fake, courier):
    message = send(queued(courier))

    assert message.state == Message.State.SENT and message.provider == "aliyun"
    (request,) = fake.seen
    assert request.signature_ok and not fake.refused
    assert request.action == "SendSms"
    assert request.headers["x-acs-version"] == "2017-05-25"
    assert request.params["PhoneNumbers"] == courier.phone
    assert request.params["SignName"] == "奉贤快递小哥"
    assert request.params["TemplateCode"] == ALIYUN_CODES["activity_reminder"]
    assert json.loads(request.params["TemplateParam"]) == REMINDER
    assert message.provider_message_id == "104102^0"  # the BizId Aliyun answered


def test_a_one_time_code_goes_to_the_phone_it_was_asked_for(fake):
    message = Message.objects.create(
        phone="13900001111", template="login_code", params={"code": "402915"}, event="otp"
    )
    assert send(message).state == Message.State.SENT
    assert fake.seen[0].params["PhoneNumbers"] == "13900001111"
    assert json.loads(fake.seen[0].params["TemplateParam"]) == {"code": "402915"}


def test_a_request_signed_with_another_secret_is_refused_and_not_retried(fake, courier, settings):
    settings.ALIBABA_CLOUD_ACCESS_KEY_SECRET = "not-the-secret-aliyun-knows"
    message = send(queued(courier))

    assert fake.refused == ["signature does not match"]
    assert message.state == Message.State.FAILED
    assert "SignatureDoesNotMatch" in message.last_error


@pytest.mark.parametrize(
    ("code", "said", "state"),
    [
        ("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1", Message.State.PENDING),
        ("isv.BUSINESS_LIMIT_CONTROL", "触发天级流控Permits:10", Message.State.PENDING),
        ("isv.DAY_LIMIT_CONTROL", "触发日发送限额", Message.State.PENDING),
        ("isp.SYSTEM_ERROR", "系统错误", Message.State.PENDING),
        ("isv.OUT_OF_SERVICE", "业务停机", Message.State.PENDING),
        ("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号", Message.State.FAILED),
        ("isv.BLACK_KEY_CONTROL_LIMIT", "黑名单管控", Message.State.FAILED),
        ("isv.SMS_TEMPLATE_ILLEGAL", "模板不合法(不存在或被拉黑)", Message.State.FAILED),
        ("isv.SMS_SIGNATURE_ILLEGAL", "签名不合法(不存在或被拉黑)", Message.State.FAILED),
        ("isv.TEMPLATE_MISSING_PARAMETERS", "模板变量缺少对应参数值", Message.State.FAILED),
        ("isv.PARAM_LENGTH_LIMIT", "参数超出长度限制", Message.State.FAILED),
        ("isv.PARAM_NOT_SUPPORT_URL", "不支持URL", Message.State.FAILED),
        ("isv.MONTH_LIMIT_CONTROL", "触发月发送限额", Message.State.FAILED),
        ("isv.SOMETHING_NEW", "未知的请求错误", Message.State.FAILED),
    ],
)
def test_each_error_is_retried_or_given_up_as_aliyun_means_it(fake, courier, code, said, state):
    fake.fail(code, said)
    message = send(queued(courier))

    assert message.state == state
    assert code in message.last_error
    assert (message.send_after > message.created_at) is (state == Message.State.PENDING)


def _temporary(fake, courier, code, said) -> TemporaryError:
    fake.fail(code, said)
    with pytest.raises(TemporaryError) as caught:
        sending.backend().send_template(courier.phone, templates.get("activity_reminder"), REMINDER)
    return caught.value


def test_a_daily_limit_is_not_worth_trying_again_before_tomorrow(fake, courier):
    tomorrow = timezone.now().astimezone(CHINA).date() + datetime.timedelta(days=1)
    for code, said in [
        ("isv.BUSINESS_LIMIT_CONTROL", "触发天级流控Permits:10"),
        ("isv.DAY_LIMIT_CONTROL", "触发日发送限额"),
    ]:
        problem = _temporary(fake, courier, code, said)
        assert (timezone.now() + problem.retry_after).astimezone(CHINA).date() == tomorrow


def test_an_hourly_limit_waits_an_hour_and_a_minute_limit_the_usual_backoff(fake, courier):
    hourly = _temporary(fake, courier, "isv.BUSINESS_LIMIT_CONTROL", "触发小时级流控Permits:5")
    minute = _temporary(fake, courier, "isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1")
    assert hourly.retry_after == HOUR and "小时级" in str(hourly)
    assert minute.retry_after is None


@pytest.mark.parametrize(
    "answer",
    [
        Answer(
            {
                "Code": "ServiceUnavailable",
                "Message": "The request has failed due to a temporary failure of the server.",
                "RequestId": "x",
            },
            status=503,
        ),
        Answer("<html><body>502 Bad Gateway</body></html>", status=502, content_type="text/html"),
    ],
)
def test_a_5xx_is_retried(fake, courier, answer):
    fake.answers.append(answer)
    message = send(queued(courier))
    assert message.state == Message.State.PENDING and message.attempts == 1


def test_a_provider_slower_than_the_timeout_is_retried(fake, courier, settings):
    settings.SMS_PROVIDER_TIMEOUT = 0.3
    fake.answers.append(Answer({"Code": "OK", "BizId": "late"}, delay=5))
    message = send(queued(courier))
    assert message.state == Message.State.PENDING
    assert "连接失败" in message.last_error


def test_a_provider_that_is_down_is_retried(settings, courier):
    with AliyunFake() as fake:
        use_aliyun(settings, fake)
    # The server is gone: nothing listens on its port any more.
    message = send(queued(courier))
    assert message.state == Message.State.PENDING


def test_a_template_without_a_code_fails_with_the_reason_and_asks_nothing(fake, courier, settings):
    settings.SMS_TEMPLATE_CODES = {"login_code": "SMS_1"}
    message = send(queued(courier))
    assert message.state == Message.State.FAILED
    assert "活动提醒" in message.last_error and "SMS_TEMPLATE_CODES" in message.last_error
    assert fake.seen == []


def test_a_parameter_longer_than_35_characters_is_shortened_not_refused(fake, courier):
    long_name = (
        "奉贤区快递小哥新业态新就业群体安全骑行与消防安全知识专题培训暨南桥镇第三期学习交流会"
    )
    message = send(queued(courier, params={**REMINDER, "activity": long_name}))

    sent = json.loads(fake.seen[0].params["TemplateParam"])
    assert message.state == Message.State.SENT
    assert len(sent["activity"]) <= 35 and sent["activity"].endswith("…")
    assert long_name.startswith(sent["activity"][:-1])
    assert sent["time"] == REMINDER["time"]


def test_delivery_reports_are_asked_for_and_recorded(fake, courier):
    delivered, undelivered = send(queued(courier)), send(queued(courier))
    fake.details[undelivered.provider_message_id].update(SendStatus=2, ErrCode="MK:0001")

    assert delivery.poll() == 2
    delivered.refresh_from_db()
    undelivered.refresh_from_db()
    assert delivered.state == Message.State.DELIVERED
    assert delivered.delivered_at == datetime.datetime(2026, 12, 1, 10, 0, 5, tzinfo=CHINA)
    assert undelivered.state == Message.State.FAILED and "MK:0001" in undelivered.last_error
    queries = [seen for seen in fake.seen if seen.action == "QuerySendDetails"]
    assert all(seen.signature_ok for seen in queries)
    assert queries[0].params["BizId"] == delivered.provider_message_id
    assert queries[0].params["PhoneNumber"] == courier.phone
    assert queries[0].params["SendDate"] == delivered.sent_at.astimezone(CHINA).strftime("%Y%m%d")


def test_a_message_still_waiting_for_its_receipt_stays_sent(fake, courier):
    message = send(queued(courier))
    fake.details[message.provider_message_id].update(SendStatus=1, ErrCode="")
    assert delivery.poll() == 0
    message.refresh_from_db()
    assert message.state == Message.State.SENT


def test_the_backend_error_types_are_the_outbox_ones(fake, courier):
    fake.fail("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
    with pytest.raises(PermanentError, match="手机号码格式错误"):
        sending.backend().send_template("1", templates.get("login_code"), {"code": "1"})


# --- production settings ---------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "False",
    "SECRET_KEY": "k" * 20 + "-not-a-real-secret-but-long-enough-for-the-check-0123456789",
    "ALLOWED_HOSTS": "portal.example",
    "PUBLIC_BASE_URL": "https://portal.example",
    "SMS_BACKEND": "couriers.messaging.providers.aliyun.AliyunBackend",
}


def _check(**env: str) -> subprocess.CompletedProcess:
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SMS_", "ALIBABA_", "TENCENTCLOUD_"))
        and k not in {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    environment.update(PRODUCTION, **env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_aliyun_without_its_keys_and_signature():
    result = _check(ALIBABA_CLOUD_ACCESS_KEY_ID="LTAI5t")
    assert result.returncode != 0
    assert "ALIBABA_CLOUD_ACCESS_KEY_SECRET" in result.stderr
    assert "SMS_SIGN_NAME" in result.stderr


def test_production_on_aliyun_warns_of_templates_without_a_code_then_passes():
    keys = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAI5t",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "secret",
        "SMS_SIGN_NAME": "奉贤快递小哥",
    }
    partial = _check(**keys, SMS_TEMPLATE_CODES=json.dumps({"login_code": "SMS_1"}))
    assert partial.returncode != 0
    assert "couriers.W901" in partial.stderr and "activity_reminder" in partial.stderr
    assert "login_code" not in partial.stderr.split("：", 1)[1].split("。")[0]

    complete = _check(**keys, SMS_TEMPLATE_CODES=json.dumps(ALIYUN_CODES))
    assert complete.returncode == 0, complete.stderr


def test_api_flow_control_is_retried(settings, courier):
    with AliyunFake(qps=0) as fake:  # every request past the (zero) rate is throttled
        use_aliyun(settings, fake)
        message = send(queued(courier))
    assert fake.throttled == 1
    assert message.state == Message.State.PENDING and "Throttling.User" in message.last_error


def test_free_text_cannot_be_sent_through_a_provider(fake):
    with pytest.raises(PermanentError, match="只能发送已登记的模板"):
        sending.backend().send("13900001111", "【奉贤快递小哥】随便写的一句话")
    assert fake.seen == []


def test_a_provider_that_cannot_answer_about_receipts_is_asked_again_later(fake, courier):
    message = send(queued(courier))
    fake.answers.append(Answer({"Code": "ServiceUnavailable", "Message": "…"}, status=503))
    assert delivery.poll() == 0
    message.refresh_from_db()
    assert message.state == Message.State.SENT
    assert delivery.poll() == 1  # next time it answers
