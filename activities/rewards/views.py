"""The couriers' pages: the rewards catalogue, a reward, redeeming it and cancelling a voucher."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from activities import points
from activities.models import Reward, Voucher
from activities.rewards import vouchers
from activities.rewards.redeeming import RedeemRefused, redeem
from couriers import identity
from couriers.models import Town
from fengxian.links import public_url
from stations import geo
from stations.posters import qr_svg

# Why signing in is needed, shown on the sign-in page (couriers.identity.why_sign_in).
SIGN_IN_TO_REDEEM = "兑换需要先登录：兑换用的是你自己的积分，兑换券也只给你本人。"


class RewardFilter(forms.Form):
    kind = forms.ChoiceField(
        choices=[("", "全部类型"), *Reward.Kind.choices], required=False, label="类型"
    )
    town = forms.ModelChoiceField(
        Town.objects.all(), required=False, label="街镇", empty_label="全部街镇"
    )
    lat = forms.FloatField(required=False, widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, widget=forms.HiddenInput)


def catalogue(data: dict, balance: int | None) -> list[Reward]:
    """Rewards on offer, filtered; what the courier can afford first, then the nearest (when
    the phone gave a position) or the cheapest. One query, however many rewards."""
    rewards = Reward.objects.on_offer().select_related(
        "partner", "town", "station", "checkin_point"
    )
    if data.get("kind"):
        rewards = rewards.filter(kind=data["kind"])
    if data.get("town"):
        # A town's own rewards and the district-wide ones its couriers may also take.
        rewards = rewards.filter(Q(town=data["town"]) | Q(town__isnull=True))
    lat, lng = data.get("lat"), data.get("lng")
    if lat is None or lng is None or not geo.in_fengxian(lat, lng):
        lat = lng = None
    found = list(rewards)
    for reward in found:
        position = reward.position
        reward.distance = (
            geo.distance_m(lat, lng, *position) if lat is not None and position else None
        )
        reward.distance_text = (
            geo.format_distance(reward.distance) if reward.distance is not None else ""
        )
        reward.affordable = balance is not None and reward.in_stock and reward.price <= balance
    far = float("inf")
    found.sort(
        key=lambda r: (
            not r.affordable,
            not r.in_stock,
            r.distance if r.distance is not None else far,
            r.price,
            r.pk,
        )
    )
    return found


@identity.signin_reason(SIGN_IN_TO_REDEEM)
def reward_list(request: HttpRequest) -> HttpResponse:
    courier = identity.current_courier(request)
    balance = points.balance(courier) if courier else None
    form = RewardFilter(request.GET or None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    return render(
        request,
        "rewards/rewards.html",
        {
            "form": form,
            "rewards": catalogue(data, balance),
            "courier": courier,
            "balance": balance,
        },
    )


@identity.signin_reason(SIGN_IN_TO_REDEEM)
def reward_detail(request: HttpRequest, pk: int) -> HttpResponse:
    reward = get_object_or_404(
        Reward.objects.on_offer().select_related("partner", "town", "station", "checkin_point"),
        pk=pk,
    )
    courier = identity.current_courier(request)
    balance = points.balance(courier) if courier else None
    return render(
        request,
        "rewards/reward.html",
        {"reward": reward, "courier": courier, "balance": balance},
    )


@require_POST
@identity.courier_required(reason=SIGN_IN_TO_REDEEM)
def reward_redeem(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        voucher = redeem(identity.current_courier(request), pk)
    except RedeemRefused as refused:
        messages.error(request, str(refused))
        return redirect("rewards:reward", pk=pk)
    until = timezone.localtime(voucher.expires_at)
    messages.success(
        request,
        f"兑换成功！请在 {until.year}年{until.month}月{until.day}日前到领取地点出示兑换券二维码。",
    )
    return redirect(reverse("me") + "#my-vouchers")


@require_POST
@identity.courier_required
def voucher_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    # Only the courier's own vouchers: another's is "not found".
    voucher = get_object_or_404(Voucher, pk=pk, courier=identity.current_courier(request))
    try:
        vouchers.cancel(voucher, "本人取消")
    except vouchers.VoucherRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"已取消，{voucher.points} 积分已退回。")
    return redirect(reverse("me") + "#my-vouchers")


def counter_url(request: HttpRequest, voucher: Voucher) -> str:
    """What a voucher's QR code carries: the partner's counter page with the code filled in."""
    return public_url(reverse("rewards:counter") + f"?code={voucher.code}", request)


def open_vouchers_with_qr(request: HttpRequest, courier) -> list[Voucher]:
    """The courier's recent vouchers for 「我的」, each open one with its QR code."""
    mine = list(
        Voucher.objects.filter(courier=courier).select_related(
            "reward__partner", "reward__station", "reward__checkin_point"
        )[:20]
    )
    for voucher in mine:
        voucher.qr = qr_svg(counter_url(request, voucher)) if voucher.is_usable else ""
    return mine
