"""Real .xlsx and .csv files built in memory for import tests."""

from __future__ import annotations

import csv
import io
import struct
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


# --- crafted workbooks: what no spreadsheet program writes, but an attacker can ----------------

_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/'
    'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
    'ContentType="application/xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    '.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>'
)
_SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org'
    b'/spreadsheetml/2006/main"><sheetData>'
)


def column_name(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    name, index = "", index + 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def raw_xlsx(rows, shared_strings: list[str] | None = None) -> bytes:
    """A minimal workbook around sheet XML written by hand: `rows` yields each <row>…</row>
    as bytes (a generator keeps a large sheet out of memory)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        if shared_strings is not None:
            items = "".join(f"<si><t>{text}</t></si>" for text in shared_strings)
            archive.writestr(
                "xl/sharedStrings.xml",
                '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.'
                f'openxmlformats.org/spreadsheetml/2006/main">{items}</sst>',
            )
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(_SHEET_HEAD)
            for row in rows:
                sheet.write(row)
            sheet.write(b"</sheetData></worksheet>")
    return buffer.getvalue()


def inline_row(number: int, texts: list[str]) -> bytes:
    cells = "".join(
        f'<c r="{column_name(i)}{number}" t="inlineStr"><is><t>{text}</t></is></c>'
        for i, text in enumerate(texts)
    )
    return f'<row r="{number}">{cells}</row>'.encode()


def long_inline_strings(rows: int = 10_000, columns: int = 27, length: int = 1_000) -> bytes:
    """Long inline strings: at the defaults the file found by the attack, 1.5 MB that unpacks
    to 269 MB (ratio 172, under the zip-bomb checks), which took a worker to 811 MB."""
    text = "x" * length
    return raw_xlsx(inline_row(n, [text] * columns) for n in range(1, rows + 1))


def shared_string_amplifier(rows: int = 20_000, columns: int = 17, length: int = 2_000) -> bytes:
    """One long shared string used by every cell: the reader copies it into each one."""

    def sheet():
        for n in range(1, rows + 1):
            cells = "".join(
                f'<c r="{column_name(i)}{n}" t="s"><v>0</v></c>' for i in range(columns)
            )
            yield f'<row r="{n}">{cells}</row>'.encode()

    return raw_xlsx(sheet(), shared_strings=["x" * length])


def far_cell(reference: str) -> bytes:
    """Two cells, A1 and one far away, whose grid the reader would build whole: at ZZ1000000,
    1.5 KB that takes 21 GB to read."""
    row = int("".join(c for c in reference if c.isdigit()))
    return raw_xlsx(
        [
            inline_row(1, ["姓名", "手机号码", "工作街镇"]),
            f'<row r="{row}"><c r="{reference}" t="inlineStr"><is><t>y</t></is></c></row>'.encode(),
        ]
    )


def with_central_directory(data: bytes, member: str, **fields: int) -> bytes:
    """`data` with the central directory entry of `member` rewritten: size= (what it says the
    part unpacks to), crc=, flags=."""
    offsets = {"flags": (8, "<H"), "crc": (16, "<I"), "size": (24, "<I")}
    name = member.encode()
    at = data.find(b"PK\x01\x02")
    patched = bytearray(data)
    while at >= 0:
        (name_length,) = struct.unpack_from("<H", data, at + 28)
        if data[at + 46 : at + 46 + name_length] == name:
            for key, value in fields.items():
                offset, fmt = offsets[key]
                struct.pack_into(fmt, patched, at + offset, value)
            return bytes(patched)
        at = data.find(b"PK\x01\x02", at + 4)
    raise KeyError(member)


def lying_directory() -> bytes:
    """A workbook whose sheet unpacks to 50 MB while the central directory says 300 bytes:
    the declared sizes pass every check of them."""
    padding = b" " * (50 * 1024 * 1024)
    data = raw_xlsx([inline_row(1, ["姓名", "手机号码", "工作街镇"]), padding])
    return with_central_directory(data, "xl/worksheets/sheet1.xml", size=300)
