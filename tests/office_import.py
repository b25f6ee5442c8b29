"""Importing the LibreOffice-made survey files of tests/office_files/ the two ways staff do:
`import_survey` on the command line, and the admin's upload → preview → confirm."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from couriers.models import ImportJob
from tests import factories

OFFICE_FILES = Path(__file__).resolve().parent / "office_files"
URL = "/admin/couriers/courier/import/"


def office_refs(town) -> dict:
    """The brands, enterprise and community the office files name (all in 南桥镇)."""
    sf = factories.brand("顺丰", aliases="顺丰速运\nSF")
    for name in ("中通", "韵达", "中国邮政"):
        factories.brand(name)
    enterprise = factories.enterprise(town, name="上海南桥顺丰快递服务有限公司", of_brand=sf)
    community = factories.community(town, name="浦江居委会")
    return {"sf": sf, "enterprise": enterprise, "community": community}


def command(path: Path, *options: str) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of `import_survey path`."""
    out, err = StringIO(), StringIO()
    try:
        call_command("import_survey", str(path), *options, stdout=out, stderr=err)
        status = 0
    except SystemExit as exit_:
        status = exit_.code
    return status, out.getvalue(), err.getvalue()


def upload(client, path: Path) -> tuple[ImportJob, str]:
    """Upload the file; the job and its preview page."""
    page = client.post(URL, {"file": SimpleUploadedFile(path.name, path.read_bytes())}, follow=True)
    return ImportJob.objects.latest("pk"), page.content.decode()


def confirm(client, job: ImportJob, **data: str) -> str:
    return client.post(f"{URL}{job.pk}/", data, follow=True).content.decode()


def error_cell(row: int, column: str, value: str, message: str) -> str:
    """An error as the preview's table shows it."""
    return f"<td>{row}</td><td>{column}</td><td>{value}</td><td>{message}</td>"
