"""The spreadsheet import machinery shared by every sheet the portal accepts.

A `SheetImporter` subclass declares its `columns` (canonical Chinese header, aliases, a parser
for the cell) and implements `start()` (load reference maps), `plan()` (resolve references from
memory, find what is new, changed or unchanged, report errors) and `write()` (bulk writes). This
module does the rest the same way for every sheet:

- reads the file (`couriers.imports.spreadsheets`), finds the header row among the first 10 rows,
  maps headers by name or alias in any order, lists unknown columns, and names a missing
  required column in one clear error;
- skips blank lines and a trailing 合计/总计 line;
- parses every cell, collecting every error of the file with its Excel row number, column,
  value and a Chinese reason;
- streams the rows through in chunks inside one transaction, writing each chunk while the file
  is still error-free, and rolls everything back if any row is invalid: all or nothing, with
  flat memory however long the file, and records each import that wrote something in the
  audit log, in the same transaction, whoever started it (admin job or command line);
- keeps town staff to their town: every existing record a row matches goes through
  `check_editable()` (the admin's rule, `couriers.scoping`) before the row may change it, and a
  refusal says only `OTHER_TOWN`, nothing about the record;
- masks the columns that hold personal identifiers (`Column.mask`) wherever the report shows a
  cell, so no stored job report holds a full phone or ID number.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import transaction

from couriers.imports import cell_values
from couriers.imports.spreadsheets import UnreadableFile, estimate_rows, iter_sheets
from couriers.privacy import audit
from couriers.scoping import ALL_TOWNS, staff_town_id, town_id_of

HEADER_SEARCH_ROWS = 10
PREVIEW_ROWS = 20
RAW_KEPT_ROWS = 200  # rows whose typed text is kept for the preview
HIDDEN_LISTED = 200  # hidden rows listed by number, per sheet (all are counted)
SHEET_ROWS = 10_000_000  # more rows than any sheet holds (Excel: 1,048,576)
CHUNK_ROWS = 2000
STATUS_LABELS = {"new": "新增", "updated": "更新", "unchanged": "无变化"}
# What a row that touches another town's record is told: neither who holds the record nor
# where, so an import cannot be used to look people up across towns.
OTHER_TOWN = "该行无法导入：涉及其他街镇的登记信息，请联系区级管理员"
ProgressCallback = Callable[[int, int], None]


@dataclasses.dataclass(frozen=True)
class Column:
    key: str
    header: str
    parse: Callable[[Any], Any] = cell_values.text
    aliases: tuple[str, ...] = ()
    required: bool = False
    help: str = ""
    # Parsers of numbers and dates get the cell itself (an Excel number or date); the others
    # get its trimmed text.
    takes_cell: bool = False
    # Longest text accepted; by default the max_length of the model field named `key`.
    max_length: int | None = None
    # For personal identifiers (couriers.privacy.masking): how errors and the preview show the
    # cell, since job reports are stored.
    mask: Callable[[str], str] | None = None


@dataclasses.dataclass
class RowError:
    row: int
    column: str
    value: str
    message: str
    # The sheet's name, when the workbook has more than one.
    sheet: str = ""

    def __str__(self) -> str:
        where = f"“{self.sheet}”表" if self.sheet else ""
        where += f"第 {self.row} 行" + (f"“{self.column}”列" if self.column else "")
        shown = f"（{self.value}）" if self.value else ""
        return f"{where}{shown}：{self.message}"


@dataclasses.dataclass(slots=True)
class Record:
    """One data row: its Excel row number, the parsed values of the columns present, whether a
    cell failed, and (for the first rows and failed ones) each cell's text as typed."""

    row: int
    values: dict[str, Any]
    raw: dict[str, str] | None = None
    failed: bool = False

    def text(self, key: str) -> str:
        """The cell as typed, or as near as the parsed value shows it."""
        if self.raw is not None and key in self.raw:
            return self.raw[key]
        value = self.values.get(key)
        if isinstance(value, bool):
            return "是" if value else "否"
        return cell_values.text(value)


@dataclasses.dataclass
class SheetSummary:
    """What one sheet of the file held: its counts, its hidden data rows (how many, and the
    first HIDDEN_LISTED by number), or why it was skipped."""

    name: str
    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: int = 0
    hidden: int = 0
    hidden_rows: list[int] = dataclasses.field(default_factory=list)
    skipped: str = ""

    @property
    def hidden_text(self) -> str:
        """「第 3、7、8 行」 (with 「等」 when not all are listed)."""
        listed = "、".join(map(str, self.hidden_rows))
        return f"第 {listed} 行" + ("等" if self.hidden > len(self.hidden_rows) else "")


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
    # What the user must acknowledge before the file is imported (SheetImporter.warnings_accepted).
    warnings: list[str] = dataclasses.field(default_factory=list)
    headers: list[str] = dataclasses.field(default_factory=list)
    preview: list[list[str]] = dataclasses.field(default_factory=list)
    # Each sheet of the file, read or skipped, in the file's order.
    sheets: list[SheetSummary] = dataclasses.field(default_factory=list)
    # What the survey's rows name that the registry lacks (couriers.imports.new_references):
    # created 待核实 on confirm; and names read as a near-duplicate of a known outlet.
    new_references: list[dict] = dataclasses.field(default_factory=list)
    matched_references: list[dict] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.file_error and not self.errors

    @property
    def read_sheets(self) -> list[SheetSummary]:
        return [sheet for sheet in self.sheets if not sheet.skipped]

    @property
    def skipped_sheets(self) -> list[SheetSummary]:
        return [sheet for sheet in self.sheets if sheet.skipped]

    @property
    def hidden(self) -> int:
        """Data rows that were hidden in the file (and are imported all the same)."""
        return sum(sheet.hidden for sheet in self.sheets)

    def sheet_lines(self) -> list[str]:
        """The sheets and hidden rows as the command line prints them."""
        lines = []
        if len(self.sheets) > 1:
            for sheet in self.sheets:
                if sheet.skipped:
                    lines.append(f"工作表“{sheet.name}”：已跳过（{sheet.skipped}）")
                else:
                    lines.append(
                        f"工作表“{sheet.name}”：{sheet.rows} 行，新增 {sheet.new}，"
                        f"更新 {sheet.updated}，无变化 {sheet.unchanged}，错误 {sheet.errors}"
                    )
        for sheet in self.sheets:
            if sheet.hidden:
                where = f"工作表“{sheet.name}”" if len(self.sheets) > 1 else "文件"
                lines.append(
                    f"{where}有 {sheet.hidden} 行隐藏的数据（{sheet.hidden_text}），已一并导入"
                )
        return lines

    def error(self, row: int, column: str, value: Any, message: str) -> None:
        self.errors.append(RowError(row, column, cell_values.text(value), message))

    def summary(self) -> str:
        if self.file_error:
            return f"无法导入：{self.file_error}"
        read = len(self.read_sheets)
        counts = (f"共 {read} 个工作表、" if read > 1 else "共 ") + (
            f"{self.rows} 行：新增 {self.new}，更新 {self.updated}，无变化 {self.unchanged}"
        )
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
        data["sheets"] = [SheetSummary(**sheet) for sheet in data.get("sheets", [])]
        return cls(**data)


def header_key(text: Any) -> str:
    """Normalise a header cell: no spaces, asterisks, line breaks or (必填) marks."""
    key = re.sub(r"[\s*＊:：]|[（(]\s*(必填|选填|必选)\s*[)）]", "", cell_values.text(text))
    return key.casefold()


TOTALS = re.compile(r"^(合计|总计|小计|共计|总数)")
# The lines an office signs a sheet with, below the data, each word in a cell of its own or with
# the name after a colon: 填表人：张三  审核人：李四  填报日期：…  联系电话：…
FOOTER = re.compile(
    r"^(填表人|填报人|制表人|统计人|审核人|审核|负责人|单位负责人|填报日期|填表日期|制表日期"
    r"|报送日期|联系电话|联系人|填报单位)(签字|签名)?\s*([:：]|$)"
)
# Header words of columns that hold nothing to import: listed as unknown, without a warning.
NOT_DATA = re.compile(
    r"^(序号|序|编号|行号|no\.?|备注|备注说明|说明|签名|签字|本人签名|本人签字|签名确认|确认签名"
    r"|本人确认|盖章)$"
)
UNKNOWN_DATA = (
    "未识别的列：{columns}。这些列的内容不会导入；如需登记，请改用模板中的列名后重新上传，"
    "确认可以忽略后再导入。"
)
NOT_ACCEPTED = "文件中有需要确认的提醒（{warnings}），请确认后再导入。"


class SheetImporter:
    """Base class: subclasses set `columns`, `model`, `title`, and implement start(), plan()
    and write()."""

    columns: list[Column] = []
    model = None  # the model whose import permission (import_<model>) allows this sheet
    title = ""
    sheet_name = "Sheet1"
    # The columns the preview shows: the first sheet's, so rows of every sheet line up.
    preview_keys: list[str] | None = None
    # The sheet being read, and the names of those read so far (for duplicates across sheets).
    _sheet_index = 0
    _sheet_names: tuple[str, ...] = ("",)
    # Headers that may name one of several columns (快递公司: the brand or the enterprise),
    # decided by the values under them: choose_column().
    shared_headers: dict[str, tuple[str, ...]] = {}
    # Whether an import (not a dry run) may go ahead despite the report's warnings: set once
    # the user acknowledged them in the preview (or by --accept-warnings).
    warnings_accepted = False

    def __init__(self, user=None):
        self.user = user
        # Command-line imports without --as-user act for the whole district.
        self.town_id = ALL_TOWNS if user is None else staff_town_id(user)
        self.file_headers: dict[str, str] = {}
        self._first_rows: dict[str, dict[Any, int]] = {}
        self.max_lengths = {
            c.key: limit
            for c in self.columns
            if (limit := c.max_length or self._field_limit(c.key))
        }
        self.masks = {c.key: c.mask for c in self.columns if c.mask}

    @classmethod
    def _field_limit(cls, key: str) -> int | None:
        """max_length of the model's text field called `key`, so over-long text is a row
        error rather than a database error."""
        if cls.model is None:
            return None
        try:
            field = cls.model._meta.get_field(key)
        except FieldDoesNotExist:
            return None
        return getattr(field, "max_length", None) if not field.is_relation else None

    @classmethod
    def model_meta(cls):
        return cls.model._meta

    # --- the shared pipeline ------------------------------------------------------------------

    def run(
        self,
        data: bytes,
        filename: str = "",
        dry_run: bool = False,
        progress: ProgressCallback | None = None,
        audit_subject=None,
    ) -> ImportReport:
        """Check the whole file, and keep what it writes only if every row is valid.

        An import that wrote leaves one audit entry, attached to `audit_subject` (the admin's
        ImportJob) or else to the imported model."""
        report = ImportReport(filename=filename, dry_run=dry_run)
        try:
            sheets = list(iter_sheets(data, filename))  # rows are read sheet by sheet, later
            total = estimate_rows(data, filename)
            # A dry run writes nothing, so it needs no transaction (and its progress commits).
            with contextlib.nullcontext() if dry_run else transaction.atomic():
                self._run_sheets(sheets, report, progress, total, dry_run)
                report.written = report.ok and not dry_run and bool(report.new or report.updated)
                if report.written:
                    audit.log_import(
                        actor=self.user,
                        filename=filename,
                        report=report,
                        subject=audit_subject or self.model,
                        sheet=self.title,
                    )
                elif not dry_run:
                    transaction.set_rollback(True)
        except UnreadableFile as problem:
            report.file_error, report.written = str(problem), False
        return report

    def _run_sheets(self, sheets, report: ImportReport, progress, total: int, dry_run: bool):
        """Every visible sheet with a header, one after the other, in the same transaction:
        each sheet's counts, hidden data rows and errors go to its SheetSummary. A sheet
        without a recognisable header is skipped (and listed so); if no sheet has one, the
        first sheet's reason is the file's. Errors name their sheet when there are several."""
        readable = [sheet for sheet in sheets if not sheet.skipped]
        if not readable:
            raise UnreadableFile("文件中没有可读取的工作表（工作表都已隐藏）。")
        several = len(readable) > 1
        self.preview_keys = None
        refusals: list[UnreadableFile] = []
        started = False
        for sheet in sheets:
            summary = SheetSummary(sheet.name, skipped=sheet.skipped)
            report.sheets.append(summary)
            if sheet.skipped:
                continue
            head = list(itertools.islice(sheet.rows, HEADER_SEARCH_ROWS))
            self.file_headers = {}
            # locate_header() sees this sheet's unknown columns and warnings alone.
            headers, unknown, warnings = report.headers, report.unknown_columns, report.warnings
            report.unknown_columns, report.warnings = [], []
            where = f"“{sheet.name}”表：" if several else ""
            try:
                header_row, mapping = self.locate_header(head, report)
            except UnreadableFile as problem:
                report.headers = headers
                self._merge_notes(report, unknown, warnings, where)
                if several and self._looks_like_header(head):
                    # A header with a problem (a missing column …): the file must be fixed.
                    raise UnreadableFile(f"“{sheet.name}”表：{problem}") from None
                summary.skipped = str(problem)
                refusals.append(problem)
                continue
            if self.preview_keys is None:
                self.preview_keys = [c.key for c in self.columns if c.key in self.file_headers]
            else:  # the preview keeps the first sheet's columns
                report.headers = headers
            self._merge_notes(report, unknown, warnings, where)
            if not started:
                self.start(report)
                started = True
            self._sheet_index = len(report.sheets) - 1
            self._sheet_names = tuple(summary.name for summary in report.sheets)
            before = (report.rows, report.new, report.updated, report.unchanged)
            first_error = len(report.errors)
            body = itertools.chain(head[header_row + 1 :], sheet.rows)
            remaining = max(total - header_row - 1, 0)
            for records in self.parse(body, header_row, mapping, report, progress, remaining):
                if sheet.hidden_rows:
                    self._count_hidden(records, sheet.hidden_rows, summary)
                plan = self.plan(records, report)
                if report.ok and not dry_run:
                    self.write(plan)
            after = (report.rows, report.new, report.updated, report.unchanged)
            summary.rows, summary.new, summary.updated, summary.unchanged = (
                now - then for now, then in zip(after, before, strict=True)
            )
            errors = report.errors[first_error:]
            errors.sort(key=lambda error: error.row)  # stable: columns keep their order
            for error in errors:
                error.sheet = sheet.name if several else ""
            report.errors[first_error:] = errors
            summary.errors = len(errors)
        if not started:
            raise refusals[0]

    @staticmethod
    def _merge_notes(report: ImportReport, unknown: list, warnings: list, where: str) -> None:
        """The file's unknown columns (each once) and warnings (naming their sheet when there
        are several), with this sheet's after the earlier sheets'."""
        report.unknown_columns = unknown + [
            label for label in report.unknown_columns if label not in unknown
        ]
        report.warnings = warnings + [where + warning for warning in report.warnings]

    @staticmethod
    def _count_hidden(records: list[Record], hidden: frozenset[int], summary: SheetSummary):
        for record in records:
            if record.row in hidden:
                summary.hidden += 1
                if len(summary.hidden_rows) < HIDDEN_LISTED:
                    summary.hidden_rows.append(record.row)

    def _looks_like_header(self, rows: list[list]) -> bool:
        """Whether a row among the first names two of the sheet's columns: a sheet that does is
        a data sheet whose header has a problem, not a sheet to skip (a 说明 sheet)."""
        names = {header_key(n) for c in self.columns for n in (c.header, *c.aliases)}
        return any(sum(1 for cell in row if header_key(cell) in names) >= 2 for row in rows)

    def locate_header(
        self, rows: list[list], report: ImportReport
    ) -> tuple[int, dict[int, Column]]:
        """Find the header among the first rows, map its columns, and return the index of its
        last row (data starts after it) with the mapping. A header may span two rows: group
        titles above column titles, some titles merged down both rows."""
        if not any(cell_values.text(cell) for row in rows for cell in row):
            raise UnreadableFile("文件中没有任何内容。")
        lookup = {}
        for column in self.columns:
            for name in (column.header, *column.aliases):
                lookup[header_key(name)] = column
        by_key = {c.key: c for c in self.columns}
        shared = {
            header_key(name): [by_key[key] for key in keys]
            for name, keys in self.shared_headers.items()
        }
        names = {key: column.key for key, column in lookup.items()} | {key: key for key in shared}
        labels, header_row = self._header_rows(rows, names)
        samples = rows[header_row + 1 :]
        found: dict[str, list[int]] = {}
        deferred: list[int] = []
        unknown: list[int] = []
        for position, label in enumerate(labels):
            if not label:
                continue
            key = header_key(label)
            if key in lookup:
                found.setdefault(lookup[key].key, []).append(position)
            elif key in shared:
                deferred.append(position)
            else:
                unknown.append(position)
        mapping: dict[int, Column] = {}
        for key, positions in found.items():
            if len(positions) == 1:
                mapping[positions[0]] = by_key[key]
                continue
            split = self.split_columns(
                by_key[key], {p: labels[p] for p in positions}, _column_values(samples, positions)
            )
            if split is None:
                first, second = (labels[p] for p in positions[:2])
                raise UnreadableFile(f"“{first}”和“{second}”是同一列，请删去其中一列。")
            mapping.update(split)
        taken = {c.key for c in mapping.values()}
        for position in deferred:
            candidates = [c for c in shared[header_key(labels[position])] if c.key not in taken]
            values = _column_values(samples, [position])[position]
            column = (
                self.choose_column(labels[position], candidates, values) if candidates else None
            )
            if column is None:
                unknown.append(position)
            else:
                mapping[position] = column
                taken.add(column.key)
        for position in sorted(unknown):
            report.unknown_columns.append(labels[position])
        mapping = dict(sorted(mapping.items()))
        for position, column in mapping.items():
            if column.key in self.file_headers:
                raise UnreadableFile(
                    f"“{self.file_headers[column.key]}”和“{labels[position]}”是同一列，"
                    "请删去其中一列。"
                )
            self.file_headers[column.key] = labels[position]
        missing = [c.header for c in self.columns if c.required and c.key not in self.file_headers]
        if missing:
            raise UnreadableFile("缺少必填列：" + "、".join(missing) + "。")
        report.headers = [c.header for c in self.columns if c.key in self.file_headers]
        data_like = [
            label for label in report.unknown_columns if not NOT_DATA.match(header_key(label))
        ]
        if data_like:
            report.warnings.append(UNKNOWN_DATA.format(columns="、".join(data_like)))
        if report.warnings and not report.dry_run and not self.warnings_accepted:
            raise UnreadableFile(NOT_ACCEPTED.format(warnings="；".join(report.warnings)))
        return header_row, mapping

    def _header_rows(self, rows: list[list], names: dict[str, str]) -> tuple[list[str], int]:
        """The header's labels and the index of its last row. The row naming most known
        columns (`names`: header key → column) is the header, unless it and the row below
        it, or the row above and it, name more together: two rows, a group title above its
        column titles, or a title merged down both rows (then blank in the lower row, unless
        the reader filled it in). Each column's label is the lower row's where it has one,
        else the upper's."""

        def labels(row: list) -> list[str]:
            return [cell_values.text(cell) for cell in row]

        def hits(row_labels: list[str]) -> int:
            # Distinct columns: a group title repeated across the cells it covers counts once.
            return len({names.get(header_key(label)) for label in row_labels if label} - {None})

        def combined(upper: list[str], lower: list[str]) -> list[str]:
            width = max(len(upper), len(lower))
            upper, lower = upper + [""] * (width - len(upper)), lower + [""] * (width - len(lower))
            return [low or up for up, low in zip(upper, lower, strict=True)]

        texts = [labels(row) for row in rows]
        scores = [hits(row) for row in texts]
        best = max(range(len(texts)), key=lambda index: (scores[index], -index))
        choice, last, score = texts[best], best, scores[best]
        for top in (best - 1, best):
            if top < 0 or top + 1 >= len(texts) or scores[top] == 0:
                continue  # a title line above the header is no part of it
            pair = combined(texts[top], texts[top + 1])
            pair_score = hits(pair)
            if top < best:  # the row above may add titles merged down, or more columns
                fills_blanks = sum(map(bool, pair)) > sum(map(bool, texts[best]))
                better = pair_score > score or (pair_score == score and fills_blanks)
            else:  # the row below may hold column titles under group titles (联系方式)
                better = pair_score >= score and scores[top + 1] > 0 and pair != texts[best]
            if better:
                choice, last, score = pair, top + 1, pair_score
        if score < 2:
            raise UnreadableFile(
                f"前 {HEADER_SEARCH_ROWS} 行中找不到表头（应有“"
                + "”“".join(c.header for c in self.columns if c.required)
                + "”等列），请使用下载的模板。"
            )
        return choice, last

    def split_columns(
        self, column: Column, labels: dict[int, str], values: dict[int, list]
    ) -> dict[int, Column] | None:
        """Two or more columns of the file name the same column (`labels` by position, with
        the values of the first rows under them): which is which, or None when the file must
        keep only one."""
        return None

    def choose_column(self, label: str, candidates: list[Column], values: list) -> Column | None:
        """The column a shared header (`shared_headers`) names, by its first values; None
        leaves it unknown."""
        return None

    def parse(
        self,
        rows: Iterable[list],
        header_row: int,
        mapping: dict[int, Column],
        report: ImportReport,
        progress: ProgressCallback | None,
        total: int,
    ) -> Iterator[list[Record]]:
        """Records, CHUNK_ROWS at a time; blank, totals and footer rows are skipped, and every
        cell that cannot be parsed is reported."""
        columns = list(mapping.items())
        width = max(mapping) + 1
        text = cell_values.text
        required = {c.key for c in self.columns if c.required}
        chunk: list[Record] = []
        for number, row in _without_footer(rows, header_row + 2):  # Excel counts from 1
            if len(row) < width:
                row = [*row, *([None] * (width - len(row)))]
            texts = [text(row[position]) for position, _ in columns]
            if not any(texts):
                continue
            values: dict[str, Any] = {}
            failed = False
            for (position, column), typed in zip(columns, texts, strict=True):
                key = column.key
                try:
                    if not typed:
                        if key in required:
                            raise ValueError("不能为空")
                        values[key] = column.parse("")
                    elif column.parse is text:
                        limit = self.max_lengths.get(key)
                        if limit and len(typed) > limit:
                            raise ValueError(f"不能超过 {limit} 个字（现有 {len(typed)} 个）")
                        values[key] = typed
                    else:
                        value = column.parse(row[position] if column.takes_cell else typed)
                        limit = self.max_lengths.get(key)
                        if limit and type(value) is str and len(value) > limit:
                            raise ValueError(f"不能超过 {limit} 个字（现有 {len(value)} 个）")
                        values[key] = value
                except ValueError as problem:
                    report.error(
                        number, self.file_headers[key], self._masked(key, typed), str(problem)
                    )
                    failed = True
                except ValidationError as problem:  # from couriers.validators
                    shown = self._masked(key, typed)
                    report.error(number, self.file_headers[key], shown, self._reason(key, problem))
                    failed = True
            raw = None
            if failed or report.rows < RAW_KEPT_ROWS:
                raw = {column.key: t for (_, column), t in zip(columns, texts, strict=True)}
            chunk.append(Record(number, values, raw, failed))
            report.rows += 1
            if len(chunk) == CHUNK_ROWS:
                if progress:
                    progress(report.rows, max(total, report.rows))
                yield chunk
                chunk = []
        if chunk:
            yield chunk
        if progress:
            progress(report.rows, report.rows)

    def column_label(self, key: str) -> str:
        """The column as the file names it (or its canonical header)."""
        return self.file_headers.get(key) or next(
            (c.header for c in self.columns if c.key == key), ""
        )

    def fail(self, record: Record, key: str, report: ImportReport, message: str) -> None:
        report.error(record.row, self.column_label(key), self.shown(record, key), message)
        record.failed = True

    def shown(self, record: Record, key: str) -> str:
        """A cell as the report shows it: masked when the column holds personal identifiers
        (the normalised value when it parsed, else the text as typed)."""
        if key not in self.masks:
            return record.text(key)
        value = record.values.get(key)
        return self._masked(key, value if isinstance(value, str) and value else record.text(key))

    def _masked(self, key: str, text: str) -> str:
        mask = self.masks.get(key)
        return mask(text) if mask and text else text

    def _reason(self, key: str, problem: ValidationError) -> str:
        """A validator's message; for a masked column, with the value it quotes masked too."""
        error = problem.error_list[0]
        if key not in self.masks or not error.params:
            return problem.messages[0]
        return str(error.message) % {
            name: self._masked(key, str(value)) for name, value in error.params.items()
        }

    def duplicates(self, records: Iterable[Record], key: str, report: ImportReport, what: str):
        """Report the later of two rows of the file that share a (non-blank) value of `key`."""
        first_row = self._first_rows.setdefault(key, {})
        # Rows of later sheets are kept as sheet × SHEET_ROWS + row (an int, not a tuple: a
        # 100,000-row file holds one per row), to name the sheet of the first when it differs.
        here = self._sheet_index * SHEET_ROWS
        for record in records:
            value = record.values.get(key)
            if not value:
                continue
            if value in first_row:
                sheet, row = divmod(first_row[value], SHEET_ROWS)
                where = f"“{self._sheet_names[sheet]}”表" if sheet != self._sheet_index else ""
                self.fail(record, key, report, f"与{where}第 {row} 行的{what}重复")
            else:
                first_row[value] = here + record.row

    def town_of(self, record: Record, key: str, report: ImportReport, outside_scope: str = ""):
        """The town a cell names (with or without 镇/街道); unknown is a row error, and so is
        another town than the user's when `outside_scope` gives the message."""
        name = record.values.get(key)
        if not name:
            return None
        town = self.refs.town(name)
        if town is None:
            self.fail(record, key, report, "不是奉贤区的街镇")
        elif outside_scope and not self.may_edit(town.pk):
            self.fail(record, key, report, outside_scope)
        return town

    def may_edit(self, town_id: int | None) -> bool:
        """Whether the importing user may write records of this town."""
        return self.town_id is ALL_TOWNS or (self.town_id is not None and town_id == self.town_id)

    def editable(self, existing) -> bool:
        """Whether the importing user may change this record: the admin's rule, by its model's
        `town_lookup`, on the record as it is now (not as the row would leave it)."""
        return self.may_edit(town_id_of(existing))

    def check_editable(self, record: Record, existing, report: ImportReport, key: str) -> bool:
        """The one check between a row and an existing record it matched (found by phone, by
        name …): every importer passes each match through here before planning a change. A
        record outside the user's town fails the row with `OTHER_TOWN`, on column `key`."""
        if existing is None or self.editable(existing):
            return True
        self.fail(record, key, report, OTHER_TOWN)
        return False

    def community_of(self, record: Record, key: str, town, report: ImportReport):
        """The village or residents' committee a cell names within `town`."""
        name = record.values.get(key)
        if not name or town is None:
            return None
        community = self.refs.community_in(name, town)
        if community is None:
            self.fail(record, key, report, f"{town.name}没有这个村居委")
        return community

    def preview(self, record: Record, report: ImportReport, status: str) -> None:
        """Add a row to the report's preview: what will happen, then the cells as typed."""
        if len(report.preview) < PREVIEW_ROWS:
            keys = self.preview_keys if self.preview_keys is not None else self.file_headers
            cells = [self.preview_text(record, c.key) for c in self.columns if c.key in keys]
            report.preview.append([status, *cells])

    def preview_text(self, record: Record, key: str) -> str:
        return self.shown(record, key)

    # --- what each sheet supplies -------------------------------------------------------------

    def start(self, report: ImportReport) -> None:
        """Load what checking the rows needs (reference maps); called once per run."""

    def plan(self, records: list[Record], report: ImportReport) -> Any:
        """Plan a chunk: each row's outcome is counted and the first rows are previewed."""
        plan = self.new_plan(records, report)
        for record in records:
            statuses = self.plan_row(record, report, plan)
            if isinstance(statuses, str):
                statuses = [statuses]
            for status in statuses or ():
                setattr(report, status, getattr(report, status) + 1)
            if statuses:
                self.preview(record, report, "、".join(STATUS_LABELS[s] for s in statuses))
        return plan

    def new_plan(self, records: list[Record], report: ImportReport) -> Any:
        """An empty plan for a chunk (and whatever lookups the chunk's rows need)."""
        raise NotImplementedError

    def plan_row(self, record: Record, report: ImportReport, plan: Any) -> str | list[str] | None:
        """ "new", "updated", "unchanged" (or several, for a row that holds two records), or
        None when the row has errors."""
        raise NotImplementedError

    def write(self, plan: Any) -> None:
        raise NotImplementedError


def _without_footer(rows: Iterable[list], first: int) -> Iterator[tuple[int, list]]:
    """The rows with their Excel numbers, less totals lines (合计 …) and the footer an office
    signs the sheet with (FOOTER words first in the row). A footer is known by its position
    too: footer-like rows are held back, and given back as data rows if data follows them."""
    text = cell_values.text
    held: list[tuple[int, list]] = []
    for number, row in enumerate(rows, start=first):
        lead = next((t for t in map(text, row) if t), "")
        if not lead:
            continue
        if TOTALS.match(lead):
            continue
        if FOOTER.match(lead):
            held.append((number, row))
            continue
        if held:
            yield from held
            held.clear()
        yield number, row


def _column_values(rows: list[list], positions: list[int]) -> dict[int, list]:
    """The non-blank cells under each of these columns in `rows`."""
    return {
        position: [
            row[position]
            for row in rows
            if position < len(row) and not cell_values.is_blank(row[position])
        ]
        for position in positions
    }


def chunked(items: list, size: int = 5000) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
