"""One-time SMS codes: sent through the backend, stored hashed, expiring, single-use, good only
on the device that asked, rate limited per phone and per network address, and a lockout after
five wrong codes that holds however many arrive at once and that locks out only the device
guessing, never the phone's owner."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db.models import F
from django.test import Client
from django.utils import timezone

from couriers.messaging import otp
from couriers.models import PhoneCode, PhoneLock
from tests import factories
from tests.concurrency import at_once, needs_postgresql

pytestmark = pytest.mark.django_db

PHONE = "13900000001"
ADDRESS = "address-hash-1"
DEVICE = "device-hash-1"


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
    code = otp.send_code(PHONE, ADDRESS, DEVICE)
    assert re.fullmatch(r"\d{6}", code)
    assert len(sms_outbox) == 1
    phone, message = sms_outbox[0]
    assert phone == PHONE
    assert f"验证码 {code}" in message and f"【{settings.SMS_SIGN_NAME}】" in message
    assert "10 分钟内有效" in message


def test_the_code_is_stored_only_as_a_hash(sms_outbox):
    code = otp.send_code(PHONE, ADDRESS, DEVICE)
    row = PhoneCode.objects.values().get()
    assert row["phone"] == PHONE and row["address"] == ADDRESS
    assert re.fullmatch(r"[0-9a-f]{64}", row["code_hash"])
    assert not [v for v in row.values() if isinstance(v, str) and code in v]
    otp.verify_code(PHONE, code, DEVICE)  # and the hash still proves it


def test_a_code_with_spaces_is_accepted(sms_outbox):
    code = otp.send_code(PHONE, ADDRESS, DEVICE)
    otp.verify_code(PHONE, f" {code[:3]} {code[3:]} ", DEVICE)


def test_an_expired_code_is_refused(sms_outbox):
    code = otp.send_code(PHONE, ADDRESS, DEVICE)
    _age_codes(11 * 60)
    assert _refused(otp.verify_code, PHONE, code, DEVICE) == "验证码已过期或未获取，请重新获取。"


def test_a_code_that_was_never_sent_is_refused(sms_outbox):
    assert "已过期或未获取" in _refused(otp.verify_code, PHONE, "123456", DEVICE)


def test_a_code_works_once(sms_outbox):
    code = otp.send_code(PHONE, ADDRESS, DEVICE)
    otp.verify_code(PHONE, code, DEVICE)
    assert _refused(otp.verify_code, PHONE, code, DEVICE) == "这个验证码已经用过了，请重新获取。"
    assert PhoneCode.objects.get().used_at is not None


def test_a_code_is_only_good_for_its_own_phone(sms_outbox):
    code = otp.send_code(PHONE, ADDRESS, DEVICE)
    otp.send_code("13900000002", ADDRESS, DEVICE)
    assert "已过期或未获取" in _refused(otp.verify_code, "13900000003", code, DEVICE)
    other = _sent_code(sms_outbox)
    if other != code:
        assert "验证码不正确" in _refused(otp.verify_code, "13900000002", code, DEVICE)


def test_a_code_is_good_only_on_the_device_that_asked_for_it(sms_outbox):
    code = otp.send_code(PHONE, ADDRESS, DEVICE)
    refused = _refused(otp.verify_code, PHONE, code, "another-device")
    assert refused == "验证码已过期或未获取，请重新获取。"
    assert PhoneCode.objects.get().failed_attempts == 0  # and nothing was counted against it
    otp.verify_code(PHONE, code, DEVICE)


def test_two_devices_may_each_ask_for_a_code_at_once(sms_outbox):
    mine = otp.send_code(PHONE, ADDRESS, DEVICE)
    theirs = otp.send_code(PHONE, "another-address", "another-device")
    otp.verify_code(PHONE, theirs, "another-device")
    otp.verify_code(PHONE, mine, DEVICE)


def test_a_new_code_within_60_seconds_is_refused(sms_outbox):
    otp.send_code(PHONE, ADDRESS, DEVICE)
    message = _refused(otp.send_code, PHONE, ADDRESS, DEVICE)
    assert re.fullmatch(r"验证码已发送，请 \d+ 秒后再重新获取。", message)
    assert 55 <= int(re.search(r"\d+", message).group()) <= 61
    assert len(sms_outbox) == 1 and PhoneCode.objects.count() == 1
    _age_codes(61)
    otp.send_code(PHONE, ADDRESS, DEVICE)
    assert len(sms_outbox) == 2


def test_the_newest_code_replaces_the_older_one(sms_outbox):
    first = otp.send_code(PHONE, ADDRESS, DEVICE)
    _age_codes(61)
    second = otp.send_code(PHONE, ADDRESS, DEVICE)
    if first != second:
        assert "验证码不正确" in _refused(otp.verify_code, PHONE, first, DEVICE)
    otp.verify_code(PHONE, second, DEVICE)


def test_more_than_five_codes_an_hour_for_one_phone_are_refused(sms_outbox):
    for _ in range(otp.PER_PHONE_PER_HOUR):
        otp.send_code(PHONE, ADDRESS, DEVICE)
        _age_codes(61)
    message = _refused(otp.send_code, PHONE, "another-address", DEVICE)
    assert message == "这个手机号一小时内获取验证码次数太多，请稍后再试。"
    # Nor from another device that has never proved this phone: the phone's own allowance.
    assert _refused(otp.send_code, PHONE, "another-address", "another-device") == message
    assert len(sms_outbox) == 5
    otp.send_code("13900000002", ADDRESS, DEVICE)  # other phones are not affected
    _age_codes(3600)
    otp.send_code(PHONE, ADDRESS, DEVICE)  # an hour later it may again
    assert len(sms_outbox) == 7


def test_more_than_twenty_codes_an_hour_from_one_address_are_refused(sms_outbox):
    for n in range(otp.PER_ADDRESS_PER_HOUR):
        otp.send_code(f"1390000{n:04d}", ADDRESS, DEVICE)
    message = _refused(otp.send_code, "13911110000", ADDRESS, DEVICE)
    assert message == "当前网络获取验证码次数太多，请稍后再试。"
    assert len(sms_outbox) == 20
    otp.send_code("13911110000", "another-address", DEVICE)
    assert len(sms_outbox) == 21


def test_a_wrong_code_says_how_many_tries_are_left(sms_outbox):
    code = otp.send_code(PHONE, ADDRESS, DEVICE)
    for left in (4, 3, 2, 1):
        message = _refused(otp.verify_code, PHONE, _wrong(code), DEVICE)
        assert message == f"验证码不正确，还可以再试 {left} 次。"
    assert not PhoneLock.objects.exists()
    otp.verify_code(PHONE, code, DEVICE)  # the fourth miss still leaves the right code usable


def test_five_wrong_codes_lock_the_phone(sms_outbox):
    code = otp.send_code(PHONE, ADDRESS, DEVICE)
    for _ in range(4):
        _refused(otp.verify_code, PHONE, _wrong(code), DEVICE)
    message = _refused(otp.verify_code, PHONE, _wrong(code), DEVICE)
    assert message == "验证码输错次数太多，该手机号已锁定 30 分钟。"
    lock = PhoneLock.objects.get(phone=PHONE)
    assert lock.locked_until > timezone.now() + datetime.timedelta(minutes=29)

    locked = re.compile(r"验证码输错次数太多，该手机号已锁定，请 (29|30) 分钟后再试。")
    assert locked.fullmatch(_refused(otp.verify_code, PHONE, code, DEVICE))  # even the right one
    _age_codes(61)
    assert locked.fullmatch(_refused(otp.send_code, PHONE, ADDRESS, DEVICE))
    assert len(sms_outbox) == 1
    otp.send_code("13900000002", ADDRESS, DEVICE)  # only that phone is locked …
    # … and only on that device: the phone's owner, elsewhere, carries on.
    owners = otp.send_code(PHONE, "owners-address", "owners-device")
    otp.verify_code(PHONE, owners, "owners-device")


def test_wrong_codes_count_across_resent_codes(sms_outbox):
    code = otp.send_code(PHONE, ADDRESS, DEVICE)
    for _ in range(3):
        _refused(otp.verify_code, PHONE, _wrong(code), DEVICE)
    _age_codes(61)
    code = otp.send_code(PHONE, ADDRESS, DEVICE)
    assert (
        _refused(otp.verify_code, PHONE, _wrong(code), DEVICE) == "验证码不正确，还可以再试 1 次。"
    )
    assert "已锁定 30 分钟" in _refused(otp.verify_code, PHONE, _wrong(code), DEVICE)


def test_wrong_codes_from_a_locked_device_do_not_make_it_trusted(sms_outbox):
    code = otp.send_code(PHONE, ADDRESS, DEVICE)
    for _ in range(otp.WRONG_CODES_BEFORE_LOCK):
        _refused(otp.verify_code, PHONE, _wrong(code), DEVICE)
    # Its codes are void, but not "used": used means the device proved the phone.
    assert PhoneCode.objects.get().used_at is None
    assert not otp._proved_on(PHONE, DEVICE)


def test_the_lock_expires(sms_outbox):
    code = otp.send_code(PHONE, ADDRESS, DEVICE)
    for _ in range(5):
        _refused(otp.verify_code, PHONE, _wrong(code), DEVICE)
    # Half an hour and a minute later: the lock and the codes that caused it are old.
    later = datetime.timedelta(minutes=31)
    PhoneLock.objects.update(locked_until=F("locked_until") - later)
    _age_codes(later.total_seconds())

    code = otp.send_code(PHONE, ADDRESS, DEVICE)
    assert (
        _refused(otp.verify_code, PHONE, _wrong(code), DEVICE) == "验证码不正确，还可以再试 4 次。"
    )
    otp.verify_code(PHONE, code, DEVICE)


# --- what a stranger who knows the phone can do ------------------------------------------------

OWNER_PHONE = "13912342468"


@pytest.fixture
def owner(nanqiao_town):
    return factories.courier(nanqiao_town, name="王小明", phone=OWNER_PHONE)


def _browser(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def _ask(client: Client, phone: str = OWNER_PHONE) -> str:
    return client.post("/me/signin/", {"phone": phone}).content.decode()


def _enter(client: Client, code: str):
    return client.post("/me/signin/", {"code": code})


def _signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/me/"


def test_a_strangers_wrong_codes_do_not_lock_the_owner_out(owner, sms_outbox):
    stranger = _browser("203.0.113.9")
    _ask(stranger)  # the code goes to the owner's phone; the stranger guesses
    guess = _wrong(_sent_code(sms_outbox))
    for _ in range(otp.WRONG_CODES_BEFORE_LOCK):
        page = _enter(stranger, guess).content.decode()
    assert "验证码输错次数太多" in page
    _age_codes(61)
    assert "已锁定" in _ask(stranger)  # the stranger stays locked out

    owners_phone = _browser("10.0.0.1")
    assert "验证码已发送" in _ask(owners_phone)
    assert _signed_in(_enter(owners_phone, _sent_code(sms_outbox)))


def test_a_code_the_owner_asked_for_survives_a_strangers_guessing(owner, sms_outbox):
    owners_phone = _browser("10.0.0.1")
    _ask(owners_phone)
    owners_code = _sent_code(sms_outbox)
    _age_codes(61)
    stranger = _browser("203.0.113.9")
    _ask(stranger)
    for _ in range(otp.WRONG_CODES_BEFORE_LOCK):
        _enter(stranger, _wrong(owners_code))
    assert _signed_in(_enter(owners_phone, owners_code))


def test_codes_strangers_ask_for_do_not_stop_the_owners_own_phone_getting_one(owner, sms_outbox):
    owners_phone = _browser("10.0.0.1")
    _ask(owners_phone)
    assert _signed_in(_enter(owners_phone, _sent_code(sms_outbox)))
    owners_phone.post("/me/signout/")
    for n in range(otp.PER_PHONE_PER_HOUR):
        _age_codes(61)
        _ask(_browser(f"203.0.113.{n + 1}"))
    _age_codes(61)
    # A phone that never proved this number meets the hourly cap of codes to the number …
    assert "一小时内获取验证码次数太多" in _ask(_browser("203.0.113.99"))
    # … the owner's own phone, which has, does not.
    assert "验证码已发送" in _ask(owners_phone)
    assert _signed_in(_enter(owners_phone, _sent_code(sms_outbox)))


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_many_simultaneous_wrong_codes_count_no_more_than_the_limit(
    committed_db, settings, sms_outbox
):
    settings.PUBLIC_POST_LIMITS = {"device": (10_000, 600), "address": (10_000, 600)}
    factories.courier(factories.town("南桥镇"), phone=OWNER_PHONE)
    browser = _browser("10.0.0.1")
    _ask(browser)
    wrong = _wrong(_sent_code(sms_outbox))
    tabs = []
    for _ in range(40):  # the same browser, many requests at once
        tab = _browser("10.0.0.1")
        for name, morsel in browser.cookies.items():
            tab.cookies[name] = morsel.value
        tabs.append(tab)
    pages, problems = at_once([lambda tab=tab: _enter(tab, wrong).content.decode() for tab in tabs])
    assert problems == []
    judged = [page for page in pages if "验证码不正确" in page or "已锁定 30 分钟" in page]
    assert len(judged) <= otp.WRONG_CODES_BEFORE_LOCK
    failures = PhoneCode.objects.filter(phone=OWNER_PHONE).values_list("failed_attempts", flat=True)
    assert sum(failures) <= otp.WRONG_CODES_BEFORE_LOCK
    assert PhoneLock.objects.filter(phone=OWNER_PHONE).exists()
