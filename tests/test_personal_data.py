"""A person's data-access and erasure requests: `export_person PHONE` and `erase_person PHONE`.

The person checks in through the real flow (which leaves a session, a one-time code and a
check-in), reports a photo, is edited by staff in the admin (audit entries), and is an
enterprise's contact; the commands must find all of it and erase it everywhere."""

from __future__ import annotations

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
from couriers.models import Courier, PhoneCode, Visit
from stations.models import CheckIn
from tests import factories
from tests.test_checkin import campaign, check_in, point  # noqa: F401 (fixtures)
from tests.test_photo_reports import make_report

pytestmark = pytest.mark.django_db

PHONE = "13912345678"
ID_NUMBER = factories.id_number(seq=321)


@pytest.fixture
def person(campaign, point, nanqiao_town, sms_outbox, district_client):  # noqa: F811
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
