"""Every image the portal stores goes through one cleaning path (couriers/privacy/images.py):
decoded, checked, re-encoded as a plain JPEG with no metadata under a random name, or refused in
Chinese with nothing stored. Attacked here through the station admin, which stored uploads raw;
the story admin and the courier's report form are covered in their own modules. A replaced,
cleared or deleted photo leaves no file behind (stations, stories, reports)."""

from __future__ import annotations

import functools
import io
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from PIL import Image, PngImagePlugin

from activities.models import PhotoReport, Story
from couriers.privacy.images import PhotoField
from stations.models import Station
from tests import factories
from tests.test_photo_reports import encode, jpeg_with_gps, picture
from tests.test_stations_admin import add_form

pytestmark = pytest.mark.django_db

STATIONS = "/admin/stations/station/"
SCRIPT = b"<script>alert(document.cookie)</script>"
SECRET = "13900001111 at home"


def stored_files(settings) -> list[Path]:
    found = []
    for root in (settings.MEDIA_ROOT, settings.PRIVATE_MEDIA_ROOT):
        if Path(root).exists():
            found += [p for p in Path(root).rglob("*") if p.is_file()]
    return found


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("comment", f"GPS 30.918N 121.474E {SECRET}")  # Pillow would copy "comment"
    info.add_text("Author", SECRET)
    info.add_itxt("Description", SECRET)
    return encode(picture(), "PNG", pnginfo=info)


def jpeg_with_comment() -> bytes:
    return encode(picture(), "JPEG", comment=SECRET.encode())


def animated_gif() -> bytes:
    frames = [picture(mode="P"), picture(mode="P").rotate(90)]
    output = io.BytesIO()
    frames[0].save(output, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    return output.getvalue()


def _truncated() -> bytes:
    data = encode(picture((200, 200)), "JPEG", quality=95)
    return data[: len(data) // 2]


@functools.cache
def _hundred_megapixels() -> bytes:
    """A PNG of 10000 x 10000 pixels that is a few kilobytes on the wire."""
    return encode(Image.new("1", (10_000, 10_000)), "PNG")


def _eleven_megabytes() -> bytes:
    return jpeg_with_gps() + b"\0" * (11 * 1024 * 1024)


FORMAT = "只能上传 JPEG、PNG 或 WebP 照片"
UNREADABLE = "无法识别的图片"
REFUSED = {
    "truncated jpeg": (_truncated, "cut.jpg", UNREADABLE),
    "100 megapixels": (_hundred_megapixels, "big.png", UNREADABLE),
    "11 MB": (_eleven_megabytes, "big.jpg", "照片太大"),
    "tiff": (lambda: encode(picture(), "TIFF"), "x.tif", FORMAT),
    "bmp": (lambda: encode(picture(), "BMP"), "x.bmp", FORMAT),
    "gif": (lambda: encode(picture(mode="P"), "GIF"), "x.gif", FORMAT),
    "animated gif": (animated_gif, "x.gif", FORMAT),
    "gif with script": (lambda: encode(picture(mode="P"), "GIF") + SCRIPT, "x.gif", FORMAT),
    "svg": (lambda: b'<svg xmlns="http://www.w3.org/2000/svg">' + SCRIPT + b"</svg>", "x.svg", ""),
}

CLEANED = {
    "jpeg with gps": jpeg_with_gps,
    "png with text chunks": png_with_text,
    "jpeg with a comment": jpeg_with_comment,
    "jpeg with script appended": lambda: jpeg_with_gps() + SCRIPT,
    "png with script appended": lambda: encode(picture(), "PNG") + SCRIPT,
    "webp": lambda: encode(picture(), "WEBP"),
}


def upload(data: bytes, name: str = "IMG_0001.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def add_station(client, town, data: bytes, name: str = "IMG_0001.jpg"):
    return client.post(f"{STATIONS}add/", add_form(town, photo=upload(data, name)))


@pytest.mark.parametrize("case", list(CLEANED))
def test_a_station_photo_is_stored_as_a_plain_jpeg_without_metadata(
    nanqiao_client, nanqiao_town, settings, case
):
    response = add_station(nanqiao_client, nanqiao_town, CLEANED[case]())
    assert response.status_code == 302, response.context["adminform"].form.errors
    station = Station.objects.get()
    [stored] = stored_files(settings)
    assert stored.parent == Path(settings.MEDIA_ROOT) / "stations"
    assert stored.name != "IMG_0001.jpg" and stored.suffix == ".jpg"
    data = stored.read_bytes()
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG" and image.size == (64, 48)
        assert not image.getexif()  # no EXIF, so no GPS
        assert not {"comment", "Author", "Description", "exif", "icc_profile"} & set(image.info)
    for leak in (b"<script", SECRET.encode(), b"GPS", b"Maker"):
        assert leak not in data
    assert station.photo.name == f"stations/{stored.name}"


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_bad_station_photo_is_refused_in_chinese_and_nothing_is_stored(
    nanqiao_client, nanqiao_town, settings, case
):
    make, name, message = REFUSED[case]
    response = add_station(nanqiao_client, nanqiao_town, make(), name)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["photo"]
    assert any(message in error for error in errors), errors
    assert not Station.objects.exists()
    assert stored_files(settings) == []


def test_the_upload_field_asks_phones_for_photos_only(nanqiao_client):
    page = nanqiao_client.get(f"{STATIONS}add/").content.decode()
    assert 'accept="image/jpeg,image/png,image/webp"' in page


def test_every_image_field_of_every_model_cleans_its_uploads():
    """A later model with a photo gets the same path: a plain ImageField would store uploads
    raw, so none may exist."""
    raw = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.ImageField) and not isinstance(field, PhotoField)
    ]
    assert raw == []


def test_a_photo_saved_by_code_is_cleaned_too(nanqiao_town, settings):
    station = Station.objects.create(
        town=nanqiao_town, name="代码站点", address="测试路", latitude=30.918, longitude=121.474
    )
    station.photo.save("camera.jpg", ContentFile(jpeg_with_gps()))
    with station.photo.open("rb") as stored, Image.open(stored) as image:
        assert not image.getexif()
    assert station.photo.name.startswith("stations/") and "camera" not in station.photo.name


# --- replaced and deleted photos leave no file -------------------------------------------------


def _station_with_photo(client, town) -> Station:
    assert add_station(client, town, jpeg_with_gps()).status_code == 302
    return Station.objects.get()


def _change_form(station: Station, **fields) -> dict:
    data = add_form(station.town, name=station.name, **fields)
    return {key: value for key, value in data.items() if value is not None}


def test_replacing_a_station_photo_removes_the_old_file(
    nanqiao_client, nanqiao_town, settings, django_capture_on_commit_callbacks
):
    station = _station_with_photo(nanqiao_client, nanqiao_town)
    old = Path(station.photo.path)
    with django_capture_on_commit_callbacks(execute=True):
        response = nanqiao_client.post(
            f"{STATIONS}{station.pk}/change/",
            _change_form(station, photo=upload(encode(picture(), "PNG"), "new.png")),
        )
    assert response.status_code == 302, response.context["adminform"].form.errors
    station.refresh_from_db()
    assert not old.exists()
    assert stored_files(settings) == [Path(station.photo.path)]


def test_clearing_a_station_photo_removes_its_file(
    nanqiao_client, nanqiao_town, settings, django_capture_on_commit_callbacks
):
    station = _station_with_photo(nanqiao_client, nanqiao_town)
    with django_capture_on_commit_callbacks(execute=True):
        response = nanqiao_client.post(
            f"{STATIONS}{station.pk}/change/", _change_form(station, **{"photo-clear": "on"})
        )
    assert response.status_code == 302, response.context["adminform"].form.errors
    station.refresh_from_db()
    assert not station.photo and stored_files(settings) == []


def test_saving_a_station_without_a_new_photo_keeps_its_file(
    nanqiao_client, nanqiao_town, settings, django_capture_on_commit_callbacks
):
    station = _station_with_photo(nanqiao_client, nanqiao_town)
    with django_capture_on_commit_callbacks(execute=True):
        response = nanqiao_client.post(
            f"{STATIONS}{station.pk}/change/", _change_form(station, address="新地址 9 号")
        )
    assert response.status_code == 302
    assert stored_files(settings) == [Path(station.photo.path)]


def test_deleting_a_station_removes_its_photo(
    nanqiao_client, nanqiao_town, settings, django_capture_on_commit_callbacks
):
    station = _station_with_photo(nanqiao_client, nanqiao_town)
    with django_capture_on_commit_callbacks(execute=True):
        response = nanqiao_client.post(f"{STATIONS}{station.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Station.objects.exists() and stored_files(settings) == []


def test_a_failed_delete_keeps_the_photo(nanqiao_town, settings):
    """The file goes only once the deletion is committed: a rolled-back one keeps it."""
    from django.db import transaction

    station = Station.objects.create(
        town=nanqiao_town, name="回滚站点", address="测试路", latitude=30.918, longitude=121.474
    )
    station.photo.save("a.jpg", ContentFile(jpeg_with_gps()))
    with pytest.raises(RuntimeError), transaction.atomic():
        station.delete()
        raise RuntimeError("rolled back")
    assert stored_files(settings) == [Path(station.photo.path)]


def _story_form(courier, **fields) -> dict:
    return {
        "title": "雨夜送药",
        "summary": "",
        "body": "正文",
        "courier": courier.pk,
        "display_name": "",
        "consent_given_at_0": "",
        "consent_given_at_1": "",
        "consent_note": "",
        "published_on": "",
        **fields,
    }


def test_replacing_or_deleting_a_story_photo_removes_the_old_file(
    nanqiao_client, nanqiao_town, settings, django_capture_on_commit_callbacks
):
    courier = factories.courier(nanqiao_town)
    first = upload(jpeg_with_gps())
    assert nanqiao_client.post("/admin/activities/story/add/", _story_form(courier, photo=first))
    story = Story.objects.get()
    old = Path(story.photo.path)
    assert old.is_relative_to(settings.PRIVATE_MEDIA_ROOT)
    with django_capture_on_commit_callbacks(execute=True):
        response = nanqiao_client.post(
            f"/admin/activities/story/{story.pk}/change/",
            _story_form(courier, photo=upload(encode(picture(), "WEBP"), "new.webp")),
        )
    assert response.status_code == 302, response.context["adminform"].form.errors
    story.refresh_from_db()
    assert not old.exists() and stored_files(settings) == [Path(story.photo.path)]
    with django_capture_on_commit_callbacks(execute=True):
        story.delete()
    assert stored_files(settings) == []


def test_deleting_a_photo_report_removes_its_photo(
    nanqiao_town, settings, django_capture_on_commit_callbacks
):
    courier = factories.courier(nanqiao_town)
    report = PhotoReport.objects.create(
        courier=courier,
        town=nanqiao_town,
        category=PhotoReport.Category.CITY,
        description="井盖缺失",
        address="解放东路",
        photo=ContentFile(jpeg_with_gps(), name="x.jpg"),
    )
    assert Path(report.photo.path).exists()
    with django_capture_on_commit_callbacks(execute=True):
        report.delete()
    assert stored_files(settings) == []


# --- photos stored before every upload was cleaned --------------------------------------------


def _raw_station(town, name: str, data: bytes, filename: str) -> Station:
    """A station whose photo was stored as uploaded, as the admin did before."""
    from django.core.files.storage import default_storage

    station = Station.objects.create(
        town=town, name=name, address="测试路", latitude=30.918, longitude=121.474
    )
    stored = default_storage.save(f"stations/{filename}", ContentFile(data))
    Station.objects.filter(pk=station.pk).update(photo=stored)
    return Station.objects.get(pk=station.pk)


def _aged(path: Path, seconds: int = 7200) -> Path:
    import os
    import time

    os.utime(path, (time.time() - seconds, time.time() - seconds))
    return path


@pytest.fixture
def stored_before(nanqiao_town, nanqiao_client, settings):
    raw = _raw_station(nanqiao_town, "原样保存", jpeg_with_gps(), "王小明13900001111.jpg")
    tiff = _raw_station(nanqiao_town, "TIFF站点", encode(picture(), "TIFF"), "scan.tif")
    courier = factories.courier(nanqiao_town)
    nanqiao_client.post(
        "/admin/activities/story/add/", _story_form(courier, photo=upload(jpeg_with_gps()))
    )
    folder = Path(settings.MEDIA_ROOT) / "stations"
    old_orphan = folder / "replaced-long-ago.jpg"
    old_orphan.write_bytes(jpeg_with_gps())
    young_orphan = folder / "uploading-now.jpg"
    young_orphan.write_bytes(jpeg_with_gps())
    return {
        "raw": raw,
        "raw_file": Path(raw.photo.path),
        "tiff": tiff,
        "tiff_file": Path(tiff.photo.path),
        "story": Story.objects.get(),
        "old_orphan": _aged(old_orphan),
        "young_orphan": young_orphan,
    }


def test_clean_photos_cleans_what_was_stored_raw_and_removes_leftovers(
    stored_before, django_capture_on_commit_callbacks
):
    from django.core.management import call_command

    story_photo = stored_before["story"].photo.name
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("clean_photos", stdout=out)
    raw = Station.objects.get(pk=stored_before["raw"].pk)
    assert "13900001111" not in raw.photo.name and raw.photo.name.endswith(".jpg")
    with raw.photo.open("rb") as stored, Image.open(stored) as image:
        assert not image.getexif()
    assert not stored_before["raw_file"].exists()
    tiff = Station.objects.get(pk=stored_before["tiff"].pk)
    assert not tiff.photo and not stored_before["tiff_file"].exists()
    assert not stored_before["old_orphan"].exists()
    assert stored_before["young_orphan"].exists()  # may be an upload in progress
    assert Story.objects.get().photo.name == story_photo  # already clean: not re-encoded
    report = out.getvalue()
    assert "已重新处理）：1" in report and "已清除）：1" in report and "已删除）：1" in report


def test_clean_photos_dry_run_changes_nothing(stored_before, django_capture_on_commit_callbacks):
    from django.core.management import call_command

    before = {key: value for key, value in stored_before.items() if isinstance(value, Path)}
    with django_capture_on_commit_callbacks(execute=True):
        call_command("clean_photos", "--dry-run", stdout=io.StringIO())
    assert all(path.exists() for path in before.values())
    assert Station.objects.get(pk=stored_before["raw"].pk).photo == stored_before["raw"].photo
