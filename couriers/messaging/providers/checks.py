"""System check: a production portal on a provider's SDK has a template code for every
template it may send (`manage.py check --deploy` shows the missing ones)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Warning, register

from couriers.messaging.templates import TEMPLATES

PROVIDERS = (
    "couriers.messaging.providers.aliyun.AliyunBackend",
    "couriers.messaging.providers.tencent.TencentBackend",
)


@register()
def template_codes_configured(app_configs=None, **kwargs) -> list[Warning]:
    if settings.DEBUG or settings.SMS_BACKEND not in PROVIDERS:
        return []
    codes = settings.SMS_TEMPLATE_CODES
    missing = [code for code in TEMPLATES if not str(codes.get(code, "")).strip()]
    if not missing:
        return []
    return [
        Warning(
            f"短信模板未配置平台模板编号：{'、'.join(missing)}。这些消息将发送失败。",
            hint="在短信平台登记这些模板（文字见 README「短信模板」），"
            'SMS_TEMPLATE_CODES=\'{"login_code": "SMS_…", …}\'',
            id="couriers.W901",
        )
    ]
