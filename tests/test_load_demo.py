"""`load_demo`: the article's figures, idempotent, refused in production."""

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from couriers.models import Courier, Enterprise, Outlet
from couriers.scoping import staff_town_id
from stations import geo
from stations.models import Station, StationVisit, StatusReport

pytestmark = pytest.mark.django_db
LOGIN = RequestFactory().post("/")  # django-axes checks each login against its request


def _counts() -> dict[str, int]:
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "演示数据已载入" in out.getvalue()
    figures = Courier.objects.headline_figures()
    return {
        **figures,
        "enterprises": Enterprise.objects.count(),
        "outlets": Outlet.objects.count(),
        "stations": Station.objects.count(),
        "demonstration": Station.objects.filter(is_demonstration=True).count(),
        "all_day": Station.objects.filter(open_24_hours=True).count(),
        "visits": StationVisit.objects.count(),
        "reports": StatusReport.objects.count(),
    }


def test_load_demo_reproduces_the_article_and_is_idempotent(settings):
    settings.DEBUG = True
    first = _counts()
    assert first == _counts()
    assert first["enterprises"] == 22
    assert first["couriers"] >= 1800
    assert first["party_members"] == 24
    assert first["managed_members"] == 24
    assert 0 < first["mobile_members"] < 24
    assert 70 <= first["outlets"] <= 90
    assert first["stations"] == 52 and first["demonstration"] >= 50
    assert 0 < first["all_day"] < 52 and first["visits"] > 0 and first["reports"] > 0
    assert all(geo.in_fengxian(s.latitude, s.longitude) for s in Station.objects.all())
    for courier in Courier.objects.select_related("outlet", "enterprise")[:200]:
        courier.full_clean()  # demo data obeys the same rules as staff input

    _check_casework_demo()

    admin = authenticate(LOGIN, username="admin", password="fengxian-demo")
    assert admin is not None and admin.is_superuser
    nanqiao = authenticate(LOGIN, username="nanqiao", password="fengxian-demo")
    assert staff_town_id(nanqiao) == nanqiao.staff_profile.town_id
    assert nanqiao.staff_profile.town.name == "南桥镇"
    xidu = authenticate(LOGIN, username="xidu", password="fengxian-demo")
    assert xidu.staff_profile.town.name == "西渡街道"
    district = authenticate(LOGIN, username="district", password="fengxian-demo")
    assert district.staff_profile.town is None
    assert district.has_perm("couriers.view_full_id_number")
    assert not nanqiao.has_perm("couriers.view_full_id_number")


def test_load_demo_refuses_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG=False"):
        call_command("load_demo", stdout=StringIO())
    assert not Courier.objects.exists()


def test_load_demo_dry_run_writes_nothing(settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("load_demo", "--dry-run", stdout=out)
    assert "试运行" in out.getvalue()
    assert not Courier.objects.exists()


def _check_casework_demo() -> None:
    """Visits and needs in every state across the towns, pipeline histories that agree with
    the political statuses, mobile members with and without recent contact."""
    from django.utils import timezone

    from couriers.casework import pipeline
    from couriers.models import Need, Town, Visit

    today = timezone.localdate()
    assert set(Need.objects.values_list("status", flat=True)) == set(Need.Status.values)
    assert Need.objects.overdue().exists()
    this_month = Visit.objects.filter(date__gte=today.replace(day=1))
    assert set(this_month.values_list("town", flat=True)) == set(
        Town.objects.values_list("pk", flat=True)
    )
    for target in ("courier", "outlet", "enterprise"):
        assert Visit.objects.filter(**{f"{target}__isnull": False}).exists()
    with_history = Courier.objects.exclude(party_stage="")
    assert with_history.count() > 20
    for courier in with_history:
        assert courier.political_status == pipeline.status_for(courier.party_stage)
    assert Courier.objects.stalled_in_pipeline().exists()
    mobile = Courier.objects.filter(is_mobile_party_member=True)
    lapsed = Courier.objects.mobile_without_recent_contact()
    assert 0 < lapsed.count() < mobile.count()
    assert Courier.objects.willing_backbones().exists()


def test_load_demo_gives_rewards_vouchers_in_every_state_and_the_partner_account(settings):
    from activities import points
    from activities.models import PointsEntry, Reward, Voucher

    settings.DEBUG = True
    out = StringIO()
    call_command("load_demo", stdout=out)
    assert "partner-nanqiao" in out.getvalue()
    counts = (Reward.objects.count(), Voucher.objects.count(), PointsEntry.objects.count())
    call_command("load_demo", stdout=StringIO())
    assert (Reward.objects.count(), Voucher.objects.count(), PointsEntry.objects.count()) == counts
    assert Reward.objects.count() == 12
    assert {r.town_id is None for r in Reward.objects.all()} == {True, False}
    assert set(Voucher.objects.values_list("state", flat=True)) == set(Voucher.State.values)
    partner = authenticate(LOGIN, username="partner-nanqiao", password="fengxian-demo")
    assert partner.partner_membership.partner.name == "南桥镇爱心超市"
    assert staff_town_id(partner) is None  # sees no town's registry
    for courier in Courier.objects.filter(vouchers__isnull=False).distinct():
        assert points.balance(courier) >= 0
