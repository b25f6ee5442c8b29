"""Make tests/office_files/sheets/: workbooks shaped the way town offices send them, saved by
LibreOffice. Run with LibreOffice installed: python tests/office_files/make_sheets.py

- towns.fods → towns.xlsx, towns.xls, towns.ods: one sheet per town (南桥镇, 西渡街道, 奉城镇,
  4 couriers each, columns in another order on 西渡街道, a row hidden on 奉城镇), a 说明 sheet
  with no header, and a hidden sheet 作废 whose rows must not be imported;
- merged.fods → merged.xlsx, merged.xls, merged.ods: brand, enterprise and outlet merged down
  blocks of four rows, the town merged down all eight, the title merged across, and a 备注
  block merged two rows by two columns;
- notes.fods → notes.xlsx: two sheets, neither with a header.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reader_fods import cell, convert, covered, document, plain_row, row, table

HERE = Path(__file__).resolve().parent / "sheets"
HEADER = ["序号", "姓名", "手机号码", "性别", "所属品牌", "所属企业", "网点", "工作街镇"]
NANQIAO_SF = ("顺丰", "上海南桥顺丰速运有限公司", "顺丰南桥网点")
NANQIAO_ZTO = ("中通", "上海南桥中通快递有限公司", "中通南桥网点")
XIDU_ZTO = ("中通", "上海西渡中通快递有限公司", "中通西渡网点")
FENGCHENG_SF = ("顺丰", "上海奉城顺丰速运有限公司", "顺丰奉城网点")


def nanqiao() -> str:
    people = [
        ("张伟", "13912340101", "男"),
        ("王芳", "13912340102", "女"),
        ("李娜", "13912340103", "女"),
        ("刘强", "13912340104", "男"),
    ]
    rows = [
        row([cell("奉贤区快递小哥排摸登记表（南桥镇）", cols=8), covered(7)]),
        plain_row(HEADER),
    ]
    for index, (name, phone, gender) in enumerate(people):
        town = cell("南桥镇", rows=4) if index == 0 else covered()
        values = [index + 1, name, phone, gender, *NANQIAO_SF]
        rows.append(row([*(cell(v) for v in values), town]))
    return table("南桥镇", rows)


def xidu() -> str:
    """Other columns, in another order, and the brand merged down."""
    people = [
        ("赵磊", "13912340201"),
        ("孙丽", "13912340202"),
        ("周杰", "13912340203"),
        ("吴敏", "13912340204"),
    ]
    rows = [plain_row(["姓名", "手机号码", "工作街镇", "所属品牌", "所属企业", "网点"])]
    for index, (name, phone) in enumerate(people):
        brand = cell("中通", rows=4) if index == 0 else covered()
        rows.append(
            row(
                [
                    cell(name),
                    cell(phone),
                    cell("西渡街道"),
                    brand,
                    cell(XIDU_ZTO[1]),
                    cell(XIDU_ZTO[2]),
                ]
            )
        )
    return table("西渡街道", rows)


def fengcheng() -> str:
    """No title; the third courier's row (Excel row 4) is hidden."""
    people = [
        ("郑浩", "13912340301", "男"),
        ("钱芳", "13912340302", "女"),
        ("冯军", "13912340303", "男"),
        ("朱琳", "13912340304", "女"),
    ]
    rows = [plain_row(HEADER)]
    for index, (name, phone, gender) in enumerate(people):
        rows.append(
            plain_row([index + 1, name, phone, gender, *FENGCHENG_SF, "奉城镇"], hidden=index == 2)
        )
    return table("奉城镇", rows)


def notes(name: str = "说明") -> str:
    return table(
        name,
        [
            plain_row(["填表说明"]),
            plain_row(["1. 每个街镇填写一张工作表，表名为街镇名称。"]),
            plain_row(["2. 手机号码请填写 11 位手机号。"]),
        ],
    )


def void() -> str:
    rows = [
        plain_row(HEADER),
        plain_row([1, "作废人员", "13912349999", "男", *NANQIAO_SF, "南桥镇"]),
    ]
    return table("作废", rows, hidden=True)


def merged() -> str:
    people = ["陈一", "陈二", "陈三", "陈四", "林一", "林二", "林三", "林四"]
    header = [
        "序号",
        "姓名",
        "手机号码",
        "所属品牌",
        "所属企业",
        "网点",
        "工作街镇",
        "备注",
        "说明",
    ]
    rows = [row([cell("奉贤区快递小哥排摸登记表", cols=9), covered(8)]), plain_row(header)]
    for index, name in enumerate(people):
        block = NANQIAO_SF if index < 4 else NANQIAO_ZTO
        cells = [cell(index + 1), cell(name), cell(f"139123405{index + 1:02d}")]
        if index % 4 == 0:
            cells += [cell(value, rows=4) for value in block]
        else:
            cells += [covered(), covered(), covered()]
        cells.append(cell("南桥镇", rows=8) if index == 0 else covered())
        if index == 0:
            cells.append(cell("老员工", rows=2, cols=2))
            cells.append(covered())
        elif index == 1:
            cells.append(covered(2))
        rows.append(row(cells))
    return table("南桥镇", rows)


def main() -> None:
    HERE.mkdir(exist_ok=True)
    sources = {
        "towns.fods": document([nanqiao(), xidu(), fengcheng(), notes(), void()]),
        "merged.fods": document([merged()]),
        "notes.fods": document([notes("说明"), notes("附表")]),
    }
    for name, text in sources.items():
        (HERE / name).write_text(text, encoding="utf-8")
    for stem in ("towns", "merged"):
        for target in ("xlsx", "xls", "ods"):
            convert(HERE / f"{stem}.fods", target, HERE)
    convert(HERE / "notes.fods", "xlsx", HERE)


if __name__ == "__main__":
    main()
