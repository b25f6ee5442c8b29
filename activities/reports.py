"""The 拍贤城 workflow: 待受理 → 已受理 → 处置中 → 已办结, or 不予受理 with a reason. Each step is
recorded with who and when; accepting a report awards its points under the monthly cap. The
reporter is told by text message when it is accepted, resolved or rejected, and of each reply
staff write (in the same transaction as the step)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import transaction

from activities import points
from activities.models import PhotoReport, PhotoReportEvent, PointsEntry
from couriers.messaging.notify import notify

# The steps a courier is told of whether or not staff wrote something; 处置中 only with a reply.
TOLD = {
    PhotoReport.Status.ACCEPTED: "详情请看“我的”页面",
    PhotoReport.Status.RESOLVED: "感谢您的报告",
    PhotoReport.Status.REJECTED: "",  # a reason is required
}
REPLIED = "有新答复"


class WorkflowError(Exception):
    pass


def advance(report: PhotoReport, status: str, by, note: str = "") -> PhotoReport:
    with transaction.atomic():
        report = PhotoReport.objects.select_for_update().get(pk=report.pk)
        if status not in PhotoReport.NEXT[report.status]:
            raise WorkflowError(
                f"“{report.get_status_display()}”的报告不能改为“{PhotoReport.Status(status).label}”。"
            )
        if status == PhotoReport.Status.REJECTED and not note.strip():
            raise WorkflowError("不予受理必须写明原因。")
        report.status = status
        if note.strip():
            report.reply = note.strip()
        report.save(update_fields=["status", "reply", "updated_at"])
        PhotoReportEvent.objects.create(report=report, status=status, note=note.strip(), by=by)
        if status in TOLD:
            _tell(report, report.get_status_display(), note.strip() or TOLD[status], status)
        elif note.strip():
            _tell_reply(report, note.strip())
        if status == PhotoReport.Status.ACCEPTED:
            points.award(
                report.courier,
                settings.PHOTO_REPORT_POINTS,
                f"拍贤城报告被受理：{report.get_category_display()}",
                PointsEntry.Source.PHOTO,
                source_id=report.pk,
                by=by,
            )
    return report


def reply(report: PhotoReport, note: str) -> PhotoReport:
    """Staff answer the reporter without moving the report on: the reply is shown on 「我的」
    and sent to them (once per text: saving the same reply again tells nobody)."""
    note = note.strip()
    with transaction.atomic():
        report = PhotoReport.objects.select_for_update().get(pk=report.pk)
        if not note or note == report.reply:
            return report
        report.reply = note
        report.save(update_fields=["reply", "updated_at"])
        _tell_reply(report, note)
    return report


def title(report: PhotoReport) -> str:
    """What the courier recognises the report by, short: 市容环境·南桥路口."""
    return f"{report.get_category_display()}·{report.address[:12]}"


def _tell(report: PhotoReport, status: str, text: str, occasion: str) -> None:
    notify(
        report.courier,
        "report_status",
        {"title": title(report), "status": status, "reply": text},
        event="report_status",
        about=report,
        occasion=occasion,
    )


def _tell_reply(report: PhotoReport, note: str) -> None:
    # One message per reply text: a double submit or a re-save is the same occasion.
    digest = hashlib.sha256(note.encode()).hexdigest()[:16]
    _tell(report, REPLIED, note, f"reply {digest}")
