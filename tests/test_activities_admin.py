"""The activities admin: town scoping of posts, claims, services, the ledger and photo reports;
the bulk service confirmation; manual adjustments and reversals on the append-only ledger; the
photo report workflow form; overdue reports; the ledger export."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.utils import timezone

from activities import points, reports
from activities.claims import claim
from activities.models import (
    Claim,
    PhotoReport,
    PhotoReportEvent,
    PointsEntry,
    ServiceRecord,
    VolunteerPost,
)
from couriers.models import StaffProfile
from stations.models import SixI
from tests import factories

pytestmark = pytest.mark.django_db

ADMIN = "/admin/activities"
Status = PhotoReport.Status


def make_post(town, title: str, **fields) -> VolunteerPost:
    fields.setdefault("category", SixI.GOVERN)
    fields.setdefault("points_per_service", 5)
    return VolunteerPost.objects.create(title=title, town=town, **fields)


def make_report(courier, **fields) -> PhotoReport:

    fields.setdefault("category", PhotoReport.Category.CITY)
    fields.setdefault("description", "垃圾堆放")
    fields.setdefault("address", "某路 1 号")
    return PhotoReport.objects.create(
        courier=courier,
        town=courier.work_town,
        photo=factories.photo("x.jpg"),
        **fields,
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def data(nanqiao_town, xidu_town) -> dict[str, dict]:
    """A post, courier, claim, service, ledger entry and photo report in each of 南桥镇 (ours)
    and 西渡街道 (theirs)."""
    district = factories.district_staff("district_setup")
    result = {}
    for key, town in (("ours", nanqiao_town), ("theirs", xidu_town)):
        short = town.short_name
        courier = factories.courier(town, name=f"{short}小哥")
        post = make_post(town, f"{short}值守岗")
        the_claim = claim(post, courier)
        service = ServiceRecord.objects.create(
            claim=the_claim, date=datetime.date(2025, 3, 1), confirmed_by=district
        )
        result[key] = {
            "courier": courier,
            "volunteerpost": post,
            "claim": the_claim,
            "servicerecord": service,
            "pointsentry": points.award(courier, 5, f"{short}积分", "activity"),
            "photoreport": make_report(courier, address=f"{short}报告地点"),
        }
    return result


SCOPED = ["volunteerpost", "claim", "servicerecord", "pointsentry", "photoreport"]


def shown_as(model: str, obj) -> str:
    """What the changelist shows for a record."""
    return {"pointsentry": lambda e: e.reason, "photoreport": lambda r: r.address}.get(model, str)(
        obj
    )


# --- town scoping -----------------------------------------------------------------------------


@pytest.mark.parametrize("model", SCOPED)
def test_town_staff_changelist_lists_only_their_town(xidu_client, data, model):
    response = xidu_client.get(f"{ADMIN}/{model}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert shown_as(model, data["theirs"][model]) in html
    assert shown_as(model, data["ours"][model]) not in html


@pytest.mark.parametrize("model", SCOPED)
def test_district_staff_changelist_lists_every_town(district_client, data, model):
    html = district_client.get(f"{ADMIN}/{model}/").content.decode()
    assert shown_as(model, data["theirs"][model]) in html
    assert shown_as(model, data["ours"][model]) in html


@pytest.mark.parametrize("model", SCOPED)
@pytest.mark.parametrize("view", ["change", "history"])
def test_town_staff_cannot_open_another_towns_record(xidu_client, data, model, view):
    nanqiaos = data["ours"][model]
    assert xidu_client.get(f"{ADMIN}/{model}/{nanqiaos.pk}/{view}/").status_code == 404
    own = data["theirs"][model]
    assert xidu_client.get(f"{ADMIN}/{model}/{own.pk}/{view}/").status_code == 200


def test_town_staff_cannot_open_another_towns_photo(xidu_client, data):
    nanqiaos = data["ours"]["photoreport"]
    assert xidu_client.get(f"/reports/{nanqiaos.pk}/photo/").status_code == 404


def test_town_staff_cannot_change_another_towns_post(xidu_client, data):
    post = data["ours"]["volunteerpost"]
    response = xidu_client.post(
        f"{ADMIN}/volunteerpost/{post.pk}/change/",
        {"title": "改掉", "category": SixI.LEARN, "town": post.town_id, "capacity": 5},
    )
    assert response.status_code == 404
    post.refresh_from_db()
    assert post.title == "南桥值守岗"


def test_town_staff_cannot_add_a_post_in_another_town(xidu_client, nanqiao_town):
    response = xidu_client.post(
        f"{ADMIN}/volunteerpost/add/",
        {
            "title": "越权岗位",
            "category": SixI.LEARN,
            "town": nanqiao_town.pk,
            "capacity": 5,
            "points_per_service": 5,
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "town" in response.context["adminform"].form.errors
    assert not VolunteerPost.objects.filter(title="越权岗位").exists()


def test_the_post_changelist_shows_claimed_places(nanqiao_client, data, nanqiao_town):
    post = data["ours"]["volunteerpost"]
    claim(post, factories.courier(nanqiao_town, name="另一位"))
    response = nanqiao_client.get(f"{ADMIN}/volunteerpost/")
    row = next(p for p in response.context["cl"].result_list if p.pk == post.pk)
    assert row.claimed == 2


# --- the bulk service confirmation ------------------------------------------------------------


@pytest.fixture
def claims(nanqiao_town) -> list[Claim]:
    """Two active claims on two posts paying 5 and 8, and one withdrawn claim."""
    morning = make_post(nanqiao_town, "早班值守", points_per_service=5)
    evening = make_post(nanqiao_town, "晚班巡逻", points_per_service=8)
    first = claim(morning, factories.courier(nanqiao_town, name="甲小哥"))
    second = claim(evening, factories.courier(nanqiao_town, name="乙小哥"))
    gone = claim(morning, factories.courier(nanqiao_town, name="丙小哥"))
    Claim.objects.filter(pk=gone.pk).update(status=Claim.Status.WITHDRAWN)
    return [first, second, Claim.objects.get(pk=gone.pk)]


def _confirm(client: Client, selected, **form):
    data = {"action": "confirm_service", "_selected_action": [c.pk for c in selected]}
    data.update(form)
    return client.post(f"{ADMIN}/claim/", data, follow=bool(form.get("confirm")))


SERVICE_FORM = {"confirm": "1", "date": "2025-03-08", "hours": "2.5", "note": "周六值守"}


def test_the_action_first_asks_for_the_date_and_hours(nanqiao_client, claims):
    response = _confirm(nanqiao_client, claims[:2])
    assert response.status_code == 200
    html = response.content.decode()
    assert "登记服务" in html and "甲小哥" in html and "乙小哥" in html
    assert 'name="date"' in html and 'name="hours"' in html and 'name="confirm"' in html
    assert html.count('name="_selected_action"') == 2
    assert not ServiceRecord.objects.exists()


def test_confirming_records_services_and_pays_each_claim_once(nanqiao_client, nanqiao, claims):
    response = _confirm(nanqiao_client, claims, **SERVICE_FORM)
    assert response.redirect_chain[-1][0] == f"{ADMIN}/claim/"
    assert "已登记 2 条服务并发放积分。" in messages_of(response)

    services = ServiceRecord.objects.order_by("claim_id")
    assert [s.claim for s in services] == claims[:2]  # the withdrawn claim is left out
    for service in services:
        assert service.date == datetime.date(2025, 3, 8)
        assert str(service.hours) == "2.5" and service.note == "周六值守"
        assert service.confirmed_by == nanqiao
    paid = {e.courier.name: e.amount for e in PointsEntry.objects.filter(source="service")}
    assert paid == {"甲小哥": 5, "乙小哥": 8}
    assert all(
        e.created_by == nanqiao and "3月8日" in e.reason
        for e in PointsEntry.objects.filter(source="service")
    )


def test_confirming_the_same_day_again_is_skipped(nanqiao_client, claims):
    _confirm(nanqiao_client, claims, **SERVICE_FORM)
    again = _confirm(nanqiao_client, claims, **SERVICE_FORM)
    assert "已登记 0 条服务并发放积分；2 条当天已登记，跳过。" in messages_of(again)
    assert ServiceRecord.objects.count() == 2
    assert PointsEntry.objects.filter(source="service").count() == 2

    next_day = _confirm(nanqiao_client, claims, **{**SERVICE_FORM, "date": "2025-03-09"})
    assert "已登记 2 条服务并发放积分。" in messages_of(next_day)
    assert ServiceRecord.objects.count() == 4
    assert sum(e.amount for e in PointsEntry.objects.filter(source="service")) == 26


@pytest.mark.parametrize("hours", ["0", "-1", "25", ""])
def test_bad_hours_show_the_form_again_and_record_nothing(nanqiao_client, claims, hours):
    response = _confirm(nanqiao_client, claims[:1], **{**SERVICE_FORM, "hours": hours})
    assert response.status_code == 200
    assert response.context["form"].errors["hours"]
    assert not ServiceRecord.objects.exists() and not PointsEntry.objects.exists()


def test_town_staff_cannot_confirm_another_towns_claims(xidu_client, claims):
    response = _confirm(xidu_client, claims[:2], **SERVICE_FORM)
    assert response.status_code == 200
    assert not ServiceRecord.objects.exists() and not PointsEntry.objects.exists()


def test_services_have_no_change_form(nanqiao_client, data):
    service = data["ours"]["servicerecord"]
    response = nanqiao_client.post(
        f"{ADMIN}/servicerecord/{service.pk}/change/", {"hours": "9", "note": "改"}
    )
    assert response.status_code == 403
    service.refresh_from_db()
    assert str(service.hours) == "2.0"


def test_adding_a_service_in_the_admin_pays_the_posts_points(nanqiao_client, nanqiao, claims):
    response = nanqiao_client.post(
        f"{ADMIN}/servicerecord/add/",
        {"claim": claims[1].pk, "date": "2025-03-10", "hours": "1.5", "note": ""},
    )
    assert response.status_code == 302
    service = ServiceRecord.objects.get()
    assert service.confirmed_by == nanqiao
    entry = PointsEntry.objects.get()
    assert (entry.source_id, entry.amount) == (service.pk, 8)


# --- the ledger: manual adjustments -----------------------------------------------------------


def _adjust(client: Client, courier, amount, reason):
    return client.post(
        f"{ADMIN}/pointsentry/add/", {"courier": courier.pk, "amount": amount, "reason": reason}
    )


def test_a_manual_adjustment_is_added_with_its_reason_and_author(nanqiao_client, nanqiao, data):
    courier = data["ours"]["courier"]
    response = _adjust(nanqiao_client, courier, "12", "  线下活动补录  ")
    assert response.status_code == 302
    entry = PointsEntry.objects.get(source=PointsEntry.Source.MANUAL)
    assert (entry.courier, entry.amount, entry.reason) == (courier, 12, "线下活动补录")
    assert entry.created_by == nanqiao
    assert points.balance(courier) == 17


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_manual_adjustment_needs_a_reason(nanqiao_client, data, reason):
    response = _adjust(nanqiao_client, data["ours"]["courier"], "12", reason)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["reason"]
    assert not PointsEntry.objects.filter(source=PointsEntry.Source.MANUAL).exists()


def test_a_manual_adjustment_cannot_be_zero(nanqiao_client, data):
    response = _adjust(nanqiao_client, data["ours"]["courier"], "0", "无")
    assert "调整的积分不能为 0。" in response.context["adminform"].form.errors["amount"]
    assert not PointsEntry.objects.filter(source=PointsEntry.Source.MANUAL).exists()


def test_town_staff_cannot_adjust_another_towns_courier(xidu_client, data):
    response = _adjust(xidu_client, data["ours"]["courier"], "100", "越权加分")
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["courier"]
    assert not PointsEntry.objects.filter(source=PointsEntry.Source.MANUAL).exists()


def test_a_manual_adjustment_is_logged_against_its_entry(nanqiao_client, data):
    response = _adjust(nanqiao_client, data["ours"]["courier"], "12", "线下活动补录")
    assert response.status_code == 302
    entry = PointsEntry.objects.get(source=PointsEntry.Source.MANUAL)
    log = LogEntry.objects.get(action_flag=ADDITION)
    assert log.object_id == str(entry.pk)


# --- the ledger: reversals --------------------------------------------------------------------


def _reverse(client: Client, entries, **form):
    data = {"action": "reverse_entries", "_selected_action": [e.pk for e in entries]}
    data.update(form)
    return client.post(f"{ADMIN}/pointsentry/", data, follow=bool(form.get("confirm")))


def test_reversing_first_asks_for_a_reason(nanqiao_client, data):
    response = _reverse(nanqiao_client, [data["ours"]["pointsentry"]])
    assert response.status_code == 200
    html = response.content.decode()
    assert "冲正积分" in html and "南桥积分" in html and 'name="reason"' in html
    assert PointsEntry.objects.count() == 2


def test_reversing_adds_opposite_entries(nanqiao_client, nanqiao, data):
    courier = data["ours"]["courier"]
    extra = points.award(courier, 7, "额外", "activity")
    response = _reverse(
        nanqiao_client, [data["ours"]["pointsentry"], extra], confirm="1", reason="登记错误"
    )
    assert "已冲正 2 条记录。" in messages_of(response)
    reversals = PointsEntry.objects.filter(reverses__isnull=False)
    assert sorted(r.amount for r in reversals) == [-7, -5]
    assert all(r.reason == "冲正：登记错误" and r.created_by == nanqiao for r in reversals)
    assert points.balance(courier) == 0


def test_reversing_without_a_reason_changes_nothing(nanqiao_client, data):
    response = _reverse(nanqiao_client, [data["ours"]["pointsentry"]], confirm="1", reason=" ")
    assert any("必须填写原因" in m for m in messages_of(response))
    assert not PointsEntry.objects.filter(reverses__isnull=False).exists()


def test_reversing_twice_or_reversing_a_reversal_is_refused(nanqiao_client, data):
    entry = data["ours"]["pointsentry"]
    _reverse(nanqiao_client, [entry], confirm="1", reason="第一次")
    reversal = PointsEntry.objects.get(reverses=entry)
    response = _reverse(nanqiao_client, [entry, reversal], confirm="1", reason="第二次")
    problems = messages_of(response)
    assert any("已经冲正过" in m for m in problems)
    assert any("冲正记录本身不能再冲正" in m for m in problems)
    assert PointsEntry.objects.filter(reverses__isnull=False).count() == 1


def test_town_staff_cannot_reverse_another_towns_entries(xidu_client, data):
    _reverse(xidu_client, [data["ours"]["pointsentry"]], confirm="1", reason="越权")
    assert not PointsEntry.objects.filter(reverses__isnull=False).exists()


def test_reversing_is_not_offered_without_the_add_permission(data, nanqiao_town):
    viewer = User.objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_pointsentry"))
    StaffProfile.objects.create(user=viewer, town=nanqiao_town)
    client = Client()
    client.force_login(viewer)
    response = client.get(f"{ADMIN}/pointsentry/")
    assert response.status_code == 200
    assert response.context["action_form"] is None or "reverse_entries" not in dict(
        response.context["action_form"].fields["action"].choices
    )
    _reverse(client, [data["ours"]["pointsentry"]], confirm="1", reason="无权")
    assert not PointsEntry.objects.filter(reverses__isnull=False).exists()


# --- the ledger: no editing, no deleting ------------------------------------------------------


def test_ledger_entries_cannot_be_changed_in_the_admin(nanqiao_client, data):
    entry = data["ours"]["pointsentry"]
    url = f"{ADMIN}/pointsentry/{entry.pk}/change/"
    page = nanqiao_client.get(url)
    assert page.status_code == 200  # read-only view
    assert 'name="_save"' not in page.content.decode()
    response = nanqiao_client.post(
        url, {"courier": entry.courier_id, "amount": "500", "reason": "改过"}
    )
    assert response.status_code == 403
    entry.refresh_from_db()
    assert (entry.amount, entry.reason) == (5, "南桥积分")


def test_ledger_entries_cannot_be_deleted_in_the_admin(nanqiao_client, district_client, data):
    entry = data["ours"]["pointsentry"]
    for client in (nanqiao_client, district_client):
        url = f"{ADMIN}/pointsentry/{entry.pk}/delete/"
        assert client.get(url).status_code == 403
        assert client.post(url, {"post": "yes"}).status_code == 403
        response = client.post(
            f"{ADMIN}/pointsentry/",
            {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
        )
        assert response.status_code in (200, 302)
    assert PointsEntry.objects.filter(pk=entry.pk).exists()


def test_another_towns_entry_is_not_found_even_for_posting(xidu_client, data):
    entry = data["ours"]["pointsentry"]
    url = f"{ADMIN}/pointsentry/{entry.pk}/change/"
    assert xidu_client.post(url, {"amount": "500", "reason": "改"}).status_code in (403, 404)
    assert xidu_client.get(url).status_code == 404
    entry.refresh_from_db()
    assert entry.amount == 5


def test_the_ledger_changelist_offers_no_delete_action(district_client, data):
    choices = dict(
        district_client.get(f"{ADMIN}/pointsentry/").context["action_form"].fields["action"].choices
    )
    assert "delete_selected" not in choices and "reverse_entries" in choices


# --- the ledger export ------------------------------------------------------------------------


def _export(client: Client, fmt: str = "csv") -> bytes:
    url = f"{ADMIN}/pointsentry/export/"
    form = client.get(url).context["form"]
    index = next(v for v, label in form.fields["format"].choices if str(label).lower() == fmt)
    post = {"format": index, "resource": 0}
    post.update({name: "on" for name in form.fields if name.startswith("pointsresource_")})
    response = client.post(url, post)
    assert response.status_code == 200
    return response.content


def _export_csv(client: Client) -> list[dict]:
    return list(csv.DictReader(io.StringIO(_export(client).decode("utf-8-sig"))))


def test_the_ledger_export_is_scoped_to_the_town(nanqiao_client, data):
    rows = _export_csv(nanqiao_client)
    assert [(r["姓名"], r["街镇"], r["积分"], r["原因"]) for r in rows] == [
        ("南桥小哥", "南桥镇", "5", "南桥积分")
    ]


def test_the_district_exports_every_town_with_who_and_when(district_client, district, data):
    points.adjust(data["theirs"]["courier"], 2, '=HYPERLINK("x")', district)
    rows = _export_csv(district_client)
    assert {r["姓名"] for r in rows} == {"南桥小哥", "西渡小哥"}
    adjusted = next(r for r in rows if r["来源"] == "人工调整")
    assert adjusted["经办人"] == "district" and adjusted["积分"] == "2"
    assert adjusted["原因"] == '\'=HYPERLINK("x")'  # a formula is not run by a spreadsheet
    assert adjusted["时间"].startswith(f"{timezone.localtime():%Y-%m-%d} ")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_negative_amounts_are_exported_as_numbers(district_client, district, data, fmt):
    from openpyxl import load_workbook

    points.reverse(data["ours"]["pointsentry"], "登记错误", district)
    content = _export(district_client, fmt)
    if fmt == "csv":
        amounts = [r["积分"] for r in csv.DictReader(io.StringIO(content.decode("utf-8-sig")))]
        assert sorted(amounts) == ["-5", "5", "5"]
    else:
        sheet = load_workbook(io.BytesIO(content)).active
        header = [cell.value for cell in sheet[1]]
        column = header.index("积分")
        amounts = [row[column] for row in sheet.iter_rows(min_row=2, values_only=True)]
        assert not [a for a in amounts if str(a).startswith("'")], amounts
        assert sorted(int(a) for a in amounts) == [-5, 5, 5]


# --- the photo report workflow form -----------------------------------------------------------


def _change_form(client: Client, report: PhotoReport, **fields):
    """Post the change form as the browser would, with the events inline as rendered."""
    url = f"{ADMIN}/photoreport/{report.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    data = {}
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        data.update({management.add_prefix(n): management[n].value() for n in management.fields})
        for form in formset.forms:
            data.update(
                {form.add_prefix(n): form[n].value() for n in form.fields if form[n].value()}
            )
    data.update({k: v for k, v in fields.items() if v is not None})
    return client.post(url, data)


def test_the_change_form_offers_only_the_next_steps(nanqiao_client, data):
    report = data["ours"]["photoreport"]
    form = nanqiao_client.get(f"{ADMIN}/photoreport/{report.pk}/change/").context["adminform"]
    choices = [value for value, _ in form.form.fields["next_status"].choices]
    assert choices == ["", Status.ACCEPTED, Status.REJECTED]


def test_accepting_in_the_admin_records_the_event_reply_and_points(
    nanqiao_client, nanqiao, data, settings
):
    report = data["ours"]["photoreport"]
    response = _change_form(
        nanqiao_client, report, next_status=Status.ACCEPTED, note="已转城管中队"
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.status == Status.ACCEPTED and report.reply == "已转城管中队"
    event = PhotoReportEvent.objects.get(report=report)
    assert (event.status, event.note, event.by) == (Status.ACCEPTED, "已转城管中队", nanqiao)
    paid = PointsEntry.objects.get(source="photo", source_id=report.pk)
    assert paid.amount == settings.PHOTO_REPORT_POINTS

    page = nanqiao_client.get(f"{ADMIN}/photoreport/{report.pk}/change/").content.decode()
    assert "已转城管中队" in page  # the event inline and the reply


def test_resolving_and_publishing_in_the_admin(nanqiao_client, anonymous, data):
    report = data["ours"]["photoreport"]
    _change_form(nanqiao_client, report, next_status=Status.ACCEPTED)
    response = _change_form(
        nanqiao_client, report, next_status=Status.RESOLVED, note="已清理", is_published="on"
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.status, report.is_published, report.reply) == (Status.RESOLVED, True, "已清理")
    assert [e.status for e in report.events.all()] == [Status.ACCEPTED, Status.RESOLVED]
    assert "南桥报告地点" in anonymous.get("/reports/resolved/").content.decode()


def test_publishing_an_unresolved_report_is_refused_in_the_form(nanqiao_client, data):
    report = data["ours"]["photoreport"]
    response = _change_form(nanqiao_client, report, next_status="", is_published="on")
    assert response.status_code == 200
    assert (
        "只有已办结的报告可以公开展示。"
        in response.context["adminform"].form.errors["is_published"]
    )
    report.refresh_from_db()
    assert not report.is_published


def test_rejecting_in_the_admin_needs_a_reason(nanqiao_client, data):
    report = data["ours"]["photoreport"]
    response = _change_form(nanqiao_client, report, next_status=Status.REJECTED, note="")
    assert "不予受理必须写明原因。" in response.context["adminform"].form.errors["note"]
    report.refresh_from_db()
    assert report.status == Status.SUBMITTED and not report.events.exists()

    _change_form(nanqiao_client, report, next_status=Status.REJECTED, note="重复报告")
    report.refresh_from_db()
    assert (report.status, report.reply) == (Status.REJECTED, "重复报告")
    assert not PointsEntry.objects.filter(source="photo").exists()


def test_a_jump_not_offered_is_refused(nanqiao_client, data):
    report = data["ours"]["photoreport"]
    response = _change_form(nanqiao_client, report, next_status=Status.RESOLVED)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["next_status"]
    report.refresh_from_db()
    assert report.status == Status.SUBMITTED


def test_town_staff_cannot_advance_another_towns_report(xidu_client, data):
    report = data["ours"]["photoreport"]
    response = xidu_client.post(
        f"{ADMIN}/photoreport/{report.pk}/change/", {"next_status": Status.ACCEPTED}
    )
    assert response.status_code == 404
    report.refresh_from_db()
    assert report.status == Status.SUBMITTED and not report.events.exists()


def test_reports_cannot_be_added_in_the_admin(district_client):
    assert district_client.get(f"{ADMIN}/photoreport/add/").status_code == 403


# --- overdue reports --------------------------------------------------------------------------


def test_an_overdue_waiting_report_is_highlighted(nanqiao_client, nanqiao, data, settings):
    courier = data["ours"]["courier"]
    late = timezone.now() - datetime.timedelta(days=settings.PHOTO_REPORT_ACCEPT_DAYS + 1)
    overdue = make_report(courier, address="超期地点", created_at=late)
    handled = make_report(courier, address="已受理地点", created_at=late)
    reports.advance(handled, Status.ACCEPTED, nanqiao)
    assert overdue.is_overdue and not data["ours"]["photoreport"].is_overdue

    response = nanqiao_client.get(f"{ADMIN}/photoreport/")
    html = response.content.decode()
    assert html.count("已超期") == 1
    assert "待受理（已超期）" in html
    # The queue puts waiting reports first, oldest first.
    first = response.context["cl"].result_list[0]
    assert first == overdue


def test_the_queue_filters_by_status(nanqiao_client, nanqiao, data):
    report = data["ours"]["photoreport"]
    reports.advance(report, Status.ACCEPTED, nanqiao)
    response = nanqiao_client.get(f"{ADMIN}/photoreport/", {"status__exact": Status.SUBMITTED})
    assert list(response.context["cl"].result_list) == []


def test_staff_cannot_claim_beyond_a_posts_places(nanqiao_client, nanqiao_town):
    post = make_post(nanqiao_town, "只有一个名额的岗位", capacity=1)
    first, second = factories.courier(nanqiao_town), factories.courier(nanqiao_town)
    claim(post, first)
    response = nanqiao_client.post(
        "/admin/activities/claim/add/",
        {
            "post": post.pk,
            "courier": second.pk,
            "status": Claim.Status.ACTIVE,
        },
    )
    assert response.status_code == 200
    assert "名额已满" in response.content.decode()
    assert Claim.objects.filter(post=post).count() == 1
