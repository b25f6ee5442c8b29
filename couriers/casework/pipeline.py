"""The party-member pipeline: a courier's stage history decides their political status.

The one rule, kept here and nowhere else: when a courier has a PartyStage history, the latest
stage (the highest, in the order 有入党意愿 → 入党积极分子 → 发展对象 → 预备党员 → 正式党员)
sets `Courier.political_status` (发展对象 counts as 入党积极分子) and is copied to
`Courier.party_stage` / `party_stage_since` for the lists and the dashboard.

A courier without a history keeps the political status set directly (survey import, the
courier form): the registry records what is known, and a history starts when staff record the
first stage. Once a history exists, the status changes only by recording a stage; the courier
admin refuses a direct change that disagrees with the latest stage, and a courier's own answer
(the check-in form) that disagrees is kept as a 待核实 item for their town's staff
(`answered_status`), never written over the history.

Stages move forward only: each stage's date is on or after the previous stage's date.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from couriers.models import Courier, PartyStage, PipelineStage, StatusCheck


def latest(stages: Iterable[tuple[str, datetime.date]]) -> tuple[str, datetime.date] | None:
    """The (stage, date) furthest along the pipeline, or None for no history."""
    ordered = sorted(stages, key=lambda item: PipelineStage(item[0]).rank)
    return ordered[-1] if ordered else None


def check_history(stages: Iterable[tuple[str, datetime.date]]) -> None:
    """Raise ValidationError unless the stages are distinct and their dates run forward."""
    seen: set[str] = set()
    previous: tuple[str, datetime.date] | None = None
    for stage, date in sorted(stages, key=lambda item: PipelineStage(item[0]).rank):
        if stage in seen:
            raise ValidationError(f"“{PipelineStage(stage).label}”登记了两次。")
        seen.add(stage)
        if previous and date < previous[1]:
            raise ValidationError(
                f"“{PipelineStage(stage).label}”的日期（{date}）早于"
                f"“{PipelineStage(previous[0]).label}”（{previous[1]}），请核对。"
            )
        previous = (stage, date)


def status_for(stage: str) -> str:
    return PipelineStage(stage).political_status


def answered_status(courier: Courier, answered: str, source: str = "小哥报到") -> str:
    """The status `courier` keeps after answering `answered` themselves (blank: no answer).

    Without a stage history the answer is taken. With one the history's status stays, and an
    answer that differs opens a 待核实 item (or updates the courier's open one) for the town's
    staff, who check and, if the courier is right, record the stage. Call it inside the
    transaction that saves the courier.
    """
    current = courier.political_status
    if not answered or courier.pk is None or not courier.party_stages.exists():
        return answered or current
    if answered != current:
        StatusCheck.objects.update_or_create(
            courier=courier,
            resolved_at=None,
            defaults={
                "answered": answered,
                "registered": current,
                "stage": courier.party_stage,
                "source": source,
                "raised_at": timezone.now(),
            },
        )
    return current


def sync(courier: Courier) -> Courier:
    """Bring the courier's stage fields and political status in line with the history."""
    history = list(courier.party_stages.values_list("stage", "date"))
    top = latest(history)
    if top is None:
        courier.party_stage, courier.party_stage_since = "", None
    else:
        courier.party_stage, courier.party_stage_since = top
        courier.political_status = status_for(top[0])
        if not courier.is_party_member and courier.is_mobile_party_member:
            raise ValidationError(
                "该小哥标记为流动党员，入党进程的最新阶段须为预备党员或正式党员。"
            )
    Courier.objects.filter(pk=courier.pk).update(
        party_stage=courier.party_stage,
        party_stage_since=courier.party_stage_since,
        political_status=courier.political_status,
    )
    return courier


@transaction.atomic
def record_stage(courier: Courier, stage: str, date: datetime.date, note: str = "") -> PartyStage:
    """Record that `courier` reached `stage` on `date`; the status follows."""
    courier = Courier.objects.select_for_update().get(pk=courier.pk)
    history = list(courier.party_stages.values_list("stage", "date"))
    current = latest(history)
    if current and PipelineStage(stage).rank <= PipelineStage(current[0]).rank:
        raise ValidationError(
            f"入党进程只能向前推进：当前已是“{PipelineStage(current[0]).label}”。"
        )
    check_history([*history, (stage, date)])
    entry = PartyStage.objects.create(courier=courier, stage=stage, date=date, note=note)
    sync(courier)
    return entry


def sync_many(courier_ids: Iterable[int]) -> None:
    """`sync` for many couriers at once (demo data, bulk changes): a few queries."""
    ids = list(courier_ids)
    history: dict[int, list[tuple[str, datetime.date]]] = {pk: [] for pk in ids}
    for courier_id, stage, date in PartyStage.objects.filter(courier_id__in=ids).values_list(
        "courier_id", "stage", "date"
    ):
        history[courier_id].append((stage, date))
    couriers = list(Courier.objects.filter(pk__in=ids))
    for courier in couriers:
        top = latest(history[courier.pk])
        courier.party_stage, courier.party_stage_since = top or ("", None)
        if top:
            courier.political_status = status_for(top[0])
    Courier.objects.bulk_update(
        couriers, ["party_stage", "party_stage_since", "political_status"], batch_size=500
    )
