"""Spreadsheet import in the admin: upload → preview → confirm, with a progress bar for files
that go to the task worker, and a downloadable template. Reused by every admin that imports a
sheet: set `import_kind` to an `ImportJob.Kind`."""

from __future__ import annotations

import io

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from couriers.imports.importers import IMPORTERS
from couriers.imports.jobs import WarningsNotAccepted, confirm_job, create_job
from couriers.imports.sheet_import import ImportReport
from couriers.imports.spreadsheets import ACCEPTED, UnreadableFile
from couriers.imports.template import build_template
from couriers.models import ImportJob
from couriers.scoping import staff_object_or_404

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NOT_ACKNOWLEDGED = "未导入：请先阅读页面顶部的提醒，勾选“我已阅读以上提醒，确认导入”后再确认。"


class UploadForm(forms.Form):
    file = forms.FileField(
        label="表格文件",
        help_text="Excel（.xlsx / .xlsm / .xls）、.ods 或 CSV（UTF-8 / GB18030 编码）",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPTED}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.SHEET_IMPORT_MAX_BYTES:
            raise forms.ValidationError("文件太大（超过 50 MB），请拆分后分批导入。")
        return upload


class SheetImportMixin:
    """ModelAdmin mixin adding import/, import/<job>/ and import/template/ views."""

    import_kind: str = ""
    change_list_template = "admin/couriers/change_list_sheet_import.html"

    def has_import_permission(self, request) -> bool:
        opts = self.model._meta
        return request.user.has_perm(f"{opts.app_label}.import_{opts.model_name}")

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name=f"{prefix}_import"),
            path(
                "import/template/",
                wrap(self.import_template_view),
                name=f"{prefix}_import_template",
            ),
            path("import/<int:job_id>/", wrap(self.import_job_view), name=f"{prefix}_import_job"),
            path(
                "import/<int:job_id>/progress/",
                wrap(self.import_progress_view),
                name=f"{prefix}_import_progress",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "has_import_permission": self.has_import_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def _check_import(self, request) -> None:
        if not self.has_import_permission(request):
            raise PermissionDenied

    def _job(self, request, job_id: int) -> ImportJob:
        self._check_import(request)
        jobs = ImportJob.objects.filter(kind=self.import_kind)
        if not request.user.is_superuser:
            jobs = jobs.filter(user=request.user)
        return staff_object_or_404(request.user, jobs, pk=job_id)

    def _url(self, name: str, *args) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}", args=args)

    def import_view(self, request):
        self._check_import(request)
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = create_job(request.user, self.import_kind, upload.name, upload.read())
            except UnreadableFile as problem:  # nothing was kept: say why on the form
                form.add_error("file", str(problem))
            else:
                return redirect(self._url("import_job", job.pk))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "form": form,
            "title": f"导入{IMPORTERS[self.import_kind].title}",
            "template_url": self._url("import_template"),
            "recent": ImportJob.objects.for_user(request.user).filter(
                kind=self.import_kind, user=request.user
            )[:5],
        }
        return TemplateResponse(request, "admin/couriers/sheet_import.html", context)

    def import_job_view(self, request, job_id: int):
        job = self._job(request, job_id)
        if request.method == "POST":
            report = ImportReport.from_dict(job.report)
            if job.stage != ImportJob.Stage.PREVIEW or job.is_waiting or not report.ok:
                messages.error(request, "这个文件不能导入：请先修正错误并重新上传。")
            else:
                try:
                    confirm_job(job, warnings_accepted=bool(request.POST.get("accept_warnings")))
                except WarningsNotAccepted:
                    messages.error(request, NOT_ACKNOWLEDGED)
            return redirect(self._url("import_job", job.pk))
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET", "POST"])
        report = ImportReport.from_dict(job.report) if job.report else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "job": job,
            "report": report,
            "title": f"导入{IMPORTERS[job.kind].title}",
            "progress_url": self._url("import_progress", job.pk),
            "upload_url": self._url("import"),
            "changelist_url": self._url("changelist"),
            "can_confirm": bool(
                report
                and report.ok
                and job.stage == ImportJob.Stage.PREVIEW
                and not job.is_waiting
                and (report.new or report.updated)
            ),
        }
        return TemplateResponse(request, "admin/couriers/sheet_import_job.html", context)

    def import_progress_view(self, request, job_id: int):
        job = self._job(request, job_id)
        return JsonResponse(
            {
                "status": job.status,
                "done": job.rows_done,
                "total": job.rows_total,
                "percent": job.percent,
            }
        )

    def import_template_view(self, request):
        self._check_import(request)
        importer = IMPORTERS[self.import_kind]
        return FileResponse(
            io.BytesIO(build_template(importer)),
            content_type=XLSX,
            as_attachment=True,
            filename=f"{importer.title}（模板）.xlsx",
        )
