"""Malformed and hostile uploads (issue 14, items 9 and 10): every one gets a clear Chinese
message, never a server error, and leaves no import job and no file behind; what reading an
accepted file may hold in memory is bounded before the reader unpacks it."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from couriers.imports.jobs import create_job
from couriers.imports.running import run_job
from couriers.imports.spreadsheets import UnreadableFile, check_file, iter_rows
from couriers.models import ImportJob
from tests import sheets
from tests.sheets import csv_bytes, xlsx

pytestmark = pytest.mark.django_db

URL = "/admin/couriers/courier/import/"
HEADER = ["姓名", "手机号码", "工作街镇"]


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _good() -> bytes:
    return xlsx([HEADER, ["张三", "13800000001", "南桥镇"]])


def _sheet_xml(body: bytes) -> bytes:
    return sheets.raw_xlsx([body])


def _encrypted() -> bytes:
    return sheets.with_central_directory(_good(), "xl/worksheets/sheet1.xml", flags=0x1)


MALFORMED = {
    "lying central directory": (sheets.lying_directory, "survey.xlsx", "文件已损坏"),
    "truncated zip": (lambda: _good()[: len(_good()) // 2], "survey.xlsx", "文件已损坏"),
    "zip that is not a workbook": (
        lambda: _zip({"readme.txt": b"hello"}),
        "survey.xlsx",
        "压缩包而不是 Excel 工作簿",
    ),
    "password-protected": (
        lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600,
        "locked.xlsx",
        "设置了打开密码",
    ),
    "encrypted zip entries": (_encrypted, "survey.xlsx", "已加密"),
    "empty": (lambda: b"", "survey.xlsx", "空"),
    "HTML renamed .xlsx": (
        lambda: b"<!DOCTYPE html><html><body><table><tr><td>1</td></tr></table></body></html>",
        "survey.xlsx",
        "不是 Excel 文件",
    ),
    "NUL bytes in a CSV": (lambda: b"name,phone\x00\x00,138", "survey.csv", "空字符"),
    "NUL bytes named .xlsx": (lambda: b"\0" * 4096, "survey.xlsx", "不是 Excel 文件"),
    "huge ratio": (sheets.zip_bomb, "bomb.xlsx", "解压后过大"),
    # (A cell at ZZ1000000 makes a 1.5 KB file take 21 GB to read: these two stay small
    # enough to run against code without the check.)
    "a cell a million rows down": (lambda: sheets.far_cell("A1048576"), "far.xlsx", "行的上限"),
    "a cell far to the right": (
        lambda: sheets.far_cell("XFD2"),
        "wide.xlsx",
        "列的上限",
    ),
    "a DTD (entity expansion)": (
        lambda: sheets.raw_xlsx([b"<!DOCTYPE x [<!ENTITY a 'aaaa'>]>"]),
        "dtd.xlsx",
        "格式不常见",
    ),
    "cells with namespace prefixes": (
        lambda: _sheet_xml(
            b'<row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>a</x:t></x:is></x:c></row>'
        ),
        "prefixed.xlsx",
        "格式不常见",
    ),
    "a cell whose reference is given twice": (
        lambda: _sheet_xml(
            b'<row r="1"><c r="A1" r="ZZ1000000" t="inlineStr"><is><t>a</t></is></c></row>'
        ),
        "twice.xlsx",
        "格式不常见",
    ),
    "cells without references": (
        lambda: _sheet_xml(b'<row><c t="inlineStr"><is><t>a</t></is></c></row>'),
        "noref.xlsx",
        "格式不常见",
    ),
    "broken sheet XML": (
        lambda: _sheet_xml(b'<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></c></row>'),
        "broken.xlsx",
        "文件已损坏",
    ),
    "no header": (lambda: xlsx([["你好"], ["这不是表格"]]), "notes.xlsx", "找不到表头"),
    "too many columns in a CSV": (
        lambda: csv_bytes([HEADER + [f"列{n}" for n in range(200)]]),
        "wide.csv",
        "列的上限",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_upload_gets_a_message_and_leaves_no_job_and_no_file(
    case, nanqiao_client, settings
):
    build, name, message = MALFORMED[case]
    response = nanqiao_client.post(URL, {"file": SimpleUploadedFile(name, build())})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert ImportJob.objects.count() == 0
    imports = settings.PRIVATE_MEDIA_ROOT / "imports"
    assert not imports.exists() or not [p for p in imports.rglob("*") if p.is_file()]


def test_a_good_upload_still_becomes_a_job_with_its_file(nanqiao_client, settings):
    response = nanqiao_client.post(URL, {"file": SimpleUploadedFile("s.xlsx", _good())})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and job.file
    assert [p for p in (settings.PRIVATE_MEDIA_ROOT / "imports").rglob("*") if p.is_file()]


def test_a_file_refused_by_the_worker_keeps_its_message_but_not_its_file(nanqiao, settings):
    settings.SHEET_IMPORT_INLINE_MAX_ROWS = 0  # to the task worker
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    job = create_job(nanqiao, ImportJob.Kind.COURIERS, "notes.xlsx", xlsx([["你好"], ["不是表格"]]))
    assert job.status == ImportJob.Status.QUEUED and job.file
    run_job(job.pk)  # what the worker does
    job.refresh_from_db()
    assert "找不到表头" in job.report["file_error"]
    assert not job.file
    assert not [p for p in (settings.PRIVATE_MEDIA_ROOT / "imports").rglob("*") if p.is_file()]


# --- what reading may hold in memory ---------------------------------------------------------


def test_the_crafted_file_of_long_inline_strings_is_refused_before_it_is_read():
    data = sheets.long_inline_strings()  # 1.5 MB, 269 MB unpacked: the attack's file
    assert len(data) < 2 * 1024 * 1024
    with pytest.raises(UnreadableFile, match="文字内容解压后超过 100 MB"):
        check_file(data, "crafted.xlsx")


def test_one_shared_string_copied_into_every_cell_is_refused(settings):
    settings.SHEET_IMPORT_MAX_TEXT_BYTES = 10 * 1024 * 1024
    data = sheets.shared_string_amplifier(rows=2_000, columns=17, length=1_000)  # 34 MB held
    assert len(data) < 200 * 1024
    with pytest.raises(UnreadableFile, match="文字内容解压后超过 10 MB"):
        check_file(data, "amplified.xlsx")


def test_a_grid_past_the_cell_budget_is_refused(settings):
    settings.SHEET_IMPORT_MAX_CELLS = 1_000
    data = sheets.far_cell("CV50")  # 100 columns × 50 rows: 5,000 cells of grid
    with pytest.raises(UnreadableFile, match="1,000 个单元格的上限"):
        check_file(data, "grid.xlsx")


def test_rows_past_the_column_budget_are_refused_while_streaming(settings):
    settings.SHEET_IMPORT_MAX_COLUMNS = 5
    rows = iter_rows(csv_bytes([HEADER, ["a", "b", "c", "d", "e", "f"]]), "wide.csv")
    assert next(rows) == HEADER
    with pytest.raises(UnreadableFile, match="第 2 行超过 5 列的上限"):
        next(rows)


def test_a_legitimate_sheet_passes_the_budgets_and_reads_as_before():
    rows = [HEADER] + [[f"小哥{n}", f"139{n:08d}", "南桥镇"] for n in range(500)]
    data = xlsx(rows)
    assert check_file(data, "survey.xlsx") == "xlsx"
    assert list(iter_rows(data, "survey.xlsx")) == rows


def test_a_sheet_stored_under_an_unexpected_name_is_measured_all_the_same(settings):
    # The workbook's relationships choose the sheet's file: a name that does not end in .xml,
    # or one in a _rels folder, is read by calamine and so is counted too.
    settings.SHEET_IMPORT_MAX_ROWS = 10
    for name in ("xl/worksheets/sheet1.dat", "xl/worksheets/_rels/sheet1.xml"):
        data = sheets.far_cell("A500")
        renamed = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(renamed, "w") as copy:
            for info in source.infolist():
                content = source.read(info)
                if info.filename == "xl/_rels/workbook.xml.rels":
                    content = content.replace(b"worksheets/sheet1.xml", name[3:].encode())
                target = name if info.filename == "xl/worksheets/sheet1.xml" else info.filename
                copy.writestr(target, content, zipfile.ZIP_DEFLATED)
        with pytest.raises(UnreadableFile, match="行的上限"):
            check_file(renamed.getvalue(), "renamed.xlsx")
