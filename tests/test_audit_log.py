"""The audit trail (django-auditlog) through the admin: staff create, change and delete of
personal data are attributable (who, when, from where, what changed) with phone and ID numbers
masked; an import leaves one entry with its file and counts; looking at a full ID number and
exporting full ID numbers are logged; couriers' own check-ins are not."""

from __future__ import annotations

import datetime
import io
import json
import re

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from couriers.models import Courier, Enterprise, ImportJob, Need
from stations.checkin.flow import point_token
from stations.models import Campaign, CheckIn, CheckinPoint
from tests import factories
from tests.sheets import xlsx
from tests.test_survey_admin import _export, upload

pytestmark = pytest.mark.django_db

ADMIN = "/" + settings.ADMIN_URL
COURIERS = ADMIN + "couriers/courier/"
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dXx](?!\w)")
OFFICE = "10.1.2.3"


def entry_text(entry: LogEntry) -> str:
    return " ".join(
        [
            entry.object_repr,
            entry.changes_text or "",
            json.dumps(entry.changes, ensure_ascii=False),
            json.dumps(entry.serialized_data, ensure_ascii=False),
            json.dumps(entry.additional_data, ensure_ascii=False),
        ]
    )


def assert_masked(entries) -> None:
    for entry in entries:
        text = entry_text(entry)
        assert not PHONE.search(text), (entry.get_action_display(), text)
        assert not ID_NUMBER.search(text), (entry.get_action_display(), text)


def entries_for(model) -> list[LogEntry]:
    return list(
        LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model)).order_by(
            "id"
        )
    )


def staff_client(user) -> Client:
    client = Client(REMOTE_ADDR=OFFICE)
    client.force_login(user)
    return client


# --- create, change, delete -------------------------------------------------------------------


def test_creating_a_courier_is_logged_with_actor_and_masked_values(nanqiao, nanqiao_town):
    client = staff_client(nanqiao)
    id_number = factories.id_number()
    response = client.post(
        COURIERS + "add/",
        factories.courier_admin_form(nanqiao_town, id_number=id_number, notes="会开车"),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    courier = Courier.objects.get()
    [entry] = entries_for(Courier)
    assert entry.action == LogEntry.Action.CREATE
    assert entry.actor == nanqiao
    assert entry.object_id == courier.pk
    assert entry.remote_addr == OFFICE
    assert abs(entry.timestamp - timezone.now()) < datetime.timedelta(minutes=1)
    changes = entry.changes_dict
    assert changes["name"][1] == "新小哥" and changes["notes"][1] == "会开车"
    assert changes["phone"][1] == "139****0001"
    assert changes["id_number"][1] == "310" + "*" * 11 + id_number[-4:]
    assert_masked([entry])


def test_changing_a_courier_logs_the_changed_fields_masked(nanqiao, nanqiao_town):
    courier = factories.courier(
        nanqiao_town, name="王小明", phone="13912345678", id_number=factories.id_number()
    )
    client = staff_client(nanqiao)
    new_id = factories.id_number(seq=456)
    response = client.post(
        COURIERS + f"{courier.pk}/change/",
        factories.courier_admin_form(
            nanqiao_town, name="王晓明", phone="13987654321", id_number=new_id, gender=""
        ),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    [entry] = [e for e in entries_for(Courier) if e.action == LogEntry.Action.UPDATE]
    assert entry.actor == nanqiao and entry.object_id == courier.pk
    changes = entry.changes_dict
    assert changes["name"] == ["王小明", "王晓明"]
    assert changes["phone"] == ["139****5678", "139****4321"]
    assert changes["id_number"][1].endswith(new_id[-4:]) and "*" in changes["id_number"][1]
    assert "brand" not in changes and "work_town" not in changes  # unchanged fields are not
    assert_masked(entries_for(Courier))


def test_saving_a_courier_unchanged_logs_no_change(nanqiao, nanqiao_town):
    courier = factories.courier(
        nanqiao_town,
        name="王小明",
        phone="13912345678",
        education="senior",
        political_status="masses",
        gender="M",
    )
    before = len(entries_for(Courier))
    client = staff_client(nanqiao)
    response = client.post(
        COURIERS + f"{courier.pk}/change/",
        factories.courier_admin_form(nanqiao_town, name="王小明", phone="13912345678"),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert len(entries_for(Courier)) == before


def test_deleting_a_courier_is_logged_masked(nanqiao, nanqiao_town):
    courier = factories.courier(
        nanqiao_town, name="王小明", phone="13912345678", id_number=factories.id_number()
    )
    pk = courier.pk
    client = staff_client(nanqiao)
    response = client.post(COURIERS + f"{pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Courier.objects.filter(pk=pk).exists()
    [entry] = [e for e in entries_for(Courier) if e.action == LogEntry.Action.DELETE]
    assert entry.actor == nanqiao and entry.object_id == pk
    assert "王小明" in entry.object_repr and "139****5678" in entry.object_repr
    assert_masked(entries_for(Courier))


def test_an_enterprise_contact_phone_is_masked_in_the_log(district, nanqiao_town):
    client = staff_client(district)
    brand = factories.brand()
    data = {
        "name": "上海南桥中通快递有限公司",
        "brand": brand.pk,
        "town": nanqiao_town.pk,
        "credit_code": "",
        "address": "",
        "contact_person": "李经理",
        "contact_phone": "13800000001",
    }
    assert client.post(ADMIN + "couriers/enterprise/add/", data).status_code == 302
    enterprise = Enterprise.objects.get()
    data["contact_phone"] = "13800000002"
    url = ADMIN + f"couriers/enterprise/{enterprise.pk}/change/"
    assert client.post(url, data).status_code == 302
    created, changed = entries_for(Enterprise)
    assert (created.action, changed.action) == (LogEntry.Action.CREATE, LogEntry.Action.UPDATE)
    assert created.actor == changed.actor == district
    assert created.changes_dict["contact_phone"][1] == "138****0001"
    assert changed.changes_dict["contact_phone"] == ["138****0001", "138****0002"]
    assert_masked([created, changed])


def test_a_checkin_point_contact_phone_is_masked_in_the_log(district, nanqiao_town):
    client = staff_client(district)
    data = {
        "name": "南桥报到点",
        "kind": CheckinPoint.Kind.values[0],
        "town": nanqiao_town.pk,
        "community": "",
        "address": "解放东路1号",
        "latitude": "",
        "longitude": "",
        "contact_name": "张书记",
        "contact_phone": "13700000007",
        "target": "30",
        "is_active": "on",
    }
    response = client.post(ADMIN + "stations/checkinpoint/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    [entry] = entries_for(CheckinPoint)
    assert entry.actor == district
    assert entry.changes_dict["contact_phone"][1] == "137****0007"
    assert_masked([entry])


def test_a_staff_password_never_reaches_the_log(nanqiao):
    nanqiao.set_password("Another-long-password-1")
    nanqiao.save()
    from django.contrib.auth.models import User

    entries = entries_for(User)
    assert any("password" in e.changes_dict for e in entries)
    for entry in entries:
        password = entry.changes_dict.get("password")
        if password:
            # Only stars: not even the hash (which would allow guessing offline).
            assert all(set(value) <= {"*"} or value in ("", "None") for value in password)
            assert not any("$" in value for value in password), password


# --- numbers typed into free text -------------------------------------------------------------

TYPED_PHONE = "13900001111"
TYPED_ID = factories.id_number(seq=777)


def test_numbers_typed_into_a_couriers_notes_are_masked_in_the_log(nanqiao, nanqiao_town):
    courier = factories.courier(nanqiao_town, name="王小明", phone="13912345678")
    notes = f"家属电话{TYPED_PHONE}，身份证 {TYPED_ID}"
    response = staff_client(nanqiao).post(
        COURIERS + f"{courier.pk}/change/",
        factories.courier_admin_form(nanqiao_town, name="王小明", phone="13912345678", notes=notes),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    [entry] = [e for e in entries_for(Courier) if e.action == LogEntry.Action.UPDATE]
    assert entry.changes_dict["notes"] == [
        "",
        f"家属电话139****1111，身份证 310{'*' * 11}{TYPED_ID[-4:]}",
    ]
    assert_masked(entries_for(Courier))


def test_numbers_typed_into_a_visits_answers_and_needs_are_masked_in_the_log(nanqiao, nanqiao_town):
    from couriers.models import Visit

    courier = factories.courier(nanqiao_town)
    data = {
        "courier": courier.pk,
        "outlet": "",
        "enterprise": "",
        "date": timezone.localdate().isoformat(),
        "town": "",
        "policy_note": "",
        "service_note": "",
        "warmth_note": "",
        "needs_answer": f"想换工作，联系 {TYPED_PHONE}",
        "opinions_answer": f"证件号{TYPED_ID}办不了居住证",
        "ideas_answer": "",
        "needs-TOTAL_FORMS": 1,
        "needs-INITIAL_FORMS": 0,
        "needs-0-category": "housing",
        # At the start of the text, so the entry's object name (its first 30 characters) has it.
        "needs-0-description": f"{TYPED_ID}的居住证，回电{TYPED_PHONE}",
        "needs-0-responsible": "南桥镇社区事务受理中心",
        "needs-0-deadline": (timezone.localdate() + datetime.timedelta(days=10)).isoformat(),
        "needs-0-status": "open",
    }
    response = staff_client(nanqiao).post(ADMIN + "couriers/visit/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    [visit_entry] = entries_for(Visit)
    [need_entry] = entries_for(Need)
    assert visit_entry.changes_dict["needs_answer"][1] == "想换工作，联系 139****1111"
    assert "139****1111" in need_entry.changes_dict["description"][1]
    assert need_entry.object_repr.startswith("住房居住：310")
    # The records themselves keep what staff typed; only the log is masked.
    assert Need.objects.get().description.startswith(TYPED_ID)
    Need.objects.get().delete()
    assert_masked(entries_for(Visit) + entries_for(Need))
    # Django's own admin history names the need it added (its first 30 characters) too.
    from django.contrib.admin.models import LogEntry as AdminEntry

    [added] = AdminEntry.objects.all()
    history = f"{added.object_repr} {added.change_message}"
    assert "310" + "*" * 11 in history
    assert not PHONE.search(history) and not ID_NUMBER.search(history), history


@pytest.mark.parametrize(
    "typed",
    ["13900001111", "139 0000 1111", "139-0000-1111", "+86 13900001111", "8613900001111"],
)
def test_a_phone_typed_grouped_or_with_the_country_code_is_masked_in_the_log(
    nanqiao, nanqiao_town, typed
):
    need = factories.need(factories.visit(nanqiao, factories.courier(nanqiao_town)))
    need.description = f"回电{typed}。"
    need.save()
    [entry] = [e for e in entries_for(Need) if e.action == LogEntry.Action.UPDATE]
    assert entry.changes_dict["description"][1] == "回电139****1111。"


# --- imports ----------------------------------------------------------------------------------

SURVEY = [
    ["姓名", "手机号码", "身份证号码", "工作街镇", "学历"],
    ["张三", "13800000001", factories.id_number(seq=101), "南桥镇", "本科"],
    ["李四", "13800000002", "", "南桥", "大专"],
    ["王五", "13800000003", "", "南桥镇", "大专"],
]


def test_an_import_leaves_one_entry_with_file_counts_and_actor(nanqiao, nanqiao_town):
    client = staff_client(nanqiao)
    factories.courier(nanqiao_town, name="王五", phone="13800000003", education="college")
    upload(client, xlsx(SURVEY), "南桥排摸2025.xlsx", url=COURIERS + "import/")
    job = ImportJob.objects.get()
    assert not entries_for(ImportJob)  # a preview writes nothing
    client.post(COURIERS + f"import/{job.pk}/")
    assert Courier.objects.count() == 3

    [entry] = entries_for(ImportJob)
    assert entry.actor == nanqiao and entry.object_id == job.pk
    changes = entry.changes_dict
    assert changes["导入文件"][1] == "南桥排摸2025.xlsx"
    assert changes["新增"][1] == "2"
    assert changes["无变化"][1] == "1"
    assert changes["更新"][1] == "0"
    assert_masked(LogEntry.objects.all())


def test_a_second_import_that_updates_leaves_its_own_entry(nanqiao):
    client = staff_client(nanqiao)
    for name, rows in (("first.xlsx", SURVEY), ("second.csv", None)):
        if rows is None:
            rows = [SURVEY[0], ["张三", "13800000001", "", "南桥镇", "研究生"]]
            from tests.sheets import csv_bytes

            data = csv_bytes(rows)
        else:
            data = xlsx(rows)
        upload(client, data, name, url=COURIERS + "import/")
        job = ImportJob.objects.latest("id")
        client.post(COURIERS + f"import/{job.pk}/")
    first, second = entries_for(ImportJob)
    assert first.changes_dict["导入文件"][1] == "first.xlsx"
    assert second.changes_dict["导入文件"][1] == "second.csv"
    assert second.changes_dict["更新"][1] == "1" and second.changes_dict["新增"][1] == "0"
    assert_masked(LogEntry.objects.all())


def import_entries() -> list[LogEntry]:
    """The import entries, whatever they are attached to (the job, or the imported model)."""
    return [e for e in LogEntry.objects.order_by("id") if "导入文件" in (e.changes_dict or {})]


def test_an_import_through_the_admin_leaves_exactly_one_import_entry(nanqiao):
    client = staff_client(nanqiao)
    upload(client, xlsx(SURVEY), "南桥排摸2025.xlsx", url=COURIERS + "import/")
    client.post(COURIERS + f"import/{ImportJob.objects.get().pk}/")
    [entry] = import_entries()
    assert entry.actor == nanqiao and entry.changes_dict["新增"][1] == "3"


def test_an_import_from_the_command_line_leaves_exactly_one_import_entry(district, tmp_path):
    path = tmp_path / "区级排摸.xlsx"
    path.write_bytes(xlsx(SURVEY))
    call_command("import_survey", str(path), "--as-user", "district", stdout=io.StringIO())
    assert Courier.objects.count() == 3
    [entry] = import_entries()
    assert entry.actor == district
    changes = entry.changes_dict
    assert changes["导入文件"][1] == "区级排摸.xlsx"
    assert (changes["新增"][1], changes["更新"][1], changes["无变化"][1]) == ("3", "0", "0")
    assert_masked([entry])

    # Without --as-user (the whole district, no actor) the import is recorded all the same;
    # a dry run and an import that changes nothing write no entry.
    call_command("import_survey", str(path), "--dry-run", stdout=io.StringIO())
    call_command("import_survey", str(path), stdout=io.StringIO())
    path.write_bytes(xlsx([SURVEY[0], ["赵六", "13800000009", "", "南桥镇", "本科"]]))
    call_command("import_survey", str(path), stdout=io.StringIO())
    _, second = import_entries()
    assert second.actor is None and second.changes_dict["新增"][1] == "1"


# --- looking at personal data -----------------------------------------------------------------


def test_viewing_a_full_id_number_leaves_an_access_entry(district, nanqiao_town):
    courier = factories.courier(nanqiao_town, phone="13912345678", id_number=factories.id_number())
    client = staff_client(district)
    form = client.get(COURIERS + f"{courier.pk}/change/")
    assert courier.id_number not in form.content.decode()
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()

    response = client.get(COURIERS + f"{courier.pk}/id-number/")
    assert response.status_code == 200 and courier.id_number in response.content.decode()
    [entry] = LogEntry.objects.filter(action=LogEntry.Action.ACCESS)
    assert entry.actor == district and entry.object_id == courier.pk
    assert entry.remote_addr == OFFICE
    assert "身份证号码" in json.dumps(entry.changes, ensure_ascii=False)
    assert_masked([entry])

    client.get(COURIERS + f"{courier.pk}/id-number/")
    assert LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count() == 2  # every look


def test_staff_without_the_permission_cannot_look_and_leave_no_access_entry(nanqiao, nanqiao_town):
    courier = factories.courier(nanqiao_town, phone="13912345678", id_number=factories.id_number())
    client = staff_client(nanqiao)
    assert client.get(COURIERS + f"{courier.pk}/id-number/").status_code == 403
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()


def test_exporting_with_full_id_numbers_leaves_an_access_entry(district, nanqiao_town):
    for n in range(3):
        number = factories.id_number(seq=n)
        factories.courier(nanqiao_town, phone=f"1391234567{n}", id_number=number)
    client = staff_client(district)
    exported = _export(client, "csv").decode("utf-8-sig")
    assert factories.id_number(seq=1) in exported  # district staff export full numbers
    [entry] = LogEntry.objects.filter(action=LogEntry.Action.ACCESS)
    assert entry.actor == district and entry.remote_addr == OFFICE
    assert "导出 3 人" in json.dumps(entry.changes, ensure_ascii=False) + entry.object_repr
    assert_masked([entry])


def test_a_masked_export_leaves_no_access_entry(nanqiao, nanqiao_town):
    factories.courier(nanqiao_town, phone="13912345670", id_number=factories.id_number())
    exported = _export(staff_client(nanqiao), "csv").decode("utf-8-sig")
    assert factories.id_number() not in exported
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()


# --- couriers' own actions --------------------------------------------------------------------


def test_a_couriers_check_in_writes_no_check_in_entry(nanqiao_town, sms_outbox):
    today = timezone.localdate()
    Campaign.objects.create(
        name="报到季",
        starts_on=today - datetime.timedelta(days=1),
        ends_on=today + datetime.timedelta(days=30),
        is_current=True,
    )
    point = CheckinPoint.objects.create(name="南桥报到点", town=nanqiao_town, address="路1号")
    courier = factories.courier(nanqiao_town, name="王小明", phone="13912345678")
    before = LogEntry.objects.count()
    client = Client()
    session = client.session
    session["courier_id"] = courier.pk
    session.save()
    url = f"/checkin/{point_token(point)}/"
    response = client.post(
        url,
        {
            "name": "王小明",
            "phone": "13912345678",
            "work_town": nanqiao_town.pk,
            "interests": ["learn"],
            "agree_privacy": "on",
        },
    )
    assert response.status_code == 302 and response["Location"] == url + "done/"
    assert CheckIn.objects.filter(courier=courier).exists()
    assert entries_for(CheckIn) == []
    assert LogEntry.objects.count() == before


def test_a_first_check_in_logs_the_new_courier_masked_and_not_the_check_in(
    nanqiao_town, sms_outbox
):
    today = timezone.localdate()
    Campaign.objects.create(
        name="报到季",
        starts_on=today - datetime.timedelta(days=1),
        ends_on=today + datetime.timedelta(days=30),
        is_current=True,
    )
    point = CheckinPoint.objects.create(name="南桥报到点", town=nanqiao_town, address="路1号")
    client = Client()
    url = f"/checkin/{point_token(point)}/"
    client.post(
        url,
        {
            "name": "李小红",
            "phone": "13911112222",
            "work_town": nanqiao_town.pk,
            "agree_privacy": "on",
        },
    )
    code = re.search(r"验证码 (\d{6})", sms_outbox[-1][1]).group(1)
    assert client.post(url + "verify/", {"code": code}).status_code == 302
    assert CheckIn.objects.count() == 1
    assert entries_for(CheckIn) == []
    [entry] = entries_for(Courier)
    assert entry.action == LogEntry.Action.CREATE and entry.actor is None
    assert_masked(LogEntry.objects.all())


# --- the import's own record ------------------------------------------------------------------


def test_an_imported_jobs_record_opens_in_the_admin(nanqiao):
    client = staff_client(nanqiao)
    upload(client, xlsx(SURVEY), "南桥排摸2025.xlsx", url=COURIERS + "import/")
    job = ImportJob.objects.get()
    client.post(COURIERS + f"import/{job.pk}/")
    page = client.get(ADMIN + f"couriers/importjob/{job.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "南桥排摸2025.xlsx" in html
    assert not PHONE.search(html) and not ID_NUMBER.search(html)


def test_a_previewed_jobs_record_opens_in_the_admin(nanqiao):
    client = staff_client(nanqiao)
    upload(client, xlsx(SURVEY), "南桥排摸2025.xlsx", url=COURIERS + "import/")
    job = ImportJob.objects.get()
    assert job.file  # waiting for confirmation
    page = client.get(ADMIN + f"couriers/importjob/{job.pk}/change/")
    assert page.status_code == 200
