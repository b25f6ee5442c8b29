"""Workbooks shaped the way town offices send them, saved by LibreOffice: one sheet per town
with a 说明 sheet and a hidden sheet, cells merged down and across, hidden rows. Every visible
sheet with a header is imported, each listed with its counts (a sheet without a header as
skipped, with the reason); merged cells read as what the sheet shows; errors name their sheet.
Through `import_survey` and through the admin's upload → preview → confirm.

The files are in tests/office_files/sheets/, made by tests/office_files/make_sheets.py.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from couriers.imports.sheet_import import ImportReport, RowError
from couriers.imports.spreadsheets import iter_sheets
from couriers.imports.survey import CourierSurveyImporter
from couriers.imports.template import build_template
from couriers.models import Courier, ImportJob
from tests import factories
from tests.office_import import command

pytestmark = pytest.mark.django_db

SHEETS = Path(__file__).resolve().parent / "office_files" / "sheets"
URL = "/admin/couriers/courier/import/"
TOWN_SHEETS = {"南桥镇": 4, "西渡街道": 4, "奉城镇": 4}
NO_HEADER = "前 10 行中找不到表头"


@pytest.fixture
def refs(nanqiao_town, xidu_town):
    sf = factories.brand("顺丰", aliases="顺丰速运")
    zto = factories.brand("中通", aliases="中通快递")
    fengcheng = factories.town("奉城镇")
    for town, brand, enterprise, outlet in [
        (nanqiao_town, sf, "上海南桥顺丰速运有限公司", "顺丰南桥网点"),
        (nanqiao_town, zto, "上海南桥中通快递有限公司", "中通南桥网点"),
        (xidu_town, zto, "上海西渡中通快递有限公司", "中通西渡网点"),
        (fengcheng, sf, "上海奉城顺丰速运有限公司", "顺丰奉城网点"),
    ]:
        factories.outlet(town, factories.enterprise(town, enterprise, brand), outlet)


def upload(client, data: bytes, name: str):
    return client.post(URL, {"file": SimpleUploadedFile(name, data)}, follow=True)


def by_town() -> dict[str, int]:
    counts: dict[str, int] = {}
    for courier in Courier.objects.select_related("work_town"):
        counts[courier.work_town.name] = counts.get(courier.work_town.name, 0) + 1
    return counts


# --- one sheet per town -------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["xlsx", "xls", "ods"])
def test_every_town_sheet_is_imported_and_each_is_reported(refs, suffix):
    code, out, err = command(SHEETS / f"towns.{suffix}")
    assert code == 0, out + err
    assert by_town() == TOWN_SHEETS
    assert "导入完成。共 3 个工作表、12 行：新增 12" in out
    assert "工作表“南桥镇”：4 行，新增 4，更新 0，无变化 0，错误 0" in out
    assert "工作表“西渡街道”：4 行，新增 4" in out
    assert "工作表“奉城镇”：4 行，新增 4" in out
    assert f"工作表“说明”：已跳过（{NO_HEADER}" in out
    assert "工作表“作废”：已跳过（隐藏的工作表，未读取）" in out
    assert "工作表“奉城镇”有 1 行隐藏的数据（第 4 行），已一并导入" in out
    assert not Courier.objects.filter(phone="13912349999").exists()  # on the hidden sheet
    # Values merged down a later sheet (西渡街道's brand) reach every row.
    assert set(
        Courier.objects.filter(work_town__name="西渡街道").values_list("brand__name", flat=True)
    ) == {"中通"}
    again = command(SHEETS / f"towns.{suffix}")[1]
    assert "共 3 个工作表、12 行：新增 0，更新 0，无变化 12" in again


def test_the_preview_lists_each_sheet_then_confirming_imports_all(refs, district_client):
    html = upload(district_client, (SHEETS / "towns.xlsx").read_bytes(), "towns.xlsx")
    html = html.content.decode()
    assert "校验通过（尚未写入）" in html, html[:3000]
    assert 'id="count-new">12<' in html
    assert "工作表（3 个导入，2 个跳过）" in html
    table = html[
        html.index('id="import-sheets"') : html.index("</table>", html.index("import-sheets"))
    ]
    for name in TOWN_SHEETS:
        assert f"<tr><td>{name}</td><td>4</td><td>4</td><td>0</td><td>0</td><td>0</td>" in table
    assert f'<td>说明</td><td colspan="5">—</td><td>已跳过：{NO_HEADER}' in table
    assert '<td>作废</td><td colspan="5">—</td><td>已跳过：隐藏的工作表，未读取</td>' in table
    assert "含 1 行隐藏的数据" in table
    hidden = html[html.index('id="import-hidden"') :]
    assert "<strong>1</strong> 行数据在表格里是隐藏的" in hidden
    assert "“奉城镇”表：1 行（第 4 行）" in hidden
    # The preview keeps the first sheet's columns; 西渡街道 (no 性别, other order) lines up.
    preview = html[html.index('id="import-preview"') :]
    assert preview.count("<tr><td>新增</td>") == 12
    assert "<td>新增</td><td>赵磊</td><td></td><td>139****0201</td>" in preview
    assert not Courier.objects.exists()

    job = ImportJob.objects.get()
    done = district_client.post(f"{URL}{job.pk}/", follow=True).content.decode()
    assert "导入完成。共 3 个工作表、12 行" in done
    assert by_town() == TOWN_SHEETS
    job.refresh_from_db()
    report = ImportReport.from_dict(job.report)
    assert [(s.name, s.rows, s.hidden_rows) for s in report.read_sheets] == [
        ("南桥镇", 4, []),
        ("西渡街道", 4, []),
        ("奉城镇", 4, [4]),
    ]


def test_errors_name_their_sheet(refs, nanqiao, nanqiao_client):
    """南桥镇 staff send the district's workbook: the other towns' rows are refused, each
    error naming its sheet, and nothing is written."""
    code, out, _err = command(SHEETS / "towns.xlsx", "--as-user", "nanqiao")
    assert code == 1
    assert "“西渡街道”表第 2 行“工作街镇”列（西渡街道）：" in out
    assert "“奉城镇”表第 5 行“工作街镇”列（奉城镇）：" in out
    assert "“南桥镇”表" not in out  # its rows are fine
    assert "工作表“南桥镇”：4 行，新增 4，更新 0，无变化 0，错误 0" in out
    assert re.search(r"工作表“西渡街道”：4 行，新增 0，更新 0，无变化 0，错误 [1-9]", out)
    assert not Courier.objects.exists()

    html = upload(nanqiao_client, (SHEETS / "towns.xlsx").read_bytes(), "towns.xlsx")
    html = html.content.decode()
    assert "<tr><td>“西渡街道”表第 2 行</td><td>工作街镇</td>" in html
    assert "确认导入" not in html


def test_errors_name_the_sheet_only_when_there_are_several():
    assert (
        str(RowError(5, "姓名", "", "不能为空", "南桥镇")) == "“南桥镇”表第 5 行“姓名”列：不能为空"
    )
    assert str(RowError(5, "姓名", "", "不能为空")) == "第 5 行“姓名”列：不能为空"


def test_a_workbook_without_any_header_keeps_the_file_error(refs, district_client):
    code, _, err = command(SHEETS / "notes.xlsx")
    assert code == 2 and NO_HEADER in err
    html = upload(district_client, (SHEETS / "notes.xlsx").read_bytes(), "notes.xlsx")
    assert NO_HEADER in html.content.decode()
    assert not ImportJob.objects.exists()


def _workbook(sheets: dict[str, list[list]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_sheet_whose_header_lacks_a_required_column_stops_the_file(refs):
    """A sheet that has a header but a wrong one is no 说明 sheet to skip: fix the file."""
    data = _workbook(
        {
            "南桥镇": [["姓名", "手机号码", "工作街镇"], ["张伟", "13912340101", "南桥镇"]],
            "西渡街道": [["姓名", "工作街镇"], ["赵磊", "西渡街道"]],
        }
    )
    report = CourierSurveyImporter().run(data, "towns.xlsx")
    assert report.file_error == "“西渡街道”表：缺少必填列：手机号码。"
    assert not Courier.objects.exists()


def test_the_downloaded_template_with_its_explanation_sheet_still_imports(refs):
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(build_template(CourierSurveyImporter)))
    first = book.worksheets[0]
    headers = [cell.value for cell in first[1]]
    values = {"姓名": "张伟", "手机号码": "13912340101", "工作街镇": "南桥镇"}
    first.append([values.get(header, "") for header in headers])
    buffer = io.BytesIO()
    book.save(buffer)
    report = CourierSurveyImporter().run(buffer.getvalue(), "template.xlsx")
    assert report.ok and report.written, report.errors
    assert Courier.objects.get().name == "张伟"
    assert [s.name for s in report.read_sheets] == [first.title]
    assert report.skipped_sheets and "找不到表头" in report.skipped_sheets[0].skipped


# --- merged cells ---------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["xlsx", "xls", "ods"])
def test_cells_merged_down_apply_to_every_row_of_the_block(refs, suffix):
    code, out, err = command(SHEETS / f"merged.{suffix}")
    assert code == 0, out + err
    assert "导入完成。共 8 行：新增 8" in out
    stored = {
        c.name: (c.brand.name, c.enterprise.name, c.outlet.name, c.work_town.name)
        for c in Courier.objects.select_related("brand", "enterprise", "outlet", "work_town")
    }
    sf = ("顺丰", "上海南桥顺丰速运有限公司", "顺丰南桥网点", "南桥镇")
    zto = ("中通", "上海南桥中通快递有限公司", "中通南桥网点", "南桥镇")
    assert stored == {
        **{name: sf for name in ["陈一", "陈二", "陈三", "陈四"]},
        **{name: zto for name in ["林一", "林二", "林三", "林四"]},
    }


def test_merged_cells_through_the_admin(refs, district_client):
    html = upload(district_client, (SHEETS / "merged.ods").read_bytes(), "merged.ods")
    html = html.content.decode()
    assert 'id="count-new">8<' in html, html[:3000]
    preview = html[html.index('id="import-preview"') :]
    assert preview.count("<td>上海南桥中通快递有限公司</td>") == 4
    assert preview.count("<td>南桥镇</td>") == 8
    district_client.post(f"{URL}{ImportJob.objects.get().pk}/")
    assert Courier.objects.filter(outlet__name="中通南桥网点").count() == 4


@pytest.mark.parametrize("suffix", ["xlsx", "xls", "ods"])
def test_every_cell_of_a_merged_range_reads_as_its_top_left_value(suffix):
    """Down and across, in header rows and data rows: the contract the header search uses."""
    [sheet] = list(iter_sheets((SHEETS / f"merged.{suffix}").read_bytes(), f"m.{suffix}"))
    rows = list(sheet.rows)
    assert rows[0] == ["奉贤区快递小哥排摸登记表"] * 9  # the title, merged across
    assert [row[3] for row in rows[2:]] == ["顺丰"] * 4 + ["中通"] * 4
    assert [row[6] for row in rows[2:]] == ["南桥镇"] * 8
    assert [row[7:9] for row in rows[2:4]] == [["老员工", "老员工"]] * 2  # 2 × 2
    assert all(len(row) < 8 or not any(row[7:9]) for row in rows[4:])


def test_the_preview_keeps_the_first_sheets_columns_for_every_row(refs):
    data = _workbook(
        {
            "南桥镇": [
                ["姓名", "性别", "手机号码", "工作街镇"],
                ["张伟", "男", "13912340101", "南桥镇"],
            ],
            "西渡街道": [["手机号码", "姓名", "工作街镇"], ["13912340201", "赵磊", "西渡街道"]],
        }
    )
    report = CourierSurveyImporter().run(data, "towns.xlsx", dry_run=True)
    assert report.ok, report.errors
    assert report.headers == ["姓名", "性别", "手机号码", "工作街镇"]
    assert report.preview == [
        ["新增", "张伟", "男", "139****0101", "南桥镇"],
        ["新增", "赵磊", "", "139****0201", "西渡街道"],
    ]


def test_a_phone_on_two_sheets_is_a_duplicate_naming_the_first_sheet(refs):
    data = _workbook(
        {
            "南桥镇": [["姓名", "手机号码", "工作街镇"], ["张伟", "13912340101", "南桥镇"]],
            "西渡街道": [
                ["姓名", "手机号码", "工作街镇"],
                ["赵磊", "13912340201", "西渡街道"],
                ["张伟", "13912340101", "西渡街道"],
            ],
        }
    )
    report = CourierSurveyImporter().run(data, "towns.xlsx")
    assert [str(error) for error in report.errors] == [
        "“西渡街道”表第 3 行“手机号码”列（139****0101）：与“南桥镇”表第 2 行的手机号码重复"
    ]
    assert not Courier.objects.exists()


def test_a_warning_names_its_sheet_and_each_sheet_warns_only_of_its_own_columns(refs):
    data = _workbook(
        {
            "南桥镇": [
                ["姓名", "手机号码", "工作街镇", "工号"],
                ["张伟", "13912340101", "南桥镇", "7"],
            ],
            "西渡街道": [
                ["姓名", "手机号码", "工作街镇", "序号", "车牌"],
                ["赵磊", "13912340201", "西渡街道", "1", "沪A"],
            ],
        }
    )
    report = CourierSurveyImporter().run(data, "towns.xlsx", dry_run=True)
    assert report.unknown_columns == ["工号", "序号", "车牌"]
    assert len(report.warnings) == 2
    assert report.warnings[0].startswith("“南桥镇”表：未识别的列：工号。")
    assert report.warnings[1].startswith("“西渡街道”表：未识别的列：车牌。")
