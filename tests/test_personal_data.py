"""A person's data-access and erasure requests: `export_person PHONE` and `erase_person PHONE`.

The person checks in through the real flow (which leaves a session, a one-time code and a
check-in), reports a photo, is edited by staff in the admin (audit entries), and is an
enterprise's contact; the commands must find all of it and erase it everywhere."""

from __future__ import annotations

import datetime
import json
import re
from io import StringIO

import pytest
from auditlog.models import LogEntry as AuditEntry
from django.contrib.admin.models import LogEntry as AdminEntry
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.test import Client

from activities.models import PhotoReport
from couriers.models import Courier, ImportJob, PhoneCode, Visit
from stations.models import CheckIn
from tests import factories
from tests.test_checkin import check_in
from tests.test_photo_reports import make_report

pytestmark = pytest.mark.django_db

PHONE = "13912345678"
ID_NUMBER = factories.id_number(seq=321)


@pytest.fixture
def person(campaign, point, nanqiao_town, sms_outbox, district_client):
    client = Client()
    check_in(client, point, sms_outbox, phone=PHONE)
    courier = Courier.objects.get(phone=PHONE)
    report = make_report(courier, town=nanqiao_town)
    company = factories.enterprise(nanqiao_town)
    company.contact_person, company.contact_phone = "王小明", PHONE
    company.save()
    # Staff record the ID number in the admin: an audit entry and an admin log entry.
    form = (
        district_client.get(f"/admin/couriers/courier/{courier.pk}/change/")
        .context["adminform"]
        .form
    )
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, list)}
    data.update(id_number=ID_NUMBER, birth_date="", gender="", notes="夜班，住在南桥新村")
    data.update({"party_stages-TOTAL_FORMS": 0, "party_stages-INITIAL_FORMS": 0})
    data = {k: (v.pk if hasattr(v, "pk") else v) for k, v in data.items()}
    response = district_client.post(f"/admin/couriers/courier/{courier.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return {"courier": courier, "report": report, "company": company, "client": client}


def export(phone: str) -> dict:
    out = StringIO()
    call_command("export_person", phone, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


def test_export_gathers_everything_held(person):
    courier = person["courier"]
    document = export(PHONE)
    assert document["courier"][0]["fields"]["phone"] == PHONE
    assert document["courier"][0]["fields"]["id_number"] == ID_NUMBER
    assert len(document["related"]["stations.CheckIn"]) == 1
    assert document["related"]["activities.PhotoReport"][0]["pk"] == person["report"].pk
    assert document["contacts"][0]["pk"] == person["company"].pk
    assert document["codes"], "the one-time code sent at check-in"
    objects = {entry["object"] for entry in document["audit_log"]}
    assert f"couriers.courier:{courier.pk}" in objects
    assert document["admin_log"], "the admin's change history"
    assert document["signed_in_sessions"] == 1


def test_export_accepts_a_formatted_number_and_refuses_a_bad_one(person):
    assert export("139-1234-5678")["courier"][0]["pk"] == person["courier"].pk
    with pytest.raises(CommandError, match="手机号码不正确"):
        call_command("export_person", "12345", stdout=StringIO())


def test_erase_removes_or_anonymises_everything_and_reports_it(person, settings):
    courier, report = person["courier"], person["report"]
    photo_path = report.photo.path
    out = StringIO()
    call_command("erase_person", PHONE, "--yes", stdout=out)
    printed = out.getvalue()

    courier.refresh_from_db()
    assert courier.name == "已注销" and courier.id_number == "" and courier.notes == ""
    assert not re.fullmatch(r"1[3-9]\d{9}", courier.phone)
    # Bare facts stay, pointing at the anonymous record, so the district's counts hold.
    assert CheckIn.objects.filter(courier=courier).count() == 1
    report.refresh_from_db()
    assert not report.photo and "已删除" in report.description
    assert not __import__("os").path.exists(photo_path)
    person["company"].refresh_from_db()
    assert person["company"].contact_phone == "" and person["company"].contact_person == ""
    assert not PhoneCode.objects.filter(phone=PHONE).exists()
    assert not AuditEntry.objects.filter(object_id=courier.pk, content_type__model="courier")
    assert not AdminEntry.objects.filter(object_id=str(courier.pk), content_type__model="courier")
    assert not Session.objects.exists() or all(
        s.get_decoded().get("courier_id") != courier.pk for s in Session.objects.all()
    )
    # The courier's phone no longer finds them anywhere, and their browser is signed out.
    assert person["client"].get("/me/").status_code == 302
    document = export(PHONE)
    assert document["courier"] == [] and document["contacts"] == [] and document["codes"] == []
    for kind in ("快递小哥（已匿名）", "审计日志", "登录会话", "短信验证码"):
        assert kind in printed


def test_erase_asks_before_acting_and_does_nothing_for_an_unknown_number(person, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    out = StringIO()
    call_command("erase_person", PHONE, stdout=out)
    assert "已取消" in out.getvalue()
    assert Courier.objects.get(pk=person["courier"].pk).phone == PHONE

    out = StringIO()
    call_command("erase_person", "13800000000", "--yes", stdout=out)
    assert "没有保存" in out.getvalue()


def test_erased_photo_reports_keep_what_the_city_needs(person):
    call_command("erase_person", PHONE, "--yes", stdout=StringIO())
    report = PhotoReport.objects.get(pk=person["report"].pk)
    assert report.address and report.category and report.status


def test_erasing_leaves_no_copy_of_the_deleted_records_in_the_audit_log(person, district):
    """Records deleted on erasure (a 三送三问 visit about the person) must not reappear as the
    audit log's own "deleted" entries, which would keep their text."""
    factories.visit(district, person["courier"], policy_note="王小明家住南桥新村 5 号楼")
    call_command("erase_person", PHONE, "--yes", stdout=StringIO())
    assert not Visit.objects.exists()
    logged = " ".join(
        f"{entry.object_repr} {entry.changes} {entry.changes_text}"
        for entry in AuditEntry.objects.all()
    )
    assert "南桥新村" not in logged and "王小明" not in logged and PHONE not in logged


# --- sessions and import reports --------------------------------------------------------------

NEWCOMER = "13955556666"


def _start_check_in(point, phone: str = NEWCOMER, **fields) -> Client:
    """The check-in form sent, the code never typed: what the browser's session holds."""
    from tests.test_checkin import form, url

    client = Client()
    data = form(phone=phone, name="赵敏", political_status="member", agree_sensitive="on")
    response = client.post(url(point), data | fields)
    assert response.status_code == 302 and response["Location"] == url(point, "verify")
    return client


def _session_texts() -> str:
    return json.dumps([s.get_decoded() for s in Session.objects.all()], ensure_ascii=False)


def test_an_unverified_check_in_in_a_session_is_exported_and_erased(
    campaign,
    point,
    sms_outbox,
):
    client = _start_check_in(point)
    assert NEWCOMER in _session_texts() and "赵敏" in _session_texts()
    held = export(NEWCOMER)["sessions"]
    [pending] = [s["checkin_pending"] for s in held if "checkin_pending" in s]
    assert (pending["name"], pending["phone"], pending["political_status"]) == (
        "赵敏",
        NEWCOMER,
        "member",
    )
    out = StringIO()
    call_command("erase_person", NEWCOMER, "--yes", stdout=out)
    assert "没有保存" not in out.getvalue() and "会话" in out.getvalue()
    assert NEWCOMER not in _session_texts() and "赵敏" not in _session_texts()
    # The browser is back at the start of the form, nothing half-done is kept.
    assert client.get(f"/checkin/{point.token}/verify/")["Location"].endswith(f"{point.token}/")


def test_a_session_of_someone_else_keeps_what_is_not_about_the_person(
    campaign,
    point,
    sms_outbox,
    nanqiao_town,
):
    """A signed-in courier who typed the person's phone into the form: their own sign-in stays,
    the half-done form about the person goes."""
    from couriers import identity

    other = factories.courier(nanqiao_town, name="钱多多", phone="13977778888")
    client = _start_check_in(point)
    session = client.session
    session[identity.SESSION_KEY] = other.pk
    session.save()
    call_command("erase_person", NEWCOMER, "--yes", stdout=StringIO())
    [left] = [s.get_decoded() for s in Session.objects.all()]
    assert left[identity.SESSION_KEY] == other.pk and "checkin_pending" not in left


def _report_job(user, kind, report: dict) -> ImportJob:
    return ImportJob.objects.create(kind=kind, filename="名单.xlsx", user=user, report=report)


@pytest.fixture
def reports(person, nanqiao, nanqiao_client):
    """The person in import reports: a survey preview (name, masked phone and ID number) made
    through the admin, and another kind of job whose error rows keep numbers in full."""
    from tests.sheets import xlsx
    from tests.test_survey_admin import upload

    rows = [
        ["姓名", "手机号码", "身份证号码", "工作街镇"],
        ["王小明", PHONE, ID_NUMBER, "南桥镇"],
        ["李四", "13800000002", "", "南桥镇"],
    ]
    upload(nanqiao_client, xlsx(rows))
    preview = ImportJob.objects.get()
    cells = [cell for row in preview.report["preview"] for cell in row]
    assert "139****5678" in cells and "王小明" in cells  # masked, as the preview shows them
    errors = [
        {"row": 3, "column": "联系电话", "value": PHONE, "message": "网点不存在"},
        {"row": 3, "column": "负责人", "value": "王小明", "message": "太长"},
        {"row": 4, "column": "联系电话", "value": "13800000002", "message": "网点不存在"},
        {"row": 5, "column": "身份证号码", "value": ID_NUMBER.lower(), "message": "重复"},
    ]
    other = _report_job(nanqiao, ImportJob.Kind.ENTERPRISES, {"errors": errors, "preview": []})
    return {"preview": preview, "other": other}


def test_import_reports_naming_the_person_are_exported(reports):
    document = export(PHONE)
    found = {item["job"]: item for item in document["import_reports"]}
    assert set(found) == {reports["preview"].pk, reports["other"].pk}
    [row] = found[reports["preview"].pk]["preview_rows"]
    assert "王小明" in row and "李四" not in row
    values = {error["value"] for error in found[reports["other"].pk]["errors"]}
    assert values == {PHONE, "王小明", ID_NUMBER.lower()}


def test_erasing_removes_the_persons_rows_from_import_reports(reports):
    out = StringIO()
    call_command("erase_person", PHONE, "--yes", stdout=out)
    assert "导入记录" in out.getvalue()
    left = json.dumps([job.report for job in ImportJob.objects.all()], ensure_ascii=False).lower()
    for trace in (PHONE, "139****5678", ID_NUMBER.lower(), "王小明", ID_NUMBER[-4:] + '"'):
        assert trace not in left
    # Other people's rows stay.
    assert "李四" in left and "13800000002" in left
    assert export(PHONE)["import_reports"] == []


def test_unverified_check_in_data_expires_within_an_hour(
    campaign,
    point,
    sms_outbox,
):
    from django.utils import timezone

    from stations.checkin import views

    client = _start_check_in(point)
    [stored] = Session.objects.all()
    assert stored.expire_date <= timezone.now() + datetime.timedelta(hours=1)
    assert client.get(f"/checkin/{point.token}/verify/").status_code == 200  # still fresh
    session = client.session
    pending = session[views.PENDING]
    pending["started_at"] -= views.PENDING_MAX_AGE + 1
    session[views.PENDING] = pending
    session.save()
    response = client.get(f"/checkin/{point.token}/verify/")
    assert response.status_code == 302 and response["Location"].endswith(f"{point.token}/")
    assert NEWCOMER not in _session_texts() and "赵敏" not in _session_texts()


def test_a_completed_check_in_keeps_the_usual_session_length(
    campaign,
    point,
    sms_outbox,
    settings,
):
    from django.utils import timezone

    check_in(Client(), point, sms_outbox, phone=NEWCOMER)
    [stored] = Session.objects.all()
    usual = datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert stored.expire_date > timezone.now() + usual - datetime.timedelta(minutes=5)


def test_an_id_number_given_with_the_phone_finds_rows_that_hold_only_it(nanqiao):
    """Someone not in the registry, whose refused survey row kept their ID number."""
    theirs = factories.id_number(seq=555)
    errors = [{"row": 2, "column": "身份证号码", "value": theirs, "message": "与第 3 行重复"}]
    _report_job(nanqiao, ImportJob.Kind.COURIERS, {"errors": errors, "preview": []})
    out = StringIO()
    call_command("export_person", "13800001234", "--id-number", theirs, stdout=out)
    [found] = json.loads(out.getvalue())["import_reports"]
    assert found["errors"] == errors
    call_command("erase_person", "13800001234", "--id-number", theirs, "--yes", stdout=StringIO())
    assert ImportJob.objects.get().report["errors"] == []
    with pytest.raises(CommandError, match="身份证号码不正确"):
        call_command("export_person", "13800001234", "--id-number", "12345", stdout=StringIO())
