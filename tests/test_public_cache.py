"""The page cache in front of public pages (fengxian/public_cache.py): anonymous visitors get
a stored copy for at most PUBLIC_PAGE_CACHE seconds; nothing personal is ever stored or served
across visitors; forms on cached pages are protected by the Origin check."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from activities.models import VolunteerPost
from fengxian.public_cache import cache_key
from stations.models import Station, StatusReport
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def page_cache_on(settings):
    settings.PUBLIC_PAGE_CACHE = 60
    cache.clear()


@pytest.fixture
def station(nanqiao_town) -> Station:
    return Station.objects.create(
        town=nanqiao_town,
        name="南桥骑乐融融驿站",
        address="测试路 1 号",
        latitude=30.918,
        longitude=121.474,
        open_24_hours=True,
    )


def queries(client: Client, url: str, **extra) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **extra)
    assert response.status_code == 200
    return len(captured), response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/stations/",
        "/stations/?lat=30.92&lng=121.47",
        "/posts/",
        "/activities/",
        "/partnerships/",
        "/stories/",
    ],
)
def test_an_anonymous_page_is_rendered_once_then_served_from_the_cache(url, station):
    first_count, first = queries(Client(), url)
    second_count, second = queries(Client(), url)
    assert second == first
    assert second_count == 1 < first_count  # the cache read (the database cache here)


def test_a_station_page_is_cached_and_its_report_buttons_need_no_token(station):
    url = f"/stations/{station.pk}/"
    _, html = queries(Client(), url)
    assert queries(Client(), url)[0] == 1
    assert "csrfmiddlewaretoken" not in html and f"/stations/{station.pk}/report/" in html


def test_an_entry_lives_no_longer_than_the_setting(settings, station):
    settings.PUBLIC_PAGE_CACHE = 45
    Client().get("/stations/")
    with connection.cursor() as cursor:
        cursor.execute("SELECT expires FROM fengxian_cache")
        (expires,) = cursor.fetchone()
    if isinstance(expires, str):
        expires = datetime.datetime.fromisoformat(expires)
    if timezone.is_naive(expires):
        expires = timezone.make_aware(expires, datetime.UTC)
    assert expires - timezone.now() <= datetime.timedelta(seconds=45)


def test_changes_show_once_the_entry_is_gone(station):
    Client().get("/stations/")
    Station.objects.filter(pk=station.pk).update(name="改名后的驿站")
    assert "改名后的驿站" not in Client().get("/stations/").content.decode()
    cache.delete(cache_key(Client().get("/stations/").wsgi_request))
    assert "改名后的驿站" in Client().get("/stations/").content.decode()


def test_signed_in_couriers_get_fresh_pages_and_theirs_are_never_stored(nanqiao_town, station):
    courier = factories.courier(nanqiao_town, name="王小明")
    client = Client()
    session = client.session
    session["courier_id"] = courier.pk
    session.save()
    post = VolunteerPost.objects.create(
        title="文明交通劝导", category="learn", town=nanqiao_town, capacity=3
    )
    url = f"/posts/{post.pk}/"
    client.get(url)
    assert client.get(url).status_code == 200
    assert not cache.get(cache_key(client.get(url).wsgi_request))
    # The courier's own view of the list is rendered every time, never read from the cache.
    Client().get("/posts/")  # an anonymous visitor fills the cache
    count, _ = queries(client, "/posts/")
    assert count > 1


def test_a_page_carrying_a_message_is_rendered_for_that_visitor(station):
    client = Client()
    response = client.get(f"/stations/{station.pk}/scan/", follow=True)
    assert "欢迎来到" in response.content.decode()
    # Nobody else sees that visitor's welcome, though the page is cached for them.
    assert "欢迎来到" not in Client().get(f"/stations/{station.pk}/").content.decode()
    assert "欢迎来到" not in Client().get(f"/stations/{station.pk}/").content.decode()


def test_a_post_page_with_a_form_token_is_never_stored(nanqiao_town):
    post = VolunteerPost.objects.create(
        title="文明交通劝导", category="learn", town=nanqiao_town, capacity=3
    )
    response = Client().get(f"/posts/{post.pk}/")
    if "csrfmiddlewaretoken" in response.content.decode():
        assert cache.get(cache_key(response.wsgi_request)) is None


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"HTTP_ORIGIN": "http://testserver"}, 302),
        ({"HTTP_REFERER": "http://testserver/stations/1/"}, 302),
        ({"HTTP_ORIGIN": "https://evil.example"}, 403),
        ({"HTTP_REFERER": "https://evil.example/page"}, 403),
        ({}, 403),
    ],
)
def test_status_reports_are_accepted_only_from_this_site(station, headers, status):
    response = Client().post(f"/stations/{station.pk}/report/", {"kind": "open"}, **headers)
    assert response.status_code == status
    assert StatusReport.objects.count() == (1 if status == 302 else 0)


def test_a_page_from_the_cache_carries_the_same_headers(station):
    rendered = Client().get("/stations/")
    cached = Client().get("/stations/")
    for header in (
        "Content-Type",
        "Content-Security-Policy",
        "X-Frame-Options",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "Permissions-Policy",
        "Content-Language",
    ):
        assert cached[header] == rendered[header], header
    assert not cached.cookies
