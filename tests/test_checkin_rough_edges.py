"""The check-in flow's rough edges (issue 16, item 17): going back to fix a mistyped phone with
the form kept, 重新获取验证码 disabled while it would be refused, typos that use up no try,
the cursor on the field to fix, outlets offered by the chosen brand, and the welcome page's
suggestion of 6I posts near the point in the courier's interests."""

from __future__ import annotations

import re

import pytest

from activities.claims import claim
from activities.models import VolunteerPost
from couriers.models import PhoneCode, PhoneLock
from stations.models import CheckIn, CheckinPoint, SixI
from tests import factories
from tests.test_checkin import PHONE, age_codes, check_in, form, sent_code, url

pytestmark = pytest.mark.django_db


def test_the_code_page_offers_to_fix_the_phone_and_the_form_is_kept(
    anonymous, point, campaign, sms_outbox
):
    anonymous.post(url(point), form(name="王小明", phone="13912345679", interests=["safety"]))
    html = anonymous.get(url(point, "verify")).content.decode()
    assert "号码填错了？返回修改" in html and f'href="{url(point)}"' in html

    again = anonymous.get(url(point)).content.decode()
    assert 'value="王小明"' in again and 'value="13912345679"' in again
    assert re.search(r'value="safety" id="[^"]+" checked', again)

    anonymous.post(url(point), form(phone=PHONE))
    assert [phone for phone, _ in sms_outbox] == ["13912345679", PHONE]
    anonymous.post(url(point, "verify"), {"code": sent_code(sms_outbox)})
    assert CheckIn.objects.get().courier.phone == PHONE


def test_the_resend_button_is_disabled_while_a_new_code_would_be_refused(
    anonymous, point, campaign, sms_outbox
):
    anonymous.post(url(point), form())
    html = anonymous.get(url(point, "verify")).content.decode()
    assert 'id="resend" disabled data-wait="' in html and "秒后可重新获取" in html
    assert "js/resend_countdown.js" in html
    age_codes()
    html = anonymous.get(url(point, "verify")).content.decode()
    assert 'id="resend">' in html and "disabled" not in html.split('id="resend"')[1][:20]


@pytest.mark.parametrize("typo", ["12a", "12345", "1234567", "１２３４５６"])
def test_a_typo_that_cannot_be_a_code_uses_up_no_try(anonymous, point, campaign, sms_outbox, typo):
    anonymous.post(url(point), form())
    for _ in range(6):
        response = anonymous.post(url(point, "verify"), {"code": typo})
        assert "验证码是 6 位数字" in response.content.decode()
    assert not PhoneLock.objects.exists()
    assert PhoneCode.objects.get().failed_attempts == 0
    anonymous.post(url(point, "verify"), {"code": sent_code(sms_outbox)})
    assert CheckIn.objects.count() == 1


def test_a_wrong_six_digit_code_still_counts(anonymous, point, campaign, sms_outbox):
    anonymous.post(url(point), form())
    wrong = "000000" if sent_code(sms_outbox) != "000000" else "111111"
    response = anonymous.post(url(point, "verify"), {"code": wrong})
    assert "还可以再试 4 次" in response.content.decode()


def test_an_error_puts_the_cursor_on_the_field_to_fix(anonymous, point, campaign, sms_outbox):
    html = anonymous.post(url(point), form(agree_privacy=None)).content.decode()
    assert 'name="agree_privacy" required id="id_agree_privacy" autofocus' in html or (
        "autofocus" in html.split('name="agree_privacy"')[1].split(">")[0]
    )
    assert html.count("autofocus") == 1

    anonymous.post(url(point), form())
    html = anonymous.post(url(point, "verify"), {"code": "12a"}).content.decode()
    assert "autofocus" in html.split('name="code"')[1].split(">")[0]


def test_each_outlet_carries_its_brand_so_the_list_follows_the_chosen_brand(
    anonymous, point, campaign
):
    zto, yto = factories.brand("中通"), factories.brand("圆通")
    mine = factories.outlet(point.town, factories.enterprise(point.town, of_brand=zto))
    theirs = factories.outlet(point.town, factories.enterprise(point.town, of_brand=yto))
    html = anonymous.get(url(point)).content.decode()
    assert f'value="{mine.pk}" data-brand="{zto.pk}"' in html
    assert f'value="{theirs.pk}" data-brand="{yto.pk}"' in html
    assert "js/outlet_by_brand.js" in html


# --- 欢迎回家 suggests posts ---------------------------------------------------------------------


def _post(town, title, category=SixI.LEARN, **fields) -> VolunteerPost:
    return VolunteerPost.objects.create(
        title=title, town=town, category=category, capacity=fields.pop("capacity", 3), **fields
    )


def test_the_welcome_page_suggests_open_posts_near_the_point_in_the_couriers_interests(
    anonymous, point, campaign, nanqiao_town, xidu_town, sms_outbox
):
    point.latitude, point.longitude = 30.918, 121.474
    point.save()
    near = CheckinPoint.objects.create(
        name="西渡近处", town=xidu_town, address="西渡路", latitude=30.93, longitude=121.48
    )
    far = CheckinPoint.objects.create(
        name="西渡远处", town=xidu_town, address="远路", latitude=30.80, longitude=121.70
    )
    _post(nanqiao_town, "南桥理论宣讲")
    _post(nanqiao_town, "南桥平安巡逻", category=SixI.SAFETY)
    full = _post(nanqiao_town, "南桥满员理论", capacity=1)
    claim(full, factories.courier(nanqiao_town))
    _post(xidu_town, "邻镇近处理论", checkin_point=near)
    _post(xidu_town, "邻镇远处理论", checkin_point=far)
    _post(nanqiao_town, "停用理论", is_active=False)

    html = check_in(anonymous, point, sms_outbox, interests=["learn"]).content.decode()
    assert "欢迎回家" in html and "适合你的志愿服务岗位" in html
    assert "南桥理论宣讲" in html and "邻镇近处理论" in html
    for absent in ("南桥平安巡逻", "南桥满员理论", "邻镇远处理论", "停用理论"):
        assert absent not in html, absent
    assert "I学理论" in html


def test_without_interests_the_welcome_page_suggests_any_open_post_nearby(
    anonymous, point, campaign, nanqiao_town, sms_outbox
):
    _post(nanqiao_town, "南桥平安巡逻", category=SixI.SAFETY)
    html = check_in(anonymous, point, sms_outbox, interests=None).content.decode()
    assert "南桥平安巡逻" in html
