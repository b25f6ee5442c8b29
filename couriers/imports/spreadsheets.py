"""Reading uploaded spreadsheets safely and fast.

`iter_sheets()` turns the bytes of an uploaded file into its sheets, each a name and its rows
(lists of cell values, from Excel row 1), or raises `UnreadableFile` with a Chinese message:
never a server error, whatever was uploaded. The kind of file is told by its content, not its
name: .xlsx/.xlsm, .xls (Excel 97–2003) and .ods are read with python-calamine (about ten times
faster than openpyxl), once `xlsx_check`, `xls_check` or `ods_check` has measured what reading
it would hold in memory; CSV may be UTF-8 (with or without BOM) or GB18030, as Chinese Excel
saves it, and is read as a stream. Every cell of a merged range reads as the range's top-left
value (down and across, header rows too), and each sheet says which of its rows are hidden.
`check_file()` runs the whole-file checks alone (before an upload is kept at all).
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import logging
import re
import zipfile
import zlib
from collections.abc import Iterator

from django.conf import settings
from python_calamine import CalamineWorkbook, PasswordError, SheetTypeEnum, SheetVisibleEnum

from couriers.imports import ods_check, xls_check, xlsx_check

logger = logging.getLogger(__name__)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, .et, and .xlsx with a password
ZIP_MAGIC = b"PK\x03\x04"
SPREADSHEET_NAMES = (".xlsx", ".xlsm", ".xls", ".ods", ".et", ".ett", ".xlsb", ".numbers")
ACCEPTED = ".xlsx,.xlsm,.xls,.ods,.csv"  # for the upload forms' accept=
PASSWORD = "该 .xlsx 文件设置了打开密码，请在 Excel 中取消密码后再导入。"
XLSB = "不支持 Excel 二进制工作簿（.xlsb），请在 Excel 中“另存为” .xlsx 后再导入。"
WPS = "这是 WPS 表格（.et）文件，请在 WPS 中“另存为” Excel 工作簿（.xlsx）后再导入。"


class UnreadableFile(Exception):
    """The file as a whole cannot be imported; the message says why, in Chinese."""


@dataclasses.dataclass
class Sheet:
    """One sheet of a file: its name ("" for CSV), its rows (a one-time iterator, read when
    first asked for), the numbers of its hidden rows, and why it is not read, if it is not
    (a hidden sheet, a chart)."""

    name: str
    rows: Iterator[list] = dataclasses.field(default_factory=lambda: iter(()))
    hidden_rows: frozenset[int] = frozenset()
    skipped: str = ""


def _limit(name: str, default: int) -> int:
    return getattr(settings, name, default)


def max_rows() -> int:
    return _limit("SHEET_IMPORT_MAX_ROWS", 200_000)


def check_file(data: bytes, filename: str = "") -> str:
    """The whole-file checks, without reading rows: raises UnreadableFile, else returns the
    file's kind ("xlsx", "xls", "ods" or "csv")."""
    return _inspect(data, filename)[0]


def _inspect(data: bytes, filename: str) -> tuple[str, object]:
    """The file's kind, and what its check found that the reader does not tell (hidden rows,
    and for .ods merged ranges)."""
    if not data:
        raise UnreadableFile("文件是空的。")
    if len(data) > _limit("SHEET_IMPORT_MAX_BYTES", 50 * 1024 * 1024):
        raise UnreadableFile("文件太大（超过 50 MB），请拆分后分批导入。")
    name = filename.lower()
    try:
        if data.startswith(OLE_MAGIC):
            if name.endswith((".et", ".ett")):
                raise UnreadableFile(WPS)
            kind = xls_check.kind(data)
            if kind == "encrypted-ooxml" or (not kind and name.endswith((".xlsx", ".xlsm"))):
                # An .xlsx in an OLE file is an encrypted one, even if olefile cannot say so.
                raise UnreadableFile(PASSWORD)
            if kind != "xls":
                raise UnreadableFile(xls_check.CORRUPT)
            return "xls", xls_check.check(data)
        if data.startswith(ZIP_MAGIC):
            kind = _zip_kind(data)
            if kind == "ods":
                return "ods", ods_check.check(data)
            if kind == "xlsb":
                raise UnreadableFile(XLSB)
            return "xlsx", xlsx_check.check(data)
    except xlsx_check.Refused as refusal:
        raise UnreadableFile(str(refusal)) from None
    if name.endswith((".et", ".ett")):
        raise UnreadableFile(WPS)
    if name.endswith(SPREADSHEET_NAMES):
        raise UnreadableFile("文件已损坏或不是 Excel 文件，请重新保存为 .xlsx 后再导入。")
    _csv_encoding(data)
    if data.count(b"\n") > max_rows() + 10:
        raise _too_many()
    return "csv", None


def _zip_kind(data: bytes) -> str:
    """The zip's kind: "ods" for OpenDocument (parts named content.xml and mimetype), "xlsb" for
    Excel's binary workbook; anything else that is a zip is checked as an .xlsx (which
    refuses what is no workbook)."""
    try:
        xlsx_check._check_end_record(data)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return "xlsx"  # the .xlsx check says what is wrong
    except xlsx_check.Refused:
        return "xlsx"
    if ods_check.is_ods(infos):
        return "ods"
    if any(info.filename.lower() == "xl/workbook.bin" for info in infos):
        return "xlsb"
    return "xlsx"


def iter_sheets(data: bytes, filename: str = "") -> Iterator[Sheet]:
    """The sheets of the file, in its order, each read only when its rows are asked for.

    The whole-file checks happen before the first sheet is returned; a problem found while
    reading (a corrupt sheet, too many rows or columns) raises UnreadableFile from the
    iteration. Rows are produced one at a time, so a large file is never held as Python
    objects at once; the row cap counts the rows of all sheets together.
    """
    kind, found = _inspect(data, filename)
    counter = [0]
    if kind == "csv":
        yield Sheet("", _capped(_csv_rows(data), counter))
        return
    workbook = _open(data)
    layouts = found if kind == "ods" else None
    hidden = None if kind == "ods" else found
    parts = xlsx_check.sheet_parts(data) if kind == "xlsx" else []
    for index, meta in enumerate(workbook.sheets_metadata):
        if meta.typ != SheetTypeEnum.WorkSheet:
            yield Sheet(meta.name, skipped="不是数据表（图表或宏表），未读取")
            continue
        if meta.visible != SheetVisibleEnum.Visible:
            yield Sheet(meta.name, skipped="隐藏的工作表，未读取")
            continue
        merges = None
        if kind == "ods":
            layout = layouts[index] if index < len(layouts) else ods_check.SheetLayout(meta.name)
            rows_hidden, merges = layout.hidden, layout.merges
        elif kind == "xls":
            rows_hidden = hidden[index] if index < len(hidden) else ()
        else:
            part = parts[index] if index < len(parts) else ""
            rows_hidden = hidden.get(part, ())
        rows = _capped(_sheet_rows(workbook, index, merges), counter)
        yield Sheet(meta.name, rows, frozenset(rows_hidden))


def iter_rows(data: bytes, filename: str = "") -> Iterator[list]:
    """The rows of the file's first sheet that is read (not hidden), one list of cells each,
    from row 1."""
    for sheet in iter_sheets(data, filename):
        if not sheet.skipped:
            return sheet.rows
    raise UnreadableFile("文件中没有任何内容。")


def _open(data: bytes) -> CalamineWorkbook:
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except PasswordError:
        raise UnreadableFile(PASSWORD) from None
    except BaseException as problem:
        _reader_failed(problem)


def _sheet_rows(workbook, index: int, merges) -> Iterator[list]:
    """One sheet through calamine (its memory was measured by the check), merged ranges
    filled. calamine starts the rows at row 1 but the columns at the first used one."""
    try:
        sheet = workbook.get_sheet_by_index(index)
        if sheet.total_height > max_rows() + 10:
            raise _too_many()
        first_column = sheet.start[1] if sheet.start else 0
        if merges is None:
            merges = [(r0, c0, r1, c1) for (r0, c0), (r1, c1) in sheet.merged_cell_ranges or ()]
        merges = [
            (r0, c0 - first_column, r1, c1 - first_column)
            for r0, c0, r1, c1 in merges
            if c0 >= first_column
        ]
        yield from _filled(sheet.iter_rows(), merges)
    except UnreadableFile:
        raise
    except BaseException as problem:
        _reader_failed(problem)


def _filled(rows: Iterator[list], merges: list[tuple[int, int, int, int]]) -> Iterator[list]:
    """Rows with every cell of a merged range set to the range's top-left value (what the
    sheet shows there): merges are (first row, first column, last row, last column), from 0."""
    if not merges:
        yield from rows
        return
    pending = sorted(merges, reverse=True)  # the next to start at the end
    active: list[tuple[int, int, int, object]] = []
    for number, row in enumerate(rows):
        while pending and pending[-1][0] <= number:
            r0, c0, r1, c1 = pending.pop()
            value = row[c0] if r0 == number and c0 < len(row) else ""
            if value != "" and value is not None and (r1 > r0 or c1 > c0):
                active.append((r1, c0, c1, value))
        if active:
            row = list(row)
            for _, c0, c1, value in active:
                if len(row) <= c1:
                    row.extend([""] * (c1 + 1 - len(row)))
                row[c0 : c1 + 1] = [value] * (c1 + 1 - c0)
            active = [merge for merge in active if merge[0] > number]
        yield row


def _too_many() -> UnreadableFile:
    return UnreadableFile(f"文件超过 {max_rows():,} 行的上限，请拆分后分批导入。")


def _capped(rows: Iterator[list], counter: list[int]) -> Iterator[list]:
    """Rows, counted while they stream (`counter` across the file's sheets): past the row or
    column cap the file is refused."""
    limit = max_rows() + 10  # room for title and header lines
    columns = _limit("SHEET_IMPORT_MAX_COLUMNS", 100)
    for number, row in enumerate(rows, start=1):
        counter[0] += 1
        if counter[0] > limit:
            raise _too_many()
        if len(row) > columns:
            raise UnreadableFile(
                f"第 {number} 行超过 {columns} 列的上限，请删去多余的列（空白列也算）后再导入。"
            )
        yield row


_CORRUPT = xlsx_check.CORRUPT


def _reader_failed(problem: BaseException):
    """Whatever the reader raises on a bad file (its own errors, ValueError …, or a Rust
    panic, which arrives as a BaseException) is an unreadable file; interrupts are not."""
    if not isinstance(problem, Exception) and type(problem).__name__ != "PanicException":
        raise problem
    logger.info("calamine refused an upload: %s", type(problem).__name__)
    raise UnreadableFile(_CORRUPT) from None


def _csv_encoding(data: bytes) -> str:
    """UTF-8 (with or without BOM) or GB18030, checked without holding the decoded text."""
    if b"\x00" in data:
        raise UnreadableFile(
            "文件含有空字符（NUL），不是文本表格；请上传 .xlsx、.xls、.ods 或 .csv 文件。"
        )
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for start in range(0, len(data), 1 << 20):
                decoder.decode(data[start : start + (1 << 20)])
            decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    # Rare: gb18030 decodes almost any byte string.
    raise UnreadableFile("无法识别文件编码，请另存为 UTF-8 或 GB18030 编码的 CSV。")


def _csv_rows(data: bytes) -> Iterator[list]:
    encoding = _csv_encoding(data)
    head = data[:4096].decode(encoding, errors="ignore")
    try:
        dialect = csv.Sniffer().sniff(head, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel

    def rows() -> Iterator[list]:
        text = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")
        try:
            yield from csv.reader(text, dialect)
        except csv.Error:
            raise UnreadableFile("CSV 格式有误（引号不配对等），请在 Excel 中重新保存。") from None

    return rows()


def estimate_rows(data: bytes, filename: str = "") -> int:
    """Roughly how many rows a file has, without parsing it, to choose inline or background
    work: an .xlsx names its used range (<dimension ref="A1:Q20001"/>) near the top of each
    worksheet; other workbooks are guessed from their size."""
    if data.startswith(OLE_MAGIC):
        return len(data) // 60  # an .xls holds a survey row in about 60 bytes
    if not data.startswith(ZIP_MAGIC):
        return data.count(b"\n") + 1
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            sheets = sorted(n for n in archive.namelist() if n.startswith("xl/worksheets/sheet"))
            total = 0
            for name in sheets[:50]:
                with archive.open(name) as sheet:
                    head = sheet.read(4096)
                match = re.search(rb'<dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"', head)
                total += int(match.group(1)) if match else 0
            if total:
                return total
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError):
        pass  # only an estimate: reading the file says what is wrong with it
    return len(data) // 40  # about 40 compressed bytes a row of a survey
