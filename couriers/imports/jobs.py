"""The import workflow: an uploaded file becomes an ImportJob, is checked (preview), and on
confirmation is imported; large files go to the task worker, small ones run at once.

A file that cannot be read never becomes a job: the whole-file checks run before anything is
stored, and a small file refused while its rows are checked is deleted with its job at once
(UnreadableFile tells the view why). The work itself is running.run_job().
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.base import ContentFile

from couriers.imports.running import run_job
from couriers.imports.spreadsheets import UnreadableFile, check_file, estimate_rows
from couriers.imports.tasks import process_import_job
from couriers.models import ImportJob
from couriers.scoping import ALL_TOWNS, staff_town_id


def create_job(user, kind: str, filename: str, data: bytes) -> ImportJob:
    """Store the upload and check it: at once when small, else through the task worker.

    Raises UnreadableFile, leaving no job and no file, when the file cannot be imported."""
    check_file(data, filename)
    town_id = staff_town_id(user)
    job = ImportJob.objects.create(
        kind=kind,
        filename=filename[:200],
        user=user,
        town_id=None if town_id is ALL_TOWNS else town_id,
        file=ContentFile(data, name=filename),
    )
    try:
        report = _dispatch(job, data, filename)
    except BaseException:
        job.discard()
        raise
    if report is not None and report.file_error:
        job.discard()
        raise UnreadableFile(report.file_error)
    return job


class WarningsNotAccepted(Exception):
    """The preview warned (an unknown column that looks like data …) and the user did not
    acknowledge it: nothing is imported on a guess."""


def confirm_job(job: ImportJob, warnings_accepted: bool = False) -> None:
    """Import a job whose preview passed; the file is checked again against today's data.

    A preview with warnings is imported only once the user acknowledged them (the import then
    runs with the importer's `warnings_accepted`, see running.run_job)."""
    if (job.report or {}).get("warnings") and not warnings_accepted:
        raise WarningsNotAccepted
    job.stage, job.status = ImportJob.Stage.IMPORT, ImportJob.Status.QUEUED
    job.rows_done = 0
    job.save(update_fields=["stage", "status", "rows_done"])
    with job.file.open("rb") as handle:
        data = handle.read()
    _dispatch(job, data, job.filename)


def _dispatch(job: ImportJob, data: bytes, filename: str):
    """Run the job now (returning its report) or queue it for the worker (returning None)."""
    if estimate_rows(data, filename) <= settings.SHEET_IMPORT_INLINE_MAX_ROWS:
        return run_job(job.pk, data)
    process_import_job.enqueue(job.pk)
    return None
