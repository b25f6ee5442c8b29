"""Uploaded spreadsheets are kept no longer than they are of use: they hold personal data.

After IMPORT_PREVIEW_RETENTION_HOURS (default 24):
- a preview nobody confirmed is deleted with its file (it wrote nothing);
- a confirmed import keeps its job, the record of who imported what, but a file still attached
  (an import that failed or never ran) is deleted, and a job still waiting is marked failed;
- a file under imports/ that no job refers to (left by a crash between storing and recording
  it) is deleted.

`manage.py cleanup_imports` runs this (hourly, from deploy/systemd/fengxian-housekeeping
.timer), and so does the task worker after each import (couriers.imports.tasks): django-tasks
schedules nothing by itself.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging

from django.conf import settings
from django.utils import timezone

from couriers.models import ImportJob
from couriers.privacy.storage import private_storage

logger = logging.getLogger(__name__)
FOLDER = "imports"


@dataclasses.dataclass
class Sweep:
    previews: list[str] = dataclasses.field(default_factory=list)
    files: list[str] = dataclasses.field(default_factory=list)
    dry_run: bool = False

    def __str__(self) -> str:
        done = "将删除（未删除，--dry-run）" if self.dry_run else "已删除"
        return (
            f"{done}：过期未确认的导入预览 {len(self.previews)} 个，"
            f"不再需要的上传文件 {len(self.files)} 个。"
        )


def cutoff(now: datetime.datetime | None = None) -> datetime.datetime:
    hours = getattr(settings, "IMPORT_PREVIEW_RETENTION_HOURS", 24)
    return (now or timezone.now()) - datetime.timedelta(hours=hours)


def sweep(*, dry_run: bool = False, now: datetime.datetime | None = None) -> Sweep:
    """Remove (or, with dry_run, list) what is past the retention."""
    before = cutoff(now)
    result = Sweep(dry_run=dry_run)
    old = ImportJob.objects.filter(created_at__lt=before)
    for job in old.filter(stage=ImportJob.Stage.PREVIEW):
        result.previews.append(f"#{job.pk} {job.filename}")
        if job.file:
            result.files.append(job.file.name)
        if not dry_run:
            job.discard()
    for job in old.filter(stage=ImportJob.Stage.IMPORT).exclude(file=""):
        result.files.append(job.file.name)
        if not dry_run:
            job.file.delete(save=False)
            ImportJob.objects.filter(pk=job.pk).update(file="", status=ImportJob.Status.FAILED)
    for name in _orphans(before):
        result.files.append(name)
        if not dry_run:
            private_storage().delete(name)
    if result.previews or result.files:
        logger.info("cleanup_imports: %s", result)
    return result


def _orphans(before: datetime.datetime) -> list[str]:
    """Files under imports/ that no job refers to, last written before `before`."""
    storage = private_storage()
    if not storage.exists(FOLDER):
        return []
    held = set(ImportJob.objects.exclude(file="").values_list("file", flat=True))
    found, folders = [], [FOLDER]
    while folders:
        folder = folders.pop()
        subfolders, files = storage.listdir(folder)
        folders += [f"{folder}/{name}" for name in subfolders]
        for name in files:
            path = f"{folder}/{name}"
            if path not in held and storage.get_modified_time(path) < before:
                found.append(path)
    return found
