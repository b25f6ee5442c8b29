"""Aliyun SMS (短信服务, Dysmsapi 2017-05-25) through the official SDK.

SendSms with PhoneNumbers, SignName, TemplateCode and TemplateParam (a JSON object of the
template's named parameters); the answer's BizId is the message's provider id, by which
QuerySendDetails (or the receipt callback, `couriers.messaging.callbacks`) later tells whether
it reached the phone.

The SDK signs each request (ACS3-HMAC-SHA256 over the canonical request, the hashed body
included). Business errors come back as HTTP 200 with a Code other than "OK"; what each means
is Aliyun's 国内消息API错误码 list. Retrying helps with flow control and the platform's own
failures; a number, template or signature the provider refuses fails at once.
"""

from __future__ import annotations

import datetime
import json
import re

from alibabacloud_dysmsapi20170525 import models as sms_models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi import utils_models as openapi_models
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from darabonba.runtime import RuntimeOptions
from django.conf import settings

from couriers.messaging import params as message_params
from couriers.messaging.backends import (
    PermanentError,
    Receipt,
    SMSError,
    TemplateOnlyBackend,
    TemporaryError,
)
from couriers.messaging.providers.mapping import (
    CHINA,
    HOUR,
    described,
    template_code,
    until_tomorrow,
)
from couriers.messaging.templates import Template

PARAM_LIMIT = 35  # characters a variable of a notification template (变量长度 1~35 个字符)
TOTAL_LIMIT = 500  # characters in the whole message, signature and variables included

# Flow control and quotas: the same message may go out once the window has passed.
# isv.BUSINESS_LIMIT_CONTROL covers the per-number limits of minutes, hours and the day; its
# Message says which: "触发分钟级流控Permits:1", "触发小时级流控Permits:5",
# "触发天级流控Permits:10".
TEMPORARY = {
    "isv.BUSINESS_LIMIT_CONTROL": "触发号码发送频率限制",
    "isv.DAY_LIMIT_CONTROL": "已达到控制台设置的日发送量限额",
    "isp.SYSTEM_ERROR": "短信平台系统错误",
    "isp.GATEWAY_ERROR": "短信平台网关错误",
    "isp.UNKNOWN": "短信平台未知错误",
    # Balance: once someone tops it up the messages should go out, not be lost.
    "isv.OUT_OF_SERVICE": "短信账户余额不足，业务停机",
    "isv.AMOUNT_NOT_ENOUGH": "短信账户余额不足",
    "Throttling.User": "调用短信接口过于频繁",
    "Throttling.Api": "调用短信接口过于频繁",
    "Throttling": "调用短信接口过于频繁",
    "ServiceUnavailable": "短信平台暂不可用",
}
# The number, the template, the signature or the account: the same request fails again.
PERMANENT = {
    "isv.MOBILE_NUMBER_ILLEGAL": "手机号码格式错误",
    "isv.MOBILE_COUNT_OVER_LIMIT": "手机号码数量超过限制",
    "isv.BLACK_KEY_CONTROL_LIMIT": "模板变量中含有黑名单关键字",
    "isv.SMS_TEMPLATE_ILLEGAL": "短信模板不存在或未通过审核",
    "isv.SMS_SIGNATURE_ILLEGAL": "短信签名不存在或未通过审核",
    "isv.SMS_SIGN_ILLEGAL": "短信签名禁止使用",
    "isv.SIGN_STATE_ILLEGAL": "短信签名状态为不可用",
    "isv.SMS_SIGNATURE_SCENE_ILLEGAL": "签名和模板类型不一致",
    "isv.TEMPLATE_MISSING_PARAMETERS": "模板变量缺少参数",
    "isv.TEMPLATE_PARAMS_ILLEGAL": "模板变量含有非法关键字",
    "isv.INVALID_PARAMETERS": "参数异常",
    "isv.INVALID_JSON_PARAM": "模板参数不是合法的JSON字符串",
    "isv.PARAM_LENGTH_LIMIT": "模板变量超出长度限制",
    "isv.PARAM_NOT_SUPPORT_URL": "模板变量不支持网址",
    "isv.SMS_CONTENT_ILLEGAL": "短信内容包含禁止发送的内容",
    "isv.MONTH_LIMIT_CONTROL": "已达到控制台设置的月发送量限额，请调整后重发",
    "isv.DOMESTIC_NUMBER_NOT_SUPPORTED": "国际模板不能发往境内号码",
    "isv.DENY_IP_RANGE": "服务器所在地区被禁止发送",
    "isv.EXTEND_CODE_ERROR": "扩展码使用错误",
    "isv.ACCOUNT_NOT_EXISTS": "短信账户不存在",
    "isv.ACCOUNT_ABNORMAL": "短信账户异常",
    "isv.PRODUCT_UN_SUBSCRIPT": "未开通短信服务",
    "isv.PRODUCT_UNSUBSCRIBE": "未开通短信服务",
    "isp.RAM_PERMISSION_DENY": "访问密钥无短信发送权限（RAM）",
    "InvalidAccessKeyId.NotFound": "访问密钥不存在",
    "InvalidAccessKeyId.Inactive": "访问密钥已停用",
    "SignatureDoesNotMatch": "请求签名与访问密钥不符",
    "IncompleteSignature": "请求签名不完整",
    "Forbidden.RAM": "访问密钥无短信发送权限（RAM）",
}

_LEVEL = re.compile(r"(分钟|小时|天)级")


def _retry_after(code: str, message: str) -> datetime.timedelta | None:
    if code == "isv.DAY_LIMIT_CONTROL":
        return until_tomorrow()
    if code == "isv.BUSINESS_LIMIT_CONTROL":
        level = _LEVEL.search(message or "")
        if level and level.group(1) == "天":
            return until_tomorrow()
        if level and level.group(1) == "小时":
            return HOUR
    if code in ("isv.OUT_OF_SERVICE", "isv.AMOUNT_NOT_ENOUGH"):
        return HOUR
    return None  # the outbox's own backoff


def error(code: str, message: str = "", status: int = 200) -> SMSError:
    """The outbox's error for Aliyun's `code` (and HTTP `status`)."""
    if code in PERMANENT:
        return PermanentError(described(code, PERMANENT, message))
    if code in TEMPORARY or code.startswith(("isp.", "Throttling")) or status >= 500:
        reason = described(code, TEMPORARY, message)
        if level := _LEVEL.search(message or ""):
            reason = f"{reason}：{level.group(1)}级"
        return TemporaryError(reason, retry_after=_retry_after(code, message))
    if code.startswith("isv.") or 400 <= status < 500:
        # Aliyun's isv.* codes are about the request we made; an unknown one will not go
        # away by itself either.
        return PermanentError(described(code, PERMANENT, message))
    return TemporaryError(described(code, TEMPORARY, message))


class AliyunBackend(TemplateOnlyBackend):
    name = "aliyun"

    def __init__(self) -> None:
        timeout_ms = int(settings.SMS_PROVIDER_TIMEOUT * 1000)
        self.client = Client(
            openapi_models.Config(
                access_key_id=settings.ALIBABA_CLOUD_ACCESS_KEY_ID,
                access_key_secret=settings.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
                endpoint=settings.SMS_ALIYUN_ENDPOINT,
                protocol=settings.SMS_ALIYUN_PROTOCOL,
                region_id="cn-hangzhou",
                connect_timeout=timeout_ms,
                read_timeout=timeout_ms,
            )
        )
        # No retries inside the SDK: the outbox retries, with its own backoff and record.
        self.runtime = RuntimeOptions(
            autoretry=False, connect_timeout=timeout_ms, read_timeout=timeout_ms
        )

    def parameters(self, template: Template, values: dict) -> dict[str, str]:
        return message_params.for_template(
            template, values, each=PARAM_LIMIT, total=TOTAL_LIMIT, sign_name=settings.SMS_SIGN_NAME
        )

    def _call(self, method, request):
        try:
            return method(request, self.runtime)
        except AlibabaCloudException as problem:
            raise error(
                problem.code or "", problem.message or "", problem.status_code or 0
            ) from problem
        except Exception as problem:  # the SDK wraps network failures and timeouts
            raise TemporaryError(f"短信平台连接失败：{problem}"[:300]) from problem

    def send_template(self, phone: str, template: Template, params: dict) -> str:
        request = sms_models.SendSmsRequest(
            phone_numbers=phone,
            sign_name=settings.SMS_SIGN_NAME,
            template_code=template_code(template),
            template_param=json.dumps(self.parameters(template, params), ensure_ascii=False),
        )
        body = self._call(self.client.send_sms_with_options, request).body
        if body.code != "OK":
            raise error(body.code or "", body.message or "")
        return body.biz_id or ""

    def delivery_reports(self, messages) -> list[Receipt]:
        """QuerySendDetails for each message sent (its BizId, number and day of sending)."""
        receipts = []
        for message in messages:
            phone = message.courier.phone if message.courier_id else message.phone
            request = sms_models.QuerySendDetailsRequest(
                phone_number=phone,
                biz_id=message.provider_message_id,
                send_date=message.sent_at.astimezone(CHINA).strftime("%Y%m%d"),
                page_size=10,
                current_page=1,
            )
            body = self._call(self.client.query_send_details_with_options, request).body
            if body.code != "OK":
                raise error(body.code or "", body.message or "")
            details = body.sms_send_detail_dtos
            for detail in (details.sms_send_detail_dto or []) if details else []:
                if detail.send_status == 1:  # 等待回执
                    continue
                receipts.append(
                    Receipt(
                        provider_message_id=message.provider_message_id,
                        delivered=detail.send_status == 3,
                        at=_china_time(detail.receive_date),
                        error=detail.err_code if detail.send_status != 3 else "",
                    )
                )
        return receipts


def _china_time(value: str | None) -> datetime.datetime | None:
    """Aliyun writes times as "2019-01-08 16:44:13", Beijing time."""
    try:
        return datetime.datetime.strptime(value or "", "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
    except ValueError:
        return None
