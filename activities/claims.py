"""Claiming and withdrawing volunteer posts, and their waiting lists. Capacity holds under
concurrent claims: the post's row is locked while places are counted, and the database allows
one live claim (held or waiting) per courier per post. A withdrawal hands the place to the first
courier waiting, in the same transaction, so no one else can slip into it in between."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from activities.models import Claim, VolunteerPost
from couriers.messaging.notify import notify
from couriers.models import Courier
from stations import geo
from stations.models import CheckinPoint

LIVE = Claim.LIVE


class ClaimRefused(Exception):
    """The message says why, in Chinese."""


def live_claim(post: VolunteerPost, courier: Courier) -> Claim | None:
    return Claim.objects.filter(post=post, courier=courier, status__in=LIVE).first()


def claim(post: VolunteerPost, courier: Courier, *, wait: bool = False) -> Claim:
    """A held place while there is one; when the post is full, a place on its waiting list if
    the courier asked for one (wait=True), otherwise refused."""
    with transaction.atomic():
        locked = VolunteerPost.objects.select_for_update().get(pk=post.pk)
        if not locked.is_active:
            raise ClaimRefused("这个岗位已停止认领。")
        existing = live_claim(locked, courier)
        if existing is not None:
            if existing.status == Claim.Status.WAITING:
                raise ClaimRefused("你已在这个岗位的候补名单中。")
            raise ClaimRefused("你已认领这个岗位。")
        taken = Claim.objects.filter(post=locked, status=Claim.Status.ACTIVE).count()
        status = Claim.Status.ACTIVE
        if taken >= locked.capacity:
            if not wait:
                raise ClaimRefused("名额已满。可以加入候补，有人退出时自动为你补上。")
            status = Claim.Status.WAITING
        try:
            with transaction.atomic():
                return Claim.objects.create(post=locked, courier=courier, status=status)
        except IntegrityError:
            raise ClaimRefused("你已认领这个岗位。") from None


def withdraw(post: VolunteerPost, courier: Courier) -> bool:
    """Leave the post (or its waiting list); a freed place goes to the first courier waiting."""
    with transaction.atomic():
        locked = VolunteerPost.objects.select_for_update().get(pk=post.pk)
        left = Claim.objects.filter(post=locked, courier=courier, status__in=LIVE).update(
            status=Claim.Status.WITHDRAWN, withdrawn_at=timezone.now()
        )
        if left:
            fill_places(locked)
        return bool(left)


def fill_places(post: VolunteerPost) -> list[Claim]:
    """Promote waiting couriers, first come first served, into free places. Call with the
    post's row locked (inside the caller's transaction)."""
    if not post.is_active:
        return []
    taken = Claim.objects.filter(post=post, status=Claim.Status.ACTIVE).count()
    free = post.capacity - taken
    if free <= 0:
        return []
    promoted = list(
        Claim.objects.filter(post=post, status=Claim.Status.WAITING)
        .exclude(courier__in=Courier.objects.erased())  # an anonymous shell never moves up
        .order_by("created_at", "id")[:free]
    )
    now = timezone.now()
    for waiting in promoted:
        waiting.status = Claim.Status.ACTIVE
        waiting.promoted_at = now
        waiting.save(update_fields=["status", "promoted_at"])
    tell_promoted(post, promoted)
    return promoted


def tell_promoted(post: VolunteerPost, promoted: list[Claim]) -> None:
    """Couriers just moved from the post's waiting list: told in the promoting transaction."""
    for waiting in promoted:
        notify(
            waiting.courier,
            "post_promoted",
            {"post": post.title, "time": post.schedule or "请看“我的”页面"},
            event="post_promoted",
            about=waiting,
        )


def refill(post: VolunteerPost) -> list[Claim]:
    """After staff raise the capacity or end claims: lock and promote."""
    with transaction.atomic():
        locked = VolunteerPost.objects.select_for_update().get(pk=post.pk)
        return fill_places(locked)


def with_waiting_position(claims):
    """Annotate `position`: 1 for the first courier waiting for that post, and so on."""
    ahead = (
        Claim.objects.filter(post=OuterRef("post"), status=Claim.Status.WAITING)
        .filter(
            Q(created_at__lt=OuterRef("created_at"))
            | Q(created_at=OuterRef("created_at"), id__lt=OuterRef("id"))
        )
        .order_by()
        .values("post")
        .annotate(n=Count("id"))
        .values("n")
    )
    return claims.annotate(position=Coalesce(Subquery(ahead), 0) + 1)


NEAR_M = 5_000  # "near" a check-in point: within a short ride


def suggest_posts(point: CheckinPoint, interests: list[str], count: int = 3) -> list[VolunteerPost]:
    """Posts with a place left near `point` (at it, in its town, or within NEAR_M), in the
    courier's 6I interests when they chose any; the nearest first."""
    posts = (
        VolunteerPost.objects.active()
        .with_claim_counts()
        .with_places()
        .select_related("town", "community", "checkin_point")
    )
    if interests:
        posts = posts.filter(category__in=interests)
    nearby = Q(town=point.town_id)
    has_coordinates = point.latitude is not None and point.longitude is not None
    if has_coordinates:
        nearby |= Q(checkin_point__latitude__isnull=False)
    ranked = []
    for post in posts.filter(nearby)[:200]:
        there = post.checkin_point
        metres = None
        if has_coordinates and there is not None and there.latitude is not None:
            metres = geo.distance_m(
                point.latitude, point.longitude, there.latitude, there.longitude
            )
        if post.town_id != point.town_id and (metres is None or metres > NEAR_M):
            continue
        post.distance_text = geo.format_distance(metres) if metres is not None else ""
        at_point = post.checkin_point_id == point.pk
        ranked.append(((not at_point, metres is None, metres or 0, post.pk), post))
    ranked.sort(key=lambda pair: pair[0])
    return [post for _key, post in ranked[:count]]
