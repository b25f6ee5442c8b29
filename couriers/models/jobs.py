"""Import jobs: each uploaded spreadsheet on its way in, with its progress and report."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from couriers.models.registry import Town
from couriers.privacy.storage import private_storage
from couriers.scoping import TownScopedQuerySet


def _import_upload_path(job: ImportJob, filename: str) -> str:
    return f"imports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{Path(filename).suffix.lower()}"


class ImportJobQuerySet(TownScopedQuerySet):
    def waiting(self) -> ImportJobQuerySet:
        return self.filter(status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING])


class ImportJob(models.Model):
    """One uploaded spreadsheet on its way in: checked (preview), then imported on confirmation.

    Large files are processed by a task worker; the job records progress for the admin's
    progress bar and keeps the final report. It is also the record of who imported what.
    """

    class Kind(models.TextChoices):
        COURIERS = "couriers", _("排摸登记表（快递小哥）")
        ENTERPRISES = "enterprises", _("企业网点名单")
        STATIONS = "stations", _("骑乐融融站点名单")
        CHECKIN_POINTS = "checkin_points", _("小哥报到点名单")

    class Stage(models.TextChoices):
        PREVIEW = "preview", _("校验预览")
        IMPORT = "import", _("正式导入")

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("处理中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("出错")

    kind = models.CharField(_("表格类型"), max_length=20, choices=Kind.choices)
    file = models.FileField(_("文件"), upload_to=_import_upload_path, storage=private_storage)
    filename = models.CharField(_("文件名"), max_length=200)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="import_jobs",
        verbose_name=_("导入人"),
    )
    town = models.ForeignKey(
        Town,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="import_jobs",
        verbose_name=_("街镇"),
        help_text=_("导入人所属街镇；区级为空"),
    )
    stage = models.CharField(_("阶段"), max_length=8, choices=Stage.choices, default=Stage.PREVIEW)
    status = models.CharField(
        _("状态"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    rows_done = models.PositiveIntegerField(_("已处理行数"), default=0)
    rows_total = models.PositiveIntegerField(_("总行数"), default=0)
    report = models.JSONField(_("结果"), default=dict, blank=True)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    town_lookup = "town"
    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("表格导入记录")
        verbose_name_plural = _("表格导入记录")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.filename}"

    @property
    def percent(self) -> int:
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0

    @property
    def is_waiting(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    def discard(self) -> None:
        """Delete the job and its uploaded file: a refused upload, an unconfirmed preview."""
        self.file.delete(save=False)
        self.delete()
