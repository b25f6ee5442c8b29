"""Benchmark: the peak memory of reading one uploaded spreadsheet.

What it measures
    The read every import starts with, ``couriers.imports.spreadsheets.iter_rows(data, name)``
    iterated to the end (rows counted, not kept): the whole-file checks, then python-calamine.
    Each read runs in a fresh Python process (this script with ``--_child``) that sets up
    Django (no database is needed) and reports its RSS before reading and its peak RSS
    (``ru_maxrss``) after; the difference is the read's own share.

    - crafted: the file found by the attack on the running portal, 10,000 rows × 27 columns of
      1,000-character inline strings: 1.5 MB that unpacks to 269 MB (ratio 172, under the zip
      checks), which took a worker from 108 MB to 811 MB. It must be refused, at little cost.
    - legitimate: a survey of ``--rows`` rows (default 100,000) and 19 columns as Excel writes
      it (shared strings, numbers and dates as numbers), which must be read whole.
    - with ``--unchecked``, the crafted file once more straight through calamine, without the
      checks: what they spare (about 300 MB for calamine alone).

How to run it (from the project folder)
    .venv/bin/python bench/upload_memory.py [--rows N] [--unchecked]

    Output: one readable line per file, then, as the last line, one JSON object with the
    figures (MB = MiB). Exit status 0 when the crafted file is refused and the legitimate one
    read whole; 1 otherwise.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent

_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.'
    'openxmlformats.org/package/2006/content-types"><Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default '
    'Extension="xml" ContentType="application/xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://'
    'schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"'
    ' Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.'
    'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships"><sheets><sheet name="排摸登记表" sheetId="1" '
    'r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://'
    'schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.'
    'openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>'
)
_SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas'
    b'.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)


def column_name(index: int) -> str:
    name, index = "", index + 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_workbook(path: Path, rows, shared: list[str] | None = None) -> None:
    """A workbook around sheet rows given as bytes (<row>…</row>), streamed into the zip."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(_SHEET_HEAD)
            for row in rows:
                sheet.write(row)
            sheet.write(b"</sheetData></worksheet>")
        if shared is not None:
            with archive.open("xl/sharedStrings.xml", "w") as strings:
                strings.write(
                    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns='
                    b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                )
                buffer = io.StringIO()
                for text in shared:
                    buffer.write(f"<si><t>{_escape(text)}</t></si>")
                    if buffer.tell() > 1 << 20:
                        strings.write(buffer.getvalue().encode())
                        buffer = io.StringIO()
                strings.write(buffer.getvalue().encode() + b"</sst>")


def crafted(path: Path) -> None:
    text = "x" * 1_000

    def rows():
        for n in range(1, 10_001):
            cells = "".join(
                f'<c r="{column_name(i)}{n}" t="inlineStr"><is><t>{text}</t></is></c>'
                for i in range(27)
            )
            yield f'<row r="{n}">{cells}</row>'.encode()

    write_workbook(path, rows())


HEADER = [
    "序号", "姓名", "性别", "手机号码", "身份证号码", "出生日期", "文化程度", "政治面貌",
    "是否流动党员", "组织关系所在地", "管理党组织", "是否业务骨干", "快递品牌", "加盟企业",
    "网点名称", "工作街镇", "居住村居委", "从业状态", "备注",
]  # fmt: skip


def legitimate(path: Path, count: int) -> None:
    """A survey as Excel saves it: text in shared strings, numbers and dates as numbers."""
    rng = random.Random(14)
    shared: list[str] = []
    index: dict[str, int] = {}

    def ref(text: str) -> str:
        if text not in index:
            index[text] = len(shared)
            shared.append(text)
        return str(index[text])

    surnames, given = (
        "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗",
        "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平",
    )
    towns = [
        "南桥镇",
        "奉城镇",
        "庄行镇",
        "金汇镇",
        "四团镇",
        "青村镇",
        "柘林镇",
        "海湾镇",
        "西渡街道",
    ]
    brands = ["顺丰", "中通", "圆通", "申通", "韵达", "极兔", "京东", "中国邮政"]

    def cells(number: int):
        if number == 1:
            yield from ((i, "s", ref(h)) for i, h in enumerate(HEADER))
            return
        n = number - 1
        town, brand = rng.choice(towns), rng.choice(brands)
        yield 0, "n", str(n)
        yield 1, "s", ref(rng.choice(surnames) + rng.choice(given) + rng.choice(given))
        yield 2, "s", ref(rng.choice("男女"))
        yield 3, "s", ref(f"139{(n * 7919) % 10**8:08d}")
        if n % 2:
            yield 4, "s", ref(f"31012019{80 + n % 20}0{1 + n % 9}1{n % 10}{n % 1000:03d}X")
        yield 5, "n", str(29_000 + n % 7_000)  # a date cell
        yield 6, "s", ref(rng.choice(["本科", "大专", "高中/中专", "初中及以下"]))
        yield 7, "s", ref(rng.choice(["群众", "群众", "共青团员", "中共党员"]))
        yield 8, "s", ref("否")
        yield 11, "s", ref(rng.choice("是否"))
        yield 12, "s", ref(brand)
        yield 13, "s", ref(f"上海{town[:2]}{brand}快递服务有限公司")
        yield 14, "s", ref(f"{brand}{town[:2]}第{n % 7 + 1}网点")
        yield 15, "s", ref(town)
        yield 17, "s", ref("在职")
        if n % 10 == 0:
            yield 18, "s", ref(f"备注{n % 50}")

    def rows():
        for number in range(1, count + 2):
            row = "".join(
                f'<c r="{column_name(i)}{number}"'
                + (' t="s"' if kind == "s" else "")
                + f"><v>{v}</v></c>"
                for i, kind, v in cells(number)
            )
            yield f'<row r="{number}">{row}</row>'.encode()

    write_workbook(path, list(rows()), shared)


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def child(path: str, unchecked: bool) -> None:
    sys.path.insert(0, str(PROJECT_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fengxian.settings")
    import django

    django.setup()
    from python_calamine import CalamineWorkbook

    from couriers.imports.spreadsheets import UnreadableFile, iter_rows

    data = Path(path).read_bytes()
    before = rss_mb()
    started = time.perf_counter()
    rows, refused = 0, ""
    try:
        if unchecked:
            sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
            rows = sum(1 for _ in sheet.iter_rows())
        else:
            rows = sum(1 for _ in iter_rows(data, Path(path).name))
    except UnreadableFile as problem:
        refused = str(problem)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {"rss_before_mb": round(before, 1), "peak_mb": round(peak, 1), "rows": rows,
             "refused": refused, "seconds": round(seconds, 2)},
            ensure_ascii=False,
        )
    )  # fmt: skip


def measure(path: Path, unchecked: bool = False) -> dict:
    command = [sys.executable, __file__, "--_child", str(path)]
    if unchecked:
        command.append("--_unchecked")
    result = subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"the child failed:\n{result.stderr}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["file_mb"] = round(path.stat().st_size / 2**20, 2)
    with zipfile.ZipFile(path) as archive:
        figures["unpacked_mb"] = round(sum(i.file_size for i in archive.infolist()) / 2**20, 1)
    figures["read_mb"] = round(figures["peak_mb"] - figures["rss_before_mb"], 1)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--unchecked", action="store_true", help="also read the crafted file without the checks"
    )
    parser.add_argument("--_child", help=argparse.SUPPRESS)
    parser.add_argument("--_unchecked", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options._child:
        child(options._child, options._unchecked)
        return 0

    figures = {}
    with tempfile.TemporaryDirectory(prefix="upload-memory-") as folder:
        crafted_path, legitimate_path = Path(folder) / "crafted.xlsx", Path(folder) / "survey.xlsx"
        crafted(crafted_path)
        legitimate(legitimate_path, options.rows)
        figures["crafted"] = measure(crafted_path)
        figures["legitimate"] = measure(legitimate_path)
        if options.unchecked:
            figures["crafted_unchecked"] = measure(crafted_path, unchecked=True)
    for name, f in figures.items():
        outcome = f"refused ({f['refused']})" if f["refused"] else f"read {f['rows']:,} rows"
        print(
            f"{name:18} {f['file_mb']:6.2f} MB file, {f['unpacked_mb']:6.1f} MB unpacked: "
            f"peak RSS {f['peak_mb']:6.1f} MB ({f['read_mb']:+.1f} MB for the read) in "
            f"{f['seconds']:.2f} s; {outcome}"
        )
    print(json.dumps(figures, ensure_ascii=False))
    ok = bool(figures["crafted"]["refused"]) and figures["legitimate"]["rows"] == options.rows + 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
