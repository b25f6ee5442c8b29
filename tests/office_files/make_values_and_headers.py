"""Make the survey files of tests/office_files/values/ and tests/office_files/headers/ the way a
town office saves them: each is written as flat ODF (.fods, kept beside the outputs as the
source) and saved by real LibreOffice Calc as .xlsx (some also .xls, .ods, .csv).

    python tests/office_files/make_values_and_headers.py   # needs soffice (libreoffice-calc)

Number cells are written as office:value-type="float", so LibreOffice stores what an office
that typed an ID number into a number cell gets: the value rounded to 15 significant digits.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent

_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.spreadsheet">
<office:automatic-styles>
 <number:date-style style:name="N1"><number:year number:style="long"/><number:text>-</number:text>
  <number:month number:style="long"/><number:text>-</number:text><number:day number:style="long"/>
 </number:date-style>
 <style:style style:name="date" style:family="table-cell" style:data-style-name="N1"/>
</office:automatic-styles>
<office:body><office:spreadsheet>
"""
_TAIL = "</office:spreadsheet></office:body></office:document>\n"


class Num(float):
    """A number cell (as typed into a cell formatted 常规)."""


class Day(str):
    """A date cell: ISO text of the date."""


class Merge:
    """A cell merged over `across` columns and `down` rows."""

    def __init__(self, text: str, across: int = 1, down: int = 1):
        self.text, self.across, self.down = text, across, down


COVERED = object()  # a cell covered by a merge


def _cell(value) -> str:
    if value is None:
        return "<table:table-cell/>"
    if value is COVERED:
        return "<table:covered-table-cell/>"
    if isinstance(value, Merge):
        return (
            f'<table:table-cell table:number-columns-spanned="{value.across}" '
            f'table:number-rows-spanned="{value.down}" office:value-type="string">'
            f"<text:p>{escape(value.text)}</text:p></table:table-cell>"
        )
    if isinstance(value, Num):
        shown = repr(float(value)) if not float(value).is_integer() else str(int(value))
        return (
            f'<table:table-cell office:value-type="float" office:value="{shown}">'
            f"<text:p>{shown}</text:p></table:table-cell>"
        )
    if isinstance(value, Day):
        return (
            f'<table:table-cell table:style-name="date" office:value-type="date" '
            f'office:date-value="{value}"><text:p>{value}</text:p></table:table-cell>'
        )
    return (
        f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}</text:p>'
        "</table:table-cell>"
    )


def fods(rows: list[list], sheet: str = "排摸登记表") -> str:
    body = "".join(
        "<table:table-row>" + "".join(_cell(v) for v in row) + "</table:table-row>\n"
        for row in rows
    )
    return f'{_HEAD}<table:table table:name="{sheet}">\n{body}</table:table>\n{_TAIL}'


def save(folder: str, name: str, rows: list[list], formats=("xlsx",)) -> None:
    out = HERE / folder
    out.mkdir(exist_ok=True)
    source = out / f"{name}.fods"
    source.write_text(fods(rows), encoding="utf-8")
    with tempfile.TemporaryDirectory() as profile:
        for kind in formats:
            target = "csv:Text - txt - csv (StarCalc):44,34,76" if kind == "csv" else kind
            subprocess.run(
                [
                    "soffice",
                    f"-env:UserInstallation=file://{profile}",
                    "--headless",
                    "--convert-to",
                    target,
                    "--outdir",
                    str(out),
                    str(source),
                ],
                check=True,
                capture_output=True,
            )


# ID numbers: 341221197608097773 rounds to 341221197608097792 (checksum fails);
# 341221198503123941 rounds to 341221198503123968, which passes the checksum: stored silently
# as a wrong number before this check.
FENG_ID = "341221197608097773"
WANG_ID = "341221198503123941"

VALUES = {
    "numeric_ids": (
        [
            ["姓名", "手机号码", "身份证号码", "工作街镇"],
            ["冯伟", Num(13900000001), Num(int(FENG_ID)), "南桥镇"],
            ["王芳", Num(13900000002), Num(int(WANG_ID)), "南桥镇"],
        ],
        ("xlsx", "xls", "ods"),
    ),
    # Text in exponent form, as a sheet holds after a CSV round trip through a number column.
    "exponent_text": (
        [
            ["姓名", "手机号码", "身份证号码", "工作街镇"],
            ["冯伟", "13900000001", "3.41221197608098E+17", "南桥镇"],
            ["王芳", "1.39E+10", "", "南桥镇"],
        ],
        ("xlsx", "csv"),
    ),
    "birth_numbers": (
        [
            ["姓名", "手机号码", "身份证号码", "出生年月", "工作街镇"],
            ["赵一", "13900000011", "", Num(1982.5), "南桥镇"],
            ["钱二", "13900000012", "341221197601150017", Num(1976.1), "南桥镇"],
            ["李四", "13900000014", "341221198810030016", Num(1988.1), "南桥镇"],
            ["周五", "13900000015", "", Day("1990-05-21"), "南桥镇"],
            ["吴六", "13900000016", "", "1990年5月", "南桥镇"],
            ["郑七", "13900000017", "", "1990.05", "南桥镇"],
            ["王八", "13900000018", "", Num(199005), "南桥镇"],
            ["冯九", "13900000019", "", "1990/5/21", "南桥镇"],
            ["陈十", "13900000020", "", "1990-05-21", "南桥镇"],
            ["褚一", "13900000021", "", Num(1990.12), "南桥镇"],
        ],
        ("xlsx",),
    ),
    "birth_ambiguous": (
        [
            ["姓名", "手机号码", "身份证号码", "出生年月", "工作街镇"],
            ["赵一", "13900000011", "", Num(1982.5), "南桥镇"],
            ["孙三", "13900000013", "", Num(1988.1), "南桥镇"],
        ],
        ("xlsx",),
    ),
    "names": (
        [
            ["姓名", "手机号码", "工作街镇"],
            ["冯\u3000伟", "13900000031", "南桥镇"],
            ["王 小明", "13900000032", "南桥镇"],
            ["\u3000李\u3000\u3000四 ", "13900000033", "南桥镇"],
            ["John  Smith", "13900000034", "南桥镇"],
            ["阿卜杜·热合曼", "13900000035", "南桥镇"],
        ],
        ("xlsx",),
    ),
    "words": (
        [
            [
                "姓名",
                "手机号码",
                "工作街镇",
                "政治面貌",
                "学历",
                "性别",
                "是否流动党员",
                "是否业务骨干",
                "从业状态",
                "快递品牌",
            ],
            [
                "赵一",
                "13900000041",
                "南桥镇",
                "有意愿入党",
                "高中（中专）",
                "男士",
                "否",
                "是的",
                "在职在岗",
                "中通快递",
            ],
            [
                "钱二",
                "13900000042",
                "南桥镇",
                "要求入党",
                "大专（高职）",
                "女",
                "/",
                "√",
                "已辞职",
                "顺丰速运",
            ],
            [
                "孙三",
                "13900000043",
                "南桥镇",
                "申请入党",
                "本科学历",
                "男",
                "",
                "✔",
                "在岗",
                "韵达速递",
            ],
            [
                "李四",
                "13900000044",
                "南桥镇",
                "已递交入党申请书",
                "小学及以下",
                "女性",
                "否",
                "×",
                "离职",
                "中国邮政速递物流",
            ],
        ],
        ("xlsx",),
    ),
}

# Two-row headers: group titles merged across, column titles below, some titles merged down.
_TOP = [
    "序号",
    "姓名",
    "性别",
    "身份证号码",
    "出生年月",
    "工作信息",
    "工作信息",
    "工作信息",
    "工作街镇",
    "备注",
]
_LOW = [
    "序号",
    "姓名",
    "性别",
    "身份证号码",
    "出生年月",
    "快递品牌",
    "加盟企业",
    "联系电话",
    "工作街镇",
    "备注",
]
_DATA = [
    [1, "冯伟", "男", "", "1990.05", "顺丰", "", "13900000051", "南桥镇", ""],
    [2, "王芳", "女", "", "1991.06", "顺丰", "", "13900000052", "南桥镇", "新员工"],
]
_TITLE = ["奉贤区快递从业人员排摸登记表"]
_MERGED_TOP = [
    Merge("序号", down=2),
    Merge("姓名", down=2),
    Merge("性别", down=2),
    Merge("身份证号码", down=2),
    Merge("出生年月", down=2),
    Merge("工作信息", across=3),
    COVERED,
    COVERED,
    Merge("工作街镇", down=2),
    Merge("备注", down=2),
]
_MERGED_LOW = [COVERED] * 5 + ["快递品牌", "加盟企业", "联系电话"] + [COVERED] * 2
_FOOTER = [
    [None] * 10,
    ["填表人：", "张三", None, "审核人：", "李四", None, "填报日期：", "2026年11月30日"],
    ["联系电话：", "021-57120000"],
]

HEADERS = {
    # As the reader gives a merged header once it fills every merged cell with its value.
    "two_row_filled": [_TITLE, _TOP, _LOW, *_DATA],
    # The same header with real merged cells.
    "two_row_merged": [_TITLE, _MERGED_TOP, _MERGED_LOW, *_DATA],
    "office_columns": [
        ["序号", "姓名", "手机号码", "工作街镇", "快递公司", "居住村居", "签名", "微信号"],
        [1, "冯伟", "13900000061", "南桥镇", "顺丰", "浦江居委会", "冯伟", "fw1990"],
        [2, "王芳", "13900000062", "南桥镇", "顺丰速运", "", "王芳", ""],
    ],
    "office_enterprise": [
        ["序号", "姓名", "手机号码", "工作街镇", "快递品牌", "快递公司", "居住地", "签名"],
        [
            1,
            "冯伟",
            "13900000071",
            "南桥镇",
            "顺丰",
            "上海南桥顺丰快递服务有限公司",
            "浦江居委会",
            "",
        ],
        [2, "王芳", "13900000072", "南桥镇", "顺丰", "上海南桥顺丰快递服务有限公司", "", ""],
    ],
    "two_phones": [
        ["姓名", "手机号码", "联系电话", "工作街镇"],
        ["冯伟", "13900000081", "021-57120001", "南桥镇"],
        ["王芳", "13900000082", "", "南桥镇"],
    ],
    "two_phones_landline_first": [
        ["姓名", "电话", "联系电话", "工作街镇"],
        ["冯伟", "57120001", "13900000091", "南桥镇"],
        ["王芳", "021-57120002", "139 0000 0092", "南桥镇"],
    ],
    "footer": [
        ["姓名", "手机号码", "工作街镇", "快递品牌", "备注"],
        ["冯伟", "13900000101", "南桥镇", "顺丰", ""],
        ["王芳", "13900000102", "南桥镇", "顺丰", ""],
        ["合计", "2 人"],
        *_FOOTER,
    ],
}


if __name__ == "__main__":
    for name, (rows, formats) in VALUES.items():
        save("values", name, rows, formats)
    for name, rows in HEADERS.items():
        save("headers", name, rows)
    print("done")
