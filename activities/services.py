"""Recording a service done under a claim: it pays the post's points through the ledger."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from activities import points
from activities.models import Claim, PointsEntry, ServiceRecord
from couriers.messaging.notify import notify


def pay_service(service: ServiceRecord, by) -> None:
    """Award the post's points for a recorded service (once per service) and tell the courier;
    call inside the transaction that records the service."""
    post = service.claim.post
    entry = points.award(
        service.claim.courier,
        post.points_per_service,
        f"志愿服务：{post.title}（{service.date.month}月{service.date.day}日）",
        PointsEntry.Source.SERVICE,
        source_id=service.pk,
        by=by,
    )
    # In the caller's transaction: the message goes only if the service and its points stay.
    notify(
        service.claim.courier,
        "service_confirmed",
        {"post": post.title, "points": entry.amount if entry is not None else 0},
        event="service_confirmed",
        about=service,
    )


def record_service(claim: Claim, date, hours, note: str, by) -> ServiceRecord | None:
    """Record a service under a claim and pay it; None if that day is already recorded."""
    try:
        with transaction.atomic():
            service = ServiceRecord.objects.create(
                claim=claim, date=date, hours=hours, note=note, confirmed_by=by
            )
            pay_service(service, by)
            return service
    except IntegrityError:
        return None
