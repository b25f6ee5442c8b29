"""The 拍贤城 workflow: 待受理 → 已受理 → 处置中 → 已办结, or 不予受理 with a reason. Each step is
recorded with who and when; accepting a report awards its points under the monthly cap."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from activities import points
from activities.models import PhotoReport, PhotoReportEvent, PointsEntry


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
