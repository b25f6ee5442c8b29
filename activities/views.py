"""Public pages for 6I posts, the leaderboard and 拍贤城, and the courier's own page."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from activities import points
from activities.claims import ClaimRefused, claim, live_claim, with_waiting_position, withdraw
from activities.models import Claim, PhotoReport, PointsEntry, VolunteerPost
from activities.months import recent_months
from activities.programmes import signups
from activities.rewards import redeeming
from activities.rewards.views import open_vouchers_with_qr
from couriers import identity
from couriers.models import ErasureRequest, Town
from couriers.privacy.images import image_view
from couriers.privacy.masking import mask_name
from couriers.privacy.photo_drafts import PhotoDraft
from couriers.scoping import staff_object_or_404
from fengxian.public_cache import public_page
from stations.checkin import my_data
from stations.models import CheckIn, SixI

# Why signing in is needed, shown on the sign-in page (couriers.identity.why_sign_in).
SIGN_IN_TO_CLAIM = "认领志愿岗位需要先登录：岗位记在你的名下，服务确认后积分进你的账户。"
SIGN_IN_TO_REPORT = (
    "拍贤城上报需要先登录：工作人员受理后，处理进度会显示在你的“我的”页面，上报还能得积分。"
)


class PostFilter(forms.Form):
    category = forms.ChoiceField(
        choices=[("", "全部类别"), *SixI.choices], required=False, label="类别"
    )
    town = forms.ModelChoiceField(
        Town.objects.all(), required=False, label="街镇", empty_label="全部街镇"
    )
    open = forms.BooleanField(required=False, label="只看有名额")


@public_page
def post_list(request: HttpRequest) -> HttpResponse:
    form = PostFilter(request.GET or None)
    posts = VolunteerPost.objects.active().with_claim_counts().select_related("town", "community")
    if form.is_bound:
        form.is_valid()
        data = form.cleaned_data
        if data.get("category"):
            posts = posts.filter(category=data["category"])
        if data.get("town"):
            posts = posts.filter(town=data["town"])
        if data.get("open"):
            posts = posts.with_places()
    return render(
        request,
        "activities/posts.html",
        {"form": form, "posts": posts, "query": request.GET.urlencode()},
    )


@public_page
@identity.signin_reason(SIGN_IN_TO_CLAIM)
def post_detail(request: HttpRequest, pk: int) -> HttpResponse:
    post = get_object_or_404(
        VolunteerPost.objects.active()
        .with_claim_counts()
        .select_related("town", "community", "checkin_point"),
        pk=pk,
    )
    courier = identity.current_courier(request)
    mine = None
    if courier is not None:
        mine = with_waiting_position(
            Claim.objects.filter(post=post, courier=courier, status__in=Claim.LIVE)
        ).first()
    return render(
        request,
        "activities/post.html",
        {
            "post": post,
            "courier": courier,
            "mine": mine,
            "left": post.places_left,
            # 退出 asks first (?withdraw=1 shows the confirmation, see post_withdraw).
            "confirm_withdraw": mine is not None and request.GET.get("withdraw") == "1",
        },
    )


@require_POST
@identity.courier_required(reason=SIGN_IN_TO_CLAIM)
def post_claim(request: HttpRequest, pk: int) -> HttpResponse:
    post = get_object_or_404(VolunteerPost.objects.active(), pk=pk)
    try:
        made = claim(post, identity.current_courier(request), wait=request.POST.get("wait") == "1")
    except ClaimRefused as refused:
        messages.error(request, str(refused))
    else:
        if made.status == Claim.Status.WAITING:
            messages.success(
                request, "名额已满，你已加入候补名单。有人退出时会自动为你补上，请留意“我的”页面。"
            )
        else:
            messages.success(request, f"已认领“{post.title}”，感谢你的志愿服务！到岗须知见下方。")
    return redirect("activities:post", pk=pk)


@require_POST
@identity.courier_required(reason=SIGN_IN_TO_CLAIM)
def post_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """Leaving a post takes a second, deliberate tap: a post without confirm=1 (an old page, a
    slip of the thumb) only shows the question."""
    post = get_object_or_404(VolunteerPost, pk=pk)
    courier = identity.current_courier(request)
    if request.POST.get("confirm") != "1":
        if live_claim(post, courier) is None:
            return redirect("activities:post", pk=pk)
        return redirect(f"{reverse('activities:post', args=[pk])}?withdraw=1#withdraw")
    if withdraw(post, courier):
        messages.success(request, "已退出这个岗位。")
    return redirect("activities:post", pk=pk)


# --- the leaderboard ---------------------------------------------------------------------------


@public_page
def leaderboard(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    try:
        month = datetime.date.fromisoformat(request.GET.get("month", "") + "-01")
    except ValueError:
        month = today.replace(day=1)
    if not 2000 <= month.year <= 2100:  # far-off months have no points (and no next month)
        month = today.replace(day=1)
    next_month = (month + datetime.timedelta(days=32)).replace(day=1)
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(month, datetime.time(), tz)
    end = datetime.datetime.combine(next_month, datetime.time(), tz)
    town_id = request.GET.get("town", "")
    plain_number = town_id.isascii() and town_id.isdecimal() and len(town_id) < 10
    town = Town.objects.filter(pk=town_id).first() if plain_number else None
    board = [
        {
            "rank": r["rank"],
            "name": mask_name(r["courier__name"]),
            "town": r["courier__work_town__name"],
            "total": r["total"],
        }
        for r in points.leaderboard(start, end, town)
    ]
    courier = identity.courier_on_public_page(request)
    if courier is None:
        me_line = ""
    elif not courier.show_on_leaderboard:
        me_line = "我：未在积分榜显示（可在“我的”页面打开）"
    elif (my_rank := points.place_on_board(courier, start, end, town)) is not None:
        me_line = f"我：第 {my_rank} 名"
    elif town is not None and courier.work_town_id != town.pk:
        me_line = "我：不在这个街镇的榜单上"
    else:
        me_line = "我：本月还没有积分，认领志愿岗位、参加活动可得积分"
    return render(
        request,
        "activities/leaderboard.html",
        {
            "board": board,
            "me_line": me_line,
            "month": month,
            "months": recent_months(today, month),
            "town": town,
            "towns": Town.objects.all(),
        },
    )


# --- 拍贤城 -------------------------------------------------------------------------------------


class PhotoReportForm(forms.ModelForm):
    class Meta:
        model = PhotoReport
        # The photo first: it is what the courier came to give. Its form field cleans the
        # upload (couriers.privacy.images.PhotoField).
        fields = ["photo", "category", "description", "address", "town", "latitude", "longitude"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "latitude": forms.HiddenInput,
            "longitude": forms.HiddenInput,
        }

    def __init__(self, *args, photo_kept: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        photo = self.fields["photo"]
        # The phone's rear camera straight away; a photo kept from the last try needs no other.
        photo.widget.attrs.update({"capture": "environment", "class": "photo-input"})
        photo.required = not photo_kept
        self.fields["category"].choices = [("", "请选择类别"), *PhotoReport.Category.choices]
        self.fields["town"].empty_label = "请选择街镇"


@identity.courier_required(reason=SIGN_IN_TO_REPORT)
def report_new(request: HttpRequest) -> HttpResponse:
    courier = identity.current_courier(request)
    draft = PhotoDraft(request, f"report:{courier.pk}", PhotoReport._meta.get_field("photo"))
    form = PhotoReportForm(
        request.POST or None,
        request.FILES or None,
        initial={"town": courier.work_town_id},
        photo_kept=draft.exists(),
    )
    if request.method == "POST" and form.is_valid():
        report = form.save(commit=False)
        report.courier = courier
        if not form.cleaned_data.get("photo"):
            report.photo = draft.photo()
        report.save()
        draft.discard()
        messages.success(request, "报告已提交，工作人员会尽快受理，进度见下方“我的拍贤城报告”。")
        return redirect("me")
    if form.is_bound and form.cleaned_data.get("photo"):
        draft.keep(form.cleaned_data["photo"])  # a mistake elsewhere must not cost the photo
    return render(
        request, "activities/report_new.html", {"form": form, "photo_kept": draft.exists()}
    )


@image_view
def report_photo(request: HttpRequest, pk: int) -> HttpResponse:
    """A report's photo, only for its reporter and for staff of its town."""
    report = get_object_or_404(PhotoReport, pk=pk)
    courier = identity.current_courier(request)
    if courier is None or courier.pk != report.courier_id:
        staff_object_or_404(request.user, PhotoReport.objects.all(), pk=pk)
    response = FileResponse(report.photo.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@public_page
def resolved_reports(request: HttpRequest) -> HttpResponse:
    """Resolved reports staff chose to publish: what was found and done, no personal data."""
    reports = PhotoReport.objects.filter(
        status=PhotoReport.Status.RESOLVED, is_published=True
    ).select_related("town")[:50]
    return render(request, "activities/resolved.html", {"reports": reports})


# --- the courier's own page -------------------------------------------------------------------


@identity.courier_required
def me(request: HttpRequest) -> HttpResponse:
    courier = identity.current_courier(request)
    courier = (
        type(courier)
        .objects.select_related("work_town", "brand", "enterprise", "outlet")
        .get(pk=courier.pk)
    )
    wallet = redeeming.wallet(courier)
    return render(
        request,
        "checkin/me.html",
        {
            "courier": courier,
            "checkins": CheckIn.objects.filter(courier=courier).select_related(
                "point__town", "campaign"
            ),
            "claims": with_waiting_position(
                Claim.objects.filter(courier=courier, status__in=Claim.LIVE)
            ).select_related("post__town"),
            "balance": wallet["available"],
            "entries": PointsEntry.objects.filter(courier=courier)[:20],
            "reports": PhotoReport.objects.filter(courier=courier)[:10],
            "signups": signups.upcoming_for(courier),
            "wallet": wallet,
            "vouchers": open_vouchers_with_qr(request, courier),
            "consent": my_data.sensitive_consent(courier),
            "erasure": ErasureRequest.objects.filter(
                courier=courier, completed_at__isnull=True
            ).first(),
        },
    )


@require_POST
@identity.courier_required
def me_leaderboard(request: HttpRequest) -> HttpResponse:
    courier = identity.current_courier(request)
    courier.show_on_leaderboard = request.POST.get("show") == "1"
    courier.save(update_fields=["show_on_leaderboard", "updated_at"])
    messages.success(
        request, "已出现在积分榜。" if courier.show_on_leaderboard else "已不在公开积分榜上显示。"
    )
    return redirect("me")
