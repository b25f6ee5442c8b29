"""6I volunteer posts through the test client: the list with its filters and places left, a
post's page, claiming and withdrawing as a signed-in courier, full and inactive posts, query
counts, and simultaneous claims (PostgreSQL)."""

from __future__ import annotations

import pytest
from django.test import Client

from activities.claims import ClaimRefused, claim
from activities.models import Claim, VolunteerPost
from couriers.models import Courier
from stations.models import SixI
from tests import factories
from tests.concurrency import at_once, needs_postgresql
from tests.factories import courier_client

pytestmark = pytest.mark.django_db


def make_post(town, title: str = "南桥党群服务站值守", **fields) -> VolunteerPost:
    fields.setdefault("category", SixI.GOVERN)
    fields.setdefault("capacity", 5)
    return VolunteerPost.objects.create(title=title, town=town, **fields)


def page(client: Client, url: str, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def courier(nanqiao_town) -> Courier:
    return factories.courier(nanqiao_town, name="王小明")


@pytest.fixture
def post(nanqiao_town) -> VolunteerPost:
    return make_post(nanqiao_town, capacity=3, schedule="每周六上午 9:00-11:00")


# --- the list ---------------------------------------------------------------------------------


def test_the_list_shows_active_posts_with_places_left(anonymous, nanqiao_town, post):
    factories.courier(nanqiao_town, name="李四")
    claim(post, Courier.objects.get(name="李四"))
    make_post(nanqiao_town, "已停用的岗位", is_active=False)
    html = page(anonymous, "/posts/")
    assert post.title in html
    assert "还有 2 个名额（共 3 个）" in html
    assert "已停用的岗位" not in html


def test_a_full_post_is_marked_full_in_the_list(anonymous, nanqiao_town):
    full = make_post(nanqiao_town, "满员岗位", capacity=1)
    claim(full, factories.courier(nanqiao_town))
    html = page(anonymous, "/posts/")
    assert "满员岗位" in html and "名额已满" in html


def test_the_list_filters_by_category(anonymous, nanqiao_town):
    make_post(nanqiao_town, "理论宣讲", category=SixI.LEARN)
    make_post(nanqiao_town, "平安巡逻", category=SixI.SAFETY)
    html = page(anonymous, "/posts/", category=SixI.LEARN)
    assert "理论宣讲" in html and "平安巡逻" not in html


def test_the_list_filters_by_town(anonymous, nanqiao_town, xidu_town):
    make_post(nanqiao_town, "南桥岗位")
    make_post(xidu_town, "西渡岗位")
    html = page(anonymous, "/posts/", town=xidu_town.pk)
    assert "西渡岗位" in html and "南桥岗位" not in html


def test_the_list_filters_by_category_and_town_together(anonymous, nanqiao_town, xidu_town):
    make_post(nanqiao_town, "南桥理论", category=SixI.LEARN)
    make_post(nanqiao_town, "南桥公益", category=SixI.CHARITY)
    make_post(xidu_town, "西渡理论", category=SixI.LEARN)
    html = page(anonymous, "/posts/", category=SixI.LEARN, town=nanqiao_town.pk)
    assert "南桥理论" in html
    assert "南桥公益" not in html and "西渡理论" not in html


@pytest.mark.parametrize("params", [{"category": "nonsense"}, {"town": "abc"}, {"town": "999999"}])
def test_a_bad_filter_value_is_ignored_not_an_error(anonymous, post, params):
    assert post.title in page(anonymous, "/posts/", **params)


def test_the_list_says_so_when_nothing_matches(anonymous, post):
    assert "没有符合条件的岗位" in page(anonymous, "/posts/", category=SixI.HEALTH)


# --- a post's page ----------------------------------------------------------------------------


def test_the_post_page_shows_details_and_asks_a_visitor_to_sign_in(anonymous, post):
    html = page(anonymous, f"/posts/{post.pk}/")
    assert post.title in html and post.schedule in html
    assert "还有 3 个名额（共 3 个）" in html
    assert "登录后认领" in html and f"/me/signin/?next=/posts/{post.pk}/" in html
    assert 'id="claim"' not in html


def test_a_signed_in_courier_sees_the_claim_button(courier, post):
    html = page(courier_client(courier), f"/posts/{post.pk}/")
    assert 'id="claim"' in html and "登录后认领" not in html


def test_an_inactive_post_is_not_found(anonymous, courier, nanqiao_town):
    hidden = make_post(nanqiao_town, "停用岗位", is_active=False)
    assert anonymous.get(f"/posts/{hidden.pk}/").status_code == 404
    client = courier_client(courier)
    assert client.get(f"/posts/{hidden.pk}/").status_code == 404
    assert client.post(f"/posts/{hidden.pk}/claim/").status_code == 404
    assert not Claim.objects.exists()


def test_a_missing_post_is_not_found(anonymous):
    assert anonymous.get("/posts/999999/").status_code == 404


# --- claiming and withdrawing -----------------------------------------------------------------


def test_a_courier_claims_a_post(courier, post):
    client = courier_client(courier)
    response = client.post(f"/posts/{post.pk}/claim/", follow=True)
    assert response.redirect_chain == [(f"/posts/{post.pk}/", 302)]
    assert any("已认领" in m for m in messages_of(response))
    html = response.content.decode()
    assert "你已认领这个岗位" in html and "退出这个岗位" in html
    assert "还有 2 个名额（共 3 个）" in html
    only = Claim.objects.get()
    assert (only.post, only.courier, only.status) == (post, courier, Claim.Status.ACTIVE)


def test_claiming_twice_is_refused(courier, post):
    client = courier_client(courier)
    client.post(f"/posts/{post.pk}/claim/")
    response = client.post(f"/posts/{post.pk}/claim/", follow=True)
    assert response.status_code == 200
    assert any("你已认领这个岗位" in m for m in messages_of(response))
    assert Claim.objects.filter(post=post, courier=courier).count() == 1
    with pytest.raises(ClaimRefused, match="你已认领这个岗位"):
        claim(post, courier)


def test_withdrawing_then_claiming_again_works(courier, post):
    client = courier_client(courier)
    client.post(f"/posts/{post.pk}/claim/")
    response = client.post(f"/posts/{post.pk}/withdraw/", {"confirm": "1"}, follow=True)
    assert any("已退出" in m for m in messages_of(response))
    first = Claim.objects.get()
    assert first.status == Claim.Status.WITHDRAWN and first.withdrawn_at is not None
    assert "还有 3 个名额" in response.content.decode()

    client.post(f"/posts/{post.pk}/claim/")
    assert Claim.objects.filter(courier=courier, post=post).count() == 2
    assert Claim.objects.get(status=Claim.Status.ACTIVE).pk != first.pk


def test_withdrawing_without_a_claim_changes_nothing(courier, post):
    response = courier_client(courier).post(f"/posts/{post.pk}/withdraw/")
    assert response.status_code == 302 and response["Location"] == f"/posts/{post.pk}/"
    assert not Claim.objects.exists()


def test_a_full_post_refuses_a_claim_without_an_error(courier, nanqiao_town):
    full = make_post(nanqiao_town, "满员岗位", capacity=2)
    for _ in range(2):
        claim(full, factories.courier(nanqiao_town))
    client = courier_client(courier)
    html = page(client, f"/posts/{full.pk}/")
    assert "名额已满" in html and 'id="claim"' not in html
    response = client.post(f"/posts/{full.pk}/claim/", follow=True)
    assert response.status_code == 200
    assert any("名额已满" in m for m in messages_of(response))
    assert not Claim.objects.filter(courier=courier).exists()
    assert Claim.objects.filter(post=full, status=Claim.Status.ACTIVE).count() == 2


def test_a_withdrawn_place_can_be_taken_by_someone_else(courier, nanqiao_town):
    full = make_post(nanqiao_town, "满员岗位", capacity=1)
    first = factories.courier(nanqiao_town)
    claim(full, first)
    with pytest.raises(ClaimRefused, match="名额已满"):
        claim(full, courier)
    courier_client(first).post(f"/posts/{full.pk}/withdraw/", {"confirm": "1"})
    assert claim(full, courier).status == Claim.Status.ACTIVE


def test_a_visitor_who_claims_is_sent_to_sign_in(anonymous, post):
    response = anonymous.post(f"/posts/{post.pk}/claim/")
    assert response.status_code == 302
    assert response["Location"] == f"/me/signin/?next=/posts/{post.pk}/claim/"
    assert not Claim.objects.exists()


def test_a_visitor_who_withdraws_is_sent_to_sign_in(anonymous, post):
    response = anonymous.post(f"/posts/{post.pk}/withdraw/")
    assert response.status_code == 302 and response["Location"].startswith("/me/signin/")


def test_claiming_needs_a_post_request(courier, post):
    client = courier_client(courier)
    assert client.get(f"/posts/{post.pk}/claim/").status_code == 405
    assert client.get(f"/posts/{post.pk}/withdraw/").status_code == 405
    assert not Claim.objects.exists()


def test_a_deleted_courier_in_the_session_counts_as_signed_out(nanqiao_town, post):
    gone = factories.courier(nanqiao_town)
    client = courier_client(gone)
    gone.delete()
    response = client.post(f"/posts/{post.pk}/claim/")
    assert response.status_code == 302 and response["Location"].startswith("/me/signin/")


def test_the_claimed_post_is_listed_on_the_couriers_page(courier, post):
    client = courier_client(courier)
    client.post(f"/posts/{post.pk}/claim/")
    html = page(client, "/me/")
    assert post.title in html and f"/posts/{post.pk}/" in html


# --- query counts -----------------------------------------------------------------------------


def _grow(town, posts: int, claims_each: int, start: int) -> None:
    """More posts in every category, each with some active and some withdrawn claims."""
    community = factories.community(town)
    couriers = Courier.objects.bulk_create(
        Courier(name=f"小哥{n}", phone=factories.phone(60_000 + start + n), work_town=town)
        for n in range(claims_each + 1)
    )
    categories = list(SixI.values)
    for n in range(posts):
        new = make_post(
            town,
            f"岗位{start + n}",
            category=categories[n % len(categories)],
            capacity=claims_each + 2,
            community=community if n % 2 else None,
        )
        Claim.objects.bulk_create(
            Claim(post=new, courier=c, status=Claim.Status.ACTIVE) for c in couriers[:claims_each]
        )
        Claim.objects.create(post=new, courier=couriers[-1], status=Claim.Status.WITHDRAWN)


# The list: the town filter's choices, the page of posts with their claim counts, towns and
# communities (the session is not read: the list does not look the courier up); filtering by
# town adds the look-up of the chosen town. The post page: session, courier, the post with its
# count and relations, "mine".
@pytest.mark.parametrize(
    ("who", "url", "params", "queries"),
    [
        ("anonymous", "/posts/", {}, 2),
        ("courier", "/posts/", {}, 2),
        ("anonymous", "/posts/", {"category": SixI.LEARN, "town": "nanqiao"}, 3),
        ("anonymous", "post", {}, 1),
        ("courier", "post", {}, 4),
    ],
)
def test_post_pages_keep_a_constant_query_count(
    who, url, params, queries, nanqiao_town, xidu_town, courier, django_assert_num_queries
):
    client = courier_client(courier) if who == "courier" else Client()
    if params.get("town"):
        params = {**params, "town": nanqiao_town.pk}
    _grow(nanqiao_town, 3, 2, start=0)
    first = VolunteerPost.objects.order_by("pk").first()
    claim(first, courier)
    target = f"/posts/{first.pk}/" if url == "post" else url
    with django_assert_num_queries(queries):
        assert client.get(target, params).status_code == 200
    _grow(nanqiao_town, 40, 4, start=1_000)
    _grow(xidu_town, 20, 3, start=2_000)
    with django_assert_num_queries(queries):
        response = client.get(target, params)
    assert response.status_code == 200
    if url == "/posts/" and not params:
        assert len(response.context["posts"]) == 63


# --- simultaneous claims (PostgreSQL: real row locks, real parallel transactions) -------------


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_thirty_simultaneous_claims_fill_exactly_the_capacity(committed_db):
    town = factories.town("南桥镇")
    post = make_post(town, "热门岗位", capacity=5)
    couriers = [factories.courier(town, phone=factories.phone(80_000 + n)) for n in range(30)]
    results, problems = at_once([lambda who=who: claim(post, who) for who in couriers])
    assert len(results) == 5
    assert all(isinstance(p, ClaimRefused) for p in problems), problems
    assert len(problems) == 25
    assert all(str(p).startswith("名额已满。") for p in problems)
    assert Claim.objects.filter(post=post, status=Claim.Status.ACTIVE).count() == 5
    assert {c.courier_id for c in results} == set(
        Claim.objects.filter(post=post).values_list("courier_id", flat=True)
    )


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_one_courier_claiming_twice_at_once_gets_one_claim(committed_db):
    town = factories.town("南桥镇")
    post = make_post(town, "热门岗位", capacity=5)
    courier = factories.courier(town, phone=factories.phone(81_000))
    results, problems = at_once([lambda: claim(post, courier)] * 4)
    assert len(results) == 1
    assert [str(p) for p in problems] == ["你已认领这个岗位。"] * 3
    assert Claim.objects.filter(post=post, courier=courier).count() == 1
