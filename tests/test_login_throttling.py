"""Staff login throttling (django-axes, by username and address together), the staff idle
timeout, and the password rules, all through the real admin login and user forms."""

from __future__ import annotations

import datetime
import time

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext

from couriers import identity
from couriers.security.staff_sessions import SEEN_KEY, SEEN_RESOLUTION
from tests import factories

pytestmark = pytest.mark.django_db

ADMIN = "/" + settings.ADMIN_URL
LOGIN = ADMIN + "login/"
PASSWORD = "pw-for-tests-only"  # tests.factories.staff_user's
OFFICE = "10.20.30.40"
ELSEWHERE = "10.20.30.99"


@pytest.fixture
def staff(nanqiao_town) -> User:
    return factories.town_staff("nanqiao", nanqiao_town)


@pytest.fixture
def colleague(nanqiao_town) -> User:
    return factories.town_staff("nanqiao2", nanqiao_town)


def log_in(username: str, password: str, address: str = OFFICE, **headers):
    """A fresh browser posting the admin login form from `address`."""
    client = Client(REMOTE_ADDR=address, **headers)
    response = client.post(LOGIN, {"username": username, "password": password, "next": ADMIN})
    return client, response


def logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == ADMIN


def fail(username: str, times: int, address: str = OFFICE, **headers) -> None:
    """`times` wrong passwords. The first four get the form again with its error; the fifth
    locks the pair at once (django-axes answers it with the lockout page)."""
    for n in range(1, times + 1):
        _client, response = log_in(username, "wrong-password", address, **headers)
        if n < settings.AXES_FAILURE_LIMIT:
            assert response.status_code == 200 and "errornote" in response.content.decode()
        else:
            assert_locked_out(response)


def assert_locked_out(response) -> None:
    assert response.status_code == 429
    html = response.content.decode()
    assert "登录已暂停" in html and "连续多次输错密码" in html


# --- lockout ----------------------------------------------------------------------------------


def test_four_failures_do_not_lock_and_the_right_password_still_works(staff):
    fail(staff.username, settings.AXES_FAILURE_LIMIT - 1)
    _client, response = log_in(staff.username, PASSWORD)
    assert logged_in(response)


def test_five_failures_lock_the_username_from_that_address(staff):
    assert settings.AXES_FAILURE_LIMIT == 5
    fail(staff.username, 5)
    client, response = log_in(staff.username, PASSWORD)  # even the right password
    assert_locked_out(response)
    assert "_auth_user_id" not in client.session
    assert client.get(ADMIN).status_code == 302  # not signed in


def test_the_same_username_from_another_address_can_log_in(staff):
    fail(staff.username, 5)
    _client, response = log_in(staff.username, PASSWORD, ELSEWHERE)
    assert logged_in(response)


def test_the_address_behind_the_proxy_is_the_last_forwarded_hop(staff, settings):
    # All requests come from our proxy (one REMOTE_ADDR); the client is the last hop.
    proxy = "127.0.0.1"
    settings.TRUSTED_PROXIES = [proxy]
    fail(staff.username, 5, proxy, HTTP_X_FORWARDED_FOR=f"1.1.1.1, {OFFICE}")
    _client, locked = log_in(staff.username, PASSWORD, proxy, HTTP_X_FORWARDED_FOR=OFFICE)
    assert_locked_out(locked)
    # A forged first hop does not change who the client is.
    _client, forged = log_in(
        staff.username, PASSWORD, proxy, HTTP_X_FORWARDED_FOR=f"9.9.9.9, {OFFICE}"
    )
    assert_locked_out(forged)
    _client, other = log_in(staff.username, PASSWORD, proxy, HTTP_X_FORWARDED_FOR=ELSEWHERE)
    assert logged_in(other)


def test_another_username_from_the_same_address_can_log_in(staff, colleague):
    fail(staff.username, 5)
    _client, response = log_in(colleague.username, PASSWORD)
    assert logged_in(response)
    _client, still = log_in(staff.username, PASSWORD)
    assert_locked_out(still)


def test_an_unknown_username_is_locked_out_like_a_real_one(staff):
    fail("nobody", 5)
    _client, response = log_in("nobody", "anything")
    assert_locked_out(response)


def test_after_the_cool_off_login_works_again(staff):
    fail(staff.username, 5)
    assert_locked_out(log_in(staff.username, PASSWORD)[1])
    cool_off = datetime.timedelta(hours=settings.AXES_COOLOFF_TIME)
    assert cool_off >= datetime.timedelta(minutes=10)

    # Not yet: a minute before the cool-off ends.
    AccessAttempt.objects.update(
        attempt_time=F("attempt_time") - cool_off + datetime.timedelta(minutes=1)
    )
    assert_locked_out(log_in(staff.username, PASSWORD)[1])

    AccessAttempt.objects.update(attempt_time=F("attempt_time") - cool_off)
    _client, response = log_in(staff.username, PASSWORD)
    assert logged_in(response)


def test_a_success_resets_the_count(staff):
    fail(staff.username, 4)
    assert logged_in(log_in(staff.username, PASSWORD)[1])
    fail(staff.username, 4)  # four more: five in all, but not in a row
    assert logged_in(log_in(staff.username, PASSWORD)[1])


# --- idle staff sessions ----------------------------------------------------------------------


def staff_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    assert client.get(ADMIN).status_code == 200  # starts the idle clock
    return client


def set_seen(client: Client, seconds_ago: int) -> None:
    session = client.session
    session[SEEN_KEY] = int(time.time()) - seconds_ago
    session.save()


def test_an_idle_staff_session_is_signed_out_on_the_next_admin_request(staff):
    client = staff_client(staff)
    set_seen(client, settings.STAFF_IDLE_TIMEOUT_MINUTES * 60 + 5)
    response = client.get(ADMIN + "couriers/courier/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"])
    assert "长时间未操作" in page.content.decode()
    # Still signed out afterwards.
    assert client.get(ADMIN).status_code == 302


def test_an_active_staff_session_is_kept(staff):
    client = staff_client(staff)
    set_seen(client, settings.STAFF_IDLE_TIMEOUT_MINUTES * 60 - 60)
    assert client.get(ADMIN + "couriers/courier/").status_code == 200
    # The request counted as activity: the clock starts again.
    assert abs(client.session[SEEN_KEY] - time.time()) < 5
    assert client.get(ADMIN).status_code == 200


def _session_writes(queries) -> list[str]:
    table = "django_session"
    return [
        q["sql"]
        for q in queries
        if table in q["sql"] and q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))
    ]


def test_the_idle_check_does_not_write_the_session_on_every_request(staff):
    client = staff_client(staff)
    set_seen(client, 5)  # seen a moment ago, within the resolution
    seen = client.session[SEEN_KEY]
    with CaptureQueriesContext(connection) as queries:
        assert client.get(ADMIN + "couriers/courier/").status_code == 200
        assert client.get(ADMIN).status_code == 200
    assert _session_writes(queries.captured_queries) == []
    assert client.session[SEEN_KEY] == seen

    set_seen(client, SEEN_RESOLUTION + 5)  # a while ago: refreshed once
    with CaptureQueriesContext(connection) as queries:
        assert client.get(ADMIN).status_code == 200
    assert len(_session_writes(queries.captured_queries)) == 1
    assert client.session[SEEN_KEY] > seen


def test_a_couriers_session_on_public_pages_is_unaffected(nanqiao_town):
    courier = factories.courier(nanqiao_town, name="王小明", phone="13912345678")
    client = Client()
    session = client.session
    session[identity.SESSION_KEY] = courier.pk
    # Even an old idle stamp (say, left by staff on a shared phone) does not sign a courier out.
    session[SEEN_KEY] = int(time.time()) - 24 * 3600
    session.save()
    response = client.get("/me/")
    assert response.status_code == 200 and "王小明" in response.content.decode()
    assert client.session[identity.SESSION_KEY] == courier.pk
    # Nor does a look at the admin login page.
    assert client.get(LOGIN).status_code == 200
    assert client.get("/me/").status_code == 200


# --- password rules ---------------------------------------------------------------------------


@pytest.fixture
def superuser_client() -> Client:
    user = User.objects.create_superuser("root", password=PASSWORD)
    client = Client()
    client.force_login(user)
    return client


def _inline_management(client: Client, url: str) -> dict:
    data = {}
    for formset in client.get(url).context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name, field in management.fields.items():
            data[management.add_prefix(name)] = management.initial.get(name, field.initial)
    return data


WEAK = [
    ("Ab3$efgh", "12"),  # 8 characters; the message names the minimum, 12
    ("Fx-2025-abc", "12"),  # 11 characters
    ("password1234", "太常见"),
    ("1qaz2wsx3edc", "太常见"),
    ("202512345678", "只包含数字"),
]


@pytest.mark.parametrize(("password", "why"), WEAK)
def test_a_weak_password_is_refused_when_adding_staff(superuser_client, password, why):
    url = ADMIN + "auth/user/add/"
    data = {
        "username": "newstaff",
        "usable_password": "true",
        "password1": password,
        "password2": password,
        **_inline_management(superuser_client, url),
    }
    response = superuser_client.post(url, data)
    assert response.status_code == 200
    assert why in response.content.decode()
    assert not User.objects.filter(username="newstaff").exists()


def test_a_strong_password_is_accepted_when_adding_staff(superuser_client):
    url = ADMIN + "auth/user/add/"
    password = "Nanqiao-Staff-2025!"
    data = {
        "username": "newstaff",
        "first_name": "新同事",  # every staff account has a display name (issue 16)
        "usable_password": "true",
        "password1": password,
        "password2": password,
        **_inline_management(superuser_client, url),
    }
    response = superuser_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert User.objects.get(username="newstaff").check_password(password)


@pytest.mark.parametrize(("password", "why"), [*WEAK, ("nanqiao12345", "相似")])
def test_a_weak_password_is_refused_when_changing_one(superuser_client, staff, password, why):
    url = ADMIN + f"auth/user/{staff.pk}/password/"
    response = superuser_client.post(url, {"password1": password, "password2": password})
    assert response.status_code == 200
    assert why in response.content.decode()
    staff.refresh_from_db()
    assert staff.check_password(PASSWORD)


def test_a_strong_password_change_is_accepted(superuser_client, staff):
    url = ADMIN + f"auth/user/{staff.pk}/password/"
    new = "Xidu-Office-Key-77"
    response = superuser_client.post(url, {"password1": new, "password2": new})
    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.check_password(new)


def test_staff_changing_their_own_password_follow_the_same_rules(staff):
    client = Client()
    client.force_login(staff)
    url = ADMIN + "password_change/"
    short = "Short-pw-1"
    response = client.post(
        url, {"old_password": PASSWORD, "new_password1": short, "new_password2": short}
    )
    assert response.status_code == 200 and "12" in response.context["form"].errors.as_text()
    staff.refresh_from_db()
    assert staff.check_password(PASSWORD)


def test_the_too_short_message_is_in_chinese(superuser_client, staff):
    url = ADMIN + f"auth/user/{staff.pk}/password/"
    response = superuser_client.post(url, {"password1": "Fx-2025-abc", "password2": "Fx-2025-abc"})
    errors = response.context["form"].errors.as_text()
    assert "12" in errors and "too short" not in errors
