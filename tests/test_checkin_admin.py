"""小哥报到 in the admin: town scoping of points and check-ins, the printable poster, the
progress page, the check-ins export (masked phones for town staff), and the points import."""

from __future__ import annotations

import csv
import datetime
import io
import re
import warnings
from urllib.parse import urlparse

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.paginator import UnorderedObjectListWarning
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from couriers.models import ImportJob, StaffProfile
from couriers.roles import TOWN_ADMIN
from stations.checkin.flow import point_from_token, point_token
from stations.models import Campaign, CheckIn, CheckInMove, CheckinPoint
from stations.posters import qr_svg
from tests import factories
from tests.sheets import xlsx

pytestmark = pytest.mark.django_db

POINTS = "/admin/stations/checkinpoint"
CHECKINS = "/admin/stations/checkin"


@pytest.fixture
def old_campaign(db) -> Campaign:
    return Campaign.objects.create(
        name="2024年小哥报到季",
        starts_on=datetime.date(2024, 3, 1),
        ends_on=datetime.date(2024, 6, 30),
    )


def register(courier, point, season, **fields) -> CheckIn:
    return CheckIn.objects.create(
        courier=courier,
        point=point,
        campaign=season,
        privacy_consent_at=timezone.now(),
        **fields,
    )


@pytest.fixture
def data(nanqiao_town, xidu_town, campaign):
    """A point in 南桥镇 (ours) and one in 西渡街道 (theirs), each with one check-in."""
    found = {}
    for key, town in (("ours", nanqiao_town), ("theirs", xidu_town)):
        point = CheckinPoint.objects.create(
            name=f"{town.short_name}党群服务中心", town=town, address=f"{town.short_name}路 1 号"
        )
        courier = factories.courier(
            town, name=f"{town.short_name}小哥", phone="13900000001" if key == "ours" else None
        )
        found[key] = {"point": point, "courier": courier}
        found[key]["checkin"] = register(courier, point, campaign, interests=["learn", "health"])
    return found


# --- town scoping -----------------------------------------------------------------------------


def test_town_staff_see_only_their_towns_points(nanqiao_client, district_client, data):
    html = nanqiao_client.get(f"{POINTS}/").content.decode()
    assert "南桥党群服务中心" in html and "西渡党群服务中心" not in html
    assert "1 / 30" in html  # this campaign's check-ins against the target
    html = district_client.get(f"{POINTS}/").content.decode()
    assert "南桥党群服务中心" in html and "西渡党群服务中心" in html


@pytest.mark.parametrize("view", ["change", "delete", "history", "poster"])
def test_town_staff_cannot_open_another_towns_point(nanqiao_client, data, view):
    theirs, ours = data["theirs"]["point"], data["ours"]["point"]
    assert nanqiao_client.get(f"{POINTS}/{theirs.pk}/{view}/").status_code == 404
    assert nanqiao_client.get(f"{POINTS}/{ours.pk}/{view}/").status_code == 200


def test_town_staff_cannot_change_or_delete_another_towns_point(nanqiao_client, data):
    theirs = data["theirs"]["point"]
    response = nanqiao_client.post(f"{POINTS}/{theirs.pk}/change/", {"name": "改名"})
    assert response.status_code == 404
    response = nanqiao_client.post(f"{POINTS}/{theirs.pk}/delete/", {"post": "yes"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "西渡党群服务中心"


def test_town_staff_add_points_only_in_their_town(nanqiao_client, nanqiao_town, xidu_town):
    html = nanqiao_client.get(f"{POINTS}/add/").content.decode()
    select = re.search(r'<select name="town".*?</select>', html, re.S).group(0)
    assert "南桥镇" in select and "西渡街道" not in select
    fields = {"name": "新报到点", "kind": "party_site", "address": "路", "target": 30}
    nanqiao_client.post(f"{POINTS}/add/", {**fields, "town": xidu_town.pk, "is_active": "on"})
    assert not CheckinPoint.objects.filter(town=xidu_town).exists()
    response = nanqiao_client.post(
        f"{POINTS}/add/", {**fields, "town": nanqiao_town.pk, "is_active": "on"}
    )
    assert response.status_code == 302
    assert CheckinPoint.objects.get(name="新报到点").town == nanqiao_town


@pytest.mark.filterwarnings("ignore::django.core.paginator.UnorderedObjectListWarning")
def test_point_autocomplete_is_scoped(nanqiao_client, data):
    response = nanqiao_client.get(
        "/admin/autocomplete/",
        {"app_label": "stations", "model_name": "checkin", "field_name": "point", "term": ""},
    )
    names = [item["text"] for item in response.json()["results"]]
    assert names == ["南桥党群服务中心"]


def test_point_autocomplete_pages_points_in_order(nanqiao_client, nanqiao_town):
    CheckinPoint.objects.bulk_create(
        CheckinPoint(name=f"报到点{n:02d}", town=nanqiao_town, address="路")
        for n in reversed(range(25))
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response = nanqiao_client.get(
            "/admin/autocomplete/",
            {"app_label": "stations", "model_name": "checkin", "field_name": "point"},
        )
    assert not [w for w in caught if issubclass(w.category, UnorderedObjectListWarning)]
    names = [item["text"] for item in response.json()["results"]]
    assert names == [f"报到点{n:02d}" for n in range(20)]


@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_town_staff_cannot_open_another_towns_check_in(nanqiao_client, xidu_client, data, view):
    ours, theirs = data["ours"]["checkin"], data["theirs"]["checkin"]
    assert xidu_client.get(f"{CHECKINS}/{ours.pk}/{view}/").status_code == 404
    assert nanqiao_client.get(f"{CHECKINS}/{theirs.pk}/{view}/").status_code == 404
    assert nanqiao_client.get(f"{CHECKINS}/{ours.pk}/{view}/").status_code == 200


def test_town_staff_cannot_delete_another_towns_check_in(xidu_client, data):
    ours = data["ours"]["checkin"]
    assert xidu_client.post(f"{CHECKINS}/{ours.pk}/delete/", {"post": "yes"}).status_code == 404
    xidu_client.post(
        f"{CHECKINS}/", {"action": "delete_selected", "_selected_action": [ours.pk], "post": "yes"}
    )
    assert CheckIn.objects.filter(pk=ours.pk).exists()


def test_check_in_page_shows_the_moves(nanqiao_client, data):
    checkin, other = (
        data["ours"]["checkin"],
        CheckinPoint.objects.create(
            name="南桥第二报到点", town=data["ours"]["point"].town, address="路"
        ),
    )
    CheckInMove.objects.create(checkin=checkin, from_point=checkin.point, to_point=other)
    html = nanqiao_client.get(f"{CHECKINS}/{checkin.pk}/change/").content.decode()
    assert "报到点变更记录" in html and "南桥第二报到点" in html


def test_check_in_filters_offer_only_their_towns_points(xidu_client, district_client, data):
    html = xidu_client.get(f"{CHECKINS}/").content.decode()
    assert "西渡党群服务中心" in html
    assert "南桥党群服务中心" not in html and "南桥小哥" not in html and "南桥镇" not in html
    html = district_client.get(f"{CHECKINS}/").content.decode()
    assert "西渡党群服务中心" in html and "南桥党群服务中心" in html


def test_searching_check_ins_is_scoped(nanqiao_client, xidu_client, district_client, data):
    html = nanqiao_client.get(f"{CHECKINS}/", {"q": "小哥"}).content.decode()
    assert "南桥小哥" in html and "西渡小哥" not in html
    html = xidu_client.get(f"{CHECKINS}/", {"q": "13900000001"}).content.decode()
    assert "南桥小哥" not in html
    html = nanqiao_client.get(f"{CHECKINS}/", {"q": "139 0000 0001"}).content.decode()
    assert "南桥小哥" in html  # a whole phone number finds the courier
    html = district_client.get(f"{CHECKINS}/", {"q": "小哥"}).content.decode()
    assert "南桥小哥" in html and "西渡小哥" in html


def test_check_in_list_without_a_search_lists_the_towns_check_ins(
    nanqiao_client, district_client, data
):
    html = nanqiao_client.get(f"{CHECKINS}/").content.decode()
    assert "南桥小哥" in html and "西渡小哥" not in html
    html = district_client.get(f"{CHECKINS}/").content.decode()
    assert "南桥小哥" in html and "西渡小哥" in html


# --- poster -----------------------------------------------------------------------------------


def test_poster_is_an_a4_page_with_a_qr_code_of_the_signed_url(nanqiao_client, data):
    point = data["ours"]["point"]
    response = nanqiao_client.get(f"{POINTS}/{point.pk}/poster/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "poster.css" in html and "<svg" in html and "你好小哥，欢迎回家" in html
    assert point.name in html and "南桥镇 · 南桥路 1 号" in html
    address = re.search(r'<p class="url">([^<]+)</p>', html).group(1)
    assert address == f"http://testserver/checkin/{point_token(point)}/"
    token = urlparse(address).path.split("/")[2]
    assert point_from_token(token) == point
    assert qr_svg(address) in html  # the QR code carries exactly that address
    assert (
        f'href="{POINTS}/{point.pk}/poster/"' in nanqiao_client.get(f"{POINTS}/").content.decode()
    )


def test_the_posters_address_opens_the_check_in_page(nanqiao_client, data, anonymous):
    point = data["ours"]["point"]
    html = nanqiao_client.get(f"{POINTS}/{point.pk}/poster/").content.decode()
    address = re.search(r'<p class="url">([^<]+)</p>', html).group(1)
    page = anonymous.get(urlparse(address).path)
    assert page.status_code == 200 and point.name in page.content.decode()


def test_another_towns_poster_is_not_found(xidu_client, data):
    assert xidu_client.get(f"{POINTS}/{data['ours']['point'].pk}/poster/").status_code == 404
    assert xidu_client.get(f"{POINTS}/99999/poster/").status_code == 404


def test_the_poster_needs_a_staff_login(anonymous, data):
    response = anonymous.get(f"{POINTS}/{data['ours']['point'].pk}/poster/")
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- progress ---------------------------------------------------------------------------------


def _table(html: str, table_id: str) -> list[list[str]]:
    body = re.search(rf'<table id="{table_id}">.*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


@pytest.fixture
def progress(data, campaign, old_campaign, nanqiao_town):
    """南桥: the center (target 30) with 1 + 2 today + 1 yesterday; a second point (target 10)
    without check-ins. 西渡: 1. And check-ins of last year's campaign, which do not count."""
    center = data["ours"]["point"]
    second = CheckinPoint.objects.create(
        name="南桥第二报到点", town=nanqiao_town, address="路", target=10
    )
    for _ in range(2):
        register(factories.courier(nanqiao_town), center, campaign)
    late = register(factories.courier(nanqiao_town), center, campaign)
    CheckIn.objects.filter(pk=late.pk).update(created_at=timezone.now() - datetime.timedelta(1))
    for _ in range(3):
        register(factories.courier(nanqiao_town), second, old_campaign)
    return center, second


def test_progress_counts_this_campaign_per_point_town_and_day(nanqiao_client, progress):
    html = nanqiao_client.get(f"{POINTS}/progress/").content.decode()
    assert "2025年小哥报到季" in html
    assert '<strong id="progress-total">4</strong>' in html and "目标 40 人" in html
    assert _table(html, "progress-towns") == [["南桥镇", "4", "40", "10%"]]
    assert _table(html, "progress-points") == [
        ["南桥党群服务中心", "南桥镇", "4", "30"],
        ["南桥第二报到点", "南桥镇", "0", "10"],
    ]
    today = timezone.localdate()
    yesterday = today - datetime.timedelta(1)
    assert _table(html, "progress-days") == [
        [f"{yesterday:%Y-%m-%d}", "1", "1"],
        [f"{today:%Y-%m-%d}", "3", "4"],
    ]


def test_progress_for_another_town_shows_only_theirs(xidu_client, progress):
    html = xidu_client.get(f"{POINTS}/progress/").content.decode()
    assert '<strong id="progress-total">1</strong>' in html and "目标 30 人" in html
    assert _table(html, "progress-towns") == [["西渡街道", "1", "30", "3%"]]
    assert [row[0] for row in _table(html, "progress-points")] == ["西渡党群服务中心"]
    assert "南桥" not in html.split('id="content-main"')[1]


def test_progress_for_the_district_covers_every_town(district_client, progress):
    html = district_client.get(f"{POINTS}/progress/").content.decode()
    assert '<strong id="progress-total">5</strong>' in html and "目标 70 人" in html
    assert [row[0] for row in _table(html, "progress-towns")] == ["南桥镇", "西渡街道"]


def test_points_list_counts_only_this_campaign(nanqiao_client, progress):
    html = nanqiao_client.get(f"{POINTS}/").content.decode()
    assert "4 / 30" in html and "0 / 10" in html


def test_progress_without_a_current_campaign(nanqiao_client, data):
    Campaign.objects.update(is_current=False)
    html = nanqiao_client.get(f"{POINTS}/progress/").content.decode()
    assert "目前没有当前报到季" in html


def test_progress_is_linked_from_the_points_list(nanqiao_client, data):
    assert f'href="{POINTS}/progress/"' in nanqiao_client.get(f"{POINTS}/").content.decode()


def test_progress_needs_permission_to_view_points(nanqiao_town, anonymous, data):
    user = User.objects.create_user("nobody", password="x", is_staff=True)
    StaffProfile.objects.create(user=user, town=nanqiao_town)
    client = Client()
    client.force_login(user)
    assert client.get(f"{POINTS}/progress/").status_code == 403
    assert anonymous.get(f"{POINTS}/progress/").status_code == 302


# --- export -----------------------------------------------------------------------------------


def _export(client, fmt: str = "csv", query: str = "") -> bytes:
    url = f"{CHECKINS}/export/" + (f"?q={query}" if query else "")
    form = client.get(url).context["form"]
    index = next(v for v, label in form.fields["format"].choices if str(label).lower() == fmt)
    data = {"format": index, "resource": 0}
    data.update({name: "on" for name in form.fields if name.startswith("checkinresource_")})
    response = client.post(url, data)
    assert response.status_code == 200
    return response.content


def _csv_rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_export_is_scoped_and_masks_phones_for_town_staff(nanqiao_client, data):
    rows = _csv_rows(_export(nanqiao_client, query="小哥"))
    assert [row["姓名"] for row in rows] == ["南桥小哥"]
    row = rows[0]
    assert row["手机号码"] == "139****0001"
    assert (row["街镇"], row["报到点"], row["报到季"]) == (
        "南桥镇",
        "南桥党群服务中心",
        "2025年小哥报到季",
    )
    assert row["想参加的志愿服务"] == "I学理论、I享健康"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", row["报到时间"])


def test_export_has_full_phones_for_the_district(district_client, district, data):
    assert district.has_perm("couriers.view_full_phone")
    rows = _csv_rows(_export(district_client, query="小哥"))
    assert sorted(row["姓名"] for row in rows) == ["南桥小哥", "西渡小哥"]
    assert "13900000001" in [row["手机号码"] for row in rows]


def test_export_xlsx_masks_phones_for_town_staff(nanqiao_client, nanqiao, data):
    assert not nanqiao.has_perm("couriers.view_full_phone")
    sheet = load_workbook(io.BytesIO(_export(nanqiao_client, "xlsx", query="小哥"))).active
    cells = [cell.value for row in sheet.iter_rows() for cell in row]
    assert "139****0001" in cells and "13900000001" not in cells and "西渡小哥" not in cells


def test_export_escapes_formulae(district_client, data):
    courier = data["ours"]["courier"]
    courier.name = "=HYPERLINK(1)小哥"
    courier.save()
    rows = _csv_rows(_export(district_client, query="小哥"))
    assert "'=HYPERLINK(1)小哥" in [row["姓名"] for row in rows]


def test_export_without_a_search_has_the_towns_check_ins(nanqiao_client, data):
    rows = _csv_rows(_export(nanqiao_client))
    assert [row["姓名"] for row in rows] == ["南桥小哥"]


# --- points import ----------------------------------------------------------------------------

IMPORT = f"{POINTS}/import/"
HEADER = ["报到点名称", "类型", "街镇", "地址", "坐标", "联系人", "联系电话", "报到目标"]
GOOD = [
    HEADER,
    [
        "南桥镇党群服务中心",
        "党群服务阵地",
        "南桥镇",
        "解放东路 1 号",
        "30.918,121.474",
        "李",
        "",
        40,
    ],
    ["江海社区报到点", "社区", "南桥", "江海路 2 号", "", "", "", ""],
]


def upload(client, rows: list[list], name: str = "points.xlsx"):
    file = SimpleUploadedFile(name, xlsx(rows))
    return client.post(IMPORT, {"file": file}, follow=True)


def test_town_staff_may_import_points(nanqiao, nanqiao_client):
    assert (
        Group.objects.get(name=TOWN_ADMIN)
        .permissions.filter(codename="import_checkinpoint")
        .exists()
    )
    assert nanqiao.has_perm("stations.import_checkinpoint")
    html = nanqiao_client.get(f"{POINTS}/").content.decode()
    assert "导入表格" in html and "下载模板" in html
    assert nanqiao_client.get(IMPORT).status_code == 200
    template = nanqiao_client.get(f"{IMPORT}template/")
    assert template.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(template.streaming_content)))
    assert [c.value for c in workbook.worksheets[0][1]][:3] == ["报到点名称", "类型", "街镇"]


def test_import_new_points_then_unchanged_on_reimport(nanqiao_client, nanqiao_town):
    html = upload(nanqiao_client, GOOD).content.decode()
    assert "校验通过" in html and 'id="count-new">2<' in html, html[:3000]
    assert not CheckinPoint.objects.exists()
    job = ImportJob.objects.get()
    assert job.kind == ImportJob.Kind.CHECKIN_POINTS
    nanqiao_client.post(f"{IMPORT}{job.pk}/")
    points = {p.name: p for p in CheckinPoint.objects.all()}
    assert set(points) == {"南桥镇党群服务中心", "江海社区报到点"}
    center, community = points["南桥镇党群服务中心"], points["江海社区报到点"]
    assert (center.town, center.kind, center.target) == (nanqiao_town, "party_site", 40)
    assert (center.latitude, center.longitude) == (30.918, 121.474)
    assert (community.town, community.kind, community.target) == (nanqiao_town, "community", 30)

    html = upload(nanqiao_client, GOOD).content.decode()
    assert 'id="count-new">0<' in html and 'id="count-unchanged">2<' in html
    assert 'id="confirm-import"' not in html  # nothing to write

    changed = [GOOD[0], [*GOOD[1][:7], 50], GOOD[2]]
    html = upload(nanqiao_client, changed).content.decode()
    assert 'id="count-updated">1<' in html
    nanqiao_client.post(f"{IMPORT}{ImportJob.objects.latest('id').pk}/")
    assert CheckinPoint.objects.get(name="南桥镇党群服务中心").target == 50
    assert CheckinPoint.objects.count() == 2


def test_import_errors_name_the_rows(nanqiao_client):
    rows = [
        *GOOD,
        ["火星报到点", "", "火星镇", "火星路", "", "", "", ""],
        ["西渡报到点", "", "西渡街道", "西渡路", "", "", "", ""],
        ["目标有误报到点", "", "南桥镇", "路", "", "", "", "三十"],
        ["南桥镇党群服务中心", "", "南桥镇", "重复路", "", "", "", ""],
    ]
    html = upload(nanqiao_client, rows).content.decode()
    assert "未写入任何数据" in html and 'id="confirm-import"' not in html
    errors = _table(html, "import-errors")
    assert ["4", "街镇", "火星镇", "不是奉贤区的街镇"] in errors
    assert ["5", "街镇", "西渡街道", "只能导入本街镇的报到点"] in errors
    assert [e[:3] for e in errors if e[0] == "6"] == [["6", "报到目标", "三十"]]
    assert "报到目标应为整数" in html
    assert ["7", "报到点名称", "南桥镇党群服务中心", "与第 2 行的报到点重复"] in errors
    nanqiao_client.post(f"{IMPORT}{ImportJob.objects.get().pk}/")
    assert not CheckinPoint.objects.exists()


def test_import_checks_the_community_is_in_the_town(nanqiao_client, xidu_town, nanqiao_town):
    factories.community(xidu_town, name="西渡居委会")
    factories.community(nanqiao_town, name="江海居委会")
    rows = [
        ["报到点名称", "街镇", "村居委", "地址"],
        ["江海报到点", "南桥镇", "江海居委会", "江海路"],
        ["错村报到点", "南桥镇", "西渡居委会", "路"],
    ]
    html = upload(nanqiao_client, rows).content.decode()
    assert _table(html, "import-errors") == [["3", "村居委", "西渡居委会", "南桥镇没有这个村居委"]]


def test_the_district_imports_points_for_any_town(district_client, xidu_town):
    rows = [HEADER, ["西渡报到点", "其他", "西渡", "西渡路", "", "", "", ""]]
    upload(district_client, rows)
    district_client.post(f"{IMPORT}{ImportJob.objects.get().pk}/")
    point = CheckinPoint.objects.get()
    assert (point.town, point.kind) == (xidu_town, "other")


def test_view_only_staff_cannot_import_points(nanqiao_town):
    user = User.objects.create_user("viewer", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_checkinpoint"))
    StaffProfile.objects.create(user=user, town=nanqiao_town)
    client = Client()
    client.force_login(user)
    assert "导入表格" not in client.get(f"{POINTS}/").content.decode()
    assert client.get(IMPORT).status_code == 403
    assert upload(client, GOOD).status_code == 403
    assert not ImportJob.objects.exists()
