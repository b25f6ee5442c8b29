"""Make the LibreOffice fixtures of the survey's new outlets and enterprises (issue 15, item 11).

Writes the sheet as CSV and has LibreOffice Calc save it as .xlsx, as a town office would:
    soffice -env:UserInstallation=file:///tmp/lo_outlets --headless \
        --infilter=CSV:44,34,76,1 --convert-to xlsx new_outlets.csv
Run from this folder: `python make_fixtures.py` (needs Debian's libreoffice-calc-nogui).
The .xlsx is committed, so the tests need no LibreOffice.

new_outlets.xlsx (南桥镇 rows, brands 极兔 / 中通 / 顺丰 registered, the outlet 顺丰南桥中心网点
of 上海南桥顺丰快递服务有限公司 registered):
- rows 2, 3, 7: a new outlet 极兔南桥2部 (row 3 writes it 极兔南桥２部 with a full-width digit
  and a trailing space), no enterprise: under the placeholder enterprise 极兔·南桥镇（待核实）;
- row 4: a new enterprise 上海南桥中通快递有限公司 with a new outlet 中通南桥一部;
- row 5: 顺丰 南桥中心站, a near-duplicate of the registered 顺丰南桥中心网点;
- row 6: 顺丰南桥中心网点 itself.
"""

import csv
import pathlib
import subprocess

HERE = pathlib.Path(__file__).resolve().parent
ROWS = [
    ["序号", "姓名", "手机号码", "工作街镇", "快递品牌", "加盟企业", "网点名称", "备注"],
    [1, "张一", "13800000001", "南桥镇", "极兔", "", "极兔南桥2部", ""],
    [2, "张二", "13800000002", "南桥", "极兔", "", "极兔南桥２部 ", "新入职"],
    [3, "张三", "13800000003", "南桥镇", "中通", "上海南桥中通快递有限公司", "中通南桥一部", ""],
    [4, "张四", "13800000004", "南桥镇", "顺丰", "", "顺丰 南桥中心站", ""],
    [5, "张五", "13800000005", "南桥镇", "顺丰", "", "顺丰南桥中心网点", ""],
    [6, "张六", "13800000006", "南桥镇", "J&T极兔", "", "极兔南桥2部", ""],
]


def convert(source: pathlib.Path, target_format: str, infilter: str | None = None) -> None:
    command = [
        "soffice",
        "-env:UserInstallation=file:///tmp/lo_outlets",
        "--headless",
        *([f"--infilter={infilter}"] if infilter else []),
        "--convert-to",
        target_format,
        "--outdir",
        str(source.parent),
        str(source),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=120)


def main() -> None:
    source = HERE / "new_outlets.csv"
    with source.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows(ROWS)
    # 44 = comma, 34 = double quote, 76 = UTF-8, 1 = start at row 1.
    convert(source, "xlsx", "CSV:44,34,76,1")
    source.unlink()


if __name__ == "__main__":
    main()
