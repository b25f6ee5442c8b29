"""Reading uploaded spreadsheets safely and fast.

`iter_rows()` turns the bytes of an .xlsx or .csv file into rows (lists of cell values) or
raises `UnreadableFile` with a Chinese message: never a server error, whatever was uploaded.
.xlsx is read with python-calamine (about ten times faster than openpyxl); CSV may be UTF-8
(with or without BOM) or GB18030, as Chinese Excel saves it.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator

from django.conf import settings
from python_calamine import CalamineError, CalamineWorkbook, PasswordError

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and .xlsx encrypted with a password
ZIP_MAGIC = b"PK\x03\x04"


class UnreadableFile(Exception):
    """The file as a whole cannot be imported; the message says why, in Chinese."""


def _limit(name: str, default: int) -> int:
    return getattr(settings, name, default)


def max_rows() -> int:
    return _limit("SHEET_IMPORT_MAX_ROWS", 200_000)


def iter_rows(data: bytes, filename: str = "") -> Iterator[list]:
    """The rows of the file's first sheet, one list of cells each, from row 1.

    The whole-file checks happen before the first row is returned; a problem found while
    reading (a corrupt sheet, too many rows) raises UnreadableFile from the iteration.
    Rows are produced one at a time, so a large file is never held as Python objects at once.
    """
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
        rows = _xlsx_rows(data)
    elif name.endswith((".xlsx", ".xlsm", ".xls", ".ods")):
        raise UnreadableFile("文件已损坏或不是 Excel 文件，请重新保存为 .xlsx 后再导入。")
    else:
        rows = _csv_rows(data)
    return _capped(rows)


def _too_many() -> UnreadableFile:
    return UnreadableFile(f"文件超过 {max_rows():,} 行的上限，请拆分后分批导入。")


def _capped(rows: Iterator[list]) -> Iterator[list]:
    limit = max_rows() + 10  # room for title and header lines
    for count, row in enumerate(rows, start=1):
        if count > limit:
            raise _too_many()
        yield row


_CORRUPT = "文件已损坏或不是有效的 .xlsx 文件，请在 Excel 中重新保存后再导入。"


def _xlsx_rows(data: bytes) -> Iterator[list]:
    _check_zip(data)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_index(0)
    except PasswordError:
        raise UnreadableFile("该 .xlsx 文件设置了打开密码，请取消密码后再导入。") from None
    except (CalamineError, ValueError, OSError, IndexError):
        raise UnreadableFile(_CORRUPT) from None
    if sheet.total_height > max_rows() + 10:
        raise _too_many()

    def rows() -> Iterator[list]:
        try:
            yield from sheet.iter_rows()
        except (CalamineError, ValueError, OSError):
            raise UnreadableFile(_CORRUPT) from None

    return rows()


def _check_zip(data: bytes) -> None:
    """Refuse zip bombs and non-workbooks before any decompression."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UnreadableFile(
            "文件已损坏或不是有效的 .xlsx 文件，请在 Excel 中重新保存后再导入。"
        ) from None
    names = {info.filename for info in infos}
    if "xl/workbook.xml" not in names:
        raise UnreadableFile("这是一个压缩包而不是 Excel 工作簿（.xlsx）。")
    declared = sum(info.file_size for info in infos)
    limit = _limit("SHEET_IMPORT_MAX_UNCOMPRESSED_BYTES", 300 * 1024 * 1024)
    if declared > limit or any(
        info.compress_size and info.file_size / info.compress_size > 1000 for info in infos
    ):
        raise UnreadableFile("文件解压后过大，疑似异常文件，已拒绝导入。")


def _csv_rows(data: bytes) -> Iterator[list]:
    if b"\x00" in data:
        raise UnreadableFile("文件含有空字符（NUL），不是文本表格；请上传 .xlsx 或 .csv 文件。")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            content = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes almost any byte string
        raise UnreadableFile("无法识别文件编码，请另存为 UTF-8 或 GB18030 编码的 CSV。")
    try:
        dialect = csv.Sniffer().sniff(content[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    if content.count("\n") > max_rows() + 10:
        raise _too_many()

    def rows() -> Iterator[list]:
        try:
            yield from csv.reader(io.StringIO(content, newline=""), dialect)
        except csv.Error:
            raise UnreadableFile("CSV 格式有误（引号不配对等），请在 Excel 中重新保存。") from None

    return rows()


def estimate_rows(data: bytes, filename: str = "") -> int:
    """Roughly how many rows a file has, without parsing it, to choose inline or background
    work: an .xlsx names its used range (<dimension ref="A1:Q20001"/>) near the top of the
    first worksheet."""
    if not data.startswith(ZIP_MAGIC):
        return data.count(b"\n") + 1
    _check_zip(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = sorted(n for n in archive.namelist() if n.startswith("xl/worksheets/sheet"))
        if sheets:
            with archive.open(sheets[0]) as sheet:
                head = sheet.read(4096)
            match = re.search(rb'<dimension ref="[A-Z]+\d+:[A-Z]+(\d+)"', head)
            if match:
                return int(match.group(1))
    return len(data) // 40  # about 40 compressed bytes a row of a survey
