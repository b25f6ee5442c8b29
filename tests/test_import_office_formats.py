"""The survey saved by LibreOffice in every accepted format (.xlsx, .xlsm, .xls, .ods, CSV in
GB18030 and UTF-8 with BOM) imports the same couriers, through `import_survey` and through the
admin's upload → preview → confirm; files that lie about their extension are read by content;
a WPS .et gets its message; and the .ods and .xls guards refuse what would cost too much.

The files are in tests/office_files/formats/, made by tests/office_files/make_formats.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from couriers.imports.spreadsheets import UnreadableFile, check_file, iter_sheets
from couriers.models import Courier, Enterprise, ImportJob, Outlet
from stations.models import CheckinPoint, Station
from tests import factories
from tests.office_import import command

pytestmark = pytest.mark.django_db

FORMATS = Path(__file__).resolve().parent / "office_files" / "formats"
URL = "/admin/couriers/courier/import/"
# The survey's five couriers: name → (phone, gender, outlet); all in 南桥镇 (merged down).
PEOPLE = {
    "张伟": ("13912340001", "M", "顺丰南桥网点"),
    "王芳": ("13912340002", "F", "顺丰南桥网点"),
    "李娜": ("13912340003", "F", "中通南桥网点"),  # the phone is a number cell
    "刘强": ("13912340004", "M", "中通南桥网点"),
    "陈静": ("13912340005", "F", "中通南桥网点"),
}
WORKBOOKS = [
    "survey.xlsx",
    "survey.xlsm",
    "survey.xls",
    "survey.ods",
    "survey-xls-named.xlsx",  # an .xls saved under .xlsx
    "survey-ods-named.xlsx",
    "survey-xlsx-named.xls",
]
CSVS = ["survey-gb18030.csv", "survey-utf8-bom.csv"]


@pytest.fixture
def refs(nanqiao_town):
    sf = factories.brand("顺丰", aliases="顺丰速运")
    zto = factories.brand("中通", aliases="中通快递")
    for brand, enterprise, outlet in [
        (sf, "上海南桥顺丰速运有限公司", "顺丰南桥网点"),
        (zto, "上海南桥中通快递有限公司", "中通南桥网点"),
    ]:
        factories.outlet(
            nanqiao_town, factories.enterprise(nanqiao_town, enterprise, brand), outlet
        )


def upload(client, path: Path, url: str = URL, name: str | None = None):
    file = SimpleUploadedFile(name or path.name, path.read_bytes())
    return client.post(url, {"file": file}, follow=True)


def stored() -> dict[str, tuple[str, str, str]]:
    return {
        c.name: (c.phone, c.gender, c.outlet.name)
        for c in Courier.objects.select_related("outlet", "work_town")
        if c.work_town.name == "南桥镇"
    }


@pytest.mark.parametrize("name", WORKBOOKS + CSVS)
def test_the_survey_imports_the_same_from_every_format(refs, name):
    code, out, err = command(FORMATS / name)
    assert code == 0, out + err
    assert "导入完成。共 5 行：新增 5" in out
    assert stored() == PEOPLE
    if name in WORKBOOKS:  # CSV has no hidden rows
        assert "文件有 2 行隐藏的数据（第 5、7 行），已一并导入" in out
    else:
        assert "隐藏" not in out
    # The same file again changes nothing.
    assert "无变化 5" in command(FORMATS / name)[1]


@pytest.mark.parametrize("name", ["survey.xls", "survey.ods", "survey.xlsm", "survey-gb18030.csv"])
def test_the_survey_goes_through_the_admin_from_every_format(refs, district_client, name):
    html = upload(district_client, FORMATS / name).content.decode()
    assert "校验通过（尚未写入）" in html, html[:3000]
    assert 'id="count-new">5<' in html
    assert "139****0003" in html  # the number cell, read as the phone it shows
    if name.endswith(".csv"):
        assert 'id="import-hidden"' not in html
    else:
        assert 'id="import-hidden"' in html and "2 行（第 5、7 行）" in html
    assert 'id="import-sheets"' not in html  # one sheet: no sheet table
    assert not Courier.objects.exists()
    job = ImportJob.objects.get()
    done = district_client.post(f"{URL}{job.pk}/", follow=True).content.decode()
    assert "导入完成" in done
    assert stored() == PEOPLE


def test_every_accepted_format_is_read_as_the_same_rows():
    """Merged cells and hidden rows come out the same whichever program format holds them."""
    expected = None
    for name in WORKBOOKS:
        [sheet] = list(iter_sheets((FORMATS / name).read_bytes(), name))
        rows = [[str(cell).removesuffix(".0") for cell in row] for row in sheet.rows]
        assert sheet.name == "排摸登记" and sheet.hidden_rows == {5, 7}, name
        assert rows[0] == ["奉贤区快递小哥排摸登记表（南桥镇）"] * 8  # merged across
        assert [row[7] for row in rows[2:]] == ["南桥镇"] * 5  # merged down
        expected = expected or rows
        assert rows == expected, name


def test_a_wps_et_file_is_asked_to_be_saved_as_xlsx(refs, district_client):
    code, _, err = command(FORMATS / "survey.et")
    assert code == 2
    assert "WPS 表格（.et）" in err and "另存为" in err and ".xlsx" in err
    html = upload(district_client, FORMATS / "survey.et").content.decode()
    assert "WPS 表格（.et）" in html
    assert not ImportJob.objects.exists() and not Courier.objects.exists()


def test_an_xlsx_with_a_password_still_gets_its_message(refs, district_client, tmp_path):
    # LibreOffice 7.4 cannot save with a password from the command line; an encrypted .xlsx is
    # an OLE file, and an OLE file named .xlsx that holds no workbook is taken for one.
    locked = tmp_path / "locked.xlsx"
    locked.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    assert "设置了打开密码" in command(locked)[2]
    assert "设置了打开密码" in upload(district_client, locked).content.decode()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bomb.ods", "解压后过大"),
        ("repeated.ods", "行的上限"),  # one cell repeated down a million rows
        ("far.xls", "列的上限"),  # a cell at IV65536: a 16-million-cell grid
    ],
)
def test_the_ods_and_xls_guards_refuse_before_reading(district_client, name, message):
    # Refused by the whole-file check, before the reader builds anything (unchecked, far.xls,
    # 5.6 KB, takes the reader to 1 GB and 16 s).
    with pytest.raises(UnreadableFile, match=message):
        check_file((FORMATS / name).read_bytes(), name)
    code, _, err = command(FORMATS / name)
    assert code == 2 and message in err
    html = upload(district_client, FORMATS / name).content.decode()
    assert message in html
    assert not ImportJob.objects.exists()


def test_an_xls_past_the_row_cap_is_refused(district_client, settings):
    settings.SHEET_IMPORT_MAX_ROWS = 1000
    with pytest.raises(UnreadableFile, match="行的上限"):
        check_file((FORMATS / "rows.xls").read_bytes(), "rows.xls")
    code, _, err = command(FORMATS / "rows.xls")
    assert code == 2 and "1,000 行的上限" in err
    assert "1,000 行的上限" in upload(district_client, FORMATS / "rows.xls").content.decode()


def test_an_xls_past_the_cell_budget_is_refused(settings):
    settings.SHEET_IMPORT_MAX_CELLS = 5000  # rows.xls: 3,001 rows × 3 columns
    code, _, err = command(FORMATS / "rows.xls")
    assert code == 2 and "5,000 个单元格的上限" in err


def test_an_ods_past_the_text_budget_is_refused(refs, settings):
    settings.SHEET_IMPORT_MAX_TEXT_BYTES = 500
    code, _, err = command(FORMATS / "survey.ods")
    assert code == 2 and "文字内容解压后超过" in err


def test_a_spreadsheet_extension_on_text_is_not_read_as_csv(tmp_path):
    fake = tmp_path / "survey.ods"
    shutil.copy(FORMATS / "survey-utf8-bom.csv", fake)
    code, _, err = command(fake)
    assert code == 2 and "不是 Excel 文件" in err


def test_the_upload_form_offers_every_accepted_format(district_client):
    html = district_client.get(URL).content.decode()
    assert 'accept=".xlsx,.xlsm,.xls,.ods,.csv"' in html
    assert ".xls" in html and ".ods" in html


# --- the other lists share the reader --------------------------------------------------------


@pytest.mark.parametrize("suffix", ["xls", "ods"])
def test_the_enterprise_list_imports_from_xls_and_ods(district_client, suffix):
    factories.brand("中通", aliases="中通快递")
    url = "/admin/couriers/enterprise/import/"
    html = upload(district_client, FORMATS / f"enterprises.{suffix}", url).content.decode()
    assert "校验通过" in html, html[:3000]
    district_client.post(f"{url}{ImportJob.objects.get().pk}/")
    assert Enterprise.objects.get().name == "上海南桥中通快递有限公司"
    outlets = dict(Outlet.objects.values_list("name", "town__name"))
    assert outlets == {"中通南桥一部": "南桥镇", "中通西渡二部": "西渡街道"}
    code, out, _ = command(FORMATS / f"enterprises.{suffix}", "--kind", "enterprises")
    assert code == 0 and "文件与已有数据一致" in out


@pytest.mark.parametrize("suffix", ["xls", "ods"])
def test_the_station_list_imports_from_xls_and_ods(district_client, nanqiao_town, suffix):
    url = "/admin/stations/station/import/"
    html = upload(district_client, FORMATS / f"stations.{suffix}", url).content.decode()
    assert "校验通过" in html and 'id="count-new">2<' in html, html[:3000]
    district_client.post(f"{url}{ImportJob.objects.get().pk}/")
    assert set(Station.objects.values_list("name", flat=True)) == {
        "南桥镇党群服务站",
        "南桥爱心接力站",
    }


@pytest.mark.parametrize("suffix", ["xls", "ods"])
def test_the_check_in_points_import_from_xls_and_ods(district_client, nanqiao_town, suffix):
    url = "/admin/stations/checkinpoint/import/"
    html = upload(district_client, FORMATS / f"points.{suffix}", url).content.decode()
    assert "校验通过" in html and 'id="count-new">2<' in html, html[:3000]
    district_client.post(f"{url}{ImportJob.objects.get().pk}/")
    targets = dict(CheckinPoint.objects.values_list("name", "target"))
    assert targets == {"南桥镇党群服务中心": 40, "江海社区报到点": 30}


def _ods_zip(mimetype: bytes, manifest: bytes) -> bytes:
    import io
    import zipfile

    content = (FORMATS / "survey.ods").read_bytes()
    with zipfile.ZipFile(io.BytesIO(content)) as source:
        real = source.read("content.xml")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", mimetype)
        archive.writestr("META-INF/manifest.xml", manifest)
        archive.writestr("content.xml", real)
    return buffer.getvalue()


def test_an_ods_with_a_password_or_of_another_kind_gets_its_message():
    spreadsheet = b"application/vnd.oasis.opendocument.spreadsheet"
    locked = _ods_zip(spreadsheet, b"<manifest><manifest:encryption-data/></manifest>")
    with pytest.raises(UnreadableFile, match="设置了密码"):
        check_file(locked, "locked.ods")
    text = _ods_zip(b"application/vnd.oasis.opendocument.text", b"<manifest/>")
    with pytest.raises(UnreadableFile, match="不是电子表格"):
        check_file(text, "letter.ods")
    assert check_file(_ods_zip(spreadsheet, b"<manifest/>"), "plain.ods") == "ods"


def test_an_excel_binary_workbook_is_asked_to_be_saved_as_xlsx():
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.bin", b"\x83\x01\x00")
    with pytest.raises(UnreadableFile, match=r"\.xlsb"):
        check_file(buffer.getvalue(), "survey.xlsx")
