"""What reading an .ods (OpenDocument, LibreOffice's own format) would cost, and what the
reader does not tell: its merged cells and hidden rows.

An .ods is a zip like an .xlsx, with the same risks (bombs, lying sizes) and one more: a cell
may say table:number-columns-repeated / number-rows-repeated, so a few bytes ask the reader for
millions of copies. `check()` unpacks every part through the same streaming counts as
`couriers.imports.xlsx_check` and walks content.xml with expat, counting each sheet's grid (to
its last cell with content, repeats included), its cells and the text they hold, against the
same budgets; it refuses (`xlsx_check.Refused`) a file over them. On the same pass it records,
per sheet in the workbook's order, the rows hidden (table:visibility="collapse" or "filter")
and the merged ranges (table:number-rows-spanned / number-columns-spanned), which
python-calamine does not expose for .ods.
"""

from __future__ import annotations

import dataclasses
import io
import zipfile
from array import array
from xml.parsers import expat

from couriers.imports import xlsx_check
from couriers.imports.xlsx_check import Refused

CORRUPT = "文件已损坏或不是有效的 .ods 文件，请在 LibreOffice 或 WPS 中重新保存后再导入。"
ENCRYPTED = "该 .ods 文件设置了密码，请取消密码后再导入。"
NOT_A_SPREADSHEET = "这是一个 OpenDocument 文件但不是电子表格（.ods）。"
MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"

_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_SEP = "\x01"
# Element and attribute names as expat reports them (namespace, separator, local name).
_T_TABLE, _T_ROW = f"{_TABLE}{_SEP}table", f"{_TABLE}{_SEP}table-row"
_T_CELL, _T_COVERED = f"{_TABLE}{_SEP}table-cell", f"{_TABLE}{_SEP}covered-table-cell"
_T_P = f"{_TEXT}{_SEP}p"
_A_NAME, _A_VISIBILITY = f"{_TABLE}{_SEP}name", f"{_TABLE}{_SEP}visibility"
_A_VALUE_TYPE = f"{_OFFICE}{_SEP}value-type"
_CELLS = (_T_CELL, _T_COVERED)


@dataclasses.dataclass
class SheetLayout:
    """A sheet's hidden rows (1-based) and merged ranges (0-based, inclusive: r0, c0, r1, c1)."""

    name: str
    hidden: array = dataclasses.field(default_factory=lambda: array("L"))
    merges: list[tuple[int, int, int, int]] = dataclasses.field(default_factory=list)


def is_ods(infos: list[zipfile.ZipInfo]) -> bool:
    """Whether a zip is an OpenDocument file (its first part is the stored mimetype)."""
    names = {info.filename for info in infos}
    return "content.xml" in names and "mimetype" in names


def check(data: bytes) -> list[SheetLayout]:
    """Refuse an .ods over the budgets; else its sheets' hidden rows and merged ranges."""
    xlsx_check._check_end_record(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            mimetype = next((i for i in infos if i.filename == "mimetype"), None)
            kind = archive.read(mimetype)[:200] if mimetype and mimetype.file_size < 200 else b""
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise Refused(CORRUPT) from None
    except RuntimeError:  # zipfile: an encrypted part
        raise Refused(ENCRYPTED) from None
    if kind.strip() != MIMETYPE:
        raise Refused(NOT_A_SPREADSHEET)
    _check_listing(infos)
    budget = xlsx_check._Budget()
    layouts: list[SheetLayout] = []
    try:
        for info in infos:
            if info.filename == "content.xml":
                layouts = _scan_content(data, info, budget)
            elif info.filename == "META-INF/manifest.xml":
                manifest = b"".join(xlsx_check._xml_chunks(data, info, budget))
                if b"encryption-data" in manifest:
                    raise Refused(ENCRYPTED)
            else:
                for _ in xlsx_check._xml_chunks(data, info, budget):
                    pass
    except Refused as refusal:
        if str(refusal) == xlsx_check.CORRUPT:
            raise Refused(CORRUPT) from None
        raise
    return layouts


def _check_listing(infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > xlsx_check.MAX_PARTS:
        raise Refused(xlsx_check.UNUSUAL)
    xlsx_check.check_entries(infos, [info.filename for info in infos], encrypted=ENCRYPTED)


def _count(attributes: dict, name: str) -> int:
    value = attributes.get(_TABLE + _SEP + name)
    if value is None:
        return 1
    try:
        count = int(value)
    except ValueError:
        raise Refused(CORRUPT) from None
    if count < 1:
        raise Refused(CORRUPT)
    return count


class _Walker:
    """expat handlers: where each cell is, repeats included, and what it holds."""

    def __init__(self, budget: xlsx_check._Budget):
        self.budget = budget
        self.layouts: list[SheetLayout] = []
        self.depth = 0  # nesting of tables (a table inside a cell's shape is not a sheet)
        self.row = self.col = 0
        self.row_repeat = 1
        self.row_hidden = False
        self.row_has_content = False
        self.cell = None  # (column repeat) while inside a cell
        self.cell_content = False
        self.cell_text = 0
        self.last_row = self.last_col = -1
        self.cells = 0
        self.text = 0
        self.grids = 0

    def start(self, name: str, attributes: dict) -> None:
        if name == _T_TABLE:
            self.depth += 1
            if self.depth == 1:
                self._finish_sheet()
                self.layouts.append(SheetLayout(attributes.get(_A_NAME, "")))
                self.row = 0
            return
        if self.depth != 1:
            return
        if name == _T_ROW and self.cell is None:
            self.row_repeat = _count(attributes, "number-rows-repeated")
            visibility = attributes.get(_A_VISIBILITY, "visible")
            self.row_hidden = visibility in ("collapse", "filter")
            self.row_has_content = False
            self.col = 0
        elif name in _CELLS:
            if self.cell is not None:
                return
            self.cell = _count(attributes, "number-columns-repeated")
            self.cell_content = _A_VALUE_TYPE in attributes
            self.cell_text = 0
            rows = _count(attributes, "number-rows-spanned")
            columns = _count(attributes, "number-columns-spanned")
            if rows > 1 or columns > 1:
                sheet = self.layouts[-1]
                last = (self.row + rows - 1, self.col + columns - 1)
                sheet.merges.append((self.row, self.col, *last))
                if len(sheet.merges) > self.budget.max_cells:
                    raise Refused(xlsx_check.UNUSUAL)
        elif name == _T_P and self.cell is not None:
            self.cell_content = True

    def characters(self, data: str) -> None:
        if self.cell is not None:
            self.cell_text += len(data.encode())

    def end(self, name: str) -> None:
        if name == _T_TABLE:
            self.depth -= 1
            return
        if self.depth != 1:
            return
        if name in _CELLS:
            if self.cell is None:
                return
            repeat = self.cell
            if self.cell_content:
                copies = repeat * self.row_repeat
                self.last_col = max(self.last_col, self.col + repeat - 1)
                self.last_row = max(self.last_row, self.row + self.row_repeat - 1)
                self.cells += copies
                self.text += copies * (self.cell_text + 24)
                self.row_has_content = True
                self.budget.cells(self.cells)
                self.budget.text(self.text)
            self.col += repeat
            self.cell = None
        elif name == _T_ROW and self.cell is None:
            if self.row_hidden and self.row_has_content:
                self.layouts[-1].hidden.extend(range(self.row + 1, self.row + self.row_repeat + 1))
            self.row += self.row_repeat
            if self.last_row + 1 > self.budget.max_rows:
                raise Refused(xlsx_check._too_many_rows())

    def _finish_sheet(self) -> None:
        """The reader builds every sheet's grid when it opens an .ods, so the budgets are
        the workbook's: cells, text and grids summed over its sheets."""
        if self.last_col + 1 > self.budget.max_columns:
            raise Refused(
                f"工作表超过 {self.budget.max_columns} 列的上限，"
                "请删去多余的列（空白列也算）后再导入。"
            )
        self.grids += (self.last_row + 1) * (self.last_col + 1)
        self.budget.cells(self.grids)
        self.last_row = self.last_col = -1


def _scan_content(data: bytes, info: zipfile.ZipInfo, budget) -> list[SheetLayout]:
    walker = _Walker(budget)
    parser = expat.ParserCreate(namespace_separator=_SEP)
    parser.buffer_text = True
    parser.StartElementHandler = walker.start
    parser.EndElementHandler = walker.end
    parser.CharacterDataHandler = walker.characters

    def refuse(*args):  # DTDs and entities: _xml_chunks refuses <!DOCTYPE already
        raise Refused(xlsx_check.UNUSUAL)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        for chunk in xlsx_check._xml_chunks(data, info, budget, is_xml=True):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError:
        raise Refused(CORRUPT) from None
    walker._finish_sheet()
    return walker.layouts
