"""Personas and shared fixtures.

- district: district staff (区级管理员), sees the whole district
- nanqiao: 南桥镇 staff (街镇管理员)
- xidu: 西渡街道 staff (街镇管理员)
- anonymous: a visitor who is not logged in
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from tests import factories


@pytest.fixture
def nanqiao_town(db):
    return factories.town("南桥镇")


@pytest.fixture
def xidu_town(db):
    return factories.town("西渡街道")


@pytest.fixture
def district(db):
    return factories.district_staff()


@pytest.fixture
def nanqiao(nanqiao_town):
    return factories.town_staff("nanqiao", nanqiao_town)


@pytest.fixture
def xidu(xidu_town):
    return factories.town_staff("xidu", xidu_town)


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def district_client(district) -> Client:
    return _client_for(district)


@pytest.fixture
def nanqiao_client(nanqiao) -> Client:
    return _client_for(nanqiao)


@pytest.fixture
def xidu_client(xidu) -> Client:
    return _client_for(xidu)


@pytest.fixture
def anonymous() -> Client:
    return Client()


@pytest.fixture
def committed_db(transactional_db):
    """A database whose writes really commit (for other threads and processes), with the
    reference data that migrations seed.

    Such tests are flushed afterwards, which also empties the seeded towns; put them (and the
    staff groups) back first.
    """
    from couriers.models import Town
    from couriers.roles import sync_role_groups
    from couriers.towns import seed_towns

    seed_towns(Town)
    sync_role_groups()
    # Flushing leaves the cache table alone: no page cached by an earlier test may be served.
    cache.clear()


@pytest.fixture(autouse=True)
def _pages_rendered_fresh(settings):
    # Tests see each page as rendered (and count its queries); the page cache in front of
    # anonymous pages is tested on its own in test_public_cache.py.
    settings.PUBLIC_PAGE_CACHE = 0


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    # Uploaded import files go to a temporary folder, not the project's media/.
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture(autouse=True)
def sms_outbox(settings):
    """Text messages sent during a test (the in-memory SMS backend)."""
    from couriers.messaging import backends

    settings.SMS_BACKEND = "couriers.messaging.backends.LocmemBackend"
    # The wall clock must not decide a test: no quiet hours and no sending rate unless a test
    # sets them (tests/test_outbox_sending.py does, with a frozen clock).
    settings.SMS_QUIET_HOURS = ""
    settings.SMS_RATE_PER_SECOND = 0
    backends.outbox.clear()
    return backends.outbox


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing costs ~0.5 s per user; tests need logins, not strong hashes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# Browser fixtures (Playwright + Debian chromium) for tests marked `browser`.
from tests.browser import browser, live_db, phone_page  # noqa: E402, F401

# Check-in fixtures (campaign, point, other_point) several modules share.
from tests.checkin_fixtures import campaign, other_point, point  # noqa: E402, F401
