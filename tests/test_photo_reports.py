"""拍贤城 photo reports: a courier's upload (decoded, re-encoded as JPEG without EXIF, stored
privately under a random name), every kind of bad file refused in Chinese with nothing stored,
who may see a photo, the staff workflow with its events and points, the courier's page, and the
public list of resolved reports."""

from __future__ import annotations

import datetime
import functools
import io
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone
from PIL import Image

from activities import reports
from activities.models import PhotoReport, PhotoReportEvent, PointsEntry
from couriers.models import Courier
from tests import factories
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

Status = PhotoReport.Status
GPS_IFD = 0x8825
MAKE = 0x010F
ORIENTATION = 0x0112


# --- images built in memory -------------------------------------------------------------------


def picture(size=(64, 48), mode: str = "RGB") -> Image.Image:
    """A noisy picture (noise makes truncation bite: every byte carries pixels)."""
    noise = Image.effect_noise(size, 64)
    if mode == "RGB":
        return Image.merge("RGB", (noise, noise.rotate(90, expand=False), noise))
    return noise.convert(mode)


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    output = io.BytesIO()
    image.save(output, format=fmt, **options)
    return output.getvalue()


def jpeg_with_gps(size=(64, 48), orientation: int | None = None) -> bytes:
    """A camera JPEG: maker, GPS position (and an orientation, if given) in its EXIF."""
    exif = Image.Exif()
    exif[MAKE] = "Maker"
    exif[GPS_IFD] = {1: "N", 2: (31.0, 0.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}
    if orientation is not None:
        exif[ORIENTATION] = orientation
    return encode(picture(size), "JPEG", exif=exif.tobytes())


def upload(data: bytes, name: str = "IMG_20250301_101500.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def report_form(town, photo, **fields) -> dict:
    data = {
        "category": PhotoReport.Category.CITY,
        "description": "人行道上堆满了废弃纸箱",
        "address": "南桥镇解放东路 100 号",
        "town": town.pk,
        "photo": photo,
    }
    data.update(fields)
    return data


def stored_files(settings) -> list[Path]:
    found = []
    for root in (settings.MEDIA_ROOT, settings.PRIVATE_MEDIA_ROOT):
        if Path(root).exists():
            found += [p for p in Path(root).rglob("*") if p.is_file()]
    return found


def read_photo(report: PhotoReport) -> bytes:
    with report.photo.open("rb") as file:
        return file.read()


def make_report(courier: Courier, town=None, **fields) -> PhotoReport:
    fields.setdefault("category", PhotoReport.Category.FACILITY)
    fields.setdefault("description", "路灯不亮")
    fields.setdefault("address", "西渡路 8 号")
    return PhotoReport.objects.create(
        courier=courier,
        town=town or courier.work_town,
        photo=ContentFile(encode(picture(), "JPEG"), name="x.jpg"),
        **fields,
    )


@pytest.fixture
def courier(nanqiao_town) -> Courier:
    return factories.courier(nanqiao_town, name="王小明", phone="13912345678")


@pytest.fixture
def courier_client(courier) -> Client:
    return sign_in(Client(), courier)


@pytest.fixture
def report(courier) -> PhotoReport:
    return make_report(courier)


# --- submitting -------------------------------------------------------------------------------


def test_the_form_asks_for_a_photo_and_defaults_to_the_couriers_town(courier_client, courier):
    response = courier_client.get("/reports/new/")
    assert response.status_code == 200
    assert response.context["form"].initial["town"] == courier.work_town_id
    assert 'accept="image/jpeg,image/png,image/webp"' in response.content.decode()


def test_a_visitor_is_sent_to_sign_in(anonymous, nanqiao_town, settings):
    assert anonymous.get("/reports/new/")["Location"] == "/me/signin/?next=/reports/new/"
    response = anonymous.post("/reports/new/", report_form(nanqiao_town, upload(jpeg_with_gps())))
    assert response.status_code == 302 and response["Location"].startswith("/me/signin/")
    assert not PhotoReport.objects.exists() and stored_files(settings) == []


def test_a_jpeg_report_is_stored_without_exif_under_a_random_name(
    courier_client, courier, nanqiao_town, settings
):
    original = jpeg_with_gps()
    with Image.open(io.BytesIO(original)) as sent:  # the test photo really carries GPS
        assert sent.getexif()[MAKE] == "Maker"
        assert sent.getexif().get_ifd(GPS_IFD)

    response = courier_client.post("/reports/new/", report_form(nanqiao_town, upload(original)))
    assert response.status_code == 302 and response["Location"] == "/me/"

    report = PhotoReport.objects.get()
    assert (report.courier, report.town, report.status) == (courier, nanqiao_town, Status.SUBMITTED)
    assert report.description == "人行道上堆满了废弃纸箱"
    assert report.photo.name.startswith("reports/") and report.photo.name.endswith(".jpg")
    assert "IMG_20250301" not in report.photo.name
    data = read_photo(report)
    assert data != original
    with Image.open(io.BytesIO(data)) as stored:
        assert stored.format == "JPEG"
        assert stored.size == (64, 48)
        assert dict(stored.getexif()) == {}
        assert "exif" not in stored.info
    assert b"Maker" not in data


@pytest.mark.parametrize(
    ("fmt", "name", "content_type", "mode"),
    [
        ("PNG", "photo.png", "image/png", "RGBA"),
        ("PNG", "palette.png", "image/png", "P"),
        ("WEBP", "photo.webp", "image/webp", "RGB"),
    ],
)
def test_png_and_webp_reports_are_stored_as_jpeg(
    courier_client, nanqiao_town, fmt, name, content_type, mode
):
    data = encode(picture(mode=mode), fmt)
    response = courier_client.post(
        "/reports/new/", report_form(nanqiao_town, upload(data, name, content_type))
    )
    assert response.status_code == 302
    report = PhotoReport.objects.get()
    assert report.photo.name.endswith(".jpg") and Path(name).stem not in report.photo.name
    with Image.open(io.BytesIO(read_photo(report))) as stored:
        assert stored.format == "JPEG" and stored.mode == "RGB"
        assert dict(stored.getexif()) == {}


def test_two_uploads_with_the_same_name_get_different_names(courier_client, nanqiao_town):
    for _ in range(2):
        courier_client.post("/reports/new/", report_form(nanqiao_town, upload(jpeg_with_gps())))
    names = list(PhotoReport.objects.values_list("photo", flat=True))
    assert len(set(names)) == 2


def test_a_large_photo_is_scaled_down(courier_client, nanqiao_town):
    data = encode(picture((3000, 1000)), "JPEG")
    courier_client.post("/reports/new/", report_form(nanqiao_town, upload(data)))
    with Image.open(io.BytesIO(read_photo(PhotoReport.objects.get()))) as stored:
        assert max(stored.size) == 2048


def test_the_report_is_the_signed_in_couriers_whatever_the_form_says(
    courier_client, courier, nanqiao_town
):
    other = factories.courier(nanqiao_town, name="李四")
    data = report_form(nanqiao_town, upload(jpeg_with_gps()), courier=other.pk, status="resolved")
    courier_client.post("/reports/new/", data)
    report = PhotoReport.objects.get()
    assert report.courier == courier and report.status == Status.SUBMITTED


def test_a_rotated_phone_photo_is_stored_upright(courier_client, nanqiao_town):
    # Orientation 6: the camera stored the picture turned; viewers rotate it 90° to show it.
    data = jpeg_with_gps((64, 32), orientation=6)
    courier_client.post("/reports/new/", report_form(nanqiao_town, upload(data)))
    with Image.open(io.BytesIO(read_photo(PhotoReport.objects.get()))) as stored:
        assert stored.size == (32, 64)


# --- refusals: each in Chinese, with nothing stored -------------------------------------------


def _html_behind_png_header() -> bytes:
    return b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>"


def _svg() -> bytes:
    return (
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b"<script>alert(1)</script><rect width='10' height='10'/></svg>"
    )


def _truncated_jpeg() -> bytes:
    data = encode(picture((200, 200)), "JPEG", quality=95)
    return data[: len(data) // 2]


@functools.cache
def _bomb() -> bytes:
    """A small PNG declaring 20000 x 20000 = 400 million pixels."""
    return encode(Image.new("1", (20_000, 20_000)), "PNG")


REFUSALS = {
    "empty": (lambda: b"", "empty.jpg", "image/jpeg", "空文件"),
    "truncated jpeg": (_truncated_jpeg, "cut.jpg", "image/jpeg", "无法识别的图片"),
    "html behind a png header": (_html_behind_png_header, "x.png", "image/png", "无法识别的图片"),
    "svg": (_svg, "x.svg", "image/svg+xml", "无法识别的图片"),
    "gif": (lambda: encode(picture(mode="P"), "GIF"), "x.gif", "image/gif", "只能上传 JPEG"),
    "text": (lambda: "就是一段文字".encode(), "note.jpg", "image/jpeg", "无法识别的图片"),
    "bomb": (_bomb, "bomb.png", "image/png", "无法识别的图片"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_bad_file_is_refused_in_chinese_and_nothing_is_stored(
    courier_client, nanqiao_town, settings, case
):
    make, name, content_type, message = REFUSALS[case]
    response = courier_client.post(
        "/reports/new/", report_form(nanqiao_town, upload(make(), name, content_type))
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["photo"]
    assert any(message in error for error in errors), errors
    assert message in response.content.decode()
    assert not PhotoReport.objects.exists()
    assert stored_files(settings) == []


def test_the_bomb_is_small_on_the_wire_and_large_in_pixels(settings):
    data = _bomb()
    assert len(data) < settings.PHOTO_MAX_BYTES // 100
    # The PNG header (IHDR) declares the size; Pillow itself refuses to open it.
    width, height = int.from_bytes(data[16:20]), int.from_bytes(data[20:24])
    assert (width, height) == (20_000, 20_000)
    assert width * height > settings.PHOTO_MAX_PIXELS
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(data))


def test_a_file_over_the_byte_limit_is_refused(courier_client, nanqiao_town, settings):
    data = jpeg_with_gps()
    settings.PHOTO_MAX_BYTES = len(data) - 1
    response = courier_client.post("/reports/new/", report_form(nanqiao_town, upload(data)))
    assert any("照片太大" in e for e in response.context["form"].errors["photo"])
    assert not PhotoReport.objects.exists() and stored_files(settings) == []


def test_a_file_at_the_byte_limit_is_accepted(courier_client, nanqiao_town, settings):
    data = jpeg_with_gps()
    settings.PHOTO_MAX_BYTES = len(data)
    courier_client.post("/reports/new/", report_form(nanqiao_town, upload(data)))
    assert PhotoReport.objects.count() == 1


def test_a_photo_over_the_pixel_limit_is_refused(courier_client, nanqiao_town, settings):
    settings.PHOTO_MAX_PIXELS = 64 * 48 - 1
    response = courier_client.post(
        "/reports/new/", report_form(nanqiao_town, upload(jpeg_with_gps((64, 48))))
    )
    assert any("照片像素太多" in e for e in response.context["form"].errors["photo"])
    assert not PhotoReport.objects.exists() and stored_files(settings) == []


def test_a_bomb_below_pillows_own_guard_is_refused_by_the_pixel_cap(
    courier_client, nanqiao_town, settings
):
    """8000 x 8000 = 64 million pixels: under Pillow's warning threshold (~89 million), over
    the default PHOTO_MAX_PIXELS (40 million); a few kilobytes on the wire."""
    data = encode(Image.new("1", (8_000, 8_000)), "PNG")
    assert len(data) < 100_000
    response = courier_client.post(
        "/reports/new/", report_form(nanqiao_town, upload(data, "big.png", "image/png"))
    )
    assert any("照片像素太多" in e for e in response.context["form"].errors["photo"])
    assert not PhotoReport.objects.exists() and stored_files(settings) == []


def test_a_bomb_under_a_generous_pixel_limit_is_still_refused(
    courier_client, nanqiao_town, settings
):
    """Pillow's own bomb guard holds even if the setting is raised too far."""
    settings.PHOTO_MAX_PIXELS = 10**12
    response = courier_client.post(
        "/reports/new/", report_form(nanqiao_town, upload(_bomb(), "bomb.png", "image/png"))
    )
    assert response.context["form"].errors["photo"]
    assert not PhotoReport.objects.exists() and stored_files(settings) == []


def test_a_missing_photo_or_field_stores_nothing(courier_client, nanqiao_town, settings):
    response = courier_client.post("/reports/new/", report_form(nanqiao_town, ""))
    assert "photo" in response.context["form"].errors
    response = courier_client.post(
        "/reports/new/", report_form(nanqiao_town, upload(jpeg_with_gps()), description="")
    )
    assert "description" in response.context["form"].errors
    assert not PhotoReport.objects.exists()
    # The photo alone is kept for the retry (issue 16), privately, as a draft no row names.
    drafts = stored_files(settings)
    assert [p.parent.name for p in drafts] == ["drafts"]
    assert str(drafts[0]).startswith(str(settings.PRIVATE_MEDIA_ROOT))


# --- who may see a photo ----------------------------------------------------------------------


def _photo(client: Client, report: PhotoReport):
    return client.get(f"/reports/{report.pk}/photo/")


@pytest.mark.parametrize("who", ["reporter", "nanqiao_client", "district_client"])
def test_the_reporter_and_the_towns_staff_see_the_photo(request, who, report, courier_client):
    client = courier_client if who == "reporter" else request.getfixturevalue(who)
    response = _photo(client, report)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "private" in response["Cache-Control"]
    body = b"".join(response.streaming_content)
    assert body == read_photo(report) and body.startswith(b"\xff\xd8")


@pytest.mark.parametrize("who", ["other courier", "anonymous", "xidu_client"])
def test_everyone_else_gets_not_found(request, who, report, nanqiao_town):
    if who == "other courier":
        client = sign_in(Client(), factories.courier(nanqiao_town, name="李四"))
    else:
        client = request.getfixturevalue(who)
    assert _photo(client, report).status_code == 404


def test_a_staff_account_without_a_profile_gets_not_found(report):
    from django.contrib.auth.models import Group, User

    from couriers.roles import TOWN_ADMIN

    user = User.objects.create_user("noprofile", is_staff=True)
    user.groups.add(Group.objects.get(name=TOWN_ADMIN))
    client = Client()
    client.force_login(user)
    assert _photo(client, report).status_code == 404


def test_a_missing_report_is_not_found(courier_client):
    assert courier_client.get("/reports/999999/photo/").status_code == 404


def test_the_photo_is_stored_outside_the_public_media_folder(
    courier_client, nanqiao_town, settings, anonymous
):
    courier_client.post("/reports/new/", report_form(nanqiao_town, upload(jpeg_with_gps())))
    report = PhotoReport.objects.get()
    path = Path(report.photo.path)
    assert path.is_relative_to(Path(settings.PRIVATE_MEDIA_ROOT))
    assert not path.is_relative_to(Path(settings.MEDIA_ROOT))
    with pytest.raises(ValueError):
        report.photo.url  # noqa: B018 -- no public URL exists
    assert anonymous.get(f"/{settings.MEDIA_URL}{report.photo.name}").status_code == 404
    assert courier_client.get(f"/{settings.MEDIA_URL}{report.photo.name}").status_code == 404


def test_the_couriers_page_links_the_photo_through_the_guarded_view(courier_client, report):
    html = courier_client.get("/me/").content.decode()
    assert f"/reports/{report.pk}/photo/" in html
    assert report.photo.name not in html


# --- the workflow -----------------------------------------------------------------------------


def test_the_full_path_records_each_step_with_who_and_when(report, nanqiao):
    before = timezone.now()
    for status, note in [
        (Status.ACCEPTED, "已转城管中队"),
        (Status.IN_PROGRESS, ""),
        (Status.RESOLVED, "纸箱已清理"),
    ]:
        result = reports.advance(report, status, nanqiao, note)
        assert result.status == status
    report.refresh_from_db()
    assert report.status == Status.RESOLVED and report.reply == "纸箱已清理"
    events = list(report.events.all())
    assert [(e.status, e.note, e.by) for e in events] == [
        (Status.ACCEPTED, "已转城管中队", nanqiao),
        (Status.IN_PROGRESS, "", nanqiao),
        (Status.RESOLVED, "纸箱已清理", nanqiao),
    ]
    assert all(before <= e.at <= timezone.now() for e in events)


def test_an_accepted_report_may_be_resolved_at_once(report, nanqiao):
    reports.advance(report, Status.ACCEPTED, nanqiao)
    assert reports.advance(report, Status.RESOLVED, nanqiao, "已处理").status == Status.RESOLVED


@pytest.mark.parametrize(
    ("path", "jump"),
    [
        ([], Status.IN_PROGRESS),
        ([], Status.RESOLVED),
        ([], Status.SUBMITTED),
        ([Status.ACCEPTED], Status.REJECTED),
        ([Status.ACCEPTED], Status.ACCEPTED),
        ([Status.ACCEPTED], Status.SUBMITTED),
        ([Status.ACCEPTED, Status.IN_PROGRESS], Status.ACCEPTED),
        ([Status.ACCEPTED, Status.RESOLVED], Status.IN_PROGRESS),
        ([Status.ACCEPTED, Status.RESOLVED], Status.REJECTED),
        ([Status.REJECTED], Status.ACCEPTED),
    ],
)
def test_invalid_jumps_are_refused_and_change_nothing(report, nanqiao, path, jump):
    for step in path:
        reports.advance(report, step, nanqiao, "原因")
    report.refresh_from_db()
    before = (report.status, report.reply, report.events.count(), PointsEntry.objects.count())
    with pytest.raises(reports.WorkflowError, match="不能改为"):
        reports.advance(report, jump, nanqiao, "跳一步")
    report.refresh_from_db()
    after = (report.status, report.reply, report.events.count(), PointsEntry.objects.count())
    assert after == before


@pytest.mark.parametrize("note", ["", "   "])
def test_rejecting_needs_a_reason(report, nanqiao, note):
    with pytest.raises(reports.WorkflowError, match="必须写明原因"):
        reports.advance(report, Status.REJECTED, nanqiao, note)
    report.refresh_from_db()
    assert report.status == Status.SUBMITTED and not report.events.exists()


def test_a_rejection_with_a_reason_is_final_and_pays_nothing(report, nanqiao):
    reports.advance(report, Status.REJECTED, nanqiao, "  不在奉贤区范围内  ")
    report.refresh_from_db()
    assert report.status == Status.REJECTED and report.reply == "不在奉贤区范围内"
    assert report.events.get().note == "不在奉贤区范围内"
    assert not PointsEntry.objects.exists()


def test_advancing_uses_the_stored_status_not_a_stale_copy(report, nanqiao):
    stale = PhotoReport.objects.get(pk=report.pk)
    reports.advance(report, Status.ACCEPTED, nanqiao)
    with pytest.raises(reports.WorkflowError):
        reports.advance(stale, Status.REJECTED, nanqiao, "重复处理")
    assert PhotoReportEvent.objects.count() == 1


def test_accepting_pays_the_report_points_once(report, courier, nanqiao, settings):
    reports.advance(report, Status.ACCEPTED, nanqiao)
    reports.advance(report, Status.IN_PROGRESS, nanqiao)
    reports.advance(report, Status.RESOLVED, nanqiao, "已处理")
    entry = PointsEntry.objects.get()
    assert entry.amount == settings.PHOTO_REPORT_POINTS
    assert (entry.courier, entry.source, entry.source_id) == (courier, "photo", report.pk)
    assert entry.created_by == nanqiao and "拍贤城" in entry.reason


def test_accepting_respects_the_monthly_photo_cap(courier, nanqiao, settings):
    settings.PHOTO_REPORT_POINTS = 5
    settings.POINTS_MONTHLY_CAPS = {"photo": 7}
    amounts = []
    for _ in range(3):
        report = make_report(courier)
        reports.advance(report, Status.ACCEPTED, nanqiao)  # the third is accepted, unpaid
        assert PhotoReport.objects.get(pk=report.pk).status == Status.ACCEPTED
        amounts.append(
            PointsEntry.objects.filter(source_id=report.pk).values_list("amount", flat=True).first()
        )
    assert amounts == [5, 2, None]


# --- what the courier sees --------------------------------------------------------------------


def test_the_courier_sees_status_and_reply_on_their_page(courier_client, report, nanqiao):
    assert "待受理" in courier_client.get("/me/").content.decode()
    reports.advance(report, Status.ACCEPTED, nanqiao, "已转城管中队，三日内处理")
    html = courier_client.get("/me/").content.decode()
    assert "<strong>已受理</strong>" in html
    assert "答复：已转城管中队，三日内处理" in html


def test_the_courier_sees_only_their_own_reports(courier_client, nanqiao_town):
    make_report(factories.courier(nanqiao_town, name="李四"), address="别人的地点")
    html = courier_client.get("/me/").content.decode()
    assert "别人的地点" not in html and "还没有报告" in html


# --- the public list of resolved reports ------------------------------------------------------


def _resolve(report: PhotoReport, by, publish: bool) -> None:
    reports.advance(report, Status.ACCEPTED, by)
    reports.advance(report, Status.RESOLVED, by, f"已处理：{report.address}")
    if publish:
        PhotoReport.objects.filter(pk=report.pk).update(is_published=True)


def test_only_resolved_published_reports_are_public_without_personal_data(
    anonymous, courier, nanqiao
):
    shown = make_report(courier, address="公开的地点")
    _resolve(shown, nanqiao, publish=True)
    _resolve(make_report(courier, address="未公开的地点"), nanqiao, publish=False)
    reports.advance(make_report(courier, address="处理中的地点"), Status.ACCEPTED, nanqiao)
    make_report(courier, address="待受理的地点")

    response = anonymous.get("/reports/resolved/")
    assert response.status_code == 200
    assert list(response.context["reports"]) == [shown]
    html = response.content.decode()
    assert "公开的地点" in html and "已处理：公开的地点" in html
    for hidden in ("未公开的地点", "处理中的地点", "待受理的地点"):
        assert hidden not in html
    assert courier.name not in html
    assert courier.phone not in html and courier.masked_phone not in html
    assert f"/reports/{shown.pk}/photo/" not in html


def test_the_public_list_says_so_when_empty(anonymous):
    assert "暂无公示" in anonymous.get("/reports/resolved/").content.decode()


@pytest.mark.parametrize("status", [Status.SUBMITTED, Status.ACCEPTED, Status.REJECTED])
def test_the_database_refuses_to_publish_an_unresolved_report(courier, status):
    report = make_report(courier, status=status)
    with transaction.atomic(), pytest.raises(IntegrityError):
        PhotoReport.objects.filter(pk=report.pk).update(is_published=True)
    with transaction.atomic(), pytest.raises(IntegrityError):
        make_report(courier, status=status, is_published=True)


# --- overdue ----------------------------------------------------------------------------------


def test_a_report_waiting_too_long_is_overdue(courier, settings, nanqiao):
    limit = datetime.timedelta(days=settings.PHOTO_REPORT_ACCEPT_DAYS)
    old = make_report(courier, created_at=timezone.now() - limit - datetime.timedelta(hours=1))
    fresh = make_report(courier, created_at=timezone.now() - limit + datetime.timedelta(hours=1))
    assert old.is_overdue and not fresh.is_overdue
    reports.advance(old, Status.ACCEPTED, nanqiao)
    old.refresh_from_db()
    assert not old.is_overdue
