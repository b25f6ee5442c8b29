"""One-time SMS codes: sent through the backend, stored hashed, expiring, single-use, rate
limited per phone and per network address, and a lockout after five wrong codes."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db.models import F
from django.utils import timezone

from couriers.messaging import otp
from couriers.models import PhoneCode, PhoneLock

pytestmark = pytest.mark.django_db

PHONE = "13900000001"
ADDRESS = "address-hash-1"


def _sent_code(outbox) -> str:
    return re.search(r"验证码 (\d{6})", outbox[-1][1]).group(1)


def _age_codes(seconds: float, phone: str | None = None) -> None:
    """Make the codes (of `phone`, or all) as old as if they were sent `seconds` earlier."""
    codes = PhoneCode.objects.filter(phone=phone) if phone else PhoneCode.objects.all()
    delta = datetime.timedelta(seconds=seconds)
    codes.update(created_at=F("created_at") - delta, expires_at=F("expires_at") - delta)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _refused(call, *args) -> str:
    with pytest.raises(otp.CodeError) as problem:
        call(*args)
    return str(problem.value)


def test_a_code_is_sent_through_the_sms_backend(sms_outbox, settings):
    code = otp.send_code(PHONE, ADDRESS)
    assert re.fullmatch(r"\d{6}", code)
    assert len(sms_outbox) == 1
    phone, message = sms_outbox[0]
    assert phone == PHONE
    assert f"验证码 {code}" in message and f"【{settings.SMS_SIGN_NAME}】" in message
    assert "10 分钟内有效" in message


def test_the_code_is_stored_only_as_a_hash(sms_outbox):
    code = otp.send_code(PHONE, ADDRESS)
    row = PhoneCode.objects.values().get()
    assert row["phone"] == PHONE and row["address"] == ADDRESS
    assert re.fullmatch(r"[0-9a-f]{64}", row["code_hash"])
    assert not [v for v in row.values() if isinstance(v, str) and code in v]
    otp.verify_code(PHONE, code)  # and the hash still proves it


def test_a_code_with_spaces_is_accepted(sms_outbox):
    code = otp.send_code(PHONE, ADDRESS)
    otp.verify_code(PHONE, f" {code[:3]} {code[3:]} ")


def test_an_expired_code_is_refused(sms_outbox):
    code = otp.send_code(PHONE, ADDRESS)
    _age_codes(11 * 60)
    assert _refused(otp.verify_code, PHONE, code) == "验证码已过期或未获取，请重新获取。"


def test_a_code_that_was_never_sent_is_refused(sms_outbox):
    assert "已过期或未获取" in _refused(otp.verify_code, PHONE, "123456")


def test_a_code_works_once(sms_outbox):
    code = otp.send_code(PHONE, ADDRESS)
    otp.verify_code(PHONE, code)
    assert _refused(otp.verify_code, PHONE, code) == "这个验证码已经用过了，请重新获取。"
    assert PhoneCode.objects.get().used_at is not None


def test_a_code_is_only_good_for_its_own_phone(sms_outbox):
    code = otp.send_code(PHONE, ADDRESS)
    otp.send_code("13900000002", ADDRESS)
    assert "已过期或未获取" in _refused(otp.verify_code, "13900000003", code)
    other = _sent_code(sms_outbox)
    if other != code:
        assert "验证码不正确" in _refused(otp.verify_code, "13900000002", code)


def test_a_new_code_within_60_seconds_is_refused(sms_outbox):
    otp.send_code(PHONE, ADDRESS)
    message = _refused(otp.send_code, PHONE, ADDRESS)
    assert re.fullmatch(r"验证码已发送，请 \d+ 秒后再重新获取。", message)
    assert 55 <= int(re.search(r"\d+", message).group()) <= 61
    assert len(sms_outbox) == 1 and PhoneCode.objects.count() == 1
    _age_codes(61)
    otp.send_code(PHONE, ADDRESS)
    assert len(sms_outbox) == 2


def test_the_newest_code_replaces_the_older_one(sms_outbox):
    first = otp.send_code(PHONE, ADDRESS)
    _age_codes(61)
    second = otp.send_code(PHONE, ADDRESS)
    if first != second:
        assert "验证码不正确" in _refused(otp.verify_code, PHONE, first)
    otp.verify_code(PHONE, second)


def test_more_than_five_codes_an_hour_for_one_phone_are_refused(sms_outbox):
    for _ in range(otp.PER_PHONE_PER_HOUR):
        otp.send_code(PHONE, ADDRESS)
        _age_codes(61)
    message = _refused(otp.send_code, PHONE, "another-address")
    assert message == "这个手机号一小时内获取验证码次数太多，请稍后再试。"
    assert len(sms_outbox) == 5
    otp.send_code("13900000002", ADDRESS)  # other phones are not affected
    _age_codes(3600)
    otp.send_code(PHONE, ADDRESS)  # an hour later it may again
    assert len(sms_outbox) == 7


def test_more_than_twenty_codes_an_hour_from_one_address_are_refused(sms_outbox):
    for n in range(otp.PER_ADDRESS_PER_HOUR):
        otp.send_code(f"1390000{n:04d}", ADDRESS)
    message = _refused(otp.send_code, "13911110000", ADDRESS)
    assert message == "当前网络获取验证码次数太多，请稍后再试。"
    assert len(sms_outbox) == 20
    otp.send_code("13911110000", "another-address")
    assert len(sms_outbox) == 21


def test_a_wrong_code_says_how_many_tries_are_left(sms_outbox):
    code = otp.send_code(PHONE, ADDRESS)
    for left in (4, 3, 2, 1):
        message = _refused(otp.verify_code, PHONE, _wrong(code))
        assert message == f"验证码不正确，还可以再试 {left} 次。"
    assert not PhoneLock.objects.exists()
    otp.verify_code(PHONE, code)  # the fourth miss still leaves the right code usable


def test_five_wrong_codes_lock_the_phone(sms_outbox):
    code = otp.send_code(PHONE, ADDRESS)
    for _ in range(4):
        _refused(otp.verify_code, PHONE, _wrong(code))
    message = _refused(otp.verify_code, PHONE, _wrong(code))
    assert message == "验证码输错次数太多，该手机号已锁定 30 分钟。"
    lock = PhoneLock.objects.get(phone=PHONE)
    assert lock.locked_until > timezone.now() + datetime.timedelta(minutes=29)

    locked = re.compile(r"验证码输错次数太多，该手机号已锁定，请 (29|30) 分钟后再试。")
    assert locked.fullmatch(_refused(otp.verify_code, PHONE, code))  # even the right one
    _age_codes(61)
    assert locked.fullmatch(_refused(otp.send_code, PHONE, ADDRESS))
    assert len(sms_outbox) == 1
    otp.send_code("13900000002", ADDRESS)  # only that phone is locked


def test_wrong_codes_count_across_resent_codes(sms_outbox):
    code = otp.send_code(PHONE, ADDRESS)
    for _ in range(3):
        _refused(otp.verify_code, PHONE, _wrong(code))
    _age_codes(61)
    code = otp.send_code(PHONE, ADDRESS)
    assert _refused(otp.verify_code, PHONE, _wrong(code)) == "验证码不正确，还可以再试 1 次。"
    assert "已锁定 30 分钟" in _refused(otp.verify_code, PHONE, _wrong(code))


def test_the_lock_expires(sms_outbox):
    code = otp.send_code(PHONE, ADDRESS)
    for _ in range(5):
        _refused(otp.verify_code, PHONE, _wrong(code))
    # Half an hour and a minute later: the lock and the codes that caused it are old.
    later = datetime.timedelta(minutes=31)
    PhoneLock.objects.update(locked_until=F("locked_until") - later)
    _age_codes(later.total_seconds())

    code = otp.send_code(PHONE, ADDRESS)
    assert _refused(otp.verify_code, PHONE, _wrong(code)) == "验证码不正确，还可以再试 4 次。"
    otp.verify_code(PHONE, code)
