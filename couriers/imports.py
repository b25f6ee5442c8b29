"""The import workflow: an uploaded file becomes an ImportJob, is checked (preview), and on
confirmation is imported; large files go to the task worker, small ones run at once.

Views, the task and the management command all come through here.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.admin.models import ADDITION, LogEntry
from django.core.files.base import ContentFile
from django.utils import timezone

from couriers.enterprise_list import EnterpriseListImporter
from couriers.models import ImportJob
from couriers.scoping import ALL_TOWNS, staff_town_id
from couriers.sheet_import import ImportReport, SheetImporter
from couriers.spreadsheets import UnreadableFile, estimate_rows
from couriers.survey import CourierSurveyImporter

IMPORTERS: dict[str, type[SheetImporter]] = {
    ImportJob.Kind.COURIERS: CourierSurveyImporter,
    ImportJob.Kind.ENTERPRISES: EnterpriseListImporter,
}


def create_job(user, kind: str, filename: str, data: bytes) -> ImportJob:
    """Store the upload and check it: at once when small, else through the task worker."""
    town_id = staff_town_id(user)
    job = ImportJob.objects.create(
        kind=kind,
        filename=filename[:200],
        user=user,
        town_id=None if town_id is ALL_TOWNS else town_id,
        file=ContentFile(data, name=filename),
    )
    _dispatch(job, data, filename)
    return job


def confirm_job(job: ImportJob) -> None:
    """Import a job whose preview passed; the file is checked again against today's data."""
    job.stage, job.status = ImportJob.Stage.IMPORT, ImportJob.Status.QUEUED
    job.rows_done = 0
    job.save(update_fields=["stage", "status", "rows_done"])
    with job.file.open("rb") as handle:
        data = handle.read()
    _dispatch(job, data, job.filename)


def _dispatch(job: ImportJob, data: bytes, filename: str) -> None:
    try:
        rows = estimate_rows(data, filename)
    except UnreadableFile:
        rows = 0  # run_job reports it
    if rows <= settings.SHEET_IMPORT_INLINE_MAX_ROWS:
        run_job(job.pk, data)
    else:
        from couriers.tasks import process_import_job

        process_import_job.enqueue(job.pk)


def run_job(job_id: int, data: bytes | None = None) -> ImportReport:
    job = ImportJob.objects.select_related("user").get(pk=job_id)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    if data is None:
        with job.file.open("rb") as handle:
            data = handle.read()

    def progress(done: int, total: int) -> None:
        ImportJob.objects.filter(pk=job.pk).update(rows_done=done, rows_total=total)

    importer = IMPORTERS[job.kind](user=job.user)
    try:
        report = importer.run(
            data, job.filename, dry_run=job.stage == ImportJob.Stage.PREVIEW, progress=progress
        )
    except Exception:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED, finished_at=timezone.now()
        )
        raise
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.DONE, report=report.to_dict(), finished_at=timezone.now()
    )
    if report.written:
        _log(job, report)
    return report


def _log(job: ImportJob, report: ImportReport) -> None:
    """One admin history entry per import: who, which file, what it changed."""
    LogEntry.objects.log_actions(
        user_id=job.user_id,
        queryset=[job],
        action_flag=ADDITION,
        single_object=True,
        change_message=f"导入“{job.filename}”：新增 {report.new}，更新 {report.updated}，"
        f"无变化 {report.unchanged}",
    )
