"""Writing flat OpenDocument spreadsheets (.fods) by hand, and saving them with LibreOffice.

The fixtures of tests/test_import_office_formats.py and tests/test_import_sheets.py are made
from .fods sources written here (merged cells as table:number-rows-spanned /
number-columns-spanned with covered cells, hidden rows as table:visibility="collapse", hidden
sheets, number and text cells), then converted by real LibreOffice:
`soffice --headless --convert-to xlsx|xls|ods|…`. The sources and the converted files are
committed, so the tests need no LibreOffice; run make_formats.py / make_sheets.py again after
changing a source.
"""

from __future__ import annotations

import shutil
import subprocess
from html import escape
from pathlib import Path

PROFILE = "-env:UserInstallation=file:///tmp/lo_reader"


def cell(value, *, rows: int = 1, cols: int = 1) -> str:
    """A text cell (a str) or a number cell (an int or float), spanning rows × cols."""
    span = ""
    if rows > 1:
        span += f' table:number-rows-spanned="{rows}"'
    if cols > 1:
        span += f' table:number-columns-spanned="{cols}"'
    if value is None or value == "":
        return f"<table:table-cell{span}/>"
    if isinstance(value, (int, float)):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value}"{span}>'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    return (
        f'<table:table-cell office:value-type="string"{span}>'
        f"<text:p>{escape(str(value))}</text:p></table:table-cell>"
    )


def covered(count: int = 1) -> str:
    """The cells a merge covers (LibreOffice writes them after the merge's first cell)."""
    repeat = f' table:number-columns-repeated="{count}"' if count > 1 else ""
    return f"<table:covered-table-cell{repeat}/>"


def row(cells: list[str], *, hidden: bool = False, repeat: int = 1) -> str:
    attributes = ' table:visibility="collapse"' if hidden else ""
    if repeat > 1:
        attributes += f' table:number-rows-repeated="{repeat}"'
    return f"<table:table-row{attributes}>{''.join(cells)}</table:table-row>"


def plain_row(values: list, *, hidden: bool = False) -> str:
    return row([cell(value) for value in values], hidden=hidden)


def table(name: str, rows: list[str], *, hidden: bool = False) -> str:
    style = ' table:style-name="hidden"' if hidden else ""
    return f'<table:table table:name="{escape(name)}"{style}>{"".join(rows)}</table:table>'


def document(tables: list[str]) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
        ' xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"'
        ' office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.spreadsheet">\n'
        '<office:automatic-styles><style:style style:name="hidden" style:family="table">'
        '<style:table-properties table:display="false"/></style:style>'
        "</office:automatic-styles>\n"
        "<office:body><office:spreadsheet>\n" + "\n".join(tables) + "\n"
        "</office:spreadsheet></office:body></office:document>\n"
    )


def convert(source: Path, target: str, outdir: Path, name: str | None = None) -> Path:
    """Save `source` with LibreOffice as `target` ("xlsx", "xls", "ods" or a full
    "ext:filter" spec); `name` renames the result."""
    subprocess.run(
        [
            "soffice",
            PROFILE,
            "--headless",
            "--convert-to",
            target,
            "--outdir",
            str(outdir),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    made = outdir / f"{source.stem}.{target.split(':')[0]}"
    if name:
        made = shutil.move(made, outdir / name)
    return Path(made)
