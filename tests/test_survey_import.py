"""Survey import (排摸登记表) through the importer and the command: messy sheets in, clear
errors out, all or nothing, idempotent, town-scoped."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from couriers.imports.sheet_import import OTHER_TOWN
from couriers.imports.survey import CourierSurveyImporter
from couriers.models import Courier
from tests import factories
from tests.sheets import csv_bytes, xlsx, zip_bomb

pytestmark = pytest.mark.django_db


@pytest.fixture
def refs(nanqiao_town, xidu_town):
    """Reference data the sheets name: brands with aliases, an outlet, a community, an org."""
    sf = factories.brand("顺丰", aliases="顺丰速运\nSF顺丰\nSF")
    factories.brand("中国邮政", aliases="邮政\n邮政EMS\nEMS")
    factories.brand("极兔", aliases="J&T极兔\nJ&T")
    enterprise = factories.enterprise(
        nanqiao_town, name="上海南桥顺丰快递服务有限公司", of_brand=sf
    )
    outlet = factories.outlet(nanqiao_town, enterprise, name="顺丰南桥中心网点")
    community = factories.community(xidu_town, name="浦江居委会")
    org = factories.party_org(nanqiao_town, name="南桥镇快递行业联合党支部")
    return {
        "sf": sf,
        "enterprise": enterprise,
        "outlet": outlet,
        "community": community,
        "org": org,
    }


def run(data: bytes, name: str = "survey.xlsx", user=None, dry_run: bool = False):
    return CourierSurveyImporter(user=user).run(data, name, dry_run=dry_run)


def one_row(header: list[str], row: list, **kwargs):
    """Import a single-row sheet and return (report, courier or None)."""
    report = run(xlsx([header, row]), **kwargs)
    return report, Courier.objects.first()


# --- the shape of real sheets -------------------------------------------------------------


def test_title_lines_extra_columns_blank_lines_and_totals_are_handled(refs):
    data = xlsx(
        [
            ["序号", "姓名", "联系电话", "所在街镇", "品牌", "备注"],
            [1, "王小明", "13900000001", "南桥", "顺丰速运", "老员工"],
            [None, None, None, None, None, None],
            [2, "李小红", "13900000002", "西渡街道", "SF顺丰", ""],
            ["合计", "2 人", None, None, None, None],
        ],
        title_lines=["奉贤区快递从业人员排摸登记表", "填报单位：南桥镇社区党委（盖章）"],
    )
    report = run(data)
    assert report.ok, [str(e) for e in report.errors]
    assert (report.rows, report.new) == (2, 2)
    assert report.unknown_columns == ["序号", "备注"]
    assert set(Courier.objects.values_list("name", flat=True)) == {"王小明", "李小红"}
    assert report.preview[0][0] == "新增"


def test_header_is_found_with_columns_in_any_order_and_aliases():
    data = xlsx([["所在街镇", "手机号", "名字"], ["金汇", "139 0000 0003", "周杰"]])
    report = run(data)
    assert report.ok
    courier = Courier.objects.get()
    assert (courier.name, courier.phone, courier.work_town.name) == (
        "周杰",
        "13900000003",
        "金汇镇",
    )


def test_missing_required_column_is_one_clear_error():
    report = run(xlsx([["姓名", "工作街镇"], ["张三", "南桥镇"]]))
    assert report.file_error == "缺少必填列：手机号码。"
    assert not Courier.objects.exists()


def test_sheet_without_a_header_is_refused():
    report = run(xlsx([["随便写点"], ["什么都不是"]]))
    assert "找不到表头" in report.file_error


# --- values as people type them ---------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        13800000009,
        13800000009.0,
        "138 0000 0009",
        "138-0000-0009",
        "+86 13800000009",
        "１３８０００００００９",
        " 13800000009 ",
    ],
)
def test_phone_as_typed_or_stored_by_excel(typed):
    report, courier = one_row(["姓名", "手机号码", "工作街镇"], ["张三", typed, "南桥镇"])
    assert report.ok
    assert courier.phone == "13800000009"


def test_phone_stored_as_excel_number_in_csv_has_no_trailing_zero():
    report = run(
        csv_bytes([["姓名", "手机号码", "工作街镇"], ["张三", "13800000009.0", "南桥"]]),
        "survey.csv",
    )
    assert report.ok
    assert Courier.objects.get().phone == "13800000009"


def test_id_number_lowercase_x_is_normalised_and_fills_birth_date_and_gender():
    report, courier = one_row(
        ["姓名", "手机号码", "工作街镇", "身份证号"],
        ["张三", "13800000009", "南桥镇", "11010519491231002x"],
    )
    assert report.ok
    assert courier.id_number == "11010519491231002X"
    assert courier.birth_date == datetime.date(1949, 12, 31)
    assert courier.gender == "F"  # 17th digit 2 is even


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (datetime.datetime(1990, 5, 21), datetime.date(1990, 5, 21)),
        ("1990.05", datetime.date(1990, 5, 1)),
        ("1990年5月", datetime.date(1990, 5, 1)),
        ("1990-05-21", datetime.date(1990, 5, 21)),
        ("1990/5/21", datetime.date(1990, 5, 21)),
    ],
)
def test_birth_dates_as_typed(typed, expected):
    report, courier = one_row(
        ["姓名", "手机号码", "工作街镇", "出生年月"], ["张三", "13800000009", "南桥镇", typed]
    )
    assert report.ok, [str(e) for e in report.errors]
    assert courier.birth_date == expected


def test_month_precision_birth_date_takes_its_day_from_the_id_number():
    id_number = factories.id_number("19900521")
    report, courier = one_row(
        ["姓名", "手机号码", "工作街镇", "出生年月", "身份证号码"],
        ["张三", "13800000009", "南桥镇", "1990.05", id_number],
    )
    assert report.ok
    assert courier.birth_date == datetime.date(1990, 5, 21)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("党员", "member"),
        ("中共党员", "member"),
        ("预备党员", "probationary"),
        ("积极分子", "activist"),
        ("团员", "league"),
        ("", "masses"),
        ("无", "masses"),
        ("有入党意愿", "willing"),
    ],
)
def test_political_status_in_everyday_words(typed, expected, refs):
    header = ["姓名", "手机号码", "工作街镇", "政治面貌", "管理党组织"]
    org = refs["org"].name if expected in ("member", "probationary") else ""
    report, courier = one_row(header, ["张三", "13800000009", "南桥镇", typed, org])
    assert report.ok, [str(e) for e in report.errors]
    assert courier.political_status == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("本科", "bachelor"),
        ("大学本科", "bachelor"),
        ("大专", "college"),
        ("专科", "college"),
        ("高中", "senior"),
        ("中专", "senior"),
        ("职高", "senior"),
        ("初中", "junior"),
        ("小学", "junior"),
        ("研究生", "postgraduate"),
        ("硕士", "postgraduate"),
    ],
)
def test_education_in_everyday_words(typed, expected):
    report, courier = one_row(
        ["姓名", "手机号码", "工作街镇", "学历"], ["张三", "13800000009", "南桥镇", typed]
    )
    assert report.ok
    assert courier.education == expected


@pytest.mark.parametrize("typed", ["顺丰", "顺丰速运", "SF顺丰", "sf", " 顺 丰 "])
def test_brand_by_alias(typed, refs):
    report, courier = one_row(
        ["姓名", "手机号码", "工作街镇", "所属快递品牌"], ["张三", "13800000009", "南桥镇", typed]
    )
    assert report.ok
    assert courier.brand == refs["sf"]


@pytest.mark.parametrize("typed", ["南桥镇", "南桥", " 南桥 "])
def test_town_with_or_without_suffix(typed):
    report, courier = one_row(["姓名", "手机号码", "工作街镇"], ["张三", "13800000009", typed])
    assert report.ok
    assert courier.work_town.name == "南桥镇"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("是", True),
        ("√", True),
        ("Y", True),
        ("1", True),
        (1, True),
        ("否", False),
        ("×", False),
        ("N", False),
        ("0", False),
        ("", False),
    ],
)
def test_yes_no_words(typed, expected):
    report, courier = one_row(
        ["姓名", "手机号码", "工作街镇", "是否业务骨干"], ["张三", "13800000009", "南桥镇", typed]
    )
    assert report.ok
    assert courier.is_business_backbone is expected


def test_stray_spaces_around_names_are_trimmed(refs):
    report, courier = one_row(
        ["姓名", "手机号码", "工作街镇", "网点", "居住村居委"],
        ["  张三 ", "13800000009", "南桥镇", " 顺丰南桥中心网点 ", "西渡·浦江居委会"],
    )
    assert report.ok, [str(e) for e in report.errors]
    assert courier.name == "张三"
    assert courier.outlet == refs["outlet"]
    assert courier.enterprise == refs["enterprise"]  # filled in from the outlet
    assert courier.brand == refs["sf"]
    assert courier.residence_community == refs["community"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_the_encodings_chinese_excel_uses(encoding):
    data = csv_bytes(
        [["姓名", "手机号码", "工作街镇"], ["欧阳娜娜", "13800000009", "奉浦"]], encoding
    )
    report = run(data, "survey.csv")
    assert report.ok
    assert Courier.objects.get().name == "欧阳娜娜"


# --- errors: every one, with its row, column, value and reason ------------------------------


def test_every_error_is_reported_with_excel_row_column_and_reason(refs):
    data = xlsx(
        [
            ["姓名", "联系电话", "工作街镇", "身份证号", "政治面貌", "出生年月"],
            ["张三", "13800000001", "南桥镇", "", "", ""],
            ["", "1380000000", "上海", "110105194912310021", "党员啊", "1990.13"],
            ["李四", "13800000001", "南桥镇", "", "", ""],
        ],
        title_lines=["奉贤区快递从业人员排摸登记表"],
    )
    report = run(data)
    assert not report.ok
    found = {(e.row, e.column): e for e in report.errors}
    assert "不能为空" in found[(4, "姓名")].message
    assert "11 位" in found[(4, "联系电话")].message
    assert found[(4, "联系电话")].value == "138****0000"  # job reports are stored: masked
    assert "不是奉贤区的街镇" in found[(4, "工作街镇")].message
    assert "校验位" in found[(4, "身份证号")].message
    assert "无法识别的政治面貌" in found[(4, "政治面貌")].message
    assert "日期不存在" in found[(4, "出生年月")].message
    assert "与第 3 行的手机号码重复" in found[(5, "联系电话")].message
    assert [e.row for e in report.errors] == sorted(e.row for e in report.errors)
    assert "第 5 行“联系电话”列（138****0001）：与第 3 行的手机号码重复" in map(str, report.errors)
    assert not Courier.objects.exists()


def test_one_bad_row_writes_nothing_from_the_file():
    rows = [["姓名", "手机号码", "工作街镇"]]
    rows += [[f"小哥{n}", f"139{n:08d}", "南桥镇"] for n in range(50)]
    rows.append(["坏行", "12345", "南桥镇"])
    report = run(xlsx(rows))
    assert len(report.errors) == 1 and report.errors[0].row == 52
    assert not Courier.objects.exists()


def test_the_models_own_rules_apply(refs, nanqiao_town):
    other = factories.enterprise(nanqiao_town, name="别家快递有限公司")
    data = xlsx(
        [
            ["姓名", "手机号码", "工作街镇", "是否流动党员", "加盟企业", "网点名称"],
            ["张三", "13800000001", "南桥镇", "是", "", ""],
            ["李四", "13800000002", "南桥镇", "", other.name, refs["outlet"].name],
        ]
    )
    report = run(data)
    messages = {(e.row, e.column): e.message for e in report.errors}
    assert "只有党员" in messages[(2, "是否流动党员")]
    # The outlet is another enterprise's: neither taken as it nor created again under this one.
    owner = "“上海南桥顺丰快递服务有限公司”"
    assert messages[(3, "网点名称")] == f"该网点属于{owner}，与所填加盟企业不符"


def test_id_number_of_another_courier_is_an_error(nanqiao_town):
    factories.courier(nanqiao_town, phone="13800000001", id_number=factories.id_number())
    report, _ = one_row(
        ["姓名", "手机号码", "工作街镇", "身份证号码"],
        ["冒名", "13800000002", "南桥镇", factories.id_number()],
    )
    assert "已登记在 138****0001 名下" in report.errors[0].message
    assert Courier.objects.count() == 1


# --- upsert by phone: idempotent, never duplicated ------------------------------------------


def test_reimporting_the_same_file_changes_nothing_and_says_so(refs):
    data = xlsx(
        [
            ["姓名", "手机号码", "工作街镇", "学历", "品牌"],
            ["张三", "13800000001", "南桥镇", "本科", "顺丰"],
            ["李四", "13800000002", "西渡", "大专", ""],
        ]
    )
    first = run(data)
    assert (first.new, first.updated, first.unchanged, first.written) == (2, 0, 0, True)
    stamp = Courier.objects.get(phone="13800000001").updated_at
    second = run(data)
    assert (second.new, second.updated, second.unchanged, second.written) == (0, 0, 2, False)
    assert "无需导入" in second.summary()
    assert Courier.objects.count() == 2
    assert Courier.objects.get(phone="13800000001").updated_at == stamp


def test_existing_courier_is_updated_not_duplicated_and_blanks_keep_values(nanqiao_town):
    factories.courier(
        nanqiao_town,
        name="张三",
        phone="13800000001",
        education="senior",
        political_status=Courier.PoliticalStatus.LEAGUE,
    )
    report, _ = one_row(
        ["姓名", "手机号码", "工作街镇", "学历", "政治面貌"],
        ["张三", "138 0000 0001", "南桥镇", "大专", ""],
    )
    assert (report.new, report.updated) == (0, 1)
    courier = Courier.objects.get()
    assert courier.education == "college"
    assert courier.political_status == "league"  # a blank cell does not erase


def test_dry_run_reports_but_writes_nothing():
    report, courier = one_row(
        ["姓名", "手机号码", "工作街镇"], ["张三", "13800000009", "南桥镇"], dry_run=True
    )
    assert report.ok and report.new == 1 and not report.written
    assert courier is None


# --- town scoping ---------------------------------------------------------------------------


def test_town_staff_can_import_only_their_own_towns_rows(nanqiao):
    data = xlsx(
        [
            ["姓名", "手机号码", "工作街镇"],
            ["本镇", "13800000001", "南桥镇"],
            ["外镇", "13800000002", "西渡街道"],
        ]
    )
    report = run(data, user=nanqiao)
    assert [(e.row, e.message) for e in report.errors] == [(3, "只能导入本街镇的人员")]
    assert not Courier.objects.exists()


def test_town_staff_cannot_overwrite_another_towns_courier(nanqiao, xidu_town):
    factories.courier(xidu_town, name="西渡小哥", phone="13800000001")
    report, _ = one_row(
        ["姓名", "手机号码", "工作街镇"], ["改名", "13800000001", "南桥镇"], user=nanqiao
    )
    assert report.errors[0].message == OTHER_TOWN  # neither who nor where
    assert Courier.objects.get().name == "西渡小哥"


def test_town_staff_cannot_name_another_towns_outlet(nanqiao, refs, xidu_town):
    factories.outlet(xidu_town, name="西渡专属网点")
    report, _ = one_row(
        ["姓名", "手机号码", "工作街镇", "网点"],
        ["张三", "13800000001", "南桥镇", "西渡专属网点"],
        user=nanqiao,
    )
    assert "不在本街镇" in report.errors[0].message


# --- unusable files -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "survey.xlsx", "文件是空的"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "old.xls", "文件已损坏"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "locked.xlsx", "设置了打开密码"),
        (b"PK\x03\x04" + b"garbage" * 50, "broken.xlsx", "文件已损坏"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "photo.xlsx", "不是 Excel 文件"),
        (b"name,phone\x00\x00,13800000000", "survey.csv", "空字符"),
        ("你好，这不是表格".encode(), "notes.csv", "找不到表头"),
        (b"\n\n  \n", "blank.csv", "没有任何内容"),
    ],
)
def test_unusable_files_get_a_clear_message_and_write_nothing(data, name, message):
    report = run(data, name)
    assert message in report.file_error
    assert not Courier.objects.exists()


def test_zip_bomb_is_refused_before_unpacking(settings):
    settings.SHEET_IMPORT_MAX_UNCOMPRESSED_BYTES = 5 * 1024 * 1024
    report = run(zip_bomb(), "bomb.xlsx")
    assert "解压后过大" in report.file_error


def test_more_rows_than_the_cap_is_refused(settings):
    settings.SHEET_IMPORT_MAX_ROWS = 5
    rows = [["姓名", "手机号码", "工作街镇"]] + [
        [f"小哥{n}", f"139{n:08d}", "南桥镇"] for n in range(20)
    ]
    for data, name in ((xlsx(rows), "big.xlsx"), (csv_bytes(rows), "big.csv")):
        report = run(data, name)
        assert "上限" in report.file_error
    assert not Courier.objects.exists()


# --- the command ------------------------------------------------------------------------------


def _command(tmp_path, data: bytes, *args, name: str = "survey.xlsx") -> tuple[int, str]:
    path = tmp_path / name
    path.write_bytes(data)
    out, err = StringIO(), StringIO()
    try:
        call_command("import_survey", str(path), *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue() + err.getvalue()


def test_command_exit_codes_and_output(tmp_path):
    good = xlsx([["姓名", "手机号码", "工作街镇"], ["张三", "13800000001", "南桥镇"]])
    code, output = _command(tmp_path, good, "--dry-run")
    assert code == 0 and "校验通过" in output and not Courier.objects.exists()
    code, output = _command(tmp_path, good)
    assert code == 0 and "导入完成" in output and Courier.objects.count() == 1
    code, output = _command(tmp_path, good)
    assert code == 0 and "无需导入" in output

    bad = xlsx([["姓名", "手机号码", "工作街镇"], ["李四", "123", "南桥镇"]])
    code, output = _command(tmp_path, bad)
    assert code == 1 and "第 2 行“手机号码”列" in output and "未写入" in output

    code, output = _command(tmp_path, b"", name="empty.xlsx")
    assert code == 2 and "文件是空的" in output
    with pytest.raises(SystemExit) as missing:
        call_command(
            "import_survey", str(tmp_path / "missing.xlsx"), stdout=StringIO(), stderr=StringIO()
        )
    assert missing.value.code == 2


def test_command_as_town_user_applies_scoping_and_permission(tmp_path, nanqiao):
    data = xlsx([["姓名", "手机号码", "工作街镇"], ["外镇", "13800000002", "西渡街道"]])
    code, output = _command(tmp_path, data, "--as-user", "nanqiao")
    assert code == 1 and "只能导入本街镇的人员" in output
    User.objects.create_user("viewer", password="x", is_staff=True)
    with pytest.raises(Exception, match="没有导入权限"):
        _command(tmp_path, data, "--as-user", "viewer")


def test_calamine_format_reads_what_the_stock_xlsx_format_reads():
    from import_export.formats.base_formats import XLSX

    from couriers.imports.formats import CalamineXLSX

    data = xlsx(
        [
            ["姓名", "手机号码", "出生日期"],
            ["张三", 13800000001, datetime.date(1990, 5, 21)],
            [None, None, None],
            ["李四", "13800000002", None],
        ]
    )
    fast, stock = CalamineXLSX().create_dataset(data), XLSX().create_dataset(data)
    assert fast.headers == stock.headers == ["姓名", "手机号码", "出生日期"]
    assert fast[0][0] == "张三" and int(fast[0][1]) == 13800000001
    assert fast[0][2] == datetime.date(1990, 5, 21)
    assert fast[1][:2] == ("李四", "13800000002")
    assert len(fast) == 2  # the blank row is dropped
