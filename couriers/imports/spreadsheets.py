"""Reading uploaded spreadsheets safely and fast.

`iter_rows()` turns the bytes of an .xlsx or .csv file into rows (lists of cell values) or
raises `UnreadableFile` with a Chinese message: never a server error, whatever was uploaded.
.xlsx is read with python-calamine (about ten times faster than openpyxl), once
`couriers.imports.xlsx_check` has measured what reading it would hold in memory; CSV may be
UTF-8 (with or without BOM) or GB18030, as Chinese Excel saves it, and is read as a stream.
`check_file()` runs the whole-file checks alone (before an upload is kept at all).
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
import zipfile
import zlib
from collections.abc import Iterator

from django.conf import settings
from python_calamine import CalamineWorkbook, PasswordError

from couriers.imports import xlsx_check

logger = logging.getLogger(__name__)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and .xlsx encrypted with a password
ZIP_MAGIC = b"PK\x03\x04"


class UnreadableFile(Exception):
    """The file as a whole cannot be imported; the message says why, in Chinese."""


def _limit(name: str, default: int) -> int:
    return getattr(settings, name, default)


def max_rows() -> int:
    return _limit("SHEET_IMPORT_MAX_ROWS", 200_000)


def check_file(data: bytes, filename: str = "") -> str:
    """The whole-file checks, without reading rows: raises UnreadableFile, else returns the
    file's kind ("xlsx" or "csv")."""
    if not data:
        raise UnreadableFile("文件是空的。")
    if len(data) > _limit("SHEET_IMPORT_MAX_BYTES", 50 * 1024 * 1024):
        raise UnreadableFile("文件太大（超过 50 MB），请拆分后分批导入。")
    name = filename.lower()
    if data.startswith(OLE_MAGIC):
        if name.endswith(".xlsx"):
            raise UnreadableFile("该 .xlsx 文件设置了打开密码，请在 Excel 中取消密码后再导入。")
        raise UnreadableFile("不支持旧版 Excel（.xls）文件，请在 Excel 中“另存为” .xlsx 后再导入。")
    if data.startswith(ZIP_MAGIC):
        try:
            xlsx_check.check(data)
        except xlsx_check.Refused as refusal:
            raise UnreadableFile(str(refusal)) from None
        return "xlsx"
    if name.endswith((".xlsx", ".xlsm", ".xls", ".ods")):
        raise UnreadableFile("文件已损坏或不是 Excel 文件，请重新保存为 .xlsx 后再导入。")
    _csv_encoding(data)
    if data.count(b"\n") > max_rows() + 10:
        raise _too_many()
    return "csv"


def iter_rows(data: bytes, filename: str = "") -> Iterator[list]:
    """The rows of the file's first sheet, one list of cells each, from row 1.

    The whole-file checks happen before the first row is returned; a problem found while
    reading (a corrupt sheet, too many rows or columns) raises UnreadableFile from the
    iteration. Rows are produced one at a time, so a large file is never held as Python
    objects at once.
    """
    rows = _xlsx_rows(data) if check_file(data, filename) == "xlsx" else _csv_rows(data)
    return _capped(rows)


def _too_many() -> UnreadableFile:
    return UnreadableFile(f"文件超过 {max_rows():,} 行的上限，请拆分后分批导入。")


def _capped(rows: Iterator[list]) -> Iterator[list]:
    """Rows, counted while they stream: past the row or column cap the file is refused."""
    limit = max_rows() + 10  # room for title and header lines
    columns = _limit("SHEET_IMPORT_MAX_COLUMNS", 100)
    for count, row in enumerate(rows, start=1):
        if count > limit:
            raise _too_many()
        if len(row) > columns:
            raise UnreadableFile(
                f"第 {count} 行超过 {columns} 列的上限，请删去多余的列（空白列也算）后再导入。"
            )
        yield row


_CORRUPT = xlsx_check.CORRUPT


def _xlsx_rows(data: bytes) -> Iterator[list]:
    """The first sheet through calamine: its memory was measured by check_file()."""
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_index(0)
    except PasswordError:
        raise UnreadableFile("该 .xlsx 文件设置了打开密码，请取消密码后再导入。") from None
    except BaseException as problem:
        _reader_failed(problem)
    if sheet.total_height > max_rows() + 10:
        raise _too_many()

    def rows() -> Iterator[list]:
        try:
            yield from sheet.iter_rows()
        except BaseException as problem:
            _reader_failed(problem)

    return rows()


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
        raise UnreadableFile("文件含有空字符（NUL），不是文本表格；请上传 .xlsx 或 .csv 文件。")
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
    work: an .xlsx names its used range (<dimension ref="A1:Q20001"/>) near the top of the
    first worksheet."""
    if not data.startswith(ZIP_MAGIC):
        return data.count(b"\n") + 1
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            sheets = sorted(n for n in archive.namelist() if n.startswith("xl/worksheets/sheet"))
            if sheets:
                with archive.open(sheets[0]) as sheet:
                    head = sheet.read(4096)
                match = re.search(rb'<dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"', head)
                if match:
                    return int(match.group(1))
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError):
        pass  # only an estimate: reading the file says what is wrong with it
    return len(data) // 40  # about 40 compressed bytes a row of a survey
