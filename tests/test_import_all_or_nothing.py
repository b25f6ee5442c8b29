"""Still all or nothing (issue 15): the survey import writes its file chunk by chunk inside
one transaction, so an error found after a chunk was written must undo that chunk too — the
couriers, the 待核实 outlets it created and the audit entry. Each case runs through
`import_survey` and through the admin upload → preview → confirm, with CHUNK_ROWS made small
and at its real size (2,000 rows a chunk).

Each test also counts the chunks written before the error, so it would fail if the rows were
never written early (and the rollback never tested). Removing `transaction.set_rollback(True)`
from SheetImporter.run makes every test here fail."""

from __future__ import annotations

from io import StringIO

import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from couriers.imports import sheet_import
from couriers.imports.survey import CourierSurveyImporter
from couriers.models import Courier, ImportJob, Outlet
from tests import factories
from tests.sheets import xlsx

pytestmark = pytest.mark.django_db

URL = "/admin/couriers/courier/import/"
HEADER = ["姓名", "手机号码", "工作街镇", "快递品牌", "网点名称", "身份证号码"]
LAST_ID = factories.id_number("19880808", 456)


@pytest.fixture(autouse=True)
def brand(db):
    return factories.brand("极兔")


@pytest.fixture
def writes(monkeypatch) -> list[int]:
    """The sizes of the chunks the importer wrote (before any rollback)."""
    written: list[int] = []
    original = CourierSurveyImporter.write

    def counting(self, plan):
        written.append(len(plan.new) + len(plan.updated))
        return original(self, plan)

    monkeypatch.setattr(CourierSurveyImporter, "write", counting)
    return written


def sheet(count: int, bad_row: int | None = None) -> bytes:
    """`count` couriers of 南桥镇, each chunk naming new outlets; the last row holds LAST_ID;
    the data row `bad_row` (1 = first) has an invalid phone."""
    rows = [HEADER]
    for n in range(1, count + 1):
        phone = "12345" if n == bad_row else f"139{n:08d}"
        rows.append([f"小哥{n}", phone, "南桥镇", "极兔", f"极兔南桥{n % 7}部", ""])
    rows[-1][-1] = LAST_ID
    return xlsx(rows)


def assert_nothing_written() -> None:
    assert not Courier.objects.exists()
    assert not Outlet.objects.exists()  # the 待核实 outlets of the written chunks went too
    assert not [e for e in LogEntry.objects.all() if "导入文件" in e.changes]


def command(tmp_path, data: bytes) -> tuple[int, str]:
    path = tmp_path / "survey.xlsx"
    path.write_bytes(data)
    out = StringIO()
    try:
        call_command("import_survey", str(path), stdout=out, stderr=out)
    except SystemExit as exit_:
        return exit_.code, out.getvalue()
    return 0, out.getvalue()


def admin_confirm_with_a_clash(client, data: bytes) -> ImportJob:
    """Upload (the preview passes), then another courier takes the last row's ID number, then
    confirm: the import meets the error in its last row, after writing the earlier chunks."""
    upload = SimpleUploadedFile("survey.xlsx", data)
    html = client.post(URL, {"file": upload}, follow=True).content.decode()
    assert "校验通过（尚未写入）" in html
    factories.courier(factories.town("西渡街道"), phone="13700000000", id_number=LAST_ID)
    job = ImportJob.objects.get()
    client.post(f"{URL}{job.pk}/")
    job.refresh_from_db()
    return job


# --- small chunks -----------------------------------------------------------------------------


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(sheet_import, "CHUNK_ROWS", 5)


def test_error_after_the_first_chunk_writes_nothing_by_command(small_chunks, writes, tmp_path):
    code, output = command(tmp_path, sheet(23, bad_row=17))
    assert code == 1 and "第 18 行“手机号码”列" in output and "未写入" in output
    assert writes == [5, 5, 5]  # three chunks were written before the fourth had the error
    assert_nothing_written()


def test_error_after_the_first_chunk_writes_nothing_on_confirm(
    small_chunks, writes, district_client
):
    job = admin_confirm_with_a_clash(district_client, sheet(23))
    assert job.report["errors"][0]["row"] == 24 and not job.report["written"]
    assert writes == [5, 5, 5, 5]
    Courier.objects.filter(phone="13700000000").delete()
    assert_nothing_written()


def test_valid_file_in_small_chunks_writes_every_chunk(small_chunks, writes, tmp_path):
    code, output = command(tmp_path, sheet(23))
    assert code == 0 and "导入完成" in output
    assert writes == [5, 5, 5, 5, 3]
    assert Courier.objects.count() == 23 and Outlet.objects.count() == 7


# --- real chunks (2,000 rows) -------------------------------------------------------------------


def test_error_in_the_second_real_chunk_writes_nothing(writes, tmp_path):
    assert sheet_import.CHUNK_ROWS == 2000
    code, output = command(tmp_path, sheet(2100, bad_row=2050))
    assert code == 1 and "第 2051 行“手机号码”列" in output
    assert writes == [2000]
    assert_nothing_written()


def test_error_in_the_last_row_of_a_large_file_by_command(writes, tmp_path):
    code, output = command(tmp_path, sheet(4500, bad_row=4500))
    assert code == 1 and "第 4501 行“手机号码”列" in output
    assert writes == [2000, 2000]
    assert_nothing_written()


def test_error_in_the_last_row_of_a_large_file_on_confirm(writes, district_client):
    job = admin_confirm_with_a_clash(district_client, sheet(4500))
    errors = job.report["errors"]
    assert [e["row"] for e in errors] == [4501] and "已登记" in errors[0]["message"]
    assert writes == [2000, 2000]
    Courier.objects.filter(phone="13700000000").delete()
    assert_nothing_written()
