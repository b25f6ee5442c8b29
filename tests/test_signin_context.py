"""Signing in with a reason: a signed-out courier sent to 「用手机号登录」 is told why (what he
was about to do) and how to register, before he is asked for a phone."""

from __future__ import annotations

import pytest

from tests import factories

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
