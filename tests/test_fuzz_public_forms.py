"""Fuzzing the public forms with hypothesis (hypothesis.extra.django): check-in start and code,
sign-in phone and code, station status reports, photo reports, post claims, the courier's own
details, and the query strings of the station finder, the map, the posts and the leaderboard.
No input may produce a server error (5xx); 429 and 4xx answers are fine.

Each example runs in its own transaction (hypothesis.extra.django.TestCase), with the public
rate limits raised so that 429s do not hide other errors.
"""

from __future__ import annotations

import datetime
import io
import os
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase, from_form
from PIL import Image

from activities.models import Activity, VolunteerPost
from activities.programmes import attendance
from activities.programmes.views import ActivityFilter
from activities.views import PhotoReportForm, PostFilter
from couriers import identity
from couriers.models import Courier, Town
from stations.checkin.flow import point_token
from stations.checkin.views import CheckinForm, CodeForm, ContactForm, PhoneForm
from stations.models import Campaign, CheckinPoint, SixI, Station
from stations.views import FinderForm
from tests import factories

# FUZZ_EXAMPLES=500 for a longer hunt; the suite's default keeps this module under a minute.
FUZZ = hypothesis_settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "40")),
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
UNLIMITED = {"device": (10**9, 60), "address": (10**9, 60)}

# Values that have broken parsers before: huge and odd numbers, NaN and infinities, non-ASCII
# digits, NUL bytes, markup and SQL, empty and blank.
ODD = st.sampled_from(
    [
        "",
        " ",
        "0",
        "-1",
        "1e309",
        "-1e309",
        "nan",
        "NaN",
        "inf",
        "-Infinity",
        "9" * 30,
        "18446744073709551616",
        "-9223372036854775809",
        "²",
        "١٢٣",
        "１２３",
        "\x00",
        "abc\x00def",
        "%00",
        "null",
        "[]",
        "{}",
        "' OR 1=1 --",
        "<script>alert(1)</script>",
        "2025-13",
        "0000-00",
        "9999-12",
        "13912345678",
        "+86 139 1234 5678",
        "\u202e",
        "\ufeff",
    ]
)
JUNK = st.one_of(
    ODD,
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
VALUE = st.one_of(JUNK, st.lists(JUNK, max_size=3))


def junk_for(fields) -> st.SearchStrategy[dict]:
    """Odd values for some of `fields` (and the odd unknown field)."""
    names = st.sampled_from([*fields, "csrfmiddlewaretoken", "next", "x" * 300])
    return st.dictionaries(names, VALUE, max_size=len(fields) + 1)


def post_data(form_data: dict) -> dict:
    """A bound form's data as a browser would post it (no Python None or booleans)."""
    data = {}
    for name, value in form_data.items():
        if value is None or value is False:
            continue
        if value is True:
            value = "on"
        if isinstance(value, (list, tuple)):
            value = [str(v.pk if hasattr(v, "pk") else v) for v in value]
        elif hasattr(value, "pk"):
            value = str(value.pk)
        data[name] = value
    return data


def _image(kind: str) -> bytes:
    """A real small image in `kind`'s format (or a truncated JPEG for "tiny")."""
    buffer = io.BytesIO()
    image = Image.new("RGB", (8, 6), (10, 120, 200))
    if kind == "tiny":
        image.save(buffer, format="JPEG")
        return buffer.getvalue()[:40]
    image.save(buffer, format=kind.upper())
    return buffer.getvalue()


@override_settings(PUBLIC_POST_LIMITS=UNLIMITED)
class PublicFormsFuzz(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.town = Town.objects.get(name="南桥镇")
        today = timezone.localdate()
        cls.campaign = Campaign.objects.create(
            name="报到季",
            starts_on=today - datetime.timedelta(days=7),
            ends_on=today + datetime.timedelta(days=30),
            is_current=True,
        )
        cls.point = CheckinPoint.objects.create(name="南桥报到点", town=cls.town, address="路1号")
        cls.outlet = factories.outlet(cls.town)
        cls.station = Station.objects.create(
            town=cls.town,
            name="南桥驿站",
            address="测试路",
            latitude=30.918,
            longitude=121.474,
            open_24_hours=True,
        )
        cls.post = VolunteerPost.objects.create(
            title="护学岗", category=SixI.SAFETY, town=cls.town, capacity=2
        )
        cls.courier = factories.courier(cls.town, name="王小明", phone="13912345678")
        now = timezone.now()
        cls.activity = Activity.objects.create(
            title="夏送清凉",
            kind=Activity.Kind.SUMMER,
            town=cls.town,
            starts_at=now - datetime.timedelta(minutes=10),  # running: attendance is open
            ends_at=now + datetime.timedelta(hours=2),
            capacity=1,
        )

    def setUp(self):
        # Browsers send the page's origin with their forms; the station report checks it.
        self.client = Client(HTTP_ORIGIN="http://testserver")

    def assert_no_server_error(self, response, what) -> None:
        self.assertLess(response.status_code, 500, what)

    def sign_in(self, courier: Courier | None = None) -> None:
        session = self.client.session
        session[identity.SESSION_KEY] = (courier or self.courier).pk
        session.save()

    def checkin_url(self, step: str = "") -> str:
        return f"/checkin/{point_token(self.point)}/" + (f"{step}/" if step else "")

    # --- check-in ---------------------------------------------------------------------------

    @FUZZ
    @given(data=st.data())
    def test_checkin_start(self, data):
        valid = data.draw(from_form(CheckinForm, form_kwargs={"point": self.point}))
        fields = post_data(valid.data)
        fields.update(data.draw(junk_for(list(CheckinForm.base_fields))))
        if data.draw(st.booleans()):
            self.sign_in()
        response = self.client.post(self.checkin_url(), fields)
        self.assert_no_server_error(response, fields)

    @FUZZ
    @given(
        code=st.one_of(from_form(CodeForm).map(lambda f: f.data), junk_for(["code", "resend"])),
        phone=st.sampled_from(["13911112222", "13912345678"]),
    )
    def test_checkin_verify(self, code, phone):
        start = {
            "name": "李小红",
            "phone": phone,
            "work_town": self.town.pk,
            "agree_privacy": "on",
        }
        response = self.client.post(self.checkin_url(), start)
        self.assertEqual(response.status_code, 302)
        response = self.client.post(self.checkin_url("verify"), post_data(code))
        self.assert_no_server_error(response, code)

    @FUZZ
    @given(
        forwarded=st.tuples(
            st.lists(st.one_of(ODD, st.text(max_size=20)), max_size=3),
            st.one_of(st.ip_addresses().map(str), ODD, st.text(max_size=20)),
        ).map(lambda hops: ", ".join([*hops[0], hops[1]]))
    )
    def test_checkin_with_odd_forwarded_for_headers(self, forwarded):
        # The last X-Forwarded-For hop is taken as the client's address (for rate limits and
        # the audit log's remote address) when it is an address; whatever the header holds,
        # nothing breaks.
        client = Client(HTTP_X_FORWARDED_FOR=forwarded)
        from couriers.messaging import backends

        backends.outbox.clear()
        start = {"name": "李小红", "phone": "13911112222", "work_town": self.town.pk}
        start["agree_privacy"] = "on"
        response = client.post(self.checkin_url(), start)
        self.assert_no_server_error(response, forwarded)
        if backends.outbox:
            code = backends.outbox[-1][1].split("验证码 ")[1][:6]
            response = client.post(self.checkin_url("verify"), {"code": code})
            self.assert_no_server_error(response, forwarded)

    @FUZZ
    @given(
        token=st.one_of(ODD, st.text(max_size=60)),
        step=st.sampled_from(["", "verify", "move", "done"]),
    )
    def test_checkin_odd_tokens(self, token, step):
        path = f"/checkin/{quote(token, safe='') or 'x'}/" + (f"{step}/" if step else "")
        self.assert_no_server_error(self.client.get(path), path)
        self.assert_no_server_error(self.client.post(path, {"name": token}), path)

    # --- signing in ---------------------------------------------------------------------------

    @FUZZ
    @given(
        fields=st.one_of(from_form(PhoneForm).map(lambda f: f.data), junk_for(["phone", "code"]))
    )
    def test_signin_phone(self, fields):
        response = self.client.post("/me/signin/", post_data(fields))
        self.assert_no_server_error(response, fields)

    @FUZZ
    @given(
        fields=st.one_of(from_form(CodeForm).map(lambda f: f.data), junk_for(["code", "phone"])),
        next_url=st.one_of(ODD, st.text(max_size=30), st.just("//evil.example/")),
    )
    def test_signin_code(self, fields, next_url):
        session = self.client.session
        session["signin_phone"] = self.courier.phone
        session.save()
        fields = {"code": "", **post_data(fields)}
        response = self.client.post("/me/signin/?next=" + quote(next_url), fields)
        self.assert_no_server_error(response, fields)
        if response.status_code == 302:
            self.assertTrue(response["Location"].startswith("/"))
            self.assertFalse(response["Location"].startswith("//"))

    # --- reports, posts and the courier's details --------------------------------------------

    @FUZZ
    @given(fields=junk_for(["kind"]), station=st.one_of(st.none(), st.integers(0, 2**63)))
    def test_station_report(self, fields, station):
        pk = self.station.pk if station is None else station
        response = self.client.post(f"/stations/{pk}/report/", fields)
        self.assert_no_server_error(response, fields)

    @FUZZ
    @given(
        data=st.data(),
        photo=st.one_of(
            st.binary(max_size=2000),
            st.sampled_from(["jpeg", "png", "webp", "gif", "tiny"]).map(_image),
        ),
        name=st.one_of(st.just("photo.jpg"), st.text(min_size=1, max_size=40)),
    )
    def test_photo_report(self, data, photo, name):
        self.sign_in()
        valid = data.draw(from_form(PhotoReportForm, photo=st.just("x")))
        fields = post_data({k: v for k, v in valid.data.items() if k != "photo"})
        fields.update(data.draw(junk_for([f for f in PhotoReportForm.base_fields if f != "photo"])))
        safe_name = name.replace("\x00", "") or "photo.jpg"
        fields["photo"] = SimpleUploadedFile(safe_name, photo)
        response = self.client.post("/reports/new/", fields)
        self.assert_no_server_error(response, {k: v for k, v in fields.items() if k != "photo"})

    @FUZZ
    @given(
        pk=st.one_of(st.none(), st.integers(0, 2**70)),
        action=st.sampled_from(["claim", "withdraw"]),
        fields=junk_for(["confirm"]),
        signed_in=st.booleans(),
    )
    def test_post_claim(self, pk, action, fields, signed_in):
        if signed_in:
            self.sign_in()
        path = f"/posts/{self.post.pk if pk is None else pk}/{action}/"
        self.assert_no_server_error(self.client.post(path, fields), path)

    @FUZZ
    @given(data=st.data())
    def test_me_edit(self, data):
        self.sign_in()
        valid = data.draw(from_form(ContactForm))
        fields = post_data(valid.data)
        fields.update(data.draw(junk_for(list(ContactForm.base_fields))))
        response = self.client.post("/me/edit/", fields)
        self.assert_no_server_error(response, fields)

    @FUZZ
    @given(show=VALUE)
    def test_me_leaderboard_choice(self, show):
        self.sign_in()
        response = self.client.post("/me/leaderboard/", {"show": show})
        self.assert_no_server_error(response, show)

    @FUZZ
    @given(
        pk=st.one_of(st.none(), st.integers(0, 2**70)),
        action=st.sampled_from(["signup", "cancel"]),
        fields=junk_for(["confirm"]),
        signed_in=st.booleans(),
    )
    def test_activity_signup_and_cancel(self, pk, action, fields, signed_in):
        if signed_in:
            self.sign_in()
        path = f"/activities/{self.activity.pk if pk is None else pk}/{action}/"
        self.assert_no_server_error(self.client.post(path, fields), path)

    @FUZZ
    @given(
        token=st.one_of(
            st.none(), ODD, st.text(max_size=60), st.integers(-(2**70), 2**70).map(str)
        ),
        method=st.sampled_from(["get", "post"]),
        signed_in=st.booleans(),
    )
    def test_activity_attendance_token(self, token, method, signed_in):
        if signed_in:
            self.sign_in()
        if token is None:
            token = attendance.token(self.activity)
        path = f"/activities/attend/{quote(token, safe='') or 'x'}/"
        response = getattr(self.client, method)(path)
        self.assert_no_server_error(response, path)

    # --- query strings of the public lists ---------------------------------------------------

    @FUZZ
    @given(data=st.data(), path=st.sampled_from(["/stations/", "/stations/map/"]))
    def test_station_finder_query(self, data, path):
        valid = data.draw(from_form(FinderForm))
        params = post_data(valid.data)
        params.update(data.draw(junk_for(list(FinderForm.base_fields))))
        response = self.client.get(path, params)
        self.assert_no_server_error(response, params)

    @FUZZ
    @given(
        lat=st.floats(allow_nan=True, allow_infinity=True),
        lng=st.floats(allow_nan=True, allow_infinity=True),
    )
    def test_station_finder_any_position(self, lat, lng):
        params = {"lat": repr(lat), "lng": repr(lng)}
        response = self.client.get("/stations/", params)
        self.assert_no_server_error(response, params)
        self.assertEqual(response.status_code, 200)

    @FUZZ
    @given(data=st.data())
    def test_posts_query(self, data):
        valid = data.draw(from_form(PostFilter))
        params = post_data(valid.data)
        params.update(data.draw(junk_for(list(PostFilter.base_fields))))
        response = self.client.get("/posts/", params)
        self.assert_no_server_error(response, params)

    @FUZZ
    @given(data=st.data(), pk=st.one_of(st.none(), st.integers(0, 2**70)))
    def test_activities_query(self, data, pk):
        valid = data.draw(from_form(ActivityFilter))
        params = post_data(valid.data)
        params.update(data.draw(junk_for([*ActivityFilter.base_fields, "page"])))
        response = self.client.get("/activities/", params)
        self.assert_no_server_error(response, params)
        path = f"/activities/{self.activity.pk if pk is None else pk}/"
        self.assert_no_server_error(self.client.get(path, params), path)
        self.assert_no_server_error(self.client.get(path.rstrip("/") + ".ics"), path)

    @FUZZ
    @given(params=junk_for(["page", "town", "kind"]), pk=st.integers(0, 2**70))
    def test_stories_and_partnerships_query(self, params, pk):
        for path in ("/stories/", "/partnerships/", f"/stories/{pk}/", f"/stories/{pk}/photo/"):
            self.assert_no_server_error(self.client.get(path, params), path)

    @FUZZ
    @given(params=st.dictionaries(st.sampled_from(["month", "town", "page"]), JUNK))
    def test_leaderboard_query(self, params):
        response = self.client.get("/leaderboard/", params)
        self.assert_no_server_error(response, params)


# --- server errors the fuzzing found ---------------------------------------------------------


@pytest.mark.django_db
def test_leaderboard_last_representable_month(anonymous):
    response = anonymous.get("/leaderboard/", {"month": "9999-12"})
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("town", ["²", "①"])
def test_leaderboard_town_in_non_ascii_digits(anonymous, town):
    response = anonymous.get("/leaderboard/", {"town": town})
    assert response.status_code == 200


@pytest.mark.django_db
def test_a_forwarded_for_hop_that_is_no_address(nanqiao_town, sms_outbox):
    from auditlog.models import LogEntry

    today = timezone.localdate()
    Campaign.objects.create(
        name="报到季",
        starts_on=today - datetime.timedelta(days=1),
        ends_on=today + datetime.timedelta(days=30),
        is_current=True,
    )
    point = CheckinPoint.objects.create(name="南桥报到点", town=nanqiao_town, address="路1号")
    url = f"/checkin/{point_token(point)}/"
    client = Client(HTTP_X_FORWARDED_FOR="0", REMOTE_ADDR="10.9.8.7")
    start = {"name": "李小红", "phone": "13911112222", "work_town": nanqiao_town.pk}
    assert client.post(url, {**start, "agree_privacy": "on"}).status_code == 302
    code = sms_outbox[-1][1].split("验证码 ")[1][:6]
    response = client.post(url + "verify/", {"code": code})
    assert response.status_code == 302
    entry = LogEntry.objects.get(content_type__model="courier")
    assert entry.remote_addr in (None, "10.9.8.7")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/stations/", "/stations/map/"])
@pytest.mark.parametrize("service", [str(2**63), str(-(2**63) - 1), " 99999999999999999999 "])
def test_a_service_id_beyond_64_bits(anonymous, path, service):
    response = anonymous.get(path, {"service": service})
    assert response.status_code == 200
