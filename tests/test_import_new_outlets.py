"""Issue 15, item 11: the outlets and enterprises a census discovers. A survey row naming an
unregistered outlet or enterprise is not an error: the preview lists what will be created
(待核实, under the row's brand, in the row's work town, with its couriers); confirming creates
it in the import's transaction; a near-duplicate of a registered outlet's name is that outlet.
Through `import_survey` and through the admin upload → preview → confirm."""

from __future__ import annotations

import io
from io import StringIO
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from openpyxl import Workbook

from couriers.imports.new_references import name_key
from couriers.imports.sheet_import import OTHER_TOWN
from couriers.imports.survey import CourierSurveyImporter
from couriers.models import Courier, Enterprise, ImportJob, Outlet, Verification
from tests import factories
from tests.sheets import xlsx

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).parent / "office_files" / "outlets" / "new_outlets.xlsx"
URL = "/admin/couriers/courier/import/"
PLACEHOLDER = "极兔·南桥镇（待核实）"


@pytest.fixture
def registry(nanqiao_town):
    factories.brand("极兔", aliases="J&T极兔\nJ&T")
    factories.brand("中通")
    sf = factories.brand("顺丰", aliases="顺丰速运")
    enterprise = factories.enterprise(
        nanqiao_town, name="上海南桥顺丰快递服务有限公司", of_brand=sf
    )
    return factories.outlet(nanqiao_town, enterprise, name="顺丰南桥中心网点")


def run(data: bytes, user=None, dry_run: bool = False, name: str = "survey.xlsx"):
    return CourierSurveyImporter(user=user).run(data, name, dry_run=dry_run)


def command(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("import_survey", str(path), *args, stdout=out, stderr=out)
    return out.getvalue()


def assert_fixture_imported(sf_outlet) -> None:
    """What the LibreOffice fixture leaves in the registry."""
    jt = Outlet.objects.get(name="极兔南桥2部")
    assert (jt.verification, jt.town.name, jt.enterprise.name) == ("pending", "南桥镇", PLACEHOLDER)
    assert jt.enterprise.verification == Verification.PENDING
    assert jt.enterprise.brand.name == "极兔"
    assert set(jt.couriers.values_list("name", flat=True)) == {"张一", "张二", "张六"}
    assert set(jt.couriers.values_list("brand__name", "enterprise__name").distinct()) == {
        ("极兔", PLACEHOLDER)
    }
    zto = Outlet.objects.get(name="中通南桥一部")
    assert zto.verification == "pending"
    assert (zto.enterprise.name, zto.enterprise.verification) == (
        "上海南桥中通快递有限公司",
        "pending",
    )
    assert Courier.objects.get(name="张三").enterprise == zto.enterprise
    # The near-duplicate and the exact name are the registered outlet, which stays verified.
    assert set(sf_outlet.couriers.values_list("name", flat=True)) == {"张四", "张五"}
    sf_outlet.refresh_from_db()
    assert sf_outlet.verification == Verification.VERIFIED
    assert Outlet.objects.count() == 3 and Enterprise.objects.count() == 3


def test_preview_lists_new_outlets_and_enterprises_with_their_couriers(registry):
    report = run(FIXTURE.read_bytes(), dry_run=True)
    assert report.ok, [str(e) for e in report.errors]
    listed = {(e["kind"], e["name"]): e for e in report.new_references}
    assert set(listed) == {
        ("enterprise", PLACEHOLDER),
        ("outlet", "极兔南桥2部"),
        ("enterprise", "上海南桥中通快递有限公司"),
        ("outlet", "中通南桥一部"),
    }
    jt = listed[("outlet", "极兔南桥2部")]
    assert (jt["brand"], jt["town"], jt["enterprise"], jt["couriers"], jt["row"]) == (
        "极兔",
        "南桥镇",
        PLACEHOLDER,
        3,
        2,
    )
    assert listed[("outlet", "中通南桥一部")]["couriers"] == 1
    matches = {(m["typed"], m["name"]): m["rows"] for m in report.matched_references}
    assert matches == {
        ("极兔南桥２部", "极兔南桥2部"): 1,
        ("顺丰 南桥中心站", "顺丰南桥中心网点"): 1,
    }
    assert not Outlet.objects.filter(verification="pending").exists()  # a preview writes nothing


def test_command_creates_them_pending_in_the_imports_transaction_and_audit(registry):
    output = command(FIXTURE)
    assert "导入完成" in output
    assert "新建网点（待核实）：极兔南桥2部（极兔，南桥镇，小哥 3 人）" in output
    assert "“顺丰 南桥中心站” 按 “顺丰南桥中心网点” 导入（1 行）" in output
    assert_fixture_imported(registry)
    [entry] = [e for e in LogEntry.objects.all() if "导入文件" in e.changes]
    assert entry.changes["新建网点（待核实）"] == ["", "极兔南桥2部、中通南桥一部"]
    assert entry.changes["新建企业（待核实）"] == ["", f"{PLACEHOLDER}、上海南桥中通快递有限公司"]

    again = command(FIXTURE)  # the outlets now exist: the same file changes nothing
    assert "无需导入" in again and "新建" not in again
    assert Outlet.objects.count() == 3


def test_admin_preview_shows_them_and_confirm_creates_them(registry, nanqiao_client):
    upload = SimpleUploadedFile("new_outlets.xlsx", FIXTURE.read_bytes())
    html = nanqiao_client.post(URL, {"file": upload}, follow=True).content.decode()
    assert "确认后将新建的企业和网点（4 个，标记为“待核实”）" in html
    assert "<td>网点</td><td>极兔南桥2部</td><td>极兔</td><td>南桥镇</td>" in html
    assert "“顺丰 南桥中心站” 按 “顺丰南桥中心网点” 导入" in html
    assert "确认导入" in html
    assert not Outlet.objects.filter(verification="pending").exists()

    job = ImportJob.objects.get()
    done = nanqiao_client.post(f"{URL}{job.pk}/", follow=True).content.decode()
    assert "导入完成" in done and "已新建的企业和网点" in done
    assert_fixture_imported(registry)


def test_an_error_anywhere_creates_no_outlet(registry):
    data = xlsx(
        [
            ["姓名", "手机号码", "工作街镇", "快递品牌", "网点名称"],
            ["张一", "13800000001", "南桥镇", "极兔", "极兔南桥9部"],
            ["坏行", "12345", "南桥镇", "极兔", "极兔南桥8部"],
        ]
    )
    report = run(data)
    assert not report.ok
    assert not Outlet.objects.exclude(pk=registry.pk).exists()
    assert Enterprise.objects.count() == 1


def test_new_outlet_needs_a_brand_or_an_enterprise(registry):
    data = xlsx(
        [
            ["姓名", "手机号码", "工作街镇", "网点名称"],
            ["张一", "13800000001", "南桥镇", "无名网点"],
        ]
    )
    report = run(data)
    assert [e.message for e in report.errors] == [
        "未登记的网点（或不在本街镇）：要登记为新网点，请填写快递品牌或加盟企业"
    ]


def test_new_enterprise_needs_a_brand(registry):
    data = xlsx(
        [["姓名", "手机号码", "工作街镇", "加盟企业"], ["张一", "13800000001", "南桥镇", "新公司"]]
    )
    report = run(data)
    assert [e.message for e in report.errors] == [
        "未登记的加盟企业：要登记为新企业，请填写快递品牌"
    ]


def test_outlet_of_another_enterprise_is_not_duplicated(registry, nanqiao_town):
    other = factories.enterprise(nanqiao_town, name="别家快递有限公司")
    data = xlsx(
        [
            ["姓名", "手机号码", "工作街镇", "加盟企业", "网点名称"],
            ["张一", "13800000001", "南桥镇", other.name, "顺丰南桥中心网点"],
        ]
    )
    report = run(data)
    assert (
        report.errors[0].message == "该网点属于“上海南桥顺丰快递服务有限公司”，与所填加盟企业不符"
    )


def test_two_near_duplicates_are_ambiguous(registry, nanqiao_town):
    factories.outlet(nanqiao_town, registry.enterprise, name="顺丰南桥中心部")
    data = xlsx(
        [
            ["姓名", "手机号码", "工作街镇", "快递品牌", "网点名称"],
            ["张一", "13800000001", "南桥镇", "顺丰", "顺丰南桥中心站"],
        ]
    )
    report = run(data)
    assert "与多个已登记网点相近" in report.errors[0].message


def test_near_duplicate_needs_same_brand_and_town(registry, xidu_town):
    data = xlsx(
        [
            ["姓名", "手机号码", "工作街镇", "快递品牌", "网点名称"],
            ["张一", "13800000001", "西渡街道", "顺丰", "顺丰南桥中心站"],  # another town
            ["张二", "13800000002", "南桥镇", "极兔", "顺丰南桥中心站"],  # another brand
        ]
    )
    report = run(data)
    assert report.ok, [str(e) for e in report.errors]
    created = Outlet.objects.filter(name="顺丰南桥中心站")
    assert sorted(created.values_list("town__name", "enterprise__brand__name")) == [
        ("南桥镇", "极兔"),
        ("西渡街道", "顺丰"),
    ]


@pytest.mark.parametrize(
    ("typed", "registered"),
    [
        ("极兔奉浦２部 ", "极兔奉浦2部"),
        ("极兔 奉浦2部", "极兔奉浦2部"),
        ("极兔\u3000奉浦2部", "极兔奉浦2部"),
        ("极兔奉浦2站", "极兔奉浦2部"),
        ("极兔奉浦2点", "极兔奉浦2部"),
        ("极兔奉浦2", "极兔奉浦2部"),
        ("ＪＴ奉浦2部", "jt奉浦2部"),
    ],
)
def test_name_key_ignores_spaces_endings_and_full_width(typed, registered):
    assert name_key(typed) == name_key(registered)


def test_name_key_keeps_different_outlets_apart():
    assert name_key("极兔奉浦2部") != name_key("极兔奉浦3部")
    assert name_key("极兔奉浦2部") != name_key("极兔南桥2部")


# --- town staff ------------------------------------------------------------------------------


def test_town_staff_create_outlets_in_their_own_town_only(registry, nanqiao, xidu_town):
    report = run(FIXTURE.read_bytes(), user=nanqiao)
    assert report.ok and report.written
    assert_fixture_imported(registry)

    data = xlsx(
        [
            ["姓名", "手机号码", "工作街镇", "快递品牌", "网点名称"],
            ["外镇", "13800000009", "西渡街道", "极兔", "极兔西渡1部"],
        ]
    )
    refused = run(data, user=nanqiao)
    assert [e.message for e in refused.errors] == ["只能导入本街镇的人员"]
    assert refused.new_references == []
    assert not Outlet.objects.filter(town=xidu_town).exists()


def test_town_staff_never_duplicate_another_towns_enterprise(registry, nanqiao, xidu_town):
    factories.enterprise(xidu_town, name="西渡某快递有限公司")
    data = xlsx(
        [
            ["姓名", "手机号码", "工作街镇", "快递品牌", "加盟企业"],
            ["张一", "13800000001", "南桥镇", "顺丰", "西渡某快递有限公司"],
        ]
    )
    report = run(data, user=nanqiao)
    assert [e.message for e in report.errors] == [OTHER_TOWN]
    assert Enterprise.objects.filter(name="西渡某快递有限公司").count() == 1


def test_town_staff_never_duplicate_an_outlet_they_cannot_see(registry, nanqiao, xidu_town):
    # The enterprise is in 南桥, one of its outlets in 西渡, out of 南桥 staff's sight.
    factories.outlet(xidu_town, registry.enterprise, name="顺丰西渡网点")
    data = xlsx(
        [
            ["姓名", "手机号码", "工作街镇", "加盟企业", "网点名称"],
            ["张一", "13800000001", "南桥镇", registry.enterprise.name, "顺丰西渡网点"],
        ]
    )
    report = run(data, user=nanqiao)
    assert [e.message for e in report.errors] == [OTHER_TOWN]


def test_a_new_outlet_spread_over_chunks_is_created_once(registry, monkeypatch):
    monkeypatch.setattr("couriers.imports.sheet_import.CHUNK_ROWS", 3)
    rows = [["姓名", "手机号码", "工作街镇", "快递品牌", "网点名称"]]
    rows += [[f"小哥{n}", f"139{n:08d}", "南桥镇", "极兔", "极兔南桥5部"] for n in range(10)]
    report = run(xlsx(rows))
    assert report.ok and report.written
    outlet = Outlet.objects.get(name="极兔南桥5部")
    assert outlet.couriers.count() == 10
    assert report.new_references[1]["couriers"] == 10


def test_a_registered_courier_moves_to_a_new_outlet(registry, nanqiao_town):
    factories.courier(nanqiao_town, name="张一", phone="13800000001")
    data = xlsx(
        [
            ["姓名", "手机号码", "工作街镇", "快递品牌", "网点名称"],
            ["张一", "13800000001", "南桥镇", "极兔", "极兔南桥7部"],
        ]
    )
    report = run(data)
    assert (report.new, report.updated, report.written) == (0, 1, True)
    courier = Courier.objects.get()
    assert (courier.outlet.name, courier.enterprise.name, courier.brand.name) == (
        "极兔南桥7部",
        PLACEHOLDER,
        "极兔",
    )
    assert report.new_references[1]["couriers"] == 1


def test_a_new_outlet_first_written_full_width_is_registered_in_ascii(registry):
    data = xlsx(
        [
            ["姓名", "手机号码", "工作街镇", "快递品牌", "网点名称"],
            ["张一", "13800000001", "南桥镇", "极兔", "极兔南桥３部（东）"],
            ["张二", "13800000002", "南桥镇", "极兔", "极兔南桥3部（东）"],
        ]
    )
    report = run(data)
    assert report.ok and report.written
    assert Outlet.objects.get(verification="pending").name == "极兔南桥3部（东）"
    assert [(m["typed"], m["name"], m["rows"]) for m in report.matched_references] == [
        ("极兔南桥３部（东）", "极兔南桥3部（东）", 1)
    ]


def test_new_outlets_of_a_workbook_name_their_sheet(registry):
    workbook = Workbook()
    first = workbook.active
    first.title = "南桥镇"
    second = workbook.create_sheet("西渡街道")
    header = ["姓名", "手机号码", "工作街镇", "快递品牌", "网点名称"]
    first.append(header)
    first.append(["张一", "13800000001", "南桥镇", "极兔", "极兔南桥2部"])
    second.append(header)
    second.append(["李一", "13800000002", "西渡街道", "极兔", "极兔西渡1部"])
    second.append(["李二", "13800000003", "南桥镇", "极兔", "极兔南桥２部"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = run(buffer.getvalue())
    assert report.ok, [str(e) for e in report.errors]
    outlets = {e["name"]: e["sheet"] for e in report.new_references if e["kind"] == "outlet"}
    assert outlets == {"极兔南桥2部": "南桥镇", "极兔西渡1部": "西渡街道"}
    [match] = report.matched_references
    assert (match["sheet"], match["row"], match["name"]) == ("西渡街道", 3, "极兔南桥2部")
    assert Outlet.objects.get(name="极兔南桥2部").couriers.count() == 2
