"""Error pages in production (issue 16, item 8): 404, 500, 403 and 400 are Chinese pages made
for a phone (with a viewport, a way home), and a form posted after its CSRF cookie expired
says 「页面已过期，请重新提交」, keeps what the courier typed and resubmits with one tap — but
only for the site's own forms: a post from another site gets the message and a link, never
its data echoed back with a fresh token."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.test import Client, RequestFactory
from django.views import defaults

from stations.checkin.flow import point_token
from stations.models import Campaign, CheckinPoint

VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'


def _is_mobile_chinese(html: str) -> None:
    assert VIEWPORT in html and 'lang="zh-CN"' in html
    assert "Not Found" not in html and "Forbidden" not in html and "Server Error" not in html
    assert 'href="/"' in html  # a way back home


def test_a_missing_station_answers_with_a_chinese_mobile_404_page(db, anonymous, settings):
    settings.DEBUG = False
    response = anonymous.get("/stations/9999/")
    html = response.content.decode()
    assert response.status_code == 404
    _is_mobile_chinese(html)
    assert "页面不存在" in html


def test_a_server_error_answers_with_a_chinese_mobile_500_page_without_any_context(db):
    response = defaults.server_error(RequestFactory().get("/"))
    html = response.content.decode()
    assert response.status_code == 500
    _is_mobile_chinese(html)
    assert "服务器出了点问题" in html


def test_a_refused_request_answers_with_a_chinese_mobile_403_page(db):
    response = defaults.permission_denied(RequestFactory().get("/"), PermissionDenied())
    html = response.content.decode()
    assert response.status_code == 403
    _is_mobile_chinese(html)
    assert "没有权限" in html


def test_a_bad_request_answers_with_a_chinese_mobile_400_page(db):
    response = defaults.bad_request(RequestFactory().get("/"), SuspiciousOperation())
    html = response.content.decode()
    assert response.status_code == 400
    _is_mobile_chinese(html)
    assert "请求有误" in html


@pytest.fixture
def start(nanqiao_town) -> str:
    Campaign.objects.create(
        name="2026年小哥报到季",
        starts_on=datetime.date(2026, 3, 1),
        ends_on=datetime.date(2026, 12, 31),
        is_current=True,
    )
    point = CheckinPoint.objects.create(
        name="南桥报到点", town=nanqiao_town, address="解放东路 1 号"
    )
    return f"/checkin/{point_token(point)}/"


def _typed(nanqiao_town) -> dict:
    return {
        "name": "王小明",
        "phone": "13912345678",
        "work_town": str(nanqiao_town.pk),
        "interests": ["learn", "health"],
        "agree_privacy": "on",
        "csrfmiddlewaretoken": "expired-token-from-yesterday",
    }


def test_a_check_in_posted_after_its_cookie_expired_keeps_what_was_typed(
    nanqiao_town, start, settings
):
    settings.DEBUG = False
    courier = Client(enforce_csrf_checks=True)  # no CSRF cookie: it expired
    response = courier.post(start, _typed(nanqiao_town), HTTP_ORIGIN="http://testserver")
    html = response.content.decode()
    assert response.status_code == 403
    _is_mobile_chinese(html)
    assert "页面已过期，请重新提交" in html and "DEBUG" not in html and "CSRF" not in html
    resubmit = re.search(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', html, re.S)
    assert resubmit.group(1) == start
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', resubmit.group(2))
    assert ("name", "王小明") in fields and ("phone", "13912345678") in fields
    assert ("interests", "learn") in fields and ("interests", "health") in fields
    token = dict(fields)["csrfmiddlewaretoken"]
    assert token != "expired-token-from-yesterday"
    assert f'href="{start}"' in html  # or start again from the form
    # One tap: the fresh token and cookie carry the same data through.
    again = courier.post(start, dict(_typed(nanqiao_town), csrfmiddlewaretoken=token))
    assert again.status_code == 302
    assert again["Location"].endswith("verify/")


def test_a_post_from_another_site_is_not_echoed_back_with_a_fresh_token(
    nanqiao_town, start, settings
):
    settings.DEBUG = False
    response = Client(enforce_csrf_checks=True).post(
        start, _typed(nanqiao_town), HTTP_ORIGIN="https://evil.example"
    )
    html = response.content.decode()
    assert response.status_code == 403
    assert "页面已过期，请重新提交" in html and f'href="{start}"' in html
    assert "王小明" not in html and "13912345678" not in html
    assert "csrfmiddlewaretoken" not in html
