"""Make tests/office_files/formats/: one survey saved by LibreOffice in every accepted format,
and the files each format's guard must refuse. Run from anywhere with LibreOffice installed
(`soffice`): python tests/office_files/make_formats.py

- survey.fods (source) → survey.xlsx, survey.xls (Excel 97–2003), survey.ods, survey.xlsm:
  a title merged across, 工作街镇 merged down all five rows, rows 5 and 7 hidden, one phone
  typed as a number;
- survey-flat.fods → survey-gb18030.csv (LibreOffice's GB18030 text export, encoding 85) and
  survey-utf8-bom.csv (its UTF-8 export with the byte-order mark Excel's “CSV UTF-8” writes,
  prepended here: LibreOffice 7.4 cannot write one);
- survey.et: survey.xls under WPS's extension (a WPS .et is an OLE file too);
- files that lie about their extension: survey.xls named .xlsx, survey.ods named .xlsx,
  survey.xlsx named .xls;
- far.xls: a cell at IV65536 (a 16-million-cell grid from a tiny file), and rows.xls: 3,000
  rows (refused under a lowered row cap), both saved by LibreOffice;
- enterprises.fods, stations.fods, points.fods → .xls and .ods: the other lists imported through
  the same reader (企业网点名单, 骑乐融融站点名单, 报到点名单), each under a title line;
- bomb.ods (a part that unpacks 1000× and more) and repeated.ods (one cell repeated down a
  million rows): made here in Python, since no office program writes them.
"""

from __future__ import annotations

import io
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reader_fods import cell, convert, covered, document, plain_row, row, table

HERE = Path(__file__).resolve().parent / "formats"
HEADER = ["序号", "姓名", "手机号码", "性别", "所属品牌", "所属企业", "网点", "工作街镇"]
SF = ("顺丰", "上海南桥顺丰速运有限公司", "顺丰南桥网点")
ZTO = ("中通", "上海南桥中通快递有限公司", "中通南桥网点")
# (序号, 姓名, 手机号码, 性别, brand/enterprise/outlet, hidden)
PEOPLE = [
    (1, "张伟", "13912340001", "男", SF, False),
    (2, "王芳", "13912340002", "女", SF, False),
    (3, "李娜", 13912340003, "女", ZTO, True),  # a phone typed as a number
    (4, "刘强", "13912340004", "男", ZTO, False),
    (5, "陈静", "13912340005", "女", ZTO, True),
]


def survey_source() -> str:
    rows = [row([cell("奉贤区快递小哥排摸登记表（南桥镇）", cols=8), covered(7)])]
    rows.append(plain_row(HEADER))
    for index, (number, name, phone, gender, (brand, enterprise, outlet), hidden) in enumerate(
        PEOPLE
    ):
        town = cell("南桥镇", rows=len(PEOPLE)) if index == 0 else covered()
        cells = [cell(v) for v in (number, name, phone, gender, brand, enterprise, outlet)]
        rows.append(row([*cells, town], hidden=hidden))
    return document([table("排摸登记", rows)])


def flat_source() -> str:
    rows = [plain_row(HEADER)]
    for number, name, phone, gender, (brand, enterprise, outlet), _ in PEOPLE:
        rows.append(
            plain_row([number, name, str(phone), gender, brand, enterprise, outlet, "南桥镇"])
        )
    return document([table("排摸登记", rows)])


def far_source() -> str:
    """姓名 in A1 and one cell at IV65536, the last cell an .xls can hold."""
    return document(
        [
            table(
                "Sheet1",
                [
                    plain_row(["姓名", "手机号码"]),
                    row([cell("")], repeat=65534),
                    row(['<table:table-cell table:number-columns-repeated="255"/>', cell("x")]),
                ],
            )
        ]
    )


def rows_source() -> str:
    person = ["张伟", "13912340001", "南桥镇"]
    return document(
        [
            table(
                "Sheet1",
                [
                    plain_row(["姓名", "手机号码", "工作街镇"]),
                    row([cell(v) for v in person], repeat=3000),
                ],
            )
        ]
    )


LISTS = {
    "enterprises": [
        ["奉贤区快递加盟企业及网点名单"],
        ["企业名称", "快递品牌", "企业所在街镇", "网点名称", "网点所在街镇"],
        ["上海南桥中通快递有限公司", "中通", "南桥", "中通南桥一部", ""],
        ["上海南桥中通快递有限公司", "", "南桥", "中通西渡二部", "西渡街道"],
    ],
    "stations": [
        ["奉贤区骑乐融融站点名单"],
        ["站点名称", "承载阵地", "街镇", "地址", "坐标"],
        ["南桥镇党群服务站", "党群服务站点", "南桥镇", "南桥镇解放东路 1 号", "30.918,121.474"],
        ["南桥爱心接力站", "爱心接力站", "南桥", "南桥镇环城东路 2 号", "30.925,121.480"],
    ],
    "points": [
        ["奉贤区报到点名单"],
        ["报到点名称", "类型", "街镇", "地址", "报到目标"],
        ["南桥镇党群服务中心", "党群服务阵地", "南桥镇", "解放东路 1 号", 40],
        ["江海社区报到点", "社区", "南桥", "江海路 2 号", ""],
    ],
}


def ods_zip(content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet"
        )
        archive.writestr(
            "META-INF/manifest.xml", '<?xml version="1.0" encoding="UTF-8"?><manifest/>'
        )
        archive.writestr("content.xml", content)
    return buffer.getvalue()


CONTENT_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?><office:document-content'
    b' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
    b' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
    b' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body>'
    b'<office:spreadsheet><table:table table:name="Sheet1">'
)
CONTENT_TAIL = b"</table:table></office:spreadsheet></office:body></office:document-content>"


def main() -> None:
    HERE.mkdir(exist_ok=True)
    sources = {
        "survey.fods": survey_source(),
        "survey-flat.fods": flat_source(),
        "far.fods": far_source(),
        "rows.fods": rows_source(),
    }
    for name, text in sources.items():
        (HERE / name).write_text(text, encoding="utf-8")
    survey = HERE / "survey.fods"
    for target in ("xlsx", "xls", "ods", "xlsm:Calc MS Excel 2007 VBA XML"):
        convert(survey, target, HERE)
    for stem, rows in LISTS.items():
        source = HERE / f"{stem}.fods"
        source.write_text(document([table("Sheet1", [plain_row(r) for r in rows])]), "utf-8")
        for target in ("xls", "ods"):
            convert(source, target, HERE)
    convert(HERE / "far.fods", "xls", HERE)
    convert(HERE / "rows.fods", "xls", HERE)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        flat = HERE / "survey-flat.fods"
        gb = convert(flat, "csv:Text - txt - csv (StarCalc):44,34,85,1", out)
        shutil.move(gb, HERE / "survey-gb18030.csv")
        utf8 = convert(flat, "csv:Text - txt - csv (StarCalc):44,34,76,1", out)
        (HERE / "survey-utf8-bom.csv").write_bytes(b"\xef\xbb\xbf" + utf8.read_bytes())
    shutil.copy(HERE / "survey.xls", HERE / "survey.et")
    shutil.copy(HERE / "survey.xls", HERE / "survey-xls-named.xlsx")
    shutil.copy(HERE / "survey.ods", HERE / "survey-ods-named.xlsx")
    shutil.copy(HERE / "survey.xlsx", HERE / "survey-xlsx-named.xls")
    (HERE / "bomb.ods").write_bytes(
        ods_zip(CONTENT_HEAD + b" " * (30 * 1024 * 1024) + CONTENT_TAIL)
    )
    repeated = (
        b'<table:table-row table:number-rows-repeated="1000000"><table:table-cell'
        b' office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row>'
    )
    (HERE / "repeated.ods").write_bytes(ods_zip(CONTENT_HEAD + repeated + CONTENT_TAIL))


if __name__ == "__main__":
    main()
