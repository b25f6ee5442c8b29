"""The spreadsheet import machinery shared by every sheet the portal accepts.

A `SheetImporter` subclass declares its `columns` (canonical Chinese header, aliases, a parser
for the cell) and implements `plan()` (resolve references from in-memory maps, find what is new,
changed or unchanged, report errors) and `write()` (bulk writes). This module does the rest the
same way for every sheet:

- reads the file (`couriers.spreadsheets`), finds the header row among the first 10 rows,
  maps headers by name or alias in any order, lists unknown columns, and names a missing
  required column in one clear error;
- skips blank lines and a trailing 合计/总计 line;
- parses every cell, collecting every error of the file with its Excel row number, column,
  value and a Chinese reason;
- writes nothing unless the whole file is valid, and then writes it in one transaction.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from couriers import cell_values
from couriers.scoping import ALL_TOWNS, staff_town_id
from couriers.spreadsheets import UnreadableFile, read_rows

HEADER_SEARCH_ROWS = 10
PREVIEW_ROWS = 20
ProgressCallback = Callable[[int, int], None]


@dataclasses.dataclass(frozen=True)
class Column:
    key: str
    header: str
    parse: Callable[[Any], Any] = cell_values.text
    aliases: tuple[str, ...] = ()
    required: bool = False
    help: str = ""


@dataclasses.dataclass
class RowError:
    row: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        where = f"第 {self.row} 行" + (f"“{self.column}”列" if self.column else "")
        shown = f"（{self.value}）" if self.value else ""
        return f"{where}{shown}：{self.message}"


@dataclasses.dataclass
class Record:
    """One data row: its Excel row number, the parsed values of the columns present, and the
    raw text of each (for error messages)."""

    row: int
    values: dict[str, Any]
    raw: dict[str, str]
    failed: bool = False


@dataclasses.dataclass
class ImportReport:
    filename: str = ""
    dry_run: bool = False
    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    written: bool = False
    file_error: str = ""
    errors: list[RowError] = dataclasses.field(default_factory=list)
    unknown_columns: list[str] = dataclasses.field(default_factory=list)
    headers: list[str] = dataclasses.field(default_factory=list)
    preview: list[list[str]] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.file_error and not self.errors

    def error(self, row: int, column: str, value: Any, message: str) -> None:
        self.errors.append(RowError(row, column, cell_values.text(value), message))

    def summary(self) -> str:
        if self.file_error:
            return f"无法导入：{self.file_error}"
        counts = f"共 {self.rows} 行：新增 {self.new}，更新 {self.updated}，无变化 {self.unchanged}"
        if self.errors:
            return f"发现 {len(self.errors)} 处错误，未写入任何数据。{counts}（按无错误时计）"
        if self.written:
            return f"导入完成。{counts}。"
        if self.new == 0 and self.updated == 0:
            return f"文件与已有数据一致，无需导入。{counts}。"
        return f"校验通过（尚未写入）。{counts}。"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ImportReport:
        data = dict(data)
        data["errors"] = [RowError(**e) for e in data.get("errors", [])]
        return cls(**data)


def header_key(text: Any) -> str:
    """Normalise a header cell: no spaces, asterisks, line breaks or (必填) marks."""
    key = re.sub(r"[\s*＊:：]|[（(]\s*(必填|选填|必选)\s*[)）]", "", cell_values.text(text))
    return key.casefold()


TOTALS = re.compile(r"^(合计|总计|小计|共计|总数)")


class SheetImporter:
    """Base class: subclasses set `columns`, `title`, and implement plan() and write()."""

    columns: list[Column] = []
    model = None  # the model whose import permission (import_<model>) allows this sheet
    title = ""
    sheet_name = "Sheet1"
    kind = ""

    def __init__(self, user=None):
        self.user = user
        # Command-line imports without --as-user act for the whole district.
        self.town_id = ALL_TOWNS if user is None else staff_town_id(user)

    @classmethod
    def model_meta(cls):
        return cls.model._meta

    # --- the shared pipeline --------------------------------------------------------------

    def run(
        self,
        data: bytes,
        filename: str = "",
        dry_run: bool = False,
        progress: ProgressCallback | None = None,
    ) -> ImportReport:
        report = ImportReport(filename=filename, dry_run=dry_run)
        try:
            rows = read_rows(data, filename)
            header_row, mapping = self.locate_header(rows, report)
        except UnreadableFile as problem:
            report.file_error = str(problem)
            return report
        records = self.parse(rows, header_row, mapping, report, progress)
        del rows
        plan = self.plan(records, report)
        report.errors.sort(key=lambda error: error.row)  # stable: columns keep their order
        if report.ok and not dry_run and (report.new or report.updated):
            with transaction.atomic():
                self.write(plan)
            report.written = True
        return report

    def locate_header(
        self, rows: list[list], report: ImportReport
    ) -> tuple[int, dict[int, Column]]:
        lookup = {}
        for column in self.columns:
            for name in (column.header, *column.aliases):
                lookup[header_key(name)] = column
        best: tuple[int, int] = (0, -1)
        for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
            hits = sum(1 for cell in row if header_key(cell) in lookup)
            if hits > best[0]:
                best = (hits, index)
        if best[0] < 2:
            raise UnreadableFile(
                f"前 {HEADER_SEARCH_ROWS} 行中找不到表头（应有“"
                + "”“".join(c.header for c in self.columns if c.required)
                + "”等列），请使用下载的模板。"
            )
        header_row = best[1]
        mapping: dict[int, Column] = {}
        seen: dict[str, str] = {}
        for position, cell in enumerate(rows[header_row]):
            label = cell_values.text(cell)
            if not label:
                continue
            column = lookup.get(header_key(cell))
            if column is None:
                report.unknown_columns.append(label)
                continue
            if column.key in seen:
                raise UnreadableFile(f"“{seen[column.key]}”和“{label}”是同一列，请删去其中一列。")
            seen[column.key] = label
            mapping[position] = column
        missing = [c.header for c in self.columns if c.required and c.key not in seen]
        if missing:
            raise UnreadableFile("缺少必填列：" + "、".join(missing) + "。")
        report.headers = [c.header for c in self.columns if c.key in seen]
        self.file_headers = {column.key: seen[column.key] for column in mapping.values()}
        return header_row, mapping

    def parse(
        self,
        rows: list[list],
        header_row: int,
        mapping: dict[int, Column],
        report: ImportReport,
        progress: ProgressCallback | None,
    ) -> list[Record]:
        records: list[Record] = []
        columns = list(mapping.items())
        total = len(rows) - header_row - 1
        text = cell_values.text
        for offset, row in enumerate(rows[header_row + 1 :]):
            number = header_row + offset + 2  # Excel counts from 1, and the header is a row
            if progress and offset % 2000 == 0:
                progress(offset, total)
            cells = [(column, row[i] if i < len(row) else None) for i, column in columns]
            raws = {column.key: text(value) for column, value in cells}
            if not any(raws.values()):
                continue
            first = next((cell for cell in map(text, row) if cell), "")
            if TOTALS.match(first):
                continue
            values: dict[str, Any] = {}
            errors_before = len(report.errors)
            for column, value in cells:
                try:
                    values[column.key] = column.parse(value)
                except ValueError as problem:
                    report.error(
                        number,
                        self.file_headers[column.key],
                        value,
                        str(problem.args[0] if problem.args else problem),
                    )
                except ValidationError as problem:  # from couriers.validators
                    report.error(number, self.file_headers[column.key], value, problem.messages[0])
            for column in self.columns:
                if column.required and column.key in raws and not raws[column.key]:
                    report.error(number, self.file_headers[column.key], "", "不能为空")
            records.append(Record(number, values, raws, len(report.errors) > errors_before))
        report.rows = len(records)
        if progress:
            progress(total, total)
        return records

    def column_label(self, key: str) -> str:
        """The column as the file names it (or its canonical header)."""
        headers = getattr(self, "file_headers", {})
        return headers.get(key) or next((c.header for c in self.columns if c.key == key), "")

    def duplicates(
        self, records: Iterable[Record], key: str, report: ImportReport, what: str
    ) -> None:
        """Report the later of two rows that share a (non-blank) value of `key`."""
        first_row: dict[Any, int] = {}
        for record in records:
            value = record.values.get(key)
            if not value:
                continue
            if value in first_row:
                report.error(
                    record.row,
                    self.column_label(key),
                    record.raw.get(key, ""),
                    f"与第 {first_row[value]} 行的{what}重复",
                )
            else:
                first_row[value] = record.row

    # --- what each sheet supplies ---------------------------------------------------------

    def plan(self, records: list[Record], report: ImportReport) -> Any:
        raise NotImplementedError

    def write(self, plan: Any) -> None:
        raise NotImplementedError


def chunked(items: list, size: int = 5000) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
