"""What reading an .xlsx would cost, measured from its bytes before any reader unpacks it.

python-calamine, the fast reader, builds the first sheet whole in memory: a grid from the first
to the last non-empty cell, and in every cell that uses a shared string a copy of that string.
So a small upload can ask for a great deal: one cell at ZZ1000000 makes a 1.5 KB file take
21 GB; a 2,000-character shared string in 340,000 cells makes 660 KB take 680 MB; a 1.5 MB
file of long inline strings declares 269 MB; and a zip's central directory may lie about sizes.

`check()` reads every part of the file once, streaming and counting what it really unpacks to
(never what the zip declares), and raises `Refused` with a Chinese message when:

- the zip is corrupt, truncated, encrypted, of too many parts, not a workbook, or unpacks to
  more than SHEET_IMPORT_MAX_UNCOMPRESSED_BYTES or at a ratio over 1000;
- a sheet's grid (last row × last column) or its cells exceed SHEET_IMPORT_MAX_CELLS, its rows
  the import's row cap, or its columns SHEET_IMPORT_MAX_COLUMNS;
- the text the reader would hold (shared strings, inline text, and each use of a shared
  string) exceeds SHEET_IMPORT_MAX_TEXT_BYTES;
- it is written in a form these counts could miss (a DTD, CDATA, namespace prefixes on cells,
  a cell without a plain r="A1" reference, another encoding than UTF-8 …). Excel, WPS and
  LibreOffice never write those; opening and saving the file there again makes it readable.

Reading a file that passes then holds about 75 bytes per cell of its grid plus its text: a
100,000-row survey about 140 MB, a file at the default limits about 400 MB (bench/
upload_memory.py measures it). The counting takes about as long as calamine's own read.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from array import array
from collections import Counter
from operator import itemgetter

from django.conf import settings

CORRUPT = "文件已损坏或不是有效的 .xlsx 文件，请在 Excel 中重新保存后再导入。"
NOT_A_WORKBOOK = "这是一个压缩包而不是 Excel 工作簿（.xlsx）。"
ENCRYPTED = "该 .xlsx 文件已加密，请在 Excel 中取消密码后再导入。"
TOO_LARGE = "文件解压后过大，疑似异常文件，已拒绝导入。"
UNUSUAL = "该文件的内部格式不常见，无法安全读取：请用 Excel 或 WPS 打开后“另存为” .xlsx，再导入。"

MAX_PARTS = 1000  # an Excel workbook has a few dozen; each costs memory to list
MAX_RATIO = 1000  # unpacked ÷ packed size of one part
CHUNK = 1 << 20
MAX_TAG = 1 << 16  # longest tag accepted (a tag split across chunks is carried over)
# Where the reader may find a sheet (the workbook's relationships name it: any file in these
# folders, whatever its name ends with, is read as XML).
SHEET_FOLDERS = ("xl/worksheets/", "xl/dialogsheets/", "xl/chartsheets/", "xl/macrosheets/")
SHARED_STRINGS = "xl/sharedstrings.xml"


class Refused(Exception):
    """The file is not read; the message says why, in Chinese."""


def _limit(name: str, default: int) -> int:
    return getattr(settings, name, default)


def _too_many_rows() -> str:
    limit = _limit("SHEET_IMPORT_MAX_ROWS", 200_000)
    return f"文件超过 {limit:,} 行的上限，请拆分后分批导入。"


def check(data: bytes) -> dict[str, array]:
    """Refuse (raise `Refused`) an .xlsx whose reading would cost more than the budgets.

    Returns, for each sheet part (its name in lower case), the numbers of its hidden rows
    (Excel writes hidden="1", LibreOffice hidden="true"): the one thing the reader does not
    tell, found on the same pass."""
    _check_end_record(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise Refused(CORRUPT) from None
    _check_listing(infos)
    budget = _Budget()
    sizes = array("L")
    shared = next((i for i in infos if i.filename.lower() == SHARED_STRINGS), None)
    if shared is not None:
        sizes = _shared_string_sizes(data, shared, budget)
    hidden: dict[str, array] = {}
    for info in infos:
        name = info.filename.lower()
        if info is shared:
            continue
        if name.startswith(SHEET_FOLDERS):
            hidden[name] = _scan_sheet(data, info, sizes, budget)
        else:
            for _ in _xml_chunks(data, info, budget):
                pass
    return hidden


_SHEET_ENTRY = re.compile(rb"<(?:\w+:)?sheet\b[^>]*>")
_ATTRIBUTE = re.compile(rb'([\w:]+)="([^"]*)"')
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")


def sheet_parts(data: bytes) -> list[str]:
    """The part of each sheet, in the workbook's order (the reader's), in lower case; call
    after check() has passed the file."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = {name.lower(): name for name in archive.namelist()}
        workbook = archive.read(names["xl/workbook.xml"])
        rels_name = names.get("xl/_rels/workbook.xml.rels")
        rels = archive.read(rels_name) if rels_name else b""
    targets = {}
    for tag in _RELATIONSHIP.findall(rels):
        attributes = dict(_ATTRIBUTE.findall(tag))
        target = attributes.get(b"Target", b"").decode("utf-8", "replace").lower()
        target = target.lstrip("/") if target.startswith("/") else "xl/" + target
        targets[attributes.get(b"Id", b"")] = target
    parts = []
    for tag in _SHEET_ENTRY.findall(workbook):
        attributes = dict(_ATTRIBUTE.findall(tag))
        rel = next((v for k, v in attributes.items() if k.endswith(b":id")), b"")
        parts.append(targets.get(rel, ""))
    return parts


_END = b"PK\x05\x06"


def _check_end_record(data: bytes) -> None:
    """The zip's end record, read before zipfile lists the parts: a 50 MB upload can list a
    million of them, which would take gigabytes to hold. zip64 (for archives past 4 GB or
    65,535 parts) is not needed by any upload that fits the size limit."""
    candidates = {len(data) - 22, data.rfind(_END, max(0, len(data) - 65_557))}
    records = [at for at in candidates if at >= 0 and data[at : at + 4] == _END]
    if not records:
        raise Refused(CORRUPT)
    for at in records:
        parts, directory, offset = struct.unpack_from("<HII", data, at + 10)
        if parts == 0xFFFF or 0xFFFFFFFF in (directory, offset):
            raise Refused(UNUSUAL)
        if parts > MAX_PARTS or directory > MAX_PARTS * 1024:
            raise Refused(CORRUPT)


def _check_listing(infos: list[zipfile.ZipInfo]) -> None:
    names = [info.filename.lower() for info in infos]  # the reader finds parts ignoring case
    if "xl/workbook.xml" not in names:
        raise Refused(NOT_A_WORKBOOK)
    check_entries(infos, names, encrypted=ENCRYPTED)


def check_entries(infos: list[zipfile.ZipInfo], names: list[str], *, encrypted: str) -> None:
    """What the listing of any zipped workbook (.xlsx, .ods) must pass before anything is
    unpacked: `names` as its reader looks parts up, `encrypted` the refusal of a password."""
    if len(set(names)) != len(names):
        raise Refused(UNUSUAL)
    if any(info.flag_bits & 0x1 for info in infos):
        raise Refused(encrypted)
    if any(info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) for info in infos):
        raise Refused(UNUSUAL)
    if any(info.flag_bits & 0x20 for info in infos):  # "patched data": no sizes to check
        raise Refused(UNUSUAL)
    # What the zip declares: a quick refusal for the plain bombs (the counts below do not
    # trust it).
    declared = sum(info.file_size for info in infos)
    if declared > _limit("SHEET_IMPORT_MAX_UNCOMPRESSED_BYTES", 300 * 1024 * 1024) or any(
        info.compress_size and info.file_size / info.compress_size > MAX_RATIO for info in infos
    ):
        raise Refused(TOO_LARGE)


class _Budget:
    """What the file has unpacked to so far, against the limits."""

    def __init__(self):
        self.unpacked = 0
        self.max_unpacked = _limit("SHEET_IMPORT_MAX_UNCOMPRESSED_BYTES", 300 * 1024 * 1024)
        self.max_cells = _limit("SHEET_IMPORT_MAX_CELLS", 5_000_000)
        self.max_columns = _limit("SHEET_IMPORT_MAX_COLUMNS", 100)
        self.max_rows = _limit("SHEET_IMPORT_MAX_ROWS", 200_000) + 10  # title and header lines
        self.max_text = _limit("SHEET_IMPORT_MAX_TEXT_BYTES", 100 * 1024 * 1024)
        self.shared_text = 0

    def unpack(self, info: zipfile.ZipInfo, done: int) -> None:
        if self.unpacked + done > self.max_unpacked or done > MAX_RATIO * max(
            info.compress_size, 1
        ):
            raise Refused(TOO_LARGE)

    def text(self, size: int) -> None:
        if size > self.max_text:
            mb = self.max_text // (1024 * 1024)
            raise Refused(
                f"表格中的文字内容解压后超过 {mb} MB，疑似异常文件，已拒绝导入；"
                "如确为正常数据，请删去多余的内容或拆分后分批导入。"
            )

    def cells(self, count: int) -> None:
        if count > self.max_cells:
            raise Refused(
                f"工作表超过 {self.max_cells:,} 个单元格的上限（行数 × 列数），"
                "请删去多余的行列或拆分后分批导入。"
            )


def _unpacked(data: bytes, info: zipfile.ZipInfo, budget: _Budget):
    """A part's bytes, unpacked here from the whole compressed stream the zip holds for it (as
    the reader will), not from what the directory declares: a stream that unpacks to more or
    less than declared, or fails its checksum, is a corrupt file."""
    at = info.header_offset
    if data[at : at + 4] != b"PK\x03\x04":
        raise Refused(CORRUPT)
    name_length, extra_length = struct.unpack_from("<HH", data, at + 26)
    start = at + 30 + name_length + extra_length
    packed = memoryview(data)[start : start + info.compress_size]
    if len(packed) != info.compress_size:
        raise Refused(CORRUPT)  # truncated
    inflate = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
    done, crc = 0, 0
    try:
        for offset in range(0, len(packed), CHUNK):
            pending = packed[offset : offset + CHUNK]
            while True:
                if inflate is None:
                    out, pending = bytes(pending), b""
                else:  # at most CHUNK bytes out at a time, whatever the stream holds
                    out = inflate.decompress(pending, CHUNK)
                    pending = inflate.unconsumed_tail
                done += len(out)
                budget.unpack(info, done)
                if done > info.file_size:
                    raise Refused(CORRUPT)  # more than the directory declares
                crc = zlib.crc32(out, crc)
                if out:
                    yield out
                finished = inflate is None or inflate.eof
                if finished or (not pending and len(out) < CHUNK):
                    break
            if inflate is not None and inflate.eof:
                break
    except zlib.error:
        raise Refused(CORRUPT) from None
    if (inflate is not None and not inflate.eof) or done != info.file_size or crc != info.CRC:
        raise Refused(CORRUPT)
    budget.unpacked += done


_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding=[\"']([^\"']+)")


def _xml_chunks(data: bytes, info: zipfile.ZipInfo, budget: _Budget, is_xml: bool = False):
    """A part's unpacked bytes in pieces that each end just before a tag (no tag is split);
    an XML part must be plain UTF-8 without a DTD."""
    is_xml = is_xml or info.filename.lower().endswith((".xml", ".rels", ".vml"))
    tail, first = b"", True
    for chunk in _unpacked(data, info, budget):
        if not is_xml:
            continue
        if first:
            first = False
            declared = _DECLARATION.match(chunk)
            if chunk.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in chunk[:1024]:
                raise Refused(UNUSUAL)
            if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
                raise Refused(UNUSUAL)
            if b"<!DOCTYPE" in chunk:  # its entities could expand past every count here
                raise Refused(UNUSUAL)
        buffer = tail + chunk
        cut = buffer.rfind(b"<")
        body, tail = (buffer[:cut], buffer[cut:]) if cut >= 0 else (buffer, b"")
        if len(tail) > MAX_TAG:
            raise Refused(UNUSUAL)
        yield body
    if tail:
        yield tail


# Shared strings: each <si> is one string the reader holds once, and copies into each cell
# that uses it. Tags never contain "<" and nothing hides in comments, CDATA or processing
# instructions, so every "<si" that starts a tag is a string and the spans between them bound
# each string's text.
_SI = re.compile(rb"<si[\s>/]")
_TAG_WITH_LT = re.compile(rb"<[^>]*<")


_PROLOG = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*\?>")


def _shared_string_sizes(data: bytes, info, budget: _Budget) -> array:
    sizes = array("L")
    offset, previous, first = 0, None, True
    for chunk in _xml_chunks(data, info, budget, is_xml=True):
        body = _PROLOG.sub(b"", chunk, count=1) if first else chunk
        first = False
        if _TAG_WITH_LT.search(body) or b"<!" in body or b"<?" in body:
            raise Refused(UNUSUAL)
        if _prefixed(body, (b"si",)):
            raise Refused(UNUSUAL)
        shift = len(chunk) - len(body)
        for match in _SI.finditer(body):
            start = offset + shift + match.start()
            if previous is not None:
                sizes.append(start - previous)
            previous = start
        offset += len(chunk)
        if len(sizes) > budget.max_cells:
            raise Refused(UNUSUAL)
    if previous is not None:
        sizes.append(offset - previous)
    # The reader holds every string once, with a header of its own.
    total = sum(sizes) + 24 * len(sizes)
    budget.text(total)
    budget.shared_text = total
    return sizes


_CELL = re.compile(rb"<c[\s>/]")
_REF = re.compile(rb'<c r="([A-Za-z]{1,3})([0-9]{1,7})"')
_VALUE = re.compile(rb"<v[\s>/]")
_INDEX = re.compile(rb"<v>\+?([0-9]{1,10})</v>")
_TEXT = re.compile(rb">([^<]+)")
_SPACED_EQUALS = re.compile(rb"r +=")
_SPACES = bytes.maketrans(b"\t\n\r", b"   ")


_HIDDEN_ROW = re.compile(rb'<row r="([0-9]{1,7})"[^>]*?\shidden="(?:1|true)"')


def _scan_sheet(data: bytes, info, sizes: array, budget: _Budget) -> array:
    """Count a sheet's cells, its grid and the text its reading would hold; return the
    numbers of its hidden rows."""
    cells = rows = columns = 0
    hidden = array("L")
    text = budget.shared_text
    column_names: set[bytes] = set()
    for body in _xml_chunks(data, info, budget, is_xml=True):
        # No CDATA or comments (Excel writes neither), no prefixed cells or values.
        if b"<!" in body or _prefixed(body, (b"c", b"v")):
            raise Refused(UNUSUAL)
        found = _REF.findall(body)
        if len(_CELL.findall(body)) != len(found):  # a cell without a plain reference
            raise Refused(UNUSUAL)
        # Every r="…" is a cell's or a row's, written first and once: the reader takes the
        # last of two, which the reference above would not see.
        spaced = body.translate(_SPACES)
        if spaced.count(b" r=") != len(found) + body.count(b'<row r="'):
            raise Refused(UNUSUAL)
        if _SPACED_EQUALS.search(spaced) or body.count(b"<v>") != len(_VALUE.findall(body)):
            raise Refused(UNUSUAL)
        cells += len(found)
        if b'hidden="1"' in body or b'hidden="true"' in body:
            hidden.extend(map(int, _HIDDEN_ROW.findall(body)))
        if found:
            rows = max(rows, max(map(int, map(itemgetter(1), found))))
            column_names.update(name.upper() for name in set(map(itemgetter(0), found)))
        for index, uses in Counter(_INDEX.findall(body)).items():
            number = int(index)
            if number < len(sizes):
                text += uses * sizes[number]
        # Text between tags (a superset of what cells hold), and before the piece's first tag.
        lead = body.find(b"<")
        text += sum(map(len, _TEXT.findall(body))) + (len(body) if lead < 0 else lead)
        budget.cells(cells)
        budget.text(text)
        if rows > budget.max_rows:
            raise Refused(_too_many_rows())
    columns = max(map(_column_number, column_names), default=0)
    if columns > budget.max_columns:
        raise Refused(
            f"工作表超过 {budget.max_columns} 列的上限，请删去多余的列（空白列也算）后再导入。"
        )
    budget.cells(rows * columns)
    return hidden


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


_PREFIXED = re.compile(rb":([A-Za-z]+)[\s>/]")
_NAME = re.compile(rb"<[A-Za-z_][\w.-]*$")


def _prefixed(body: bytes, names: tuple[bytes, ...]) -> bool:
    """Whether an element among `names` is written with a namespace prefix (<x:c …>), which
    the reader accepts and the counts above would not see."""
    for match in _PREFIXED.finditer(body):
        if match.group(1) in names and _NAME.search(
            body, max(0, match.start() - 64), match.start()
        ):
            return True
    return False
