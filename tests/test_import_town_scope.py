"""Spreadsheet imports and other towns' records (issue 14, items 2 and 3).

Every importer refuses a row that would change a record the importing user cannot edit, through
the one check of the shared engine (`SheetImporter.check_editable`), with a message that names
nothing about the record; and no stored job report holds a full phone or ID number.
"""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from couriers.imports.importers import IMPORTERS
from couriers.imports.sheet_import import OTHER_TOWN
from couriers.models import Courier, Enterprise, ImportJob, Outlet
from stations.models import CheckinPoint, Station
from tests import factories
from tests.sheets import xlsx

pytestmark = pytest.mark.django_db


# --- one case per importer: a 南桥镇 user, another town's record -------------------------------


def _survey(xidu_town):
    courier = factories.courier(xidu_town, name="西渡小哥", phone="13900000001")
    rows = [["姓名", "手机号码", "工作街镇"], ["改名", "13900000001", "南桥镇"]]

    def unchanged():
        courier.refresh_from_db()
        return (courier.name, courier.work_town) == ("西渡小哥", xidu_town)

    return rows, unchanged, OTHER_TOWN


def _enterprises(xidu_town):
    # The attack as it was found: a 南桥镇 enterprise's row names an outlet of that enterprise
    # that sits in 柘林镇, and "moves" it into 南桥镇 with a new address.
    zhelin = factories.town("柘林镇")
    yto = factories.brand("圆通")
    enterprise = factories.enterprise(
        factories.town("南桥镇"), name="上海南桥圆通快递服务有限公司", of_brand=yto
    )
    outlet = Outlet.objects.create(
        name="圆通柘林西网点", enterprise=enterprise, town=zhelin, address="柘林镇旧址 1 号"
    )
    for _ in range(3):
        factories.courier(zhelin, phone=factories.phone(), outlet=outlet, enterprise=enterprise)
    rows = [
        ["企业名称", "快递品牌", "企业所在街镇", "网点名称", "网点所在街镇", "网点地址"],
        [
            "上海南桥圆通快递服务有限公司",
            "圆通",
            "南桥镇",
            "圆通柘林西网点",
            "南桥镇",
            "南桥新址 9 号",
        ],
    ]

    def unchanged():
        outlet.refresh_from_db()
        return (outlet.town, outlet.address) == (zhelin, "柘林镇旧址 1 号")

    return rows, unchanged, OTHER_TOWN


def _stations(xidu_town):
    station = Station.objects.create(
        town=xidu_town,
        name="西渡党群服务站",
        address="西渡旧址 1 号",
        latitude=30.9,
        longitude=121.45,
    )
    rows = [
        ["站点名称", "街镇", "地址", "坐标"],
        ["西渡党群服务站", "西渡街道", "改写的地址 9 号", "30.918,121.474"],
    ]

    def unchanged():
        station.refresh_from_db()
        return station.address == "西渡旧址 1 号"

    # Stations and points are matched by (town, name): a row reaches another town's record only
    # by naming that town, which the row's own town check refuses first.
    return rows, unchanged, "只能导入本街镇的站点"


def _points(xidu_town):
    point = CheckinPoint.objects.create(town=xidu_town, name="西渡报到点", address="西渡旧址 1 号")
    rows = [["报到点名称", "街镇", "地址"], ["西渡报到点", "西渡街道", "改写的地址 9 号"]]

    def unchanged():
        point.refresh_from_db()
        return point.address == "西渡旧址 1 号"

    return rows, unchanged, "只能导入本街镇的报到点"


CASES = {
    ImportJob.Kind.COURIERS: _survey,
    ImportJob.Kind.ENTERPRISES: _enterprises,
    ImportJob.Kind.STATIONS: _stations,
    ImportJob.Kind.CHECKIN_POINTS: _points,
}


def test_every_registered_importer_has_a_cross_town_case():
    # An importer added later is covered only once it has its case here.
    assert set(CASES) == set(IMPORTERS)


@pytest.mark.parametrize("kind", list(CASES))
def test_a_town_user_cannot_change_another_towns_record_with_any_importer(kind, nanqiao, xidu_town):
    rows, unchanged, message = CASES[kind](xidu_town)
    report = IMPORTERS[kind](user=nanqiao).run(xlsx(rows), "list.xlsx")
    assert not report.ok and not report.written
    assert message in [e.message for e in report.errors]
    assert unchanged()
    for error in report.errors:
        # Nothing about the record: not its town, address or holder.
        assert "西渡" not in error.message and "柘林" not in error.message
        assert "旧址" not in error.message


def test_the_enterprise_list_no_longer_moves_another_towns_outlet(nanqiao, xidu_town):
    rows, unchanged, _ = _enterprises(xidu_town)
    report = IMPORTERS[ImportJob.Kind.ENTERPRISES](user=nanqiao).run(xlsx(rows), "list.xlsx")
    assert [(e.row, e.column, e.message) for e in report.errors] == [(2, "网点名称", OTHER_TOWN)]
    assert unchanged()
    assert Outlet.objects.get(name="圆通柘林西网点").couriers.count() == 3


def test_the_district_may_still_move_an_outlet_between_towns(district, xidu_town):
    rows, unchanged, _ = _enterprises(xidu_town)
    report = IMPORTERS[ImportJob.Kind.ENTERPRISES](user=district).run(xlsx(rows), "list.xlsx")
    assert report.ok and report.written, [str(e) for e in report.errors]
    assert not unchanged()
    assert Outlet.objects.get(name="圆通柘林西网点").town.name == "南桥镇"


def test_a_town_user_cannot_rename_another_towns_enterprise(nanqiao, xidu_town):
    Enterprise.objects.create(name="西渡某快递有限公司", brand=factories.brand(), town=xidu_town)
    rows = [["企业名称", "快递品牌", "企业所在街镇"], ["西渡某快递有限公司", "中通", "南桥镇"]]
    report = IMPORTERS[ImportJob.Kind.ENTERPRISES](user=nanqiao).run(xlsx(rows), "list.xlsx")
    assert [e.message for e in report.errors] == [OTHER_TOWN]
    assert Enterprise.objects.get().town == xidu_town


# --- cross-town oracles in the survey import -------------------------------------------------

XIDU_PHONE = "18900002468"
XIDU_ID = factories.id_number(seq=246)
URL = "/admin/couriers/courier/import/"


@pytest.fixture
def xidu_courier(xidu_town):
    return factories.courier(xidu_town, name="西渡小哥", phone=XIDU_PHONE, id_number=XIDU_ID)


def _upload(client, rows) -> ImportJob:
    client.post(URL, {"file": SimpleUploadedFile("survey.xlsx", xlsx(rows))})
    return ImportJob.objects.get()


def test_a_town_user_learns_nothing_about_another_towns_phone_or_id_number(
    nanqiao_client, xidu_courier
):
    job = _upload(
        nanqiao_client,
        [
            ["姓名", "手机号码", "身份证号码", "工作街镇"],
            ["冒名一", XIDU_PHONE, "", "南桥镇"],
            ["冒名二", "13800000002", XIDU_ID, "南桥镇"],
        ],
    )
    errors = {(e["row"], e["column"]): e["message"] for e in job.report["errors"]}
    assert errors == {(2, "手机号码"): OTHER_TOWN, (3, "身份证号码"): OTHER_TOWN}
    html = nanqiao_client.get(f"{URL}{job.pk}/").content.decode()
    assert OTHER_TOWN in html
    assert "已登记" not in html and "名下" not in html and "西渡" not in html
    # The holder's phone (masked or not) is shown nowhere but as row 2's own typed cell.
    assert html.count("189****2468") == 1 and XIDU_PHONE not in html
    stored = json.dumps(job.report, ensure_ascii=False)
    assert XIDU_PHONE not in stored and XIDU_ID not in stored
    assert Courier.objects.get().name == "西渡小哥"


def test_no_job_report_holds_a_full_phone_or_id_number(nanqiao_client, nanqiao_town):
    good_id = factories.id_number(seq=101)
    bad_id = good_id[:-1] + ("0" if good_id[-1] != "0" else "1")  # wrong check digit
    job = _upload(
        nanqiao_client,
        [
            ["姓名", "手机号码", "身份证号码", "工作街镇"],
            ["张三", "13800000001", good_id, "南桥镇"],
            ["李四", "13800000001", bad_id, "南桥镇"],  # duplicate phone, bad ID number
            ["王五", "1380000000", "", "南桥镇"],  # ten digits
        ],
    )
    stored = json.dumps(job.report, ensure_ascii=False)
    assert len(job.report["errors"]) == 3
    for number in ("13800000001", good_id, bad_id, "1380000000"):
        assert number not in stored, number
    assert "138****0001" in stored  # masked, not dropped: the row can still be found

    preview = _upload_preview(nanqiao_client, good_id)
    stored = json.dumps(preview.report, ensure_ascii=False)
    assert preview.report["preview"] and "13800000009" not in stored and good_id not in stored


def _upload_preview(client, id_number: str) -> ImportJob:
    ImportJob.objects.all().delete()
    return _upload(
        client,
        [
            ["姓名", "手机号码", "身份证号码", "工作街镇"],
            ["赵六", "13800000009", id_number, "南桥镇"],
        ],
    )


def test_within_the_users_town_a_duplicate_id_number_still_names_the_masked_holder(
    nanqiao, nanqiao_town
):
    factories.courier(nanqiao_town, phone="13800000001", id_number=XIDU_ID)
    rows = [
        ["姓名", "手机号码", "身份证号码", "工作街镇"],
        ["冒名", "13800000002", XIDU_ID, "南桥镇"],
    ]
    report = IMPORTERS[ImportJob.Kind.COURIERS](user=nanqiao).run(xlsx(rows), "s.xlsx")
    assert [e.message for e in report.errors] == ["该身份证号码已登记在 138****0001 名下"]
