"""Claiming and withdrawing volunteer posts. Capacity holds under concurrent claims: the post's
row is locked while places are counted, and the database allows one active claim per courier
per post."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from activities.models import Claim, VolunteerPost
from couriers.models import Courier


class ClaimRefused(Exception):
    """The message says why, in Chinese."""


def claim(post: VolunteerPost, courier: Courier) -> Claim:
    with transaction.atomic():
        locked = VolunteerPost.objects.select_for_update().get(pk=post.pk)
        if not locked.is_active:
            raise ClaimRefused("这个岗位已停止认领。")
        if Claim.objects.filter(post=locked, courier=courier, status=Claim.Status.ACTIVE).exists():
            raise ClaimRefused("你已认领这个岗位。")
        taken = Claim.objects.filter(post=locked, status=Claim.Status.ACTIVE).count()
        if taken >= locked.capacity:
            raise ClaimRefused("名额已满。")
        try:
            with transaction.atomic():
                return Claim.objects.create(post=locked, courier=courier)
        except IntegrityError:
            raise ClaimRefused("你已认领这个岗位。") from None


def withdraw(post: VolunteerPost, courier: Courier) -> bool:
    return bool(
        Claim.objects.filter(post=post, courier=courier, status=Claim.Status.ACTIVE).update(
            status=Claim.Status.WITHDRAWN, withdrawn_at=timezone.now()
        )
    )
