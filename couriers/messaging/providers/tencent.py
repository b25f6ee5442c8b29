"""Tencent Cloud SMS (短信, API 2021-01-11) through the official SDK.

SendSms with PhoneNumberSet ("+86" numbers), SmsSdkAppId, SignName, TemplateId and
TemplateParamSet — positional: the template's parameters in the order of `Template.params`,
which is how the registered text numbers them ({1}, {2} …). The SerialNo of the number's
SendStatus is the message's provider id; PullSmsSendStatus (or the status callback) later says
whether it reached the phone.

The SDK signs each request (TC3-HMAC-SHA256 over the body). A request Tencent cannot take at
all raises an error (AuthFailure.*, InternalError.*, RequestLimitExceeded …); a request it
takes still answers per number, in SendStatusSet, with Code "Ok" or why that number was not
sent (LimitExceeded.PhoneNumberDailyLimit, FailedOperation.PhoneNumberInBlacklist …): both
are mapped here to retry or give up (Tencent's 短信 API 3.0 发送错误码).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
    TencentCloudSDKException,
)
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models as sms_models
from tencentcloud.sms.v20210111.sms_client import SmsClient

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

TOTAL_LIMIT = 500  # characters in the whole message, signature and variables included
PULL_LIMIT = 100  # status reports fetched by one PullSmsSendStatus
PULL_PAGES = 10  # at most this many of them in one poll

NEXT_DAY = object()  # retry_after: when the provider's day is over

# Worth trying again, and when: a per-number limit passes with its window, a daily one with
# the day (trying again within the day only burns attempts).
TEMPORARY = {
    "LimitExceeded.PhoneNumberThirtySecondLimit": ("该号码30秒内发送条数超过上限", None),
    "LimitExceeded.PhoneNumberOneHourLimit": ("该号码1小时内发送条数超过上限", HOUR),
    "LimitExceeded.PhoneNumberDailyLimit": ("该号码当日发送条数超过上限", NEXT_DAY),
    "LimitExceeded.PhoneNumberSameContentDailyLimit": ("该号码当日相同内容超过上限", NEXT_DAY),
    "LimitExceeded.AppDailyLimit": ("短信应用当日发送条数超过上限", NEXT_DAY),
    "LimitExceeded.AppMainlandChinaDailyLimit": ("短信应用当日发送条数超过上限", NEXT_DAY),
    "LimitExceeded.DeliveryFrequencyLimit": ("触发发送频率限制", None),
    "FailedOperation.InsufficientBalanceInSmsPackage": ("短信套餐包余量不足", HOUR),
    "UnauthorizedOperation.ServiceSuspendDueToArrears": ("短信账户欠费停止服务", HOUR),
    "InternalError.Timeout": ("短信平台处理超时", None),
    "InternalError.OtherError": ("短信平台内部错误", None),
    "InternalError.UnknownError": ("短信平台未知错误", None),
    "InternalError": ("短信平台内部错误", None),
    "RequestLimitExceeded": ("调用短信接口过于频繁", None),
    "ClientNetworkError": ("短信平台连接失败", None),
    "ServerNetworkError": ("短信平台暂不可用", None),
}
PERMANENT = {
    "FailedOperation.TemplateIncorrectOrUnapproved": "短信模板未审核通过或内容不匹配",
    "FailedOperation.TemplateUnapprovedOrNotExist": "短信模板未审核通过或不存在",
    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate": "模板参数个数与审核模板不一致",
    "FailedOperation.SignatureIncorrectOrUnapproved": "短信签名未审核通过或格式错误",
    "FailedOperation.PhoneNumberInBlacklist": "号码在免打扰名单中（用户退订或运营商名单）",
    "FailedOperation.PhoneNumberParseFail": "手机号码无法解析",
    "FailedOperation.ContainSensitiveWord": "短信内容含有敏感词",
    "FailedOperation.MarketingSendTimeConstraint": "营销短信只能在8点到22点发送",
    "InvalidParameterValue.IncorrectPhoneNumber": "手机号码格式错误",
    "InvalidParameterValue.TemplateParameterLengthLimit": "单个模板变量超出长度限制",
    "InvalidParameterValue.TemplateParameterFormatError": "验证码模板变量只能是6位以内的数字",
    "InvalidParameterValue.ContentLengthLimit": "短信内容太长",
    "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter": "模板变量中不能使用网址",
    "InvalidParameterValue.SdkAppIdNotExist": "短信应用 SdkAppId 不存在",
    "UnauthorizedOperation.SmsSdkAppIdVerifyFail": "SdkAppId 不属于该访问密钥的账号",
    "UnauthorizedOperation.RequestIpNotInWhitelist": "服务器地址不在短信平台白名单中",
    "UnauthorizedOperation.RequestPermissionDeny": "无短信发送权限",
    "UnauthorizedOperation.SdkAppIdIsDisabled": "短信应用已被禁用",
    "UnsupportedOperation.ChineseMainlandTemplateToGlobalPhone": "国内模板不能发往境外号码",
    "AuthFailure.SignatureFailure": "请求签名与访问密钥不符",
    "AuthFailure.SecretIdNotFound": "访问密钥不存在",
    "AuthFailure.SignatureExpire": "请求签名已过期（请检查服务器时间）",
    "AuthFailure.UnauthorizedOperation": "访问密钥无短信发送权限（CAM）",
}


def error(code: str, message: str = "") -> SMSError:
    """The outbox's error for Tencent's `code` (an API error or a number's SendStatus)."""
    if code in PERMANENT:
        return PermanentError(described(code, PERMANENT, message))
    reason, wait = TEMPORARY.get(code) or TEMPORARY.get(code.split(".")[0]) or (None, None)
    if reason is not None:
        if wait is NEXT_DAY:
            wait = until_tomorrow()
        return TemporaryError(f"{reason}（{code}）", retry_after=wait)
    # Anything else is about what we sent (FailedOperation.*, InvalidParameter*, AuthFailure.*,
    # MissingParameter …): the same request fails again.
    return PermanentError(described(code, PERMANENT, message))


def mainland(phone: str) -> str:
    """E.164, as PhoneNumberSet wants it: +8613812345678."""
    phone = phone.strip()
    return phone if phone.startswith("+") else f"+86{phone}"


class TencentBackend(TemplateOnlyBackend):
    name = "tencent"

    def __init__(self) -> None:
        profile = ClientProfile(
            httpProfile=HttpProfile(
                protocol=settings.SMS_TENCENT_PROTOCOL,
                endpoint=settings.SMS_TENCENT_ENDPOINT,
                reqTimeout=settings.SMS_PROVIDER_TIMEOUT,
            )
        )
        try:
            keys = credential.Credential(
                settings.TENCENTCLOUD_SECRET_ID, settings.TENCENTCLOUD_SECRET_KEY
            )
        except TencentCloudSDKException:
            self.client = None  # no keys (settings refuse that in production): nothing sends
        else:
            self.client = SmsClient(keys, settings.SMS_TENCENT_REGION, profile)

    def parameters(self, template: Template, values: dict) -> list[str]:
        fitted = message_params.for_template(
            template,
            values,
            each=settings.SMS_TENCENT_PARAM_MAX,
            total=TOTAL_LIMIT,
            sign_name=settings.SMS_SIGN_NAME,
        )
        return [fitted[name] for name in template.params]

    def _call(self, action: str, request):
        if self.client is None:
            raise PermanentError(
                "腾讯云短信未配置访问密钥（TENCENTCLOUD_SECRET_ID、TENCENTCLOUD_SECRET_KEY）"
            )
        try:
            return getattr(self.client, action)(request)
        except TencentCloudSDKException as problem:
            raise error(problem.get_code() or "", problem.get_message() or "") from problem
        except Exception as problem:  # the SDK is meant to wrap everything; just in case
            raise TemporaryError(f"短信平台连接失败：{problem}"[:300]) from problem

    def send_template(self, phone: str, template: Template, params: dict) -> str:
        request = sms_models.SendSmsRequest()
        request.PhoneNumberSet = [mainland(phone)]
        request.SmsSdkAppId = settings.SMS_SDK_APP_ID
        request.SignName = settings.SMS_SIGN_NAME
        request.TemplateId = template_code(template)
        request.TemplateParamSet = self.parameters(template, params)
        response = self._call("SendSms", request)
        statuses = response.SendStatusSet or []
        if not statuses:
            raise TemporaryError("短信平台未返回发送状态")
        status = statuses[0]
        if status.Code != "Ok":
            raise error(status.Code or "", status.Message or "")
        return status.SerialNo or ""

    def delivery_reports(self, messages) -> list[Receipt]:
        """PullSmsSendStatus: the reports Tencent holds for the app, each handed out once
        (whichever messages they are about), a page at a time while pages come back full."""
        receipts = []
        for _ in range(PULL_PAGES):
            request = sms_models.PullSmsSendStatusRequest()
            request.Limit = PULL_LIMIT
            request.SmsSdkAppId = settings.SMS_SDK_APP_ID
            statuses = self._call("PullSmsSendStatus", request).PullSmsSendStatusSet or []
            receipts += [
                Receipt(
                    provider_message_id=status.SerialNo or "",
                    delivered=status.ReportStatus == "SUCCESS",
                    at=_from_unix(status.UserReceiveTime),
                    error="" if status.ReportStatus == "SUCCESS" else (status.Description or ""),
                )
                for status in statuses
            ]
            if len(statuses) < PULL_LIMIT:
                break
        return receipts


def _from_unix(value) -> datetime.datetime | None:
    try:
        return datetime.datetime.fromtimestamp(int(value), tz=CHINA)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
