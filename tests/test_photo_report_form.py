"""拍贤城's form as a courier meets it: the camera first, clear choices, and a photo that survives
a mistake elsewhere in the form (kept server-side in private storage for the retry)."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from activities.models import PhotoReport
from tests import factories

pytestmark = pytest.mark.django_db


def jpeg(size=(64, 48)) -> SimpleUploadedFile:
    output = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(output, format="JPEG")
    return SimpleUploadedFile("IMG_1.jpg", output.getvalue(), content_type="image/jpeg")


@pytest.fixture
def courier(nanqiao_town):
    return factories.courier(nanqiao_town, name="王小明")


@pytest.fixture
def client(courier) -> Client:
    client = Client()
    session = client.session
    session["courier_id"] = courier.pk
    session.save()
    return client


def test_the_camera_is_the_first_and_largest_control(client):
    html = client.get("/reports/new/").content.decode()
    form = html[html.index('id="report-form"') :]
    first_field = re.search(r"<(input|select|textarea)(?![^>]*type=\"hidden\")[^>]*>", form)
    assert 'name="photo"' in first_field.group(0)
    assert 'capture="environment"' in first_field.group(0)
    assert "📷 拍照上报" in form[: first_field.start() + 400]
    assert "js/report_photo.js" in html  # resizes before upload, shows progress


def test_empty_choices_say_what_to_choose(client):
    html = client.get("/reports/new/").content.decode()
    assert "---------" not in html
    assert '<option value="" selected>请选择类别</option>' in html


def test_a_mistake_elsewhere_keeps_the_photo_for_the_retry(client, courier, nanqiao_town, settings):
    from pathlib import Path

    response = client.post(
        "/reports/new/",
        {"description": "井盖缺失", "address": "解放路", "town": nanqiao_town.pk, "photo": jpeg()},
    )
    assert response.status_code == 200 and not PhotoReport.objects.exists()
    html = response.content.decode()
    assert "照片已保留" in html
    # Kept where no web server maps a URL, not in the public media folder.
    kept = [p for p in Path(settings.PRIVATE_MEDIA_ROOT).rglob("*.jpg")]
    assert len(kept) == 1
    assert not Path(settings.MEDIA_ROOT).exists() or not list(Path(settings.MEDIA_ROOT).rglob("*"))

    response = client.post(
        "/reports/new/",
        {
            "category": PhotoReport.Category.CITY,
            "description": "井盖缺失",
            "address": "解放路",
            "town": nanqiao_town.pk,
        },
    )
    assert response.status_code == 302
    report = PhotoReport.objects.get()
    assert report.courier == courier
    with report.photo.open("rb") as stored:
        assert Image.open(stored).size == (64, 48)
    # The draft went with the report: nothing left over but the report's own photo.
    assert [p.name for p in Path(settings.PRIVATE_MEDIA_ROOT).rglob("*.jpg")] == [
        Path(report.photo.name).name
    ]


def test_a_kept_photo_is_only_for_the_courier_who_took_it(client, nanqiao_town):
    client.post("/reports/new/", {"town": nanqiao_town.pk, "photo": jpeg()})
    other = Client()
    session = other.session
    session["courier_id"] = factories.courier(nanqiao_town, name="李四").pk
    session.save()
    response = other.post(
        "/reports/new/",
        {
            "category": PhotoReport.Category.CITY,
            "description": "井盖缺失",
            "address": "解放路",
            "town": nanqiao_town.pk,
        },
    )
    assert response.status_code == 200 and "photo" in response.context["form"].errors


def test_a_new_photo_replaces_the_kept_one(client, nanqiao_town):
    client.post("/reports/new/", {"town": nanqiao_town.pk, "photo": jpeg((64, 48))})
    response = client.post(
        "/reports/new/",
        {
            "category": PhotoReport.Category.CITY,
            "description": "井盖缺失",
            "address": "解放路",
            "town": nanqiao_town.pk,
            "photo": jpeg((40, 30)),
        },
    )
    assert response.status_code == 302
    with PhotoReport.objects.get().photo.open("rb") as stored:
        assert Image.open(stored).size == (40, 30)


def test_an_abandoned_draft_is_swept_by_the_hourly_housekeeping(client, nanqiao_town, settings):
    import os
    import time
    from pathlib import Path

    from couriers.privacy.images import clean_stored

    client.post("/reports/new/", {"town": nanqiao_town.pk, "photo": jpeg()})
    (draft,) = Path(settings.PRIVATE_MEDIA_ROOT).rglob("*.jpg")
    clean_stored()
    assert draft.exists()  # a retry within the hour still finds it
    two_hours_ago = time.time() - 7200
    os.utime(draft, (two_hours_ago, two_hours_ago))
    clean_stored()
    assert not draft.exists()
