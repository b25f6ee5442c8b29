"""What protects the public forms: one-time phone codes, phone locks after wrong codes, and
request counters for rate limits."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from couriers.privacy.masking import mask_phone


class PhoneCode(models.Model):
    """A one-time code sent by SMS to prove a courier holds a phone number. It is good only on
    the device that asked for it, so guesses from anywhere else never reach it."""

    phone = models.CharField(_("手机号码"), max_length=11, db_index=True)
    code_hash = models.CharField(_("验证码摘要"), max_length=64)
    address = models.CharField(_("网络地址标识"), max_length=64, db_index=True)
    device = models.CharField(_("设备标识"), max_length=64, default="", editable=False)
    created_at = models.DateTimeField(_("发送时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("过期时间"))
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(_("输错次数"), default=0)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        ordering = ["-created_at", "-id"]
        indexes = [
            # Rate limits and verification: a phone's recent codes.
            models.Index(fields=["phone", "-created_at"], name="phonecode_phone_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{mask_phone(self.phone)} {self.created_at:%Y-%m-%d %H:%M}"


class PhoneLock(models.Model):
    """A phone locked on one device after too many wrong codes from that device: a stranger
    guessing locks out only themselves, never the owner's own phone."""

    phone = models.CharField(_("手机号码"), max_length=11)
    device = models.CharField(_("设备标识"), max_length=64, default="", editable=False)
    locked_until = models.DateTimeField(_("锁定至"))

    class Meta:
        verbose_name = _("手机号锁定")
        verbose_name_plural = _("手机号锁定")
        ordering = ["-locked_until"]
        constraints = [
            models.UniqueConstraint(fields=["phone", "device"], name="phonelock_phone_device")
        ]

    def __str__(self) -> str:
        return mask_phone(self.phone)


class RateCounter(models.Model):
    """Requests counted per client and time window, for rate limits that hold across every
    app server and worker (see couriers/security/ratelimit.py). Old windows are swept away."""

    key = models.CharField(max_length=64)
    window = models.BigIntegerField()  # the window's start, in seconds since the epoch
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("访问计数")
        verbose_name_plural = _("访问计数")
        constraints = [
            models.UniqueConstraint(fields=["key", "window"], name="ratecounter_key_window")
        ]
        indexes = [models.Index(fields=["window"], name="ratecounter_window_idx")]

    def __str__(self) -> str:
        return f"{self.key[:8]}… @{self.window}: {self.hits}"
