"""「我的」 → 消息设置: a courier chooses which kinds of message they get (codes always), by a
POST-only form with CSRF that redirects after saving, and sees their last messages (never a
code)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from couriers.identity import SESSION_KEY
from couriers.messaging import otp
from couriers.messaging.notify import notify
from couriers.messaging.preferences import stop_all
from couriers.models import Message, MessagePreference
from tests import factories

pytestmark = pytest.mark.django_db

PAGE = reverse("me_messages")
SAVE = reverse("me_messages_save")


@pytest.fixture
def courier(nanqiao_town):
    return factories.courier(nanqiao_town, name="南桥小哥", phone="13911112222")


def signed_in(courier, **kwargs) -> Client:
    client = Client(**kwargs)
    session = client.session
    session[SESSION_KEY] = courier.pk
    session.save()
    return client


def test_the_page_shows_every_kind_checked_and_codes_always_on(courier):
    page = signed_in(courier).get(PAGE).content.decode()
    assert "验证码（登录必需，始终接收）" in page
    assert page.count('name="kinds"') == 7 and page.count("checked") == 8
    assert 'value="code"' not in page


def test_me_links_to_the_settings(courier):
    assert PAGE in signed_in(courier).get(reverse("me")).content.decode()


def test_muting_a_kind_stops_those_messages(courier):
    client = signed_in(courier)
    kept = ["signup", "reminder", "points", "report", "casework", "broadcast"]
    response = client.post(SAVE, {"kinds": kept})
    assert response.status_code == 302 and response["Location"] == PAGE
    assert MessagePreference.objects.get(courier=courier).muted_kinds == ["welcome"]
    assert notify(courier, "checkin_welcome", {"link": "/me/"}, event="w") is None
    assert notify(courier, "points_adjusted", {"change": "1"}, event="p") is not None


def test_saving_unchanged_keeps_the_choices(courier):
    MessagePreference.objects.create(courier=courier, muted_kinds=["broadcast", "reminder"])
    client = signed_in(courier)
    page = client.get(PAGE)
    initial = page.context["form"].initial["kinds"]
    client.post(SAVE, {"kinds": initial})
    preference = MessagePreference.objects.get(courier=courier)
    assert sorted(preference.muted_kinds) == ["broadcast", "reminder"]


def test_a_reply_stop_shows_everything_off_and_codes_still_come(courier, sms_outbox):
    stop_all(courier.phone)
    page = signed_in(courier).get(PAGE)
    assert page.context["form"].initial["kinds"] == []
    otp.send_code(courier.phone, "address", "device")
    assert len(sms_outbox) == 1


def test_the_form_is_post_only_and_needs_csrf(courier):
    assert signed_in(courier).get(SAVE).status_code == 405
    strict = signed_in(courier, enforce_csrf_checks=True)
    assert strict.post(SAVE, {"kinds": []}).status_code == 403
    assert not MessagePreference.objects.exists()


def test_a_signed_out_visitor_is_sent_to_sign_in(anonymous):
    assert anonymous.get(PAGE)["Location"].startswith("/me/signin/")
    anonymous.post(SAVE, {"kinds": []})
    assert not MessagePreference.objects.exists()


def test_the_last_messages_are_listed_but_never_a_code(courier, nanqiao_town, sms_outbox):
    notify(courier, "points_adjusted", {"change": "+5", "reason": "补录"}, event="p")
    other = factories.courier(nanqiao_town, name="另一位", phone="13911113333")
    notify(other, "points_adjusted", {"change": "+9", "reason": "别人的"}, event="p")
    code = otp.send_code(courier.phone, "address", "device")
    Message.objects.filter(event="login_code").update(courier=courier)  # even if it had one
    page = signed_in(courier).get(PAGE).content.decode()
    assert "您的积分调整+5分，原因：补录。" in page
    assert "别人的" not in page and code not in page and "登录验证码" not in page
