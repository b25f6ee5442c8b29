"""The downloadable .xlsx template of a sheet: canonical headers on the first sheet, and a
second sheet explaining each column, its accepted header names and values."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from couriers.imports.sheet_import import SheetImporter

HEADER_FILL = PatternFill("solid", fgColor="FFF2CC")


def build_template(importer: type[SheetImporter]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = importer.sheet_name
    sheet.append([column.header for column in importer.columns])
    for cell, column in zip(sheet[1], importer.columns, strict=True):
        cell.font = Font(bold=True, color="C00000" if column.required else "000000")
        cell.fill = HEADER_FILL
        sheet.column_dimensions[cell.column_letter].width = max(12, 2 * len(column.header) + 4)
    sheet.freeze_panes = "A2"

    notes = workbook.create_sheet("填写说明")
    notes.append([f"{importer.title}：填写说明"])
    notes["A1"].font = Font(bold=True, size=14)
    notes.append(
        [
            "表头可放在前 10 行内，上方可有标题行；列的顺序不限；多余的列会被忽略。"
            "红色列为必填。整个文件有任何错误时不会写入任何数据。"
        ]
    )
    notes.append([])
    notes.append(["列名", "是否必填", "也可写作", "填写说明"])
    for cell in notes[4]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for column in importer.columns:
        notes.append(
            [
                column.header,
                "必填" if column.required else "选填",
                "、".join(column.aliases),
                column.help,
            ]
        )
    for letter, width in zip("ABCD", (16, 10, 36, 80), strict=True):
        notes.column_dimensions[letter].width = width
    for row in notes.iter_rows(min_row=5):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
