"""Real .xlsx and .csv files built in memory for import tests."""

from __future__ import annotations

import csv
import io
import zipfile

from openpyxl import Workbook

HEADER = ["姓名", "手机号码", "工作街镇"]


def xlsx(rows: list[list], title_lines: list[str] = ()) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for line in title_lines:
        sheet.append([line])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list], encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def zip_bomb() -> bytes:
    """An .xlsx-looking zip whose sheet declares gigabytes once unpacked."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))
    return buffer.getvalue()
