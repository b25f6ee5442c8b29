"""三送三问 visits and needs: the needs' lifecycle and overdue logic, the admin screens (quick
entry from a courier's or outlet's page, town scoping, the 已逾期 filter) and the exports."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from openpyxl import load_workbook

from couriers.casework import workflow as casework
from couriers.models import Need, Town, Visit
from tests import factories
from tests.concurrency import at_once, needs_postgresql

pytestmark = pytest.mark.django_db

Status = Need.Status
TODAY = datetime.date.today()
VISITS = "/admin/couriers/visit/"
NEEDS = "/admin/couriers/need/"


@pytest.fixture
def a_need(nanqiao_town, district):
    courier = factories.courier(nanqiao_town)
    return factories.need(factories.visit(district, courier))


# --- lifecycle --------------------------------------------------------------------------------


def test_a_need_is_resolved_only_with_its_resolution(a_need):
    with pytest.raises(ValidationError):
        casework.move(a_need, Status.RESOLVED)
    a_need.refresh_from_db()
    assert a_need.status == Status.OPEN
    casework.move(a_need, Status.IN_PROGRESS)
    casework.move(a_need, Status.RESOLVED, "已在驿站增设充电桩")
    a_need.refresh_from_db()
    assert a_need.status == Status.RESOLVED and a_need.closed_on == TODAY
    assert a_need.resolution == "已在驿站增设充电桩"


def test_a_need_cannot_be_solved_only_with_a_reason(a_need):
    with pytest.raises(ValidationError):
        casework.move(a_need, Status.UNRESOLVABLE, "")
    casework.move(a_need, Status.UNRESOLVABLE, "场地属私人物业，无法协调")
    a_need.refresh_from_db()
    assert a_need.reason == "场地属私人物业，无法协调" and a_need.closed_on == TODAY


def test_the_database_refuses_a_closed_need_without_its_text(a_need):
    with pytest.raises(IntegrityError), transaction.atomic():
        Need.objects.filter(pk=a_need.pk).update(status=Status.RESOLVED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Need.objects.filter(pk=a_need.pk).update(status=Status.UNRESOLVABLE)
    with pytest.raises(IntegrityError), transaction.atomic():
        Need.objects.filter(pk=a_need.pk).update(courier_informed=True, informed_on=TODAY)


def test_a_closed_need_moves_only_back_to_in_progress(a_need):
    casework.move(a_need, Status.RESOLVED, "已解决")
    with pytest.raises(ValidationError, match="不能从"):
        casework.move(a_need, Status.UNRESOLVABLE, "换个说法")
    casework.mark_informed(a_need)
    casework.move(a_need, Status.IN_PROGRESS)
    a_need.refresh_from_db()
    assert a_need.status == Status.IN_PROGRESS
    assert a_need.closed_on is None and not a_need.courier_informed


def test_the_courier_is_told_only_a_result(a_need):
    with pytest.raises(ValidationError, match="尚未办结"):
        casework.mark_informed(a_need)
    casework.move(a_need, Status.RESOLVED, "已解决")
    casework.mark_informed(a_need, on=datetime.date(2025, 5, 6))
    a_need.refresh_from_db()
    assert a_need.courier_informed and a_need.informed_on == datetime.date(2025, 5, 6)


@pytest.mark.parametrize(
    ("deadline_days", "status", "overdue"),
    [
        (-1, Status.OPEN, True),
        (-30, Status.IN_PROGRESS, True),
        (0, Status.OPEN, False),
        (5, Status.IN_PROGRESS, False),
        (-10, Status.RESOLVED, False),
        (-10, Status.UNRESOLVABLE, False),
    ],
)
def test_overdue_means_open_after_the_deadline(
    nanqiao_town, district, deadline_days, status, overdue
):
    visit = factories.visit(district, factories.courier(nanqiao_town))
    need = factories.need(
        visit,
        deadline=TODAY + datetime.timedelta(days=deadline_days),
        status=status,
        resolution="已解决" if status == Status.RESOLVED else "",
        reason="无法解决" if status == Status.UNRESOLVABLE else "",
    )
    assert need.is_overdue(TODAY) is overdue
    assert (need in Need.objects.overdue(TODAY)) is overdue


# --- visits in the admin ----------------------------------------------------------------------


def test_the_courier_page_offers_to_record_a_visit(nanqiao_client, nanqiao_town):
    courier = factories.courier(nanqiao_town)
    page = nanqiao_client.get(f"/admin/couriers/courier/{courier.pk}/change/").content.decode()
    assert f'href="{VISITS}add/?courier={courier.pk}"' in page
    form = nanqiao_client.get(f"{VISITS}add/", {"courier": courier.pk}).context["adminform"].form
    assert str(form.initial["courier"]) == str(courier.pk)
    assert form.initial["date"] == TODAY


def test_the_outlet_page_offers_to_record_a_visit(nanqiao_client, nanqiao_town):
    outlet = factories.outlet(nanqiao_town)
    page = nanqiao_client.get(f"/admin/couriers/outlet/{outlet.pk}/change/").content.decode()
    assert f'href="{VISITS}add/?outlet={outlet.pk}"' in page


def _visit_form(**fields) -> dict:
    data = {
        "courier": "",
        "outlet": "",
        "enterprise": "",
        "date": TODAY.isoformat(),
        "town": "",
        "policy_note": "",
        "service_note": "",
        "warmth_note": "",
        "needs_answer": "",
        "opinions_answer": "",
        "ideas_answer": "",
        "needs-TOTAL_FORMS": 0,
        "needs-INITIAL_FORMS": 0,
    }
    data.update(fields)
    return data


def test_recording_a_visit_with_a_need(nanqiao_client, nanqiao, nanqiao_town):
    courier = factories.courier(nanqiao_town)
    deadline = (TODAY + datetime.timedelta(days=10)).isoformat()
    data = _visit_form(
        courier=courier.pk,
        policy_note="宣讲灵活就业参保政策",
        needs_answer="希望有地方充电",
        **{
            "needs-TOTAL_FORMS": 1,
            "needs-0-category": "rest",
            "needs-0-description": "希望站点增设充电桩",
            "needs-0-responsible": "南桥镇党群服务中心",
            "needs-0-deadline": deadline,
            "needs-0-status": "open",
        },
    )
    response = nanqiao_client.post(f"{VISITS}add/", data)
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert visit.courier == courier and visit.town == nanqiao_town and visit.staff == nanqiao
    need = visit.needs.get()
    assert need.status == Status.OPEN and need.deadline.isoformat() == deadline


def test_a_visit_without_a_target_is_refused(nanqiao_client):
    response = nanqiao_client.post(f"{VISITS}add/", _visit_form(policy_note="宣讲"))
    assert response.status_code == 200
    assert "请选择一个走访对象" in response.content.decode()
    assert not Visit.objects.exists()


def test_a_double_submitted_visit_is_recorded_once(nanqiao_client, nanqiao_town):
    courier = factories.courier(nanqiao_town)
    data = _visit_form(courier=courier.pk, policy_note="宣讲")
    assert nanqiao_client.post(f"{VISITS}add/", data).status_code == 302
    again = nanqiao_client.post(f"{VISITS}add/", data)
    assert again.status_code == 200
    assert "已登记过" in again.content.decode()
    assert Visit.objects.count() == 1


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_visit_submitted_twice_at_the_same_moment_is_recorded_once(committed_db):
    """Both requests pass the form's check before either saves: the database keeps one, and
    the other gets a message, not a server error."""
    town = Town.objects.get(name="南桥镇")
    staff = factories.town_staff("nanqiao_twice", town)
    courier = factories.courier(town)
    data = _visit_form(courier=courier.pk, policy_note="宣讲")

    def submit():
        client = Client()
        client.force_login(staff)
        return client.post(f"{VISITS}add/", data).status_code

    for _ in range(3):  # the race is not won every time; any run must hold
        Visit.objects.all().delete()
        statuses, problems = at_once([submit] * 4)
        assert problems == [] and all(code in (200, 302) for code in statuses), statuses
        assert Visit.objects.count() == 1


def test_a_visit_has_exactly_one_target(nanqiao_client, nanqiao_town):
    courier = factories.courier(nanqiao_town)
    outlet = factories.outlet(nanqiao_town)
    response = nanqiao_client.post(
        f"{VISITS}add/", _visit_form(courier=courier.pk, outlet=outlet.pk, policy_note="宣讲")
    )
    assert response.status_code == 200
    assert "只选一项" in response.content.decode()
    with pytest.raises(IntegrityError), transaction.atomic():
        Visit.objects.create(
            town=nanqiao_town, courier=courier, outlet=outlet, staff=factories.district_staff("d2")
        )


def test_an_empty_visit_is_refused(nanqiao_client, nanqiao_town):
    courier = factories.courier(nanqiao_town)
    response = nanqiao_client.post(f"{VISITS}add/", _visit_form(courier=courier.pk))
    assert response.status_code == 200
    assert "请至少填写一项" in response.content.decode()
    assert not Visit.objects.exists()


def test_town_staff_cannot_record_a_visit_to_another_towns_courier(xidu_client, nanqiao_town):
    courier = factories.courier(nanqiao_town)
    response = xidu_client.post(
        f"{VISITS}add/", _visit_form(courier=courier.pk, policy_note="宣讲")
    )
    assert response.status_code == 200
    assert not Visit.objects.exists()


@pytest.fixture
def two_towns(nanqiao_town, xidu_town, district):
    ours = factories.visit(district, factories.courier(nanqiao_town, name="南桥小哥"))
    theirs = factories.visit(district, factories.courier(xidu_town, name="西渡小哥"))
    late = TODAY - datetime.timedelta(days=3)
    return {
        "ours": ours,
        "theirs": theirs,
        "our_overdue": factories.need(ours, description="南桥逾期需求", deadline=late),
        "our_fresh": factories.need(ours, description="南桥未到期需求"),
        "our_closed": factories.need(
            ours, description="南桥已解决需求", deadline=late, status="resolved", resolution="好"
        ),
        "their_overdue": factories.need(theirs, description="西渡逾期需求", deadline=late),
    }


def test_town_staff_see_only_their_towns_visits_and_needs(nanqiao_client, two_towns):
    visits = nanqiao_client.get(VISITS).context["cl"].result_list
    assert [v.pk for v in visits] == [two_towns["ours"].pk]
    needs = {n.pk for n in nanqiao_client.get(NEEDS).context["cl"].result_list}
    assert needs == {two_towns[k].pk for k in ("our_overdue", "our_fresh", "our_closed")}
    theirs = two_towns["their_overdue"].pk
    assert nanqiao_client.get(f"{NEEDS}{theirs}/change/").status_code == 404
    assert nanqiao_client.get(f"{VISITS}{two_towns['theirs'].pk}/change/").status_code == 404


def test_the_overdue_filter_and_column_show_overdue_needs(district_client, two_towns):
    response = district_client.get(NEEDS, {"overdue": "yes"})
    listed = {n.pk for n in response.context["cl"].result_list}
    assert listed == {two_towns["our_overdue"].pk, two_towns["their_overdue"].pk}
    assert response.content.decode().count('class="need-overdue"') == 2
    fine = district_client.get(NEEDS, {"overdue": "no"}).context["cl"].result_list
    assert {n.pk for n in fine} == {two_towns["our_fresh"].pk, two_towns["our_closed"].pk}


def test_the_need_form_refuses_a_move_outside_the_workflow(district_client, two_towns):
    need = two_towns["our_closed"]
    response = district_client.get(f"{NEEDS}{need.pk}/change/")
    form = response.context["adminform"].form
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data.update(visit=need.visit_id, status="unresolvable", reason="换个说法")
    data["courier_informed"] = ""
    data = {k: v for k, v in data.items() if v != ""}
    response = district_client.post(f"{NEEDS}{need.pk}/change/", data)
    assert response.status_code == 200
    assert "不能从" in response.content.decode()
    need.refresh_from_db()
    assert need.status == Status.RESOLVED


def test_the_informed_action_marks_only_closed_needs(district_client, two_towns):
    selected = [two_towns["our_closed"].pk, two_towns["our_fresh"].pk]
    response = district_client.post(
        NEEDS, {"action": "mark_informed", "_selected_action": selected}, follow=True
    )
    assert response.status_code == 200
    assert Need.objects.get(pk=two_towns["our_closed"].pk).courier_informed
    assert not Need.objects.get(pk=two_towns["our_fresh"].pk).courier_informed


# --- exports ----------------------------------------------------------------------------------


def _export_xlsx(client, url: str) -> list[tuple]:
    form = client.get(f"{url}export/").context["form"]
    index = next(v for v, label in form.fields["format"].choices if str(label).lower() == "xlsx")
    data = {"format": index, "resource": 0}
    data.update({name: "on" for name in form.fields if "resource_" in name})
    response = client.post(f"{url}export/", data)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    return list(sheet.iter_rows(values_only=True))


def test_town_staff_export_their_needs(nanqiao_client, two_towns):
    rows = _export_xlsx(nanqiao_client, NEEDS)
    header, body = rows[0], rows[1:]
    assert "办理状态" in header and "是否逾期" in header
    described = {row[header.index("需求内容")]: row for row in body}
    assert set(described) == {"南桥逾期需求", "南桥未到期需求", "南桥已解决需求"}
    assert described["南桥逾期需求"][header.index("是否逾期")] == "是"
    assert described["南桥已解决需求"][header.index("办理状态")] == "已解决"


def test_visit_export_masks_phones(nanqiao_client, two_towns):
    rows = _export_xlsx(nanqiao_client, VISITS)
    header, body = rows[0], rows[1:]
    assert len(body) == 1
    target = body[0][header.index("走访对象")]
    courier = two_towns["ours"].courier
    assert courier.masked_phone in target and courier.phone not in target


# --- query counts -----------------------------------------------------------------------------


def _more_casework(town, district, count: int) -> None:
    for n in range(count):
        courier = factories.courier(town, name=f"小哥{n}")
        visit = factories.visit(district, courier)
        factories.need(visit, deadline=TODAY - datetime.timedelta(days=n % 3))
    factories.visit(district, outlet=factories.outlet(town))
    factories.visit(district, enterprise=factories.enterprise(town))


@pytest.mark.parametrize("url", [VISITS, NEEDS, f"{NEEDS}?overdue=yes"])
@pytest.mark.parametrize("who", ["district_client", "nanqiao_client"])
def test_casework_lists_keep_their_query_count(
    request, who, url, nanqiao_town, district, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = request.getfixturevalue(who)
    _more_casework(nanqiao_town, district, 2)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _more_casework(nanqiao_town, district, 25)
    with django_assert_num_queries(len(few)):
        assert client.get(url).status_code == 200


def test_a_double_submitted_need_is_recorded_once(district_client, two_towns):
    visit = two_towns["ours"]
    deadline = (TODAY + datetime.timedelta(days=10)).isoformat()
    data = {
        "visit": visit.pk,
        "category": "health",
        "description": "希望安排免费体检",
        "responsible": "区卫健委",
        "deadline": deadline,
        "status": "open",
    }
    assert district_client.post(f"{NEEDS}add/", data).status_code == 302
    again = district_client.post(f"{NEEDS}add/", data)
    assert again.status_code == 200 and "已登记过这条需求" in again.content.decode()
    assert visit.needs.filter(description="希望安排免费体检").count() == 1
