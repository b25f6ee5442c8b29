"""The survey import in the admin, end to end through the test client: upload, preview,
confirm, errors, permissions, the template, background jobs with progress, and export."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from openpyxl import load_workbook

from couriers.models import Courier, Enterprise, ImportJob, Outlet
from tests import factories
from tests.sheets import xlsx

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
URL = "/admin/couriers/courier/import/"
GOOD = [
    ["姓名", "手机号码", "工作街镇", "学历"],
    ["张三", "13800000001", "南桥镇", "本科"],
    ["李四", "13800000002", "南桥", "大专"],
]


def _file(data: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def upload(client, data: bytes, name: str = "survey.xlsx", url: str = URL):
    return client.post(url, {"file": _file(data, name)}, follow=True)


def test_upload_preview_then_confirm_imports(nanqiao_client):
    page = upload(nanqiao_client, xlsx(GOOD))
    html = page.content.decode()
    assert "校验通过（尚未写入）" in html
    assert 'id="count-new">2<' in html
    assert "138****0001" in html and "13800000001" not in html  # the preview masks phones
    assert "确认导入" in html
    assert not Courier.objects.exists()

    job = ImportJob.objects.get()
    done = nanqiao_client.post(f"{URL}{job.pk}/", follow=True).content.decode()
    assert "导入完成" in done
    assert Courier.objects.count() == 2
    job.refresh_from_db()
    assert (job.stage, job.status, job.report["written"]) == ("import", "done", True)
    assert not job.file  # the uploaded survey is not kept once imported
    from django.contrib.admin.models import LogEntry

    entry = LogEntry.objects.get(object_id=str(job.pk))
    assert "survey.xlsx" in entry.change_message and "新增 2" in entry.change_message


def test_confirming_twice_does_not_import_twice(nanqiao_client):
    upload(nanqiao_client, xlsx(GOOD))
    job = ImportJob.objects.get()
    nanqiao_client.post(f"{URL}{job.pk}/")
    again = nanqiao_client.post(f"{URL}{job.pk}/", follow=True).content.decode()
    assert "不能导入" in again
    assert Courier.objects.count() == 2


def test_errors_are_listed_and_there_is_nothing_to_confirm(nanqiao_client):
    rows = [*GOOD, ["王五", "12345", "西渡街道", "博士后"]]
    html = upload(nanqiao_client, xlsx(rows)).content.decode()
    assert "未写入任何数据" in html
    assert "<td>4</td><td>手机号码</td><td>*****</td>" in html  # stored reports mask phones
    assert "只能导入本街镇的人员" in html
    assert "无法识别的文化程度" in html
    assert "确认导入" not in html
    job = ImportJob.objects.get()
    nanqiao_client.post(f"{URL}{job.pk}/")
    assert not Courier.objects.exists()


def test_unusable_file_gets_a_message_not_a_server_error(nanqiao_client):
    html = upload(
        nanqiao_client, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "old.xls"
    ).content.decode()
    assert "文件已损坏" in html
    assert not Courier.objects.exists()


def test_oversized_upload_is_refused_before_reading(nanqiao_client, settings):
    settings.SHEET_IMPORT_MAX_BYTES = 1000
    html = upload(nanqiao_client, b"x" * 2000, "big.csv").content.decode()
    assert "文件太大" in html
    assert not ImportJob.objects.exists()


def test_view_only_staff_cannot_import(nanqiao_town):
    user = User.objects.create_user("viewer", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_courier"))
    factories.StaffProfile.objects.create(user=user, town=nanqiao_town)
    from django.test import Client

    client = Client()
    client.force_login(user)
    assert "导入表格" not in client.get("/admin/couriers/courier/").content.decode()
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"file": _file(xlsx(GOOD), "s.xlsx")}).status_code == 403
    assert client.get(f"{URL}template/").status_code == 403
    assert not ImportJob.objects.exists()


def test_import_buttons_show_for_town_staff(nanqiao_client):
    html = nanqiao_client.get("/admin/couriers/courier/").content.decode()
    assert "导入表格" in html and "下载模板" in html and "导出" in html


def test_another_users_job_is_not_found(nanqiao_client, xidu_client, district_client):
    upload(nanqiao_client, xlsx(GOOD))
    job = ImportJob.objects.get()
    assert xidu_client.get(f"{URL}{job.pk}/").status_code == 404
    assert xidu_client.post(f"{URL}{job.pk}/").status_code == 404
    assert not Courier.objects.exists()


def test_template_has_canonical_headers_and_an_explanation_sheet(nanqiao_client):
    response = nanqiao_client.get(f"{URL}template/")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert workbook.sheetnames == ["排摸登记表", "填写说明"]
    headers = [cell.value for cell in workbook["排摸登记表"][1]]
    assert headers[:3] == ["姓名", "性别", "手机号码"] and "工作街镇" in headers
    notes = [[c.value for c in row] for row in workbook["填写说明"].iter_rows(min_row=5)]
    phone = next(row for row in notes if row[0] == "手机号码")
    assert phone[1] == "必填" and "联系电话" in phone[2]


def _export(client, fmt: str = "xlsx") -> bytes:
    url = "/admin/couriers/courier/export/"
    form = client.get(url).context["form"]
    index = next(v for v, label in form.fields["format"].choices if str(label).lower() == fmt)
    data = {"format": index, "resource": 0}
    data.update({name: "on" for name in form.fields if name.startswith("courierresource_")})
    response = client.post(url, data)
    assert response.status_code == 200
    return response.content


def test_export_round_trips_through_the_import_unchanged(district_client, district):
    nanqiao = factories.town("南桥镇")
    outlet = factories.outlet(nanqiao, name="中通南桥网点")
    org = factories.party_org(nanqiao, name="南桥党支部")
    community = factories.community(factories.town("西渡街道"), name="浦江居委会")
    upload(
        district_client,
        xlsx(
            [
                [
                    "姓名",
                    "手机号码",
                    "身份证号码",
                    "学历",
                    "政治面貌",
                    "是否流动党员",
                    "组织关系所在地",
                    "管理党组织",
                    "网点名称",
                    "工作街镇",
                    "居住村居委",
                    "是否业务骨干",
                ],
                [
                    "张三",
                    "13800000001",
                    factories.id_number(),
                    "本科",
                    "党员",
                    "是",
                    "安徽省临泉县",
                    org.name,
                    outlet.name,
                    "南桥镇",
                    str(community),
                    "是",
                ],
                ["李四", "13800000002", "", "初中", "", "", "", "", "", "西渡", "", ""],
            ]
        ),
    )
    district_client.post(f"{URL}{ImportJob.objects.get().pk}/")
    assert Courier.objects.count() == 2

    exported = _export(district_client, "xlsx")
    sheet = load_workbook(io.BytesIO(exported)).active
    assert sheet["C2"].value in ("13800000001", "13800000002")  # full phones for district
    upload(district_client, exported, "export.xlsx")
    report = ImportJob.objects.latest("id").report
    assert report["errors"] == [] and report["file_error"] == ""
    assert (report["new"], report["updated"], report["unchanged"]) == (0, 0, 2)


def test_export_masks_for_town_staff_and_holds_scoping(nanqiao_client, nanqiao_town, xidu_town):
    factories.courier(
        nanqiao_town, name="南桥小哥", phone="13800000001", id_number=factories.id_number()
    )
    factories.courier(xidu_town, name="西渡小哥", phone="13800000002")
    csv = _export(nanqiao_client, "csv").decode("utf-8-sig")
    assert "南桥小哥" in csv and "西渡小哥" not in csv
    assert "138****0001" in csv and "13800000001" not in csv
    assert factories.id_number() not in csv


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_escapes_formulae(district_client, nanqiao_town, fmt):
    for n, evil in enumerate(['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1"]):
        factories.courier(
            nanqiao_town,
            name=evil,
            phone=f"1380000001{n}",
            notes="",
            membership_location="=cmd|' /C calc'!A0",
        )
    exported = _export(district_client, fmt)
    if fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(exported)).active
        cells = [c.value for row in sheet.iter_rows(min_row=2) for c in row if c.value]
    else:
        import csv as csv_module

        rows = list(csv_module.reader(io.StringIO(exported.decode("utf-8-sig"))))[1:]
        cells = [c for row in rows for c in row if c]
    assert not [c for c in cells if isinstance(c, str) and c[0] in "=+-@\t\r"]
    assert '\'=HYPERLINK("http://x")' in cells


def _run_worker(settings) -> None:
    """Run the task worker until the queue is empty.

    On PostgreSQL it is a separate `manage.py db_worker` process, as in production; SQLite's
    in-memory test database is visible only in this process, so there it runs in-process.
    """
    if connection.vendor != "postgresql":
        call_command(
            "db_worker", "--batch", "--no-startup-delay", stdout=StringIO(), stderr=StringIO()
        )
        return
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PRIVATE_MEDIA_ROOT": str(settings.PRIVATE_MEDIA_ROOT),
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-startup-delay"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_large_file_goes_to_the_worker_with_progress(committed_db, settings):
    settings.SHEET_IMPORT_INLINE_MAX_ROWS = 2
    # The production backend: tasks wait in the database for a db_worker process.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    client = Client()
    client.force_login(factories.town_staff("nanqiao", factories.town("南桥镇")))

    html = upload(client, xlsx(GOOD)).content.decode()
    job = ImportJob.objects.get()
    assert job.status == "queued"
    assert '<progress id="import-bar"' in html
    assert client.get(f"{URL}{job.pk}/progress/").json()["status"] == "queued"
    _run_worker(settings)
    job.refresh_from_db()
    assert job.status == "done" and job.rows_total == 2 and job.percent == 100
    html = client.get(f"{URL}{job.pk}/").content.decode()
    assert "校验通过" in html and "确认导入" in html

    client.post(f"{URL}{job.pk}/")
    job.refresh_from_db()
    assert (job.stage, job.status) == ("import", "queued")
    assert not Courier.objects.exists()
    _run_worker(settings)
    assert Courier.objects.count() == 2
    job.refresh_from_db()
    assert job.report["written"] is True


def test_enterprise_list_import_end_to_end(district_client):
    factories.brand("中通", aliases="中通快递")
    url = "/admin/couriers/enterprise/import/"
    html = upload(
        district_client,
        xlsx(
            [
                ["企业名称", "快递品牌", "企业所在街镇", "联系电话", "网点名称", "网点所在街镇"],
                ["上海南桥中通快递有限公司", "中通快递", "南桥", "13800000001", "中通南桥一部", ""],
                ["上海南桥中通快递有限公司", "", "南桥", "", "中通西渡二部", "西渡街道"],
            ],
            title_lines=["奉贤区快递加盟企业及网点名单"],
        ),
        url=url,
    ).content.decode()
    assert "校验通过" in html, html[:3000]
    job = ImportJob.objects.get()
    district_client.post(f"{url}{job.pk}/")
    enterprise = Enterprise.objects.get()
    assert enterprise.town.name == "南桥镇" and enterprise.contact_phone == "13800000001"
    outlets = dict(Outlet.objects.values_list("name", "town__name"))
    assert outlets == {"中通南桥一部": "南桥镇", "中通西渡二部": "西渡街道"}
