"""Issue 17, points and photo reports: a courier is told when staff confirm a service (with
the points it paid), adjust or reverse their points (with the reason), and when their photo
report is accepted, answered, resolved or rejected (with the reason) — once, in the
transaction of the change."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client

from activities import points, reports
from activities.claims import claim
from activities.models import PhotoReport, PointsEntry, ServiceRecord, VolunteerPost
from couriers.messaging import templates
from couriers.models import Courier, Message, MessagePreference
from couriers.privacy.personal_data import erase, find
from stations.models import SixI
from tests import factories

pytestmark = pytest.mark.django_db

ADMIN = "/admin/activities"
Status = PhotoReport.Status


def text(message: Message) -> str:
    return "【奉贤快递小哥】" + templates.get(message.template).render(message.params)


@pytest.fixture
def courier(nanqiao_town) -> Courier:
    return factories.courier(nanqiao_town, name="王小明")


# --- services ---------------------------------------------------------------------------------


@pytest.fixture
def held(nanqiao_town, courier):
    post = VolunteerPost.objects.create(
        title="路口值守", category=SixI.GOVERN, town=nanqiao_town, points_per_service=8
    )
    return claim(post, courier)


SERVICE_FORM = {"confirm": "1", "date": "2025-03-08", "hours": "2", "note": ""}


def test_a_confirmed_service_tells_the_points_it_paid(
    nanqiao_client, courier, held, sms_outbox, django_capture_on_commit_callbacks
):
    data = {"action": "confirm_service", "_selected_action": [held.pk], **SERVICE_FORM}
    with django_capture_on_commit_callbacks(execute=True):
        nanqiao_client.post(f"{ADMIN}/claim/", data)
    message = Message.objects.get()
    service = ServiceRecord.objects.get()
    assert (message.courier, message.template, message.event) == (
        courier,
        "service_confirmed",
        "service_confirmed",
    )
    assert message.params == {"post": "路口值守", "points": "8"}
    assert message.about == service and not message.urgent
    assert sms_outbox == [(courier.phone, text(message))]
    assert "获得8积分" in sms_outbox[0][1]
    nanqiao_client.post(f"{ADMIN}/claim/", data)  # the same day again: skipped
    assert Message.objects.count() == 1


def test_a_service_added_in_the_admin_tells_too(nanqiao_client, courier, held):
    response = nanqiao_client.post(
        f"{ADMIN}/servicerecord/add/",
        {"claim": held.pk, "date": "2025-03-10", "hours": "1.5", "note": ""},
    )
    assert response.status_code == 302
    assert Message.objects.get().about == ServiceRecord.objects.get()


# --- the ledger -------------------------------------------------------------------------------


def test_a_manual_adjustment_tells_the_change_and_the_reason(
    nanqiao_client, courier, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = nanqiao_client.post(
            f"{ADMIN}/pointsentry/add/",
            {"courier": courier.pk, "amount": "12", "reason": "线下活动补录"},
        )
    assert response.status_code == 302
    message = Message.objects.get()
    entry = PointsEntry.objects.get()
    assert (message.courier, message.template, message.event) == (
        courier,
        "points_adjusted",
        "points_adjusted",
    )
    assert message.params == {"change": "+12", "reason": "线下活动补录"}
    assert message.about == entry
    assert sms_outbox == [
        (courier.phone, "【奉贤快递小哥】您的积分调整+12分，原因：线下活动补录。")
    ]


def test_a_refused_deduction_tells_nobody(nanqiao_client, courier):
    with pytest.raises(points.PointsError):
        points.adjust(courier, -5, "扣分", None)  # the balance would go below zero
    assert not Message.objects.exists()


def test_a_staff_reversal_tells_the_reason(nanqiao_client, courier):
    entry = points.award(courier, 7, "活动签到", PointsEntry.Source.ACTIVITY)
    assert not Message.objects.exists()  # points earned are shown on 「我的」, not texted
    data = {"action": "reverse_entries", "_selected_action": [entry.pk]}
    nanqiao_client.post(f"{ADMIN}/pointsentry/", {**data, "confirm": "1", "reason": "登记错误"})
    message = Message.objects.get()
    assert message.params == {"change": "-7", "reason": "登记错误"}
    assert message.about == PointsEntry.objects.get(reverses=entry)
    nanqiao_client.post(f"{ADMIN}/pointsentry/", {**data, "confirm": "1", "reason": "登记错误"})
    assert Message.objects.count() == 1  # reversed once, told once


def test_an_opted_out_or_erased_courier_is_not_told_of_points(nanqiao_town, courier):
    MessagePreference.objects.create(courier=courier, muted_kinds=[templates.Kind.POINTS])
    points.adjust(courier, 5, "补录", None)
    gone = factories.courier(nanqiao_town, name="已注销")
    erase(find(gone.phone))
    gone.refresh_from_db()
    points.adjust(gone, 5, "补录", None)
    assert PointsEntry.objects.count() == 2 and not Message.objects.exists()


def test_a_rolled_back_adjustment_tells_nobody(courier):
    with pytest.raises(RuntimeError), transaction.atomic():
        points.adjust(courier, 5, "补录", None)
        raise RuntimeError
    assert not Message.objects.exists()


# --- photo reports ----------------------------------------------------------------------------


@pytest.fixture
def report(courier) -> PhotoReport:
    return PhotoReport.objects.create(
        courier=courier,
        town=courier.work_town,
        category=PhotoReport.Category.CITY,
        description="垃圾堆放",
        address="南桥镇解放东路88号路口东侧",
        photo=factories.photo("x.jpg"),
    )


def _handle(client: Client, report: PhotoReport, **fields):
    data = {"events-TOTAL_FORMS": 0, "events-INITIAL_FORMS": 0, **fields}
    response = client.post(f"{ADMIN}/photoreport/{report.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return response


def told() -> list[tuple[str, str]]:
    rows = Message.objects.filter(event="report_status").order_by("id")
    return [(m.params["status"], m.params["reply"]) for m in rows]


def test_each_step_of_a_report_is_told_to_the_reporter(
    nanqiao_client, courier, report, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _handle(nanqiao_client, report, next_status=Status.ACCEPTED)
    message = Message.objects.get()
    assert (message.courier, message.template, message.about) == (courier, "report_status", report)
    assert message.params["title"] == "市容环境·南桥镇解放东路88号路口"
    assert sms_outbox == [(courier.phone, text(message))]
    _handle(nanqiao_client, report, next_status=Status.IN_PROGRESS)  # no words: not told
    _handle(nanqiao_client, report, note="已联系城管，本周内清运")  # a reply
    _handle(nanqiao_client, report, note="已联系城管，本周内清运")  # the same again
    _handle(nanqiao_client, report, next_status=Status.RESOLVED, note="已清运完毕")
    assert told() == [
        ("已受理", "详情请看“我的”页面"),
        ("有新答复", "已联系城管，本周内清运"),
        ("已办结", "已清运完毕"),
    ]
    report.refresh_from_db()
    assert report.reply == "已清运完毕"


def test_a_rejected_report_tells_the_reason(nanqiao_client, courier, report):
    _handle(nanqiao_client, report, next_status=Status.REJECTED, note="不属于本镇管辖")
    assert told() == [("不予受理", "不属于本镇管辖")]


def test_a_muted_reporter_is_not_told(nanqiao, courier, report):
    MessagePreference.objects.create(courier=courier, muted_kinds=[templates.Kind.REPORT])
    reports.advance(report, Status.ACCEPTED, nanqiao)
    assert not Message.objects.exists()
