"""Round trips of the survey (issue 15): export → edit in LibreOffice → import keeps every
value but the edited one; re-importing the same file changes nothing (every row 无变化, no
audit entry, updated_at untouched). Through `import_survey` and the admin upload → preview
→ confirm.

tests/office_files/roundtrip/edited_in_libreoffice.xlsx is the admin's export of `seed()`,
opened in LibreOffice Calc, one cell changed (张三's 组织关系所在地), saved as .xlsx: made by
tests/office_files/roundtrip/make_roundtrip.py. CI has no LibreOffice, so the test compares
that file with a fresh export of the same registry: every other cell must be the same."""

from __future__ import annotations

import datetime
import io
from io import StringIO
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from openpyxl import load_workbook

from couriers.imports import cell_values
from couriers.models import Courier, ImportJob
from tests import factories

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).parent / "office_files" / "roundtrip"
EDITED = ROOT / "edited_in_libreoffice.xlsx"
URL = "/admin/couriers/courier/import/"
EDITED_HEADER = "组织关系所在地"
BEFORE, AFTER = "安徽省临泉县", "安徽省阜阳市临泉县"
VALUES = [f.attname for f in Courier._meta.concrete_fields if f.name not in ("updated_at",)]


def seed() -> None:
    """A registry touching every exported column (also used by make_roundtrip.py)."""
    nanqiao, xidu = factories.town("南桥镇"), factories.town("西渡街道")
    zto = factories.brand("中通", aliases="中通快递")
    jt = factories.brand("极兔")
    enterprise = factories.enterprise(nanqiao, name="上海南桥中通快递有限公司", of_brand=zto)
    outlet = factories.outlet(nanqiao, enterprise, name="中通南桥一部")
    jt_enterprise = factories.enterprise(xidu, name="上海西渡极兔快递有限公司", of_brand=jt)
    jt_outlet = factories.outlet(xidu, jt_enterprise, name="极兔西渡2部")
    org = factories.party_org(nanqiao, name="南桥镇快递行业联合党支部")
    community = factories.community(xidu, name="浦江居委会")
    factories.courier(
        nanqiao,
        name="张三",
        phone="13800000001",
        id_number=factories.id_number("19850312", 131),
        education=Courier.Education.BACHELOR,
        political_status=Courier.PoliticalStatus.MEMBER,
        is_mobile_party_member=True,
        membership_location=BEFORE,
        managing_organization=org,
        is_business_backbone=True,
        brand=zto,
        enterprise=enterprise,
        outlet=outlet,
        residence_community=community,
        gender="M",
        birth_date=datetime.date(1985, 3, 12),
    )
    factories.courier(
        xidu,
        name="李红",
        phone="13900000002",
        gender="F",
        birth_date=datetime.date(1996, 11, 30),
        education=Courier.Education.SENIOR,
        political_status=Courier.PoliticalStatus.LEAGUE,
        brand=jt,
        enterprise=jt_enterprise,
        outlet=jt_outlet,
        employment_status=Courier.EmploymentStatus.LEFT,
    )
    factories.courier(
        nanqiao,
        name="王五",
        phone="15000000003",
        education=Courier.Education.PRIMARY_OR_LESS,
        political_status=Courier.PoliticalStatus.APPLICANT,
        brand=zto,
    )
    factories.courier(xidu, name="赵六", phone="18600000004")


def export(client) -> bytes:
    """The admin's courier export, as .xlsx, every column."""
    url = "/admin/couriers/courier/export/"
    form = client.get(url).context["form"]
    index = next(v for v, label in form.fields["format"].choices if str(label).lower() == "xlsx")
    data = {"format": index, "resource": 0}
    data.update({name: "on" for name in form.fields if name.startswith("courierresource_")})
    response = client.post(url, data)
    assert response.status_code == 200
    return response.content


def cells(data: bytes) -> list[list[str]]:
    sheet = load_workbook(io.BytesIO(data)).active
    return [[cell_values.text(c) for c in row] for row in sheet.iter_rows(values_only=True)]


def snapshot() -> dict[str, tuple]:
    return {c.phone: tuple(getattr(c, n) for n in VALUES) for c in Courier.objects.all()}


def stamps() -> dict[str, datetime.datetime]:
    return dict(Courier.objects.values_list("phone", "updated_at"))


def import_entries() -> int:
    return sum("导入文件" in e.changes for e in LogEntry.objects.all())


def command(path: Path) -> str:
    out = StringIO()
    call_command("import_survey", str(path), stdout=out, stderr=out)
    return out.getvalue()


def admin_import(client, data: bytes, name: str) -> dict:
    client.post(URL, {"file": SimpleUploadedFile(name, data)})
    job = ImportJob.objects.latest("id")
    if job.report["new"] or job.report["updated"]:
        client.post(f"{URL}{job.pk}/")
        job.refresh_from_db()
    return job.report


@pytest.fixture
def registry(db):
    seed()


def test_the_libreoffice_file_is_the_export_with_one_cell_changed(registry, district_client):
    exported, edited = cells(export(district_client)), cells(EDITED.read_bytes())
    assert len(exported) == len(edited) == 5
    column = exported[0].index(EDITED_HEADER)
    differences = [
        (r, c, a, b)
        for r, (row_a, row_b) in enumerate(zip(exported, edited, strict=True))
        for c, (a, b) in enumerate(zip(row_a, row_b, strict=True))
        if a != b
    ]
    row = next(r for r, line in enumerate(exported) if line[0] == "张三")
    assert differences == [(row, column, BEFORE, AFTER)]


def assert_only_the_edit_landed(before: dict, stamped: dict) -> None:
    after = snapshot()
    changed = {phone for phone in after if after[phone] != before[phone]}
    assert changed == {"13800000001"}
    zhang = Courier.objects.get(phone="13800000001")
    assert zhang.membership_location == AFTER
    pairs = zip(VALUES, before["13800000001"], after["13800000001"], strict=True)
    assert [name for name, was, now in pairs if was != now] == ["membership_location"]
    now = stamps()
    assert {p for p in now if now[p] != stamped[p]} == {"13800000001"}


def test_edited_file_by_command_changes_only_the_edited_value(registry):
    before, stamped = snapshot(), stamps()
    output = command(EDITED)
    assert "导入完成" in output and "更新 1，无变化 3" in output
    assert_only_the_edit_landed(before, stamped)


def test_edited_file_through_the_admin_changes_only_the_edited_value(registry, district_client):
    before, stamped = snapshot(), stamps()
    report = admin_import(district_client, EDITED.read_bytes(), EDITED.name)
    assert (report["new"], report["updated"], report["unchanged"], report["written"]) == (
        0,
        1,
        3,
        True,
    )
    assert_only_the_edit_landed(before, stamped)


def test_reimporting_the_same_file_changes_nothing_by_command(registry):
    command(EDITED)
    before, stamped, audited = snapshot(), stamps(), import_entries()
    output = command(EDITED)
    assert "无需导入" in output and "新增 0，更新 0，无变化 4" in output
    assert (snapshot(), stamps(), import_entries()) == (before, stamped, audited)


def test_reimporting_the_same_file_changes_nothing_through_the_admin(registry, district_client):
    admin_import(district_client, EDITED.read_bytes(), EDITED.name)
    before, stamped, audited = snapshot(), stamps(), import_entries()
    report = admin_import(district_client, EDITED.read_bytes(), EDITED.name)
    assert (report["new"], report["updated"], report["unchanged"]) == (0, 0, 4)
    assert not report["written"]
    assert (snapshot(), stamps(), import_entries()) == (before, stamped, audited)
    page = district_client.get(f"{URL}{ImportJob.objects.latest('id').pk}/").content.decode()
    assert "无需导入" in page and "确认导入" not in page


def test_a_fresh_export_reimports_as_all_unchanged(registry, district_client, tmp_path):
    path = tmp_path / "export.xlsx"
    path.write_bytes(export(district_client))
    before, stamped = snapshot(), stamps()
    assert "新增 0，更新 0，无变化 4" in command(path)
    assert (snapshot(), stamps(), import_entries()) == (before, stamped, 0)
