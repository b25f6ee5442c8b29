"""SMS providers the districts actually use, each through its official SDK: Aliyun
(`aliyun.AliyunBackend`, alibabacloud-dysmsapi20170525) and Tencent Cloud
(`tencent.TencentBackend`, tencentcloud-sdk-python-sms).

Mainland SMS allows no free text: a message is a template registered and approved at the
provider, under the district's signature, plus its parameters. The portal's templates
(`couriers.messaging.templates.TEMPLATES`) are mapped to the provider's template codes by
configuration, SMS_TEMPLATE_CODES, never in code (see `mapping`).
"""
