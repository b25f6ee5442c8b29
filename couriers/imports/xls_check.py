"""What reading an .xls (Excel 97–2003, BIFF8) would cost, and which of its rows are hidden.

An .xls is an OLE compound file (read here with olefile) whose "Workbook" stream is a list of
BIFF records: the workbook's shared strings (SST) and sheet list first, then each sheet's cells.
python-calamine builds every sheet's grid when it opens the file, with a copy of a shared string
in each cell that uses it, so a small file can ask for a great deal (an 8,000-character string
in every cell of a 65,536-row sheet). `check()` walks the records once (never the cells' values)
and refuses (`xlsx_check.Refused`) a file whose grids, cells or text exceed the same budgets as
an .xlsx, or past the row cap; it also says whether the file is password-protected (FILEPASS).
On the same pass it records each sheet's hidden rows (ROW records with fDyZero), which the reader
does not tell.

A WPS `.et` file and an encrypted .xlsx are OLE files too; `kind()` tells them apart.
"""

from __future__ import annotations

import struct
from array import array

import olefile

from couriers.imports import xlsx_check
from couriers.imports.xlsx_check import Refused

CORRUPT = "文件已损坏或不是有效的 .xls 文件，请在 Excel 或 WPS 中重新保存后再导入。"
PASSWORD = "该 .xls 文件设置了打开密码，请在 Excel 中取消密码后再导入。"
OLD_BIFF = "这是 Excel 95 或更早版本的文件，请在 Excel 中“另存为” .xlsx 后再导入。"

_BOF, _EOF, _FILEPASS, _BOUNDSHEET, _SST, _CONTINUE, _ROW = (
    0x0809,
    0x000A,
    0x002F,
    0x0085,
    0x00FC,
    0x003C,
    0x0208,
)
# Records of one cell that holds a value: row and column first.
_VALUE_CELLS = {0x00FD, 0x0203, 0x027E, 0x0205, 0x0204, 0x00D6, 0x0006}
_LABELSST, _LABEL, _RSTRING, _STRING, _MULRK = 0x00FD, 0x0204, 0x00D6, 0x0207, 0x00BD


def kind(data: bytes) -> str:
    """What an OLE file holds: "xls", "encrypted-ooxml" (an .xlsx with a password), or ""."""
    try:
        with olefile.OleFileIO(data) as ole:
            streams = {"/".join(entry).lower() for entry in ole.listdir()}
    except (OSError, ValueError, struct.error, IndexError, TypeError):
        return ""
    if "encryptedpackage" in streams:
        return "encrypted-ooxml"
    if "workbook" in streams or "book" in streams:
        return "xls"
    return ""


def check(data: bytes) -> list[array]:
    """Refuse an .xls over the budgets; else the hidden rows (1-based) of each sheet, in the
    workbook's order."""
    try:
        with olefile.OleFileIO(data) as ole:
            if not ole.exists("Workbook"):
                raise Refused(OLD_BIFF if ole.exists("Book") else CORRUPT)
            if ole.get_size("Workbook") > xlsx_check._limit(
                "SHEET_IMPORT_MAX_UNCOMPRESSED_BYTES", 300 * 1024 * 1024
            ):
                raise Refused(xlsx_check.TOO_LARGE)
            stream = ole.openstream("Workbook").read()
    except (OSError, ValueError, struct.error, IndexError, TypeError):
        raise Refused(CORRUPT) from None
    return _scan(stream)


def _records(stream: bytes):
    at, end = 0, len(stream)
    while at + 4 <= end:
        kind, length = struct.unpack_from("<HH", stream, at)
        body = memoryview(stream)[at + 4 : at + 4 + length]
        if len(body) != length:
            raise Refused(CORRUPT)
        yield at, kind, body
        at += 4 + length


class _Sheet:
    __slots__ = ("cells", "hidden", "last_col", "last_row")

    def __init__(self):
        self.hidden = array("L")
        self.last_row = self.last_col = -1
        self.cells = 0


def _scan(stream: bytes) -> list[array]:
    budget = xlsx_check._Budget()
    sheet_at: dict[int, int] = {}  # offset of a sheet's BOF → its place in the workbook
    sst_parts: list[bytes] = []
    sizes = array("L")
    sheets: dict[int, _Sheet] = {}
    current: _Sheet | None = None
    in_sst = in_globals = False
    grids = cells = text = 0
    first = True
    for at, kind, body in _records(stream):
        if first:
            if kind != _BOF or len(body) < 4 or struct.unpack_from("<H", body)[0] != 0x0600:
                raise Refused(OLD_BIFF if kind == _BOF else CORRUPT)
            first, in_globals = False, True
            continue
        if kind == _BOF:
            if at not in sheet_at:
                current = None  # a chart or macro sheet: not a worksheet the reader reads
                continue
            current = sheets.setdefault(sheet_at[at], _Sheet())
            continue
        if in_globals:
            if kind == _FILEPASS:
                raise Refused(PASSWORD)
            if kind == _BOUNDSHEET and len(body) >= 6:
                position, _, sheet_type = struct.unpack_from("<IBB", body)
                if sheet_type == 0:
                    sheet_at[position] = len(sheet_at)
            if kind == _SST:
                in_sst, sst_parts = True, [bytes(body)]
            elif kind == _CONTINUE and in_sst:
                sst_parts.append(bytes(body))
            elif in_sst:
                in_sst = False
                sizes = _sst_sizes(sst_parts, budget)
                sst_parts = []
            if kind == _EOF:
                in_globals = False
                text = sum(sizes) + 24 * len(sizes)
                budget.text(text)
            continue
        if current is None:
            continue
        if kind == _EOF:
            grids += (current.last_row + 1) * (current.last_col + 1)
            budget.cells(grids)
            current = None
            continue
        if kind == _ROW and len(body) >= 14:
            row, options = struct.unpack_from("<H", body)[0], struct.unpack_from("<H", body, 12)[0]
            if options & 0x20:
                current.hidden.append(row + 1)
            continue
        if kind in _VALUE_CELLS or kind == _MULRK:
            if len(body) < 6:
                raise Refused(CORRUPT)
            row, column = struct.unpack_from("<HH", body)
            last = column
            if kind == _MULRK:
                last = struct.unpack_from("<H", body, len(body) - 2)[0]
                count = max(last - column + 1, 0)
            else:
                count = 1
            current.last_row = max(current.last_row, row)
            current.last_col = max(current.last_col, last)
            cells += count
            if kind == _LABELSST and len(body) >= 10:
                index = struct.unpack_from("<I", body, 6)[0]
                if index < len(sizes):
                    text += sizes[index]
            elif kind in (_LABEL, _RSTRING):
                text += 3 * len(body) + 24
            budget.cells(cells)
            budget.text(text)
            if current.last_row + 1 > budget.max_rows:
                raise Refused(xlsx_check._too_many_rows())
            if current.last_col + 1 > budget.max_columns:
                raise Refused(
                    f"工作表超过 {budget.max_columns} 列的上限，"
                    "请删去多余的列（空白列也算）后再导入。"
                )
        elif kind == _STRING:  # a formula's text result
            text += 3 * len(body) + 24
            budget.text(text)
    if first:
        raise Refused(CORRUPT)
    empty = _Sheet()
    return [sheets.get(index, empty).hidden for index in range(len(sheet_at))]


def _sst_sizes(parts: list[bytes], budget) -> array:
    """What the reader holds for each shared string (UTF-8, at most 3 bytes a character, plus
    a header), walking the strings across CONTINUE records: a string's characters may go on in
    the next record, which then starts with a new options byte."""
    sizes = array("L")
    part, at = 0, 8
    if len(parts[0]) < 8:
        raise Refused(CORRUPT)
    unique = struct.unpack_from("<I", parts[0], 4)[0]
    if unique > budget.max_cells:
        raise Refused(xlsx_check.UNUSUAL)

    def take(count: int) -> bytes:
        """`count` bytes, continuing into the next record as needed (no options byte)."""
        nonlocal part, at
        out = b""
        while len(out) < count:
            if at >= len(parts[part]):
                part, at = part + 1, 0
                if part >= len(parts):
                    raise Refused(CORRUPT)
            piece = parts[part][at : at + count - len(out)]
            out += piece
            at += len(piece)
        return out

    for _ in range(unique):
        if part >= len(parts) or (part == len(parts) - 1 and at >= len(parts[part])):
            break  # fewer strings than declared: the reader stops there too
        length, options = struct.unpack("<HB", take(3))
        runs = struct.unpack("<H", take(2))[0] if options & 0x08 else 0
        extra = struct.unpack("<I", take(4))[0] if options & 0x04 else 0
        wide = options & 0x01
        left = length
        while left:
            if at >= len(parts[part]):
                part, at = part + 1, 0
                if part >= len(parts) or not parts[part]:
                    raise Refused(CORRUPT)
                wide = parts[part][0] & 0x01
                at = 1
            width = 2 if wide else 1
            step = min(left, (len(parts[part]) - at) // width)
            if step == 0:
                raise Refused(CORRUPT)
            at += step * width
            left -= step
        skip = 4 * runs + extra
        while skip:
            if at >= len(parts[part]):
                part, at = part + 1, 0
                if part >= len(parts):
                    raise Refused(CORRUPT)
            step = min(skip, len(parts[part]) - at)
            at += step
            skip -= step
        sizes.append(3 * length + 24)
    return sizes
