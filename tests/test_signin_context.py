"""Signing in with a reason: a signed-out courier sent to 「用手机号登录」 is told why (what he
was about to do) and how to register, before he is asked for a phone."""

from __future__ import annotations

import pytest
from django.urls import resolve

from couriers import identity
from tests import factories
from tests.test_checkin import PHONE, sent_code

pytestmark = pytest.mark.django_db


def signin_page(client, path: str) -> str:
    """Follow the redirect (or the sign-in link) from `path` to the sign-in page."""
    response = client.get(path, follow=True)
    assert response.request["PATH_INFO"] == "/me/signin/"
    return response.content.decode()


def explains_before_asking(html: str, reason: str) -> None:
    phone_field = html.index('name="phone"')
    assert reason in html and html.index(reason) < phone_field
    # How to register comes before the phone too: an unregistered courier must not type one first.
    assert html.index("还没有报到过？") < phone_field
    assert "扫描“小哥报到”海报上的二维码" in html
    assert 'href="/stations/"' in html


def test_a_photo_report_says_why_it_needs_signing_in(anonymous):
    explains_before_asking(signin_page(anonymous, "/reports/new/"), "拍贤城上报需要先登录")


def test_a_post_says_why_it_needs_signing_in(anonymous, nanqiao_town):
    html = signin_page(anonymous, "/me/signin/?next=/posts/1/")
    explains_before_asking(html, "认领志愿岗位需要先登录")
    html = signin_page(anonymous, "/me/signin/?next=/posts/1/claim/")
    explains_before_asking(html, "认领志愿岗位需要先登录")


def test_an_activity_says_why_it_needs_signing_in(anonymous, nanqiao_town):
    lesson = factories.activity(nanqiao_town)
    html = anonymous.get(f"/activities/{lesson.pk}/").content.decode()
    assert f"/me/signin/?next=/activities/{lesson.pk}/" in html
    explains_before_asking(
        signin_page(anonymous, f"/me/signin/?next=/activities/{lesson.pk}/"), "报名活动需要先登录"
    )
    explains_before_asking(
        signin_page(anonymous, f"/me/signin/?next=/activities/{lesson.pk}/signup/"),
        "报名活动需要先登录",
    )


def test_my_page_and_a_bare_sign_in_give_the_general_reason(anonymous):
    explains_before_asking(signin_page(anonymous, "/me/"), "登录后可以查看")
    explains_before_asking(signin_page(anonymous, "/me/signin/"), "登录后可以查看")
    # A next that is not one of ours gets the general reason, never text from the URL.
    html = signin_page(anonymous, "/me/signin/?next=https://evil.example/")
    explains_before_asking(html, "登录后可以查看")
    assert "evil" not in html.split("<form")[0]


# --- where signing in leads: never to a POST-only URL (it would answer 405) -------------------


def _sign_in_via(client, next_path: str, sms_outbox) -> str:
    client.post(f"/me/signin/?next={next_path}", {"phone": PHONE})
    response = client.post(f"/me/signin/?next={next_path}", {"code": sent_code(sms_outbox)})
    assert response.status_code == 302
    return response["Location"]


def test_signing_in_after_pressing_sign_up_lands_on_the_activity_page(
    anonymous, nanqiao_town, sms_outbox
):
    lesson = factories.activity(nanqiao_town)
    factories.courier(nanqiao_town, phone=PHONE)
    pressed = anonymous.post(f"/activities/{lesson.pk}/signup/")
    assert pressed["Location"] == f"/me/signin/?next=/activities/{lesson.pk}/signup/"
    landing = _sign_in_via(anonymous, f"/activities/{lesson.pk}/signup/", sms_outbox)
    assert landing == f"/activities/{lesson.pk}/"
    assert anonymous.get(landing).status_code == 200


def test_a_post_only_next_with_no_page_above_it_lands_on_my_page(
    anonymous, nanqiao_town, sms_outbox
):
    factories.courier(nanqiao_town, phone=PHONE)
    assert _sign_in_via(anonymous, "/me/leaderboard/", sms_outbox) == "/me/"


def test_the_post_only_check_reads_djangos_require_post():
    """identity.allowed_methods reads require_http_methods' closure: pinned here, so a Django
    upgrade that stores it elsewhere fails this test rather than sending couriers to a 405."""
    assert identity.allowed_methods(resolve("/activities/1/signup/").func) == {"POST"}
    assert identity.allowed_methods(resolve("/posts/1/claim/").func) == {"POST"}
    assert identity.allowed_methods(resolve("/activities/1/").func) is None
    assert identity.page_after_sign_in("/posts/1/claim/") == "/posts/1/"
    assert identity.page_after_sign_in("/me/edit/?x=1") == "/me/edit/?x=1"
