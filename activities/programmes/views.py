"""Public pages for activities and classes: the list, an activity's page with sign-up, cancel
and its calendar file, and attendance by scanning the activity's QR code."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from activities.models import Activity, Attendance, SignUp
from activities.programmes import attendance, calendar, signups
from couriers import identity
from couriers.models import Town
from fengxian.links import public_host, public_url
from fengxian.public_cache import public_page

# Why signing in is needed, shown on the sign-in page (couriers.identity.why_sign_in).
SIGN_IN_TO_SIGN_UP = "报名活动需要先登录：名额记在你的名下，候补补上时会在“我的”页面告诉你。"
SIGN_IN_TO_ATTEND = "活动签到需要先登录：签到记在你的名下，积分进你的账户。"

PER_PAGE = 20


class ActivityFilter(forms.Form):
    kind = forms.ChoiceField(
        choices=[("", "全部类型"), *Activity.Kind.choices], required=False, label="类型"
    )
    town = forms.ModelChoiceField(
        Town.objects.all(), required=False, label="街镇", empty_label="全部街镇"
    )


@public_page
def activity_list(request: HttpRequest) -> HttpResponse:
    form = ActivityFilter(request.GET or None)
    activities = (
        Activity.objects.published()
        .with_counts()
        .select_related("town", "station", "checkin_point")
        .upcoming_first()
    )
    if form.is_bound and form.is_valid():
        if form.cleaned_data.get("kind"):
            activities = activities.filter(kind=form.cleaned_data["kind"])
        if form.cleaned_data.get("town"):
            activities = activities.filter(town=form.cleaned_data["town"])
    page = Paginator(activities, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "activities/activities.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


def _activity(pk: int) -> Activity:
    return get_object_or_404(
        Activity.objects.published()
        .with_counts()
        .select_related("town", "station", "checkin_point")
        .prefetch_related("organisers", "partners"),
        pk=pk,
    )


@public_page
@identity.signin_reason(SIGN_IN_TO_SIGN_UP)
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _activity(pk)
    courier = identity.current_courier(request)
    mine = attended = None
    if courier is not None:
        mine = (
            signups.with_waiting_position(SignUp.objects.filter(activity=activity, courier=courier))
            .exclude(status=SignUp.Status.CANCELLED)
            .first()
        )
        attended = Attendance.objects.filter(activity=activity, courier=courier).first()
    return render(
        request,
        "activities/activity.html",
        {
            "activity": activity,
            "courier": courier,
            "mine": mine,
            "attended": attended,
            "left": max(activity.capacity - activity.confirmed, 0),
            "open": activity.signup_open(),
            "started": timezone.now() >= activity.starts_at,
            "phase": activity.phase,
        },
    )


@public_page
def activity_ics(request: HttpRequest, pk: int) -> HttpResponse:
    activity = get_object_or_404(
        Activity.objects.published().select_related("station", "checkin_point"), pk=pk
    )
    url = public_url(reverse("activities:activity", args=[pk]), request)
    body = calendar.ics(activity, url=url, host=public_host(request))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="activity-{pk}.ics"'
    return response


@require_POST
@identity.courier_required(reason=SIGN_IN_TO_SIGN_UP)
def activity_signup(request: HttpRequest, pk: int) -> HttpResponse:
    activity = get_object_or_404(Activity.objects.published(), pk=pk)
    try:
        signup = signups.sign_up(activity, identity.current_courier(request))
    except signups.SignUpRefused as refused:
        messages.error(request, str(refused))
    else:
        if signup.status == SignUp.Status.CONFIRMED:
            messages.success(request, f"报名成功：“{activity.title}”。记得按时参加！")
        else:
            messages.success(
                request, "名额已满，你已加入候补名单。有人取消时会自动为你补上，请留意“我的”页面。"
            )
    return redirect("activities:activity", pk=pk)


@require_POST
@identity.courier_required(reason=SIGN_IN_TO_SIGN_UP)
def activity_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    activity = get_object_or_404(Activity, pk=pk)
    try:
        cancelled = signups.cancel(activity, identity.current_courier(request))
    except signups.SignUpRefused as refused:
        messages.error(request, str(refused))
    else:
        if cancelled is not None:
            messages.success(request, "已取消报名。")
    return redirect("activities:activity", pk=pk)


@require_http_methods(["GET", "HEAD", "POST"])
@identity.signin_reason(SIGN_IN_TO_ATTEND)
def attend(request: HttpRequest, token: str) -> HttpResponse:
    """The activity's QR code leads here: sign in if needed, then confirm attendance."""
    activity = attendance.activity_from_token(token)
    if activity is None:
        return render(request, "activities/attend_bad_token.html", status=404)
    state = attendance.window_state(activity)
    courier = identity.current_courier(request)
    if request.method == "POST" and state is attendance.Window.OPEN:
        if courier is None:
            return redirect(f"{reverse('me_signin')}?next={request.path}")
        record, new = attendance.mark(activity, courier, via=Attendance.Via.SCAN)
        if new:
            earned = f"，获得 {activity.points} 积分" if activity.points else ""
            messages.success(request, f"签到成功{earned}。欢迎参加“{activity.title}”！")
        else:
            messages.info(
                request, f"你已于 {timezone.localtime(record.at):%H:%M} 签到，不用重复签到。"
            )
        return redirect("activities:activity", pk=activity.pk)
    if request.method == "POST" and state is attendance.Window.CANCELLED:
        messages.error(request, "活动已取消，无法签到。")
    opens, closes = attendance.window(activity)
    return render(
        request,
        "activities/attend.html",
        {
            "activity": activity,
            "courier": courier,
            "state": state.value,
            "opens": opens,
            "closes": closes,
        },
    )
