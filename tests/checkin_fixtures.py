"""Check-in fixtures shared by the check-in, 「我的」 and personal-data tests: the current
campaign and two check-in points in different towns. Made available to every test module by
tests/conftest.py, so modules use them by name without importing them."""

from __future__ import annotations

import datetime

import pytest

from stations.models import Campaign, CheckinPoint


@pytest.fixture
def campaign(db) -> Campaign:
    return Campaign.objects.create(
        name="2025年小哥报到季",
        starts_on=datetime.date(2025, 3, 1),
        ends_on=datetime.date(2025, 12, 31),
        is_current=True,
    )


@pytest.fixture
def point(nanqiao_town) -> CheckinPoint:
    return CheckinPoint.objects.create(
        name="南桥镇党群服务中心", town=nanqiao_town, address="解放东路 1 号"
    )


@pytest.fixture
def other_point(xidu_town) -> CheckinPoint:
    return CheckinPoint.objects.create(
        name="西渡街道党群服务站", town=xidu_town, address="西渡路 2 号"
    )
