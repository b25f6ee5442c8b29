"""Full 6I posts are no dead end (issue 16, item 14): 「只看有名额」 in the list, a waiting list
with promotion in the withdrawing transaction, a confirmation before 「退出这个岗位」, and after
claiming, where to go, whom to contact and when service is confirmed."""

from __future__ import annotations

import pytest

from activities.claims import ClaimRefused, claim, withdraw
from activities.models import Claim
from stations.models import CheckinPoint
from tests import factories
from tests.concurrency import at_once, needs_postgresql
from tests.factories import courier_client
from tests.test_posts import make_post, messages_of, page

pytestmark = pytest.mark.django_db


@pytest.fixture
def full_post(nanqiao_town):
    post = make_post(nanqiao_town, "满员岗位", capacity=1)
    claim(post, factories.courier(nanqiao_town, name="先来的"))
    return post


# --- 只看有名额 ---------------------------------------------------------------------------------


def test_only_open_posts_are_listed_when_the_courier_asks_for_them(anonymous, full_post):
    make_post(full_post.town, "有空位的岗位", capacity=3)
    everything = page(anonymous, "/posts/")
    assert "满员岗位" in everything and "有空位的岗位" in everything
    assert "只看有名额" in everything
    only_open = page(anonymous, "/posts/", open="on")
    assert "有空位的岗位" in only_open and "满员岗位" not in only_open


# --- the waiting list ---------------------------------------------------------------------------


def test_a_courier_joins_the_waiting_list_of_a_full_post(nanqiao_town, full_post):
    late = factories.courier(nanqiao_town, name="后来的")
    client = courier_client(late)
    html = page(client, f"/posts/{full_post.pk}/")
    assert 'id="wait"' in html and "加入候补" in html
    response = client.post(f"/posts/{full_post.pk}/claim/", {"wait": "1"}, follow=True)
    assert any("候补名单" in m for m in messages_of(response))
    assert "你在候补名单第 1 位" in response.content.decode()
    assert Claim.objects.get(courier=late).status == Claim.Status.WAITING
    assert "候补第 1 位" in page(client, "/me/")


def test_a_full_post_without_asking_to_wait_is_still_refused(nanqiao_town, full_post):
    with pytest.raises(ClaimRefused, match="名额已满"):
        claim(full_post, factories.courier(nanqiao_town))
    assert Claim.objects.filter(post=full_post).count() == 1


def test_waiting_twice_is_refused(nanqiao_town, full_post):
    late = factories.courier(nanqiao_town)
    claim(full_post, late, wait=True)
    with pytest.raises(ClaimRefused, match="候补名单"):
        claim(full_post, late, wait=True)


def test_a_withdrawal_promotes_the_first_courier_waiting_in_the_same_step(nanqiao_town, full_post):
    holder = Claim.objects.get(post=full_post).courier
    first = factories.courier(nanqiao_town, name="候补一")
    second = factories.courier(nanqiao_town, name="候补二")
    claim(full_post, first, wait=True)
    claim(full_post, second, wait=True)
    assert "你在候补名单第 2 位" in page(courier_client(second), f"/posts/{full_post.pk}/")

    assert withdraw(full_post, holder)
    promoted = Claim.objects.get(courier=first, post=full_post)
    assert promoted.status == Claim.Status.ACTIVE and promoted.promoted_at is not None
    assert Claim.objects.get(courier=second).status == Claim.Status.WAITING
    assert Claim.objects.filter(post=full_post, status=Claim.Status.ACTIVE).count() == 1
    assert "由候补转为正式认领" in page(courier_client(first), f"/posts/{full_post.pk}/")
    assert "你在候补名单第 1 位" in page(courier_client(second), f"/posts/{full_post.pk}/")


def test_leaving_the_waiting_list_promotes_nobody_and_keeps_the_order(nanqiao_town, full_post):
    first = factories.courier(nanqiao_town)
    second = factories.courier(nanqiao_town)
    claim(full_post, first, wait=True)
    claim(full_post, second, wait=True)
    assert withdraw(full_post, first)
    assert Claim.objects.filter(post=full_post, status=Claim.Status.ACTIVE).count() == 1
    assert Claim.objects.get(courier=second, post=full_post).status == Claim.Status.WAITING


def test_staff_raising_the_capacity_promotes_the_waiting(district_client, nanqiao_town, full_post):
    waiting = factories.courier(nanqiao_town)
    claim(full_post, waiting, wait=True)
    response = district_client.post(
        f"/admin/activities/volunteerpost/{full_post.pk}/change/",
        {
            "title": full_post.title,
            "category": full_post.category,
            "town": nanqiao_town.pk,
            "capacity": 2,
            "points_per_service": 5,
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Claim.objects.get(courier=waiting).status == Claim.Status.ACTIVE


# --- confirm before leaving -------------------------------------------------------------------


def test_leaving_a_post_asks_for_confirmation_first(nanqiao_town, full_post):
    holder = Claim.objects.get(post=full_post).courier
    client = courier_client(holder)
    html = page(client, f"/posts/{full_post.pk}/")
    assert "退出这个岗位" in html and 'name="confirm"' not in html

    response = client.post(f"/posts/{full_post.pk}/withdraw/")
    assert response.status_code == 302
    assert response["Location"] == f"/posts/{full_post.pk}/?withdraw=1#withdraw"
    assert Claim.objects.get(courier=holder).status == Claim.Status.ACTIVE

    question = page(client, f"/posts/{full_post.pk}/", withdraw="1")
    assert "确定退出这个岗位吗" in question and "不退出，返回" in question
    client.post(f"/posts/{full_post.pk}/withdraw/", {"confirm": "1"})
    assert Claim.objects.get(courier=holder).status == Claim.Status.WITHDRAWN


# --- after claiming ---------------------------------------------------------------------------


def test_after_claiming_the_page_says_where_to_go_whom_to_call_and_when_it_is_confirmed(
    nanqiao_town,
):
    point = CheckinPoint.objects.create(
        name="南桥镇党群服务中心",
        town=nanqiao_town,
        address="南桥镇解放东路 100 号",
        contact_name="陈老师",
        contact_phone="021-57180000",
    )
    post = make_post(nanqiao_town, checkin_point=point, schedule="每周六上午 9:00-11:00")
    client = courier_client(factories.courier(nanqiao_town))
    response = client.post(f"/posts/{post.pk}/claim/", follow=True)
    html = response.content.decode()
    assert "到岗须知" in html
    assert "南桥镇党群服务中心（南桥镇解放东路 100 号）" in html
    assert "陈老师 021-57180000" in html
    assert "每周六上午 9:00-11:00" in html
    assert "南桥镇工作人员登记确认" in html


def test_a_post_without_a_point_still_tells_the_courier_who_will_call(nanqiao_town):
    post = make_post(nanqiao_town)
    client = courier_client(factories.courier(nanqiao_town))
    html = client.post(f"/posts/{post.pk}/claim/", follow=True).content.decode()
    assert "具体地点由工作人员告知" in html
    assert "南桥镇工作人员会通过你登记的手机号联系你" in html


# --- simultaneous withdrawals and claims (PostgreSQL) -----------------------------------------


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_freed_place_goes_to_the_waiting_list_not_to_a_simultaneous_claim(committed_db):
    town = factories.town("南桥镇")
    post = make_post(town, "热门岗位", capacity=3)
    holders = [factories.courier(town, phone=factories.phone(82_000 + n)) for n in range(3)]
    for holder in holders:
        claim(post, holder)
    waiting = [factories.courier(town, phone=factories.phone(82_100 + n)) for n in range(3)]
    for courier in waiting:
        claim(post, courier, wait=True)
    newcomers = [factories.courier(town, phone=factories.phone(82_200 + n)) for n in range(6)]
    calls = [lambda who=who: withdraw(post, who) for who in holders]
    calls += [lambda who=who: claim(post, who) for who in newcomers]
    _results, problems = at_once(calls)
    assert all(isinstance(p, ClaimRefused) for p in problems), problems
    active = set(
        Claim.objects.filter(post=post, status=Claim.Status.ACTIVE).values_list(
            "courier_id", flat=True
        )
    )
    assert active == {c.pk for c in waiting}
    assert len(problems) == 6
