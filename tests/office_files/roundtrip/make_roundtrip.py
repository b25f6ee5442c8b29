"""Make edited_in_libreoffice.xlsx: the admin's courier export of tests/test_import_roundtrip.py's
`seed()`, opened in LibreOffice Calc, one cell changed, saved as .xlsx again.

    /work/main/.venv/bin/python tests/office_files/roundtrip/make_roundtrip.py   (from the root)

Steps: a scratch SQLite database is migrated and seeded; the export is taken through the
admin (district staff, every column) as export.xlsx; LibreOffice converts it to flat XML
(.fods); Python changes one cell (张三's 组织关系所在地, 安徽省临泉县 → 安徽省阜阳市临泉县)
in the XML; LibreOffice converts the .fods back to .xlsx. Needs Debian's libreoffice-calc-nogui.
Only the result is committed (the test compares it with a fresh export).
"""

import os
import pathlib
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
SOFFICE = ["soffice", "-env:UserInstallation=file:///tmp/lo_outlets", "--headless"]


def convert(source: pathlib.Path, to: str, outdir: pathlib.Path) -> pathlib.Path:
    subprocess.run(
        [*SOFFICE, "--convert-to", to, "--outdir", str(outdir), str(source)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return outdir / f"{source.stem}.{to.split(':')[0]}"


def export_seeded(database: pathlib.Path) -> bytes:
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fengxian.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()  # response.context for the export form, as in the test
    call_command("migrate", verbosity=0)
    from tests import factories
    from tests.test_import_roundtrip import export, seed

    seed()
    client = Client()
    client.force_login(factories.district_staff())
    return export(client)


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        scratch = pathlib.Path(scratch)
        exported = scratch / "export.xlsx"
        exported.write_bytes(export_seeded(scratch / "roundtrip.sqlite3"))
        flat = convert(exported, "fods", scratch)
        xml = flat.read_text(encoding="utf-8")
        before, after = "<text:p>安徽省临泉县</text:p>", "<text:p>安徽省阜阳市临泉县</text:p>"
        assert xml.count(before) == 1, "the cell to edit is not in the export once"
        edited = scratch / "edited_in_libreoffice.fods"
        edited.write_text(xml.replace(before, after), encoding="utf-8")
        result = convert(edited, "xlsx", scratch)
        (HERE / "edited_in_libreoffice.xlsx").write_bytes(result.read_bytes())


if __name__ == "__main__":
    main()
