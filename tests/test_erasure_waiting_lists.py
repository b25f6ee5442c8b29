"""An erased courier is never promoted from a waiting list (issue 16): erasure withdraws
their waiting places in posts and activities, through couriers' `courier_erased` signal (the
registry cannot import activities), and promotion skips an anonymous shell in any case."""

from __future__ import annotations

import pytest

from activities import claims
from activities.models import Claim, SignUp
from activities.programmes import signups
from couriers.models import Courier
from couriers.privacy import personal_data
from tests import factories
from tests.test_posts import make_post

pytestmark = pytest.mark.django_db


def _erase(courier: Courier) -> dict[str, int]:
    return personal_data.erase(personal_data.find(courier.phone))


@pytest.fixture
def people(nanqiao_town):
    holder, erased, next_in_line = (
        factories.courier(nanqiao_town, name=name) for name in ("张伟", "李强", "王芳")
    )
    return holder, erased, next_in_line


def test_erasure_withdraws_waiting_places_and_the_next_courier_moves_up(nanqiao_town, people):
    holder, erased, next_in_line = people
    post = make_post(nanqiao_town, capacity=1)
    activity = factories.activity(nanqiao_town, capacity=1)
    for courier in people:
        claims.claim(post, courier, wait=True)
        signups.sign_up(activity, courier)
    _erase(erased)

    assert Claim.objects.get(post=post, courier=erased).status == Claim.Status.WITHDRAWN
    assert SignUp.objects.get(activity=activity, courier=erased).status == (SignUp.Status.CANCELLED)
    claims.withdraw(post, holder)
    signups.cancel(activity, holder)
    assert Claim.objects.get(post=post, courier=next_in_line).status == Claim.Status.ACTIVE
    assert SignUp.objects.get(activity=activity, courier=next_in_line).status == (
        SignUp.Status.CONFIRMED
    )


def test_erasure_keeps_held_places_as_bare_facts(nanqiao_town, people):
    holder = people[0]
    post = make_post(nanqiao_town, capacity=1)
    claims.claim(post, holder)
    _erase(holder)
    assert Claim.objects.get(post=post, courier=holder).status == Claim.Status.ACTIVE


def test_promotion_skips_an_erased_courier_still_on_a_waiting_list(nanqiao_town, people):
    """A shell left waiting (erased before this hook existed, or by hand) is passed over."""
    holder, erased, next_in_line = people
    post = make_post(nanqiao_town, capacity=1)
    activity = factories.activity(nanqiao_town, capacity=1)
    for courier in people:
        claims.claim(post, courier, wait=True)
        signups.sign_up(activity, courier)
    Courier.objects.filter(pk=erased.pk).update(**personal_data.anonymous_courier_fields(erased))
    assert Courier.objects.erased().get() == erased

    claims.withdraw(post, holder)
    signups.cancel(activity, holder)
    assert Claim.objects.get(post=post, courier=erased).status == Claim.Status.WAITING
    assert Claim.objects.get(post=post, courier=next_in_line).status == Claim.Status.ACTIVE
    assert SignUp.objects.get(activity=activity, courier=erased).status == SignUp.Status.WAITING
    assert SignUp.objects.get(activity=activity, courier=next_in_line).status == (
        SignUp.Status.CONFIRMED
    )
