"""Import uploads are not kept past their use (issue 14, item 9): unconfirmed previews and
their files go after IMPORT_PREVIEW_RETENTION_HOURS, by `manage.py cleanup_imports` (a
systemd timer) and by the task worker after each import."""

from __future__ import annotations

import datetime
import os
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from couriers.imports.tasks import process_import_job
from couriers.models import ImportJob
from couriers.privacy.storage import private_storage
from tests.sheets import xlsx

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def job(user, hours_ago: float, stage=ImportJob.Stage.PREVIEW, status="done", file=True):
    made = ImportJob.objects.create(
        kind=ImportJob.Kind.COURIERS,
        filename="排摸.xlsx",
        user=user,
        stage=stage,
        status=status,
        file=ContentFile(b"PK survey", name="s.xlsx") if file else "",
    )
    at = timezone.now() - datetime.timedelta(hours=hours_ago)
    ImportJob.objects.filter(pk=made.pk).update(created_at=at)
    made.refresh_from_db()
    return made


def stored(made: ImportJob) -> bool:
    return private_storage().exists(made.file.name)


def sweep(*args) -> str:
    out = StringIO()
    call_command("cleanup_imports", *args, stdout=out)
    return out.getvalue()


def test_unconfirmed_previews_past_the_retention_go_with_their_files(nanqiao):
    old, recent = job(nanqiao, 25), job(nanqiao, 1)
    imported = job(nanqiao, 48, stage=ImportJob.Stage.IMPORT, file=False)
    old_file = old.file.name
    output = sweep()
    assert not ImportJob.objects.filter(pk=old.pk).exists()
    assert not private_storage().exists(old_file)
    assert ImportJob.objects.filter(pk=recent.pk).exists() and stored(recent)
    assert ImportJob.objects.filter(pk=imported.pk).exists()  # the record of an import stays
    assert "1 个" in output


def test_a_stuck_or_failed_import_keeps_its_record_but_not_its_file(nanqiao):
    stuck = job(nanqiao, 30, stage=ImportJob.Stage.IMPORT, status="queued")
    failed = job(nanqiao, 30, stage=ImportJob.Stage.IMPORT, status="failed")
    names = [stuck.file.name, failed.file.name]
    sweep()
    for made, name in zip((stuck, failed), names, strict=True):
        made.refresh_from_db()
        assert not made.file and not private_storage().exists(name)
        assert made.status == ImportJob.Status.FAILED  # no progress bar waiting forever


def test_a_dry_run_says_what_would_go_and_removes_nothing(nanqiao):
    old = job(nanqiao, 25)
    output = sweep("--dry-run")
    assert "排摸.xlsx" in output and "未删除" in output
    assert ImportJob.objects.filter(pk=old.pk).exists() and stored(old)


def test_the_retention_is_a_setting(nanqiao, settings):
    settings.IMPORT_PREVIEW_RETENTION_HOURS = 1
    two_hours = job(nanqiao, 2)
    sweep()
    assert not ImportJob.objects.filter(pk=two_hours.pk).exists()


def test_a_file_no_job_refers_to_goes_once_past_the_retention(settings):
    folder = Path(settings.PRIVATE_MEDIA_ROOT) / "imports" / "2025" / "01"
    folder.mkdir(parents=True)
    orphan, fresh = folder / "left-by-a-crash.xlsx", folder / "being-stored-now.xlsx"
    orphan.write_bytes(b"PK")
    fresh.write_bytes(b"PK")
    long_ago = (timezone.now() - datetime.timedelta(days=3)).timestamp()
    os.utime(orphan, (long_ago, long_ago))
    sweep()
    assert not orphan.exists() and fresh.exists()


def test_the_worker_sweeps_after_each_import(nanqiao, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    old = job(nanqiao, 25)
    new = ImportJob.objects.create(
        kind=ImportJob.Kind.COURIERS,
        filename="新.xlsx",
        user=nanqiao,
        file=ContentFile(
            xlsx([["姓名", "手机号码", "工作街镇"], ["张三", "13800000001", "南桥镇"]]),
            name="n.xlsx",
        ),
    )
    process_import_job.call(new.pk)  # what db_worker runs
    assert not ImportJob.objects.filter(pk=old.pk).exists()
    new.refresh_from_db()
    assert new.status == ImportJob.Status.DONE and new.report["new"] == 1


def test_a_job_removed_while_it_waited_is_skipped_by_the_worker(nanqiao):
    gone = job(nanqiao, 1, status="queued")
    gone.discard()
    process_import_job.call(gone.pk)  # no error: nothing left to do


def test_deploy_runs_the_sweeps_hourly():
    timer = (ROOT / "deploy/systemd/fengxian-housekeeping.timer").read_text()
    service = (ROOT / "deploy/systemd/fengxian-housekeeping.service").read_text()
    assert "OnCalendar=hourly" in timer and "Persistent=true" in timer
    assert "Type=oneshot" in service
    for command in ("cleanup_imports", "expire_vouchers", "clearsessions"):
        assert f"ExecStart=/srv/fengxian/venv/bin/python manage.py {command}\n" in service
    assert "ReadWritePaths=/srv/fengxian/private" in service
