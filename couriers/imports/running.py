"""Running one import job: check (preview) or import its file with the importer of its kind,
record progress where the admin's progress bar sees it, and log what it changed.

The inline path (small files) and the background task both call run_job().
"""

from __future__ import annotations

import psycopg
from django.contrib.admin.models import ADDITION, LogEntry
from django.db import connection
from django.utils import timezone

from couriers.imports.importers import IMPORTERS
from couriers.imports.sheet_import import ImportReport
from couriers.models import ImportJob


def run_job(job_id: int, data: bytes | None = None) -> ImportReport | None:
    job = ImportJob.objects.select_related("user").filter(pk=job_id).first()
    if job is None:  # removed while it waited (cleanup_imports): nothing left to do
        return None
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    if data is None:
        try:
            with job.file.open("rb") as handle:
                data = handle.read()
        except (FileNotFoundError, ValueError):  # ValueError: the job holds no file any more
            data = b""
    importer = IMPORTERS[job.kind](user=job.user)
    # A job reaches the import stage only through confirm_job(), once its warnings were accepted.
    importer.warnings_accepted = job.stage == ImportJob.Stage.IMPORT
    progress = ProgressWriter(job.pk)
    try:
        report = importer.run(
            data,
            job.filename,
            dry_run=job.stage == ImportJob.Stage.PREVIEW,
            progress=progress,
            audit_subject=job,
        )
    except Exception:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED, finished_at=timezone.now()
        )
        raise
    finally:
        progress.close()
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.DONE,
        report=report.to_dict(),
        finished_at=timezone.now(),
        rows_done=report.rows,
        rows_total=report.rows,
    )
    if report.written:
        _log(job, report)
    if job.stage == ImportJob.Stage.IMPORT or report.file_error:
        # The survey holds personal data: once imported, or refused as a whole, keep only the
        # report (a file the worker refused keeps its job, whose page says why).
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="")
    return report


class ProgressWriter:
    """Records a job's progress where the admin's progress bar can see it at once.

    While an import writes, its rows are inside one open transaction, invisible to other
    connections until the end; on PostgreSQL progress then goes through a second connection
    of its own. (SQLite allows one writer at a time, so there the bar moves only while
    checking.)
    """

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.side = None

    def __call__(self, done: int, total: int) -> None:
        if not connection.in_atomic_block:
            ImportJob.objects.filter(pk=self.job_id).update(rows_done=done, rows_total=total)
        elif connection.vendor == "postgresql":
            if self.side is None:
                self.side = psycopg.connect(**connection.get_connection_params(), autocommit=True)
            self.side.execute(
                f"UPDATE {ImportJob._meta.db_table} SET rows_done = %s, rows_total = %s "
                "WHERE id = %s",
                (done, total, self.job_id),
            )

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


def _log(job: ImportJob, report: ImportReport) -> None:
    """One admin history entry per import: who, which file, what it changed. (The audit entry
    is the engine's, written with the rows: SheetImporter.run.)"""
    LogEntry.objects.log_actions(
        user_id=job.user_id,
        queryset=[job],
        action_flag=ADDITION,
        single_object=True,
        change_message=f"导入“{job.filename}”：新增 {report.new}，更新 {report.updated}，"
        f"无变化 {report.unchanged}",
    )
