"""Files in private storage (story photos, photo reports, uploaded spreadsheets) have no URL;
the admin never asks for one. Every admin file field on private storage gets the private file
widget, whose thumbnail comes through a staff-only view that finds the record within the user's
town; read-only forms and lists show the same thumbnail."""

from __future__ import annotations

import datetime
import io

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.utils import timezone
from PIL import Image

from activities.models import PhotoReport, Story
from couriers.models import ImportJob, StaffProfile
from couriers.privacy.admin import PrivateFileWidget, private_file_fields
from tests import factories

pytestmark = pytest.mark.django_db

ADMIN = "/admin/activities"


def jpeg() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 200)).save(output, format="JPEG")
    return output.getvalue()


@pytest.fixture
def story(nanqiao_town):
    courier = factories.courier(nanqiao_town, name="王建国")
    story = Story.objects.create(
        title="雨夜送药的平安骑手",
        body="他在暴雨夜把药送到独居老人家中。",
        courier=courier,
        consent_given_at=timezone.now(),
        consent_note="书面同意书",
        published_on=timezone.localdate() - datetime.timedelta(days=1),
    )
    story.photo.save("a.jpg", ContentFile(jpeg()))
    return story


def thumbnail_url(story: Story) -> str:
    return f"{ADMIN}/story/{story.pk}/private-file/photo/"


def _form(story: Story, **fields) -> dict:
    consent = timezone.localtime(story.consent_given_at)
    data = {
        "title": story.title,
        "summary": "",
        "body": story.body,
        "courier": story.courier_id,
        "display_name": "",
        "consent_given_at_0": f"{consent:%Y-%m-%d}",
        "consent_given_at_1": f"{consent:%H:%M:%S}",
        "consent_note": story.consent_note,
        "published_on": f"{story.published_on:%Y-%m-%d}" if story.published_on else "",
    }
    data.update(fields)
    return data


def test_a_story_with_a_photo_opens_in_the_admin_with_a_thumbnail(nanqiao_client, story):
    response = nanqiao_client.get(f"{ADMIN}/story/{story.pk}/change/")
    assert response.status_code == 200
    assert f'<img src="{thumbnail_url(story)}"' in response.content.decode()


def test_staff_unpublish_a_story_with_a_photo_and_keep_the_photo(nanqiao_client, story):
    name = story.photo.name
    response = nanqiao_client.post(
        f"{ADMIN}/story/{story.pk}/change/", _form(story, published_on="")
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    story.refresh_from_db()
    assert story.published_on is None and story.photo.name == name


def test_the_thumbnail_is_served_to_the_towns_staff_only(
    nanqiao_client, xidu_client, district_client, anonymous, story
):
    response = nanqiao_client.get(thumbnail_url(story))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content) == story.photo.open("rb").read()
    assert "no-store" in response["Cache-Control"]
    assert district_client.get(thumbnail_url(story)).status_code == 200
    assert xidu_client.get(thumbnail_url(story)).status_code == 404
    assert anonymous.get(thumbnail_url(story)).status_code == 302  # to the admin's login


def test_a_drafts_photo_is_shown_to_staff_but_not_to_the_public(nanqiao_client, anonymous, story):
    Story.objects.filter(pk=story.pk).update(published_on=None)
    assert nanqiao_client.get(thumbnail_url(story)).status_code == 200
    assert anonymous.get(f"/stories/{story.pk}/photo/").status_code == 404


def test_staff_who_may_only_view_stories_see_the_photo_read_only(nanqiao_town, story):
    user = User.objects.create_user("reader", password="pw-for-tests-only", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_story"))
    StaffProfile.objects.create(user=user, town=nanqiao_town)
    client = Client()
    client.force_login(user)
    response = client.get(f"{ADMIN}/story/{story.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<img src="{thumbnail_url(story)}"' in html
    assert 'type="file"' not in html
    assert client.get(thumbnail_url(story)).status_code == 200


def test_every_private_file_field_in_every_admin_form_gets_the_private_widget(district):
    request = RequestFactory().get("/admin/")
    request.user = district
    checked = 0
    for model, model_admin in admin.site._registry.items():
        for name in private_file_fields(model):
            form = model_admin.get_form(request, None)
            if name in form.base_fields:
                assert isinstance(form.base_fields[name].widget, PrivateFileWidget), model
                checked += 1
    assert checked >= 1  # the story photo, at least


def test_a_photo_reports_page_shows_its_photo(nanqiao_client, nanqiao_town):
    courier = factories.courier(nanqiao_town)
    report = PhotoReport.objects.create(
        courier=courier,
        town=nanqiao_town,
        category=PhotoReport.Category.CITY,
        description="垃圾堆放",
        address="某路 1 号",
        photo=ContentFile(jpeg(), name="r.jpg"),
    )
    response = nanqiao_client.get(f"{ADMIN}/photoreport/{report.pk}/change/")
    assert response.status_code == 200
    assert "<img src=" in response.content.decode()


def test_an_import_jobs_page_opens_and_its_spreadsheet_is_never_served(district_client, district):
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.COURIERS, filename="排摸.xlsx", user=district, town=None
    )
    job.file.save("x.xlsx", ContentFile(b"PK\x03\x04 spreadsheet"))
    assert district_client.get(f"/admin/couriers/importjob/{job.pk}/change/").status_code == 200
    url = f"/admin/couriers/importjob/{job.pk}/private-file/file/"
    assert district_client.get(url).status_code == 404


def test_a_new_photo_replaces_the_old_one_through_the_widget(nanqiao_client, story):
    upload = SimpleUploadedFile("new.jpg", jpeg(), content_type="image/jpeg")
    old = story.photo.name
    response = nanqiao_client.post(f"{ADMIN}/story/{story.pk}/change/", _form(story, photo=upload))
    assert response.status_code == 302, response.context["adminform"].form.errors
    story.refresh_from_db()
    assert story.photo.name != old
