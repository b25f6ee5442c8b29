"""The party pipeline: stage history drives the political status, the courier admin's stage
inline, mobile members' fields, and the worklists staff act on."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from couriers.casework import pipeline
from couriers.models import Courier, PartyStage, PipelineStage, StatusCheck
from stations.models import Campaign, CheckIn, CheckinPoint
from tests import factories
from tests import test_checkin as checkin
from tests.concurrency import at_once, needs_postgresql

pytestmark = pytest.mark.django_db

S = Courier.PoliticalStatus
COURIERS = "/admin/couriers/courier/"
TODAY = datetime.date.today()


def days_ago(n: int) -> str:
    return (TODAY - datetime.timedelta(days=n)).isoformat()


# --- stages and status ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "status"),
    [
        ("willing", S.APPLICANT),
        ("activist", S.ACTIVIST),
        ("candidate", S.ACTIVIST),
        ("probationary", S.PROBATIONARY),
        ("member", S.MEMBER),
    ],
)
def test_political_status_follows_the_latest_stage(nanqiao_town, stage, status):
    courier = factories.courier(nanqiao_town)
    order = [s.value for s in PipelineStage]
    history = [(s, days_ago(1000 - 100 * i)) for i, s in enumerate(order[: order.index(stage) + 1])]
    courier = factories.stages(courier, *history)
    assert courier.political_status == status
    assert courier.party_stage == stage
    assert courier.party_stage_since == datetime.date.fromisoformat(history[-1][1])


def test_the_pipeline_moves_forward_only(nanqiao_town):
    courier = factories.stages(factories.courier(nanqiao_town), ("activist", "2025-01-01"))
    with pytest.raises(ValidationError, match="只能向前推进"):
        pipeline.record_stage(courier, "willing", datetime.date(2025, 2, 1))
    with pytest.raises(ValidationError, match="只能向前推进"):
        pipeline.record_stage(courier, "activist", datetime.date(2025, 2, 1))
    courier.refresh_from_db()
    assert courier.political_status == S.ACTIVIST
    assert PartyStage.objects.filter(courier=courier).count() == 1


def test_a_stage_cannot_be_dated_before_the_previous_one(nanqiao_town):
    courier = factories.stages(factories.courier(nanqiao_town), ("activist", "2025-06-01"))
    with pytest.raises(ValidationError, match="早于"):
        pipeline.record_stage(courier, "candidate", datetime.date(2025, 5, 1))
    courier.refresh_from_db()
    assert courier.party_stage == "activist"


def test_a_courier_without_history_keeps_the_status_set_directly(nanqiao_town):
    courier = factories.courier(nanqiao_town, political_status=S.ACTIVIST)
    pipeline.sync(courier)
    courier.refresh_from_db()
    assert courier.political_status == S.ACTIVIST
    assert courier.party_stage == "" and courier.party_stage_since is None


def test_sync_many_agrees_with_sync(nanqiao_town):
    a = factories.courier(nanqiao_town, political_status=S.MASSES)
    b = factories.courier(nanqiao_town, political_status=S.LEAGUE)
    PartyStage.objects.create(courier=a, stage="willing", date=datetime.date(2025, 1, 1))
    PartyStage.objects.create(courier=a, stage="activist", date=datetime.date(2025, 7, 1))
    pipeline.sync_many([a.pk, b.pk])
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.political_status, a.party_stage) == (S.ACTIVIST, "activist")
    assert (b.political_status, b.party_stage) == (S.LEAGUE, "")


# --- the courier admin ------------------------------------------------------------------------


def _courier_form(client, courier: Courier, **changes) -> dict:
    """The courier's change form as the browser would post it back, with `changes`."""
    response = client.get(f"{COURIERS}{courier.pk}/change/")
    assert response.status_code == 200
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None:
            continue
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            continue
        data[name] = getattr(value, "pk", value)
    for formset in response.context["inline_admin_formsets"]:
        fs = formset.formset
        prefix = fs.prefix
        data[f"{prefix}-TOTAL_FORMS"] = len(fs.forms)
        data[f"{prefix}-INITIAL_FORMS"] = fs.initial_form_count()
        for i, inline_form in enumerate(fs.forms):
            for name in ("stage", "date", "note"):
                value = inline_form.initial.get(name)
                if value is not None:
                    data[f"{prefix}-{i}-{name}"] = value
            if inline_form.instance.pk:
                data[f"{prefix}-{i}-id"] = inline_form.instance.pk
                data[f"{prefix}-{i}-courier"] = courier.pk
    data.update(changes)
    return data


def _errors(response) -> list:
    found = [response.context["adminform"].form.errors]
    for formset in response.context["inline_admin_formsets"]:
        found += [formset.formset.errors, formset.formset.non_form_errors()]
    return found


def test_recording_a_stage_in_the_admin_updates_the_status(nanqiao_client, nanqiao_town):
    courier = factories.stages(factories.courier(nanqiao_town), ("willing", "2025-01-10"))
    data = _courier_form(
        nanqiao_client,
        courier,
        **{"party_stages-1-stage": "activist", "party_stages-1-date": "2025-08-01"},
    )
    response = nanqiao_client.post(f"{COURIERS}{courier.pk}/change/", data)
    assert response.status_code == 302, _errors(response)
    courier.refresh_from_db()
    assert courier.political_status == S.ACTIVIST
    assert courier.party_stage_since == datetime.date(2025, 8, 1)


def test_the_admin_refuses_stages_out_of_order(nanqiao_client, nanqiao_town):
    courier = factories.stages(factories.courier(nanqiao_town), ("activist", "2025-06-01"))
    data = _courier_form(
        nanqiao_client,
        courier,
        **{"party_stages-1-stage": "candidate", "party_stages-1-date": "2025-01-01"},
    )
    response = nanqiao_client.post(f"{COURIERS}{courier.pk}/change/", data)
    assert response.status_code == 200
    assert "早于" in response.content.decode()
    courier.refresh_from_db()
    assert courier.party_stage == "activist"


def test_the_admin_refuses_a_direct_status_change_against_the_history(nanqiao_client, nanqiao_town):
    courier = factories.stages(factories.courier(nanqiao_town), ("activist", "2025-06-01"))
    data = _courier_form(nanqiao_client, courier, political_status=S.MEMBER)
    response = nanqiao_client.post(f"{COURIERS}{courier.pk}/change/", data)
    assert response.status_code == 200
    assert "政治面貌由最新阶段决定" in response.content.decode()
    courier.refresh_from_db()
    assert courier.political_status == S.ACTIVIST


def test_without_history_the_admin_sets_the_status_directly(nanqiao_client, nanqiao_town):
    courier = factories.courier(nanqiao_town, political_status=S.MASSES)
    data = _courier_form(nanqiao_client, courier, political_status=S.LEAGUE)
    response = nanqiao_client.post(f"{COURIERS}{courier.pk}/change/", data)
    assert response.status_code == 302
    courier.refresh_from_db()
    assert courier.political_status == S.LEAGUE and courier.party_stage == ""


def test_mobile_member_fields_are_kept(nanqiao_client, nanqiao_town):
    org = factories.party_org(nanqiao_town)
    courier = factories.courier(nanqiao_town, political_status=S.MEMBER)
    data = _courier_form(
        nanqiao_client,
        courier,
        is_mobile_party_member="on",
        membership_location="安徽省临泉县党员服务中心党支部",
        managing_organization=org.pk,
        last_organization_contact="2025-10-08",
    )
    response = nanqiao_client.post(f"{COURIERS}{courier.pk}/change/", data)
    assert response.status_code == 302
    courier.refresh_from_db()
    assert courier.is_mobile_party_member and courier.managing_organization == org
    assert courier.last_organization_contact == datetime.date(2025, 10, 8)


# --- worklists --------------------------------------------------------------------------------


@pytest.fixture
def people(nanqiao_town, xidu_town, settings):
    settings.PIPELINE_STALL_DAYS = 180
    settings.MOBILE_MEMBER_CONTACT_DAYS = 90
    org = factories.party_org(nanqiao_town)
    c = factories.courier
    made = {
        "managed": c(nanqiao_town, "甲", political_status=S.MEMBER, managing_organization=org),
        "unmanaged": c(nanqiao_town, "乙", political_status=S.PROBATIONARY),
        "unmanaged_xidu": c(xidu_town, "丙", political_status=S.MEMBER),
        "mobile_recent": c(
            nanqiao_town,
            "丁",
            political_status=S.MEMBER,
            managing_organization=org,
            is_mobile_party_member=True,
            membership_location="安徽",
            last_organization_contact=TODAY - datetime.timedelta(days=30),
        ),
        "mobile_old": c(
            nanqiao_town,
            "戊",
            political_status=S.MEMBER,
            managing_organization=org,
            is_mobile_party_member=True,
            membership_location="河南",
            last_organization_contact=TODAY - datetime.timedelta(days=91),
        ),
        "mobile_never": c(
            nanqiao_town,
            "己",
            political_status=S.MEMBER,
            managing_organization=org,
            is_mobile_party_member=True,
            membership_location="江苏",
        ),
        "backbone_willing": c(
            nanqiao_town, "庚", political_status=S.APPLICANT, is_business_backbone=True
        ),
        "willing": c(nanqiao_town, "辛", political_status=S.APPLICANT),
        "backbone_activist": c(
            nanqiao_town, "壬", political_status=S.ACTIVIST, is_business_backbone=True
        ),
        "backbone_masses": c(nanqiao_town, "癸", is_business_backbone=True),
    }
    made["stalled_activist"] = factories.stages(
        c(nanqiao_town, "子"), ("willing", days_ago(400)), ("activist", days_ago(181))
    )
    made["fresh_activist"] = factories.stages(
        c(nanqiao_town, "丑"), ("willing", days_ago(400)), ("activist", days_ago(179))
    )
    made["stalled_willing"] = factories.stages(c(nanqiao_town, "寅"), ("willing", days_ago(300)))
    made["stalled_candidate_xidu"] = factories.stages(
        c(xidu_town, "卯"), ("activist", days_ago(500)), ("candidate", days_ago(200))
    )
    made["long_probation"] = factories.stages(
        c(nanqiao_town, "辰"), ("candidate", days_ago(900)), ("probationary", days_ago(400))
    )
    return made


WORKLISTS = {
    "unmanaged": {"unmanaged", "unmanaged_xidu", "long_probation"},
    "no_contact": {"mobile_old", "mobile_never"},
    "stalled": {"stalled_activist", "stalled_willing", "stalled_candidate_xidu"},
    # 寅 (stalled_willing) has a history too; only backbones count here.
    "backbone_willing": {"backbone_willing"},
}


def _listed(client, worklist: str) -> set[int]:
    response = client.get(COURIERS, {"worklist": worklist})
    assert response.status_code == 200
    return {courier.pk for courier in response.context["cl"].result_list}


@pytest.mark.parametrize("worklist", WORKLISTS)
def test_each_worklist_lists_exactly_the_right_couriers(district_client, people, worklist):
    expected = {people[key].pk for key in WORKLISTS[worklist]}
    assert _listed(district_client, worklist) == expected


@pytest.mark.parametrize("worklist", WORKLISTS)
def test_town_staff_worklists_hold_only_their_town(nanqiao_client, people, worklist):
    expected = {
        people[key].pk for key in WORKLISTS[worklist] if people[key].work_town.name == "南桥镇"
    }
    assert _listed(nanqiao_client, worklist) == expected


def test_the_stall_limit_is_a_setting(district_client, people, settings):
    settings.PIPELINE_STALL_DAYS = 178
    assert people["fresh_activist"].pk in _listed(district_client, "stalled")


def test_the_recent_contact_limit_is_a_setting(district_client, people, settings):
    settings.MOBILE_MEMBER_CONTACT_DAYS = 20
    assert people["mobile_recent"].pk in _listed(district_client, "no_contact")


# --- survey import ----------------------------------------------------------------------------


def _import(rows: list[list]):
    from couriers.imports.survey import CourierSurveyImporter
    from tests.sheets import xlsx

    header = ["姓名", "手机号码", "工作街镇", "政治面貌"]
    return CourierSurveyImporter(user=None).run(xlsx([header, *rows]), "survey.xlsx")


def test_a_survey_cannot_contradict_a_pipeline_history(nanqiao_town):
    courier = factories.stages(
        factories.courier(nanqiao_town, name="张三"), ("activist", "2025-06-01")
    )
    report = _import([["张三", courier.phone, "南桥镇", "中共党员"]])
    assert not report.ok
    assert any("入党进程" in str(error) for error in report.errors)
    courier.refresh_from_db()
    assert courier.political_status == S.ACTIVIST


def test_a_survey_agreeing_with_the_history_or_without_one_imports(nanqiao_town):
    with_history = factories.stages(
        factories.courier(nanqiao_town, name="张三"), ("activist", "2025-06-01")
    )
    without = factories.courier(nanqiao_town, name="李四", political_status=S.MASSES)
    report = _import(
        [
            ["张三", with_history.phone, "南桥镇", "入党积极分子"],
            ["李四", without.phone, "南桥镇", "共青团员"],
        ]
    )
    assert report.ok, [str(e) for e in report.errors]
    without.refresh_from_db()
    assert without.political_status == S.LEAGUE


def test_a_worklist_shows_what_staff_need_to_act_on(district_client, people):
    stalled = district_client.get(COURIERS, {"worklist": "stalled"}).content.decode()
    assert "入党进程阶段" in stalled and "进入该阶段日期" in stalled
    lapsed = district_client.get(COURIERS, {"worklist": "no_contact"}).content.decode()
    assert "最近参加组织生活" in lapsed and "组织关系所在地" in lapsed


# --- a courier's own answer at check-in -------------------------------------------------------
# The check-in form asks for the political status; with a stage history the registry keeps the
# history's status, and a differing answer goes to the town's staff as 待核实.

STATUS_CHECKS = "/admin/couriers/statuscheck/"


@pytest.fixture
def point(nanqiao_town) -> CheckinPoint:
    """A check-in point of 南桥镇, in a current campaign."""
    Campaign.objects.create(
        name="报到季",
        starts_on=TODAY - datetime.timedelta(days=30),
        ends_on=TODAY + datetime.timedelta(days=30),
        is_current=True,
    )
    return CheckinPoint.objects.create(name="南桥报到点", town=nanqiao_town, address="解放东路1号")


@pytest.fixture
def member(nanqiao_town) -> Courier:
    """正式党员 through the pipeline, managed locally (纳入属地管理)."""
    courier = factories.courier(
        nanqiao_town,
        "王小明",
        phone=checkin.PHONE,
        managing_organization=factories.party_org(nanqiao_town),
    )
    return factories.stages(courier, ("probationary", days_ago(400)), ("member", days_ago(30)))


def _check_in_answering(client, point, sms_outbox, status: str):
    response = checkin.check_in(
        client, point, sms_outbox, political_status=status, agree_sensitive="on"
    )
    assert response.redirect_chain[-1][0] == checkin.url(point, "done")
    return response


def test_a_check_in_answer_does_not_overwrite_a_members_status(
    anonymous, point, member, sms_outbox
):
    figures = Courier.objects.headline_figures()
    _check_in_answering(anonymous, point, sms_outbox, S.MASSES)
    member.refresh_from_db()
    assert (member.political_status, member.party_stage) == (S.MEMBER, PipelineStage.MEMBER)
    # 党员 and 纳入属地管理 still count them.
    assert Courier.objects.headline_figures() == figures
    [check] = StatusCheck.objects.all()
    assert (check.courier, check.answered, check.registered, check.stage) == (
        member,
        S.MASSES,
        S.MEMBER,
        PipelineStage.MEMBER,
    )
    assert check.resolved_at is None and check.source == "小哥报到"
    assert CheckIn.objects.filter(courier=member).exists()  # the check-in itself went through


def test_an_answer_agreeing_with_the_history_raises_nothing(anonymous, point, member, sms_outbox):
    _check_in_answering(anonymous, point, sms_outbox, S.MEMBER)
    assert not StatusCheck.objects.exists()


def test_without_a_history_the_check_in_answer_sets_the_status(
    anonymous, point, nanqiao_town, sms_outbox
):
    courier = factories.courier(nanqiao_town, "王小明", phone=checkin.PHONE)
    _check_in_answering(anonymous, point, sms_outbox, S.LEAGUE)
    courier.refresh_from_db()
    assert courier.political_status == S.LEAGUE and not StatusCheck.objects.exists()


def test_the_same_differing_answer_twice_leaves_one_item_to_verify(nanqiao_town, member):
    from couriers.registration import find_or_register

    for answer in (S.MASSES, S.MASSES, S.LEAGUE):
        find_or_register(member.phone, name=member.name, town=nanqiao_town, political_status=answer)
    [check] = StatusCheck.objects.all()
    assert check.answered == S.LEAGUE  # the latest answer
    member.refresh_from_db()
    assert member.political_status == S.MEMBER


def test_the_towns_staff_see_the_item_and_others_do_not(
    anonymous, point, member, sms_outbox, nanqiao_client, xidu_client
):
    _check_in_answering(anonymous, point, sms_outbox, S.MASSES)
    check = StatusCheck.objects.get()
    page = nanqiao_client.get(STATUS_CHECKS)
    assert page.status_code == 200 and [c.pk for c in page.context["cl"].result_list] == [check.pk]
    assert _listed(nanqiao_client, "status_to_verify") == {member.pk}
    assert list(xidu_client.get(STATUS_CHECKS).context["cl"].result_list) == []
    assert xidu_client.get(f"{STATUS_CHECKS}{check.pk}/change/").status_code in (302, 404)
    assert _listed(xidu_client, "status_to_verify") == set()


def test_staff_mark_the_item_verified_and_the_status_stays_with_the_history(
    anonymous, point, member, sms_outbox, nanqiao_client, nanqiao
):
    _check_in_answering(anonymous, point, sms_outbox, S.MASSES)
    check = StatusCheck.objects.get()
    response = nanqiao_client.post(
        STATUS_CHECKS, {"action": "mark_verified", "_selected_action": [check.pk]}
    )
    assert response.status_code == 302
    check.refresh_from_db()
    assert check.resolved_at is not None and check.resolved_by == nanqiao
    assert _listed(nanqiao_client, "status_to_verify") == set()
    member.refresh_from_db()
    assert member.political_status == S.MEMBER


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_simultaneous_differing_answers_leave_one_item_to_verify(committed_db):
    from couriers.registration import find_or_register

    town = factories.town("南桥镇")
    member = factories.stages(
        factories.courier(town, "王小明"), ("probationary", "2024-01-01"), ("member", "2025-01-01")
    )
    _results, problems = at_once(
        [
            lambda answer=answer: find_or_register(
                member.phone, name=member.name, town=town, political_status=answer
            )
            for answer in (S.MASSES, S.LEAGUE, S.MASSES, S.ACTIVIST)
        ]
    )
    assert problems == []
    assert StatusCheck.objects.open().filter(courier=member).count() == 1
    member.refresh_from_db()
    assert member.political_status == S.MEMBER
