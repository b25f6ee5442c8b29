"""The portal's message templates.

Mainland SMS allows no free text: every message is a template registered with the provider
(under the district's signature) plus named parameters. `TEMPLATES` is the one list; each
backend maps a template's `code` to the provider's template code (settings, not code), and a
template's `text` is what is registered there (Aliyun writes parameters `${name}`; Tencent
numbers them `{1}`, `{2}` … in the order of `params`).

`kind` is what a courier may opt out of on 「我的」; codes (`Kind.CODE`) can never be
refused.
"""

from __future__ import annotations

import dataclasses
import re

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    CODE = "code", _("验证码")
    SIGNUP = "signup", _("报名与候补")
    REMINDER = "reminder", _("活动提醒")
    POINTS = "points", _("服务与积分")
    REPORT = "report", _("随手拍回复")
    CASEWORK = "casework", _("诉求办理")
    WELCOME = "welcome", _("报到欢迎")
    BROADCAST = "broadcast", _("通知公告")


@dataclasses.dataclass(frozen=True)
class Template:
    code: str
    title: str
    kind: str
    text: str
    params: tuple[str, ...]
    urgent: bool = False  # sent at once, whatever the hour (codes)

    def fill(self, params: dict) -> dict[str, str]:
        """The parameters as stored with a message: this template's own, each as text."""
        return {key: str(params.get(key, "")) for key in self.params}

    def render(self, params: dict) -> str:
        """The text as the courier reads it (console backend, previews, the outbox admin)."""
        text = PLACEHOLDER.sub(lambda m: str(params.get(m.group(1), "")), self.text)
        return text.replace(SITE, settings.PUBLIC_BASE_URL.rstrip("/"))


PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
# The portal's public address (PUBLIC_BASE_URL), written into a template's text when the
# district registers it: providers refuse links in variables (Aliyun PARAM_NOT_SUPPORT_URL).
SITE = "{site}"

_ALL = [
    Template(
        "login_code",
        "登录验证码",
        Kind.CODE,
        "验证码 ${code}，10 分钟内有效。如非本人操作请忽略。",
        ("code",),
        urgent=True,
    ),
    Template(
        "signup_promoted",
        "候补转正",
        Kind.SIGNUP,
        "您已从候补转为正式报名：${activity}，${time}，${place}。如不能参加请及时取消。",
        ("activity", "time", "place"),
    ),
    Template(
        "signup_confirmed",
        "报名确认",
        Kind.SIGNUP,
        "您报名的${activity}已确认：${time}，${place}。",
        ("activity", "time", "place"),
    ),
    Template(
        "signup_cancelled",
        "报名被取消",
        Kind.SIGNUP,
        "您报名的${activity}已被工作人员取消，原因：${reason}。",
        ("activity", "reason"),
    ),
    Template(
        "activity_changed",
        "活动变更",
        Kind.SIGNUP,
        "您报名的${activity}有变更，现为${time}，${place}。",
        ("activity", "time", "place"),
    ),
    Template(
        "activity_cancelled",
        "活动取消",
        Kind.SIGNUP,
        "您报名的${activity}（${time}）已取消，原因：${reason}。",
        ("activity", "time", "reason"),
    ),
    Template(
        "activity_reminder",
        "活动提醒",
        Kind.REMINDER,
        "提醒：您报名的${activity}将于${time}在${place}开始。",
        ("activity", "time", "place"),
    ),
    Template(
        "post_promoted",
        "志愿岗位候补转正",
        Kind.SIGNUP,
        "您已从候补转为${post}的志愿者：${time}。如不能到岗请及时取消。",
        ("post", "time"),
    ),
    Template(
        "service_confirmed",
        "志愿服务确认",
        Kind.POINTS,
        "您在${post}的志愿服务已确认，获得${points}积分。",
        ("post", "points"),
    ),
    Template(
        "points_adjusted",
        "积分调整",
        Kind.POINTS,
        "您的积分调整${change}分，原因：${reason}。",
        ("change", "reason"),
    ),
    Template(
        "report_status",
        "随手拍回复",
        Kind.REPORT,
        "您的随手拍“${title}”${status}：${reply}",
        ("title", "status", "reply"),
    ),
    Template(
        "need_resolved",
        "诉求办结",
        Kind.CASEWORK,
        "您反映的“${need}”已办结：${result}",
        ("need", "result"),
    ),
    Template(
        "checkin_welcome",
        "报到欢迎",
        Kind.WELCOME,
        "欢迎您报到！积分、活动和消息都在“我的”：{site}/me/",
        (),
    ),
    Template(
        "broadcast",
        "通知公告",
        Kind.BROADCAST,
        "通知：${title}，${content}",
        ("title", "content"),
    ),
]

TEMPLATES: dict[str, Template] = {template.code: template for template in _ALL}


def get(code: str) -> Template:
    return TEMPLATES[code]


def signed(text: str) -> str:
    """`text` as the phone shows it: under the district's signature."""
    return f"【{settings.SMS_SIGN_NAME}】{text}"


SEGMENT = 70  # characters in a message of one segment (Chinese SMS, signature included)
SEGMENT_CONCATENATED = 67  # in each segment of a longer one


def segments(text: str, sign_name: str) -> int:
    """How many segments the provider bills for `text` under 【sign_name】."""
    length = len(text) + len(sign_name) + 2
    return 1 if length <= SEGMENT else -(-length // SEGMENT_CONCATENATED)
