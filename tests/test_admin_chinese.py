"""Issue 16, item 3: every string a town office sees in the admin is Chinese.

Django 5's zh_Hans lacks a few admin strings (the two-box filter widget of 服务项目, the hidden
table headers of every app list); the project's locale/ fills them in. Staff accounts are shown
by their display name (姓名), not their login, wherever the admin names a user.
"""

import datetime
import json
import re

from django.urls import reverse

from tests import factories

FILTER_WIDGET = [
    'Choose %s by selecting them and then select the "Choose" arrow button.',
    "Choose all %s",
    "Choose selected %s",
    "Remove selected %s",
    'Remove %s by selecting them and then select the "Remove" arrow button.',
    "Remove all %s",
    "(click to clear)",
]


def catalog(client) -> dict[str, str]:
    script = client.get(reverse("admin:jsi18n")).content.decode()
    return json.loads(re.search(r"const newcatalog = (\{.*?\});", script, re.S).group(1))


def test_the_two_box_filter_widget_speaks_chinese(district_client):
    strings = catalog(district_client)
    for msgid in FILTER_WIDGET:
        assert msgid in strings, msgid
        assert re.search(r"[\u4e00-\u9fff]", strings[msgid]), (msgid, strings[msgid])
    assert "%s" in strings["Choose all %s"]


def test_no_english_table_headers_on_the_admin_index(nanqiao_client):
    html = nanqiao_client.get(reverse("admin:index")).content.decode()
    for english in ("Model name", "Add link", "Change or view list link"):
        assert english not in html
    assert "模型名称" in html


def test_a_visit_names_the_staff_member_who_made_it_not_their_login(
    nanqiao, nanqiao_town, nanqiao_client
):
    nanqiao.first_name = "李娟"
    nanqiao.save()
    visit = factories.visit(nanqiao, factories.courier(nanqiao_town), date=datetime.date.today())
    listing = nanqiao_client.get(reverse("admin:couriers_visit_changelist")).content.decode()
    page = nanqiao_client.get(
        reverse("admin:couriers_visit_change", args=[visit.pk])
    ).content.decode()
    for html in (listing, page):
        assert "李娟" in html
        assert ">nanqiao<" not in html


def test_a_staff_account_without_a_name_still_shows_its_login(nanqiao):
    assert str(nanqiao) == "nanqiao"
    nanqiao.first_name = "李娟"
    assert str(nanqiao) == "李娟"


def test_a_new_staff_account_is_given_a_display_name(district_client, district):
    district.is_superuser = True
    district.save()
    form = district_client.get(reverse("admin:auth_user_add")).content.decode()
    assert 'name="first_name"' in form
    assert "姓名" in form
    response = district_client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "zhuanglin",
            "first_name": "庄林",
            "usable_password": "true",
            "password1": "a-long-pass-phrase-2026",
            "password2": "a-long-pass-phrase-2026",
            "staff_profile-TOTAL_FORMS": "1",
            "staff_profile-INITIAL_FORMS": "0",
            "staff_profile-0-town": "",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    from django.contrib.auth.models import User

    assert str(User.objects.get(username="zhuanglin")) == "庄林"
