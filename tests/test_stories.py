"""Role-model stories (先进典型): only published stories with the courier's recorded consent
are public, names are masked unless the story gives one, photos are cleaned and reachable only
while public; staff publish from the admin, which refuses without consent; town scoping."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.utils import timezone
from PIL import Image

from activities.models import Story
from tests import factories

pytestmark = pytest.mark.django_db

ADMIN = "/admin/activities"


def jpeg(with_gps: bool = False) -> bytes:
    image = Image.new("RGB", (64, 48), (200, 60, 40))
    output = io.BytesIO()
    exif = Image.Exif()
    if with_gps:
        exif[0x0110] = "SpyCam"
        exif[0x8825] = {1: "N", 2: (30.0, 55.0, 5.0), 3: "E", 4: (121.0, 28.0, 26.0)}
    image.save(output, format="JPEG", exif=exif)
    return output.getvalue()


def story(courier, title: str, *, consent: bool = True, published: int | None = 0, **fields):
    today = timezone.localdate()
    return Story.objects.create(
        title=title,
        body="他在暴雨夜把药送到独居老人家中。",
        courier=courier,
        consent_given_at=timezone.now() if consent else None,
        consent_note="书面同意书" if consent else "",
        published_on=None if published is None else today - datetime.timedelta(days=published),
        **fields,
    )


@pytest.fixture
def people(nanqiao_town, xidu_town):
    return {
        "nanqiao": factories.courier(nanqiao_town, name="王建国", phone="13900001111"),
        "xidu": factories.courier(xidu_town, name="李红", phone="13900002222"),
    }


def test_only_published_stories_with_consent_are_listed(anonymous, people):
    shown = story(people["nanqiao"], "雨夜送药的平安骑手")
    story(people["nanqiao"], "明天发布的事迹", published=-1)
    story(people["xidu"], "还没发布的事迹", published=None)
    story(people["xidu"], "未同意的事迹", consent=False, published=None)
    page = anonymous.get("/stories/")
    assert [s.title for s in page.context["page"]] == [shown.title]
    assert anonymous.get(f"/stories/{shown.pk}/").status_code == 200
    for other in Story.objects.exclude(pk=shown.pk):
        assert anonymous.get(f"/stories/{other.pk}/").status_code == 404


def test_a_story_shows_a_masked_name_and_never_phone_or_id(anonymous, people, nanqiao_town):
    courier = factories.courier(
        nanqiao_town, name="张卫国", phone="13911112222", id_number=factories.id_number()
    )
    plain = story(courier, "从快递员到技能大赛冠军")
    named = story(people["xidu"], "拍贤城的啄木鸟", display_name="圆通小哥 李师傅")
    page = anonymous.get(f"/stories/{plain.pk}/").content.decode()
    assert "张*国" in page and "张卫国" not in page
    assert "13911112222" not in page and courier.id_number not in page
    assert "139****2222" not in page  # not even masked: a story has no use for it
    assert "圆通小哥 李师傅" in anonymous.get(f"/stories/{named.pk}/").content.decode()
    listing = anonymous.get("/stories/").content.decode()
    assert "张*国" in listing and "李红" not in listing


def test_the_database_refuses_a_published_story_without_consent(people):
    with pytest.raises(IntegrityError):
        story(people["xidu"], "未经同意", consent=False, published=0)


def test_a_photo_is_served_only_while_the_story_is_public(anonymous, people):
    public = story(people["nanqiao"], "有照片的事迹")
    public.photo.save("a.jpg", ContentFile(jpeg()))
    draft = story(people["nanqiao"], "草稿", published=None)
    draft.photo.save("b.jpg", ContentFile(jpeg()))
    response = anonymous.get(f"/stories/{public.pk}/photo/")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert anonymous.get(f"/stories/{draft.pk}/photo/").status_code == 404
    without = story(people["xidu"], "没有照片")
    assert anonymous.get(f"/stories/{without.pk}/photo/").status_code == 404


def test_story_pages_keep_a_constant_query_count(anonymous, people, django_assert_num_queries):
    for n in range(3):
        story(people["nanqiao"], f"事迹{n}")
    with django_assert_num_queries(2):  # the count and the page with couriers and towns
        anonymous.get("/stories/")
    for n in range(20):
        story(people["xidu" if n % 2 else "nanqiao"], f"更多事迹{n}")
    with django_assert_num_queries(2):
        response = anonymous.get("/stories/")
    assert len(response.context["page"]) == 12
    first = Story.objects.first()
    with django_assert_num_queries(1):
        anonymous.get(f"/stories/{first.pk}/")


# --- the admin --------------------------------------------------------------------------------


def _form(courier, **fields) -> dict:
    data = {
        "title": "雨夜送药",
        "summary": "",
        "body": "正文",
        "courier": courier.pk,
        "display_name": "",
        "consent_given_at_0": "",
        "consent_given_at_1": "",
        "consent_note": "",
        "published_on": "",
    }
    data.update(fields)
    return data


def test_publishing_without_consent_is_refused_with_a_reason(nanqiao_client, people):
    today = f"{timezone.localdate():%Y-%m-%d}"
    response = nanqiao_client.post(
        f"{ADMIN}/story/add/", _form(people["nanqiao"], published_on=today)
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["published_on"] == [
        "小哥尚未同意公开，不能发布。"
    ]
    assert not Story.objects.exists()


def test_staff_record_consent_and_publish_with_a_clean_photo(nanqiao_client, nanqiao, people):
    upload = SimpleUploadedFile("phone.jpg", jpeg(with_gps=True), content_type="image/jpeg")
    response = nanqiao_client.post(
        f"{ADMIN}/story/add/",
        _form(
            people["nanqiao"],
            consent_given_at_0="2025-03-01",
            consent_given_at_1="10:00:00",
            consent_note="本人签署书面同意书",
            photo=upload,
        ),
    )
    assert response.status_code == 302
    saved = Story.objects.get()
    assert saved.consent_recorded_by == nanqiao and saved.published_on is None
    with saved.photo.open("rb") as stored, Image.open(stored) as image:
        assert not image.getexif()  # EXIF and GPS are gone
    nanqiao_client.post(f"{ADMIN}/story/", {"action": "publish", "_selected_action": [saved.pk]})
    saved.refresh_from_db()
    assert saved.published_on == timezone.localdate()


def test_consent_without_saying_how_is_refused(nanqiao_client, people):
    response = nanqiao_client.post(
        f"{ADMIN}/story/add/",
        _form(people["nanqiao"], consent_given_at_0="2025-03-01", consent_given_at_1="10:00"),
    )
    assert response.context["adminform"].form.errors["consent_note"] == [
        "请写明小哥是如何同意的（如书面同意书）。"
    ]


def test_the_publish_action_refuses_stories_without_consent(nanqiao_client, people):
    draft = story(people["nanqiao"], "待同意", consent=False, published=None)
    ready = story(people["nanqiao"], "已同意", published=None)
    response = nanqiao_client.post(
        f"{ADMIN}/story/",
        {"action": "publish", "_selected_action": [draft.pk, ready.pk]},
        follow=True,
    )
    texts = [str(m) for m in response.context["messages"]]
    assert "小哥尚未同意公开，不能发布：待同意" in texts and "已发布 1 篇。" in texts
    draft.refresh_from_db(), ready.refresh_from_db()
    assert draft.published_on is None and ready.published_on == timezone.localdate()


def test_a_bad_photo_is_refused_and_nothing_saved(nanqiao_client, people):
    upload = SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")
    response = nanqiao_client.post(f"{ADMIN}/story/add/", _form(people["nanqiao"], photo=upload))
    assert response.status_code == 200 and not Story.objects.exists()
    assert "photo" in response.context["adminform"].form.errors


def test_town_staff_see_only_their_towns_stories(nanqiao_client, xidu_client, people):
    ours = story(people["nanqiao"], "南桥事迹", published=None)
    theirs = story(people["xidu"], "西渡事迹")
    listed = nanqiao_client.get(f"{ADMIN}/story/").context["cl"].queryset
    assert list(listed) == [ours]
    assert nanqiao_client.get(f"{ADMIN}/story/{theirs.pk}/change/").status_code == 404
    assert xidu_client.get(f"{ADMIN}/story/{theirs.pk}/change/").status_code == 200
    response = nanqiao_client.post(
        f"{ADMIN}/story/", {"action": "unpublish", "_selected_action": [theirs.pk]}
    )
    assert response.status_code in (200, 302)
    theirs.refresh_from_db()
    assert theirs.published_on == timezone.localdate()  # another town's story is untouched
