"""The courier's check-in flow (scan → form → phone code → 欢迎回家) and their own page."""

from __future__ import annotations

import time

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from couriers import identity
from couriers.messaging import otp
from couriers.models import Brand, Courier, Outlet, Town
from couriers.privacy.masking import mask_phone
from couriers.registration import find_or_register
from couriers.validators import normalize_phone
from stations import devices
from stations.checkin.flow import check_in, existing_checkin, point_from_token
from stations.models import Campaign, CheckinPoint, SixI
from stations.views import Entry, search_stations

PENDING = "checkin_pending"
# An unverified check-in (name, phone, political status) is kept no longer than this: older,
# it is dropped and the form starts again.
PENDING_MAX_AGE = 3600
DEBUG_CODE = "debug_code"


def _phone_field() -> forms.CharField:
    return forms.CharField(
        label="手机号码",
        max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )


class OutletSelect(forms.Select):
    """Each outlet option carries its brand (data-brand), so that outlet_by_brand.js offers
    only the outlets of the brand chosen above it."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        outlet = getattr(value, "instance", None)
        if outlet is not None:
            option["attrs"]["data-brand"] = outlet.enterprise.brand_id
        return option


class CheckinForm(forms.Form):
    name = forms.CharField(
        label="姓名", max_length=30, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    phone = _phone_field()
    brand = forms.ModelChoiceField(
        Brand.objects.all(), label="快递品牌", required=False, empty_label="请选择"
    )
    outlet = forms.ModelChoiceField(
        Outlet.objects.none(),
        label="所在网点",
        required=False,
        empty_label="请选择（没有就在下面填写）",
        widget=OutletSelect,
    )
    workplace = forms.CharField(
        label="所在企业/网点（列表里没有时填写）", max_length=100, required=False
    )
    work_town = forms.ModelChoiceField(Town.objects.all(), label="工作街镇", empty_label=None)
    political_status = forms.ChoiceField(
        label="政治面貌（可不填）",
        required=False,
        choices=[("", "不填写"), *Courier.PoliticalStatus.choices],
    )
    interests = forms.MultipleChoiceField(
        label="想参加的志愿服务（6I）",
        required=False,
        choices=SixI.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    agree_privacy = forms.BooleanField(
        label="我已阅读并同意上面的《个人信息处理告知》",
        error_messages={"required": "请先阅读并同意个人信息处理告知。"},
    )
    agree_sensitive = forms.BooleanField(
        label="我单独同意平台处理我的政治面貌（敏感个人信息），仅用于党组织联系服务", required=False
    )

    def __init__(self, *args, point: CheckinPoint, known_phone: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        # A signed-in courier's proven phone is not written into the page: shown masked, kept
        # when the field is left empty.
        self.known_phone = known_phone
        if known_phone:
            field = self.fields["phone"]
            field.required = False
            field.help_text = f"已验证：{mask_phone(known_phone)}；不换号码请留空"
            field.widget.attrs["placeholder"] = mask_phone(known_phone)
        self.fields["outlet"].queryset = Outlet.objects.filter(town=point.town).select_related(
            "enterprise__brand"
        )
        self.fields["work_town"].initial = point.town

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data["phone"]) or self.known_phone

    def clean(self):
        data = super().clean()
        if data.get("political_status") and not data.get("agree_sensitive"):
            self.add_error("agree_sensitive", "填写政治面貌需要你单独同意；也可以不填政治面貌。")
        outlet, brand = data.get("outlet"), data.get("brand")
        if outlet and brand and outlet.enterprise.brand_id != brand.pk:
            self.add_error("outlet", f"这个网点属于“{outlet.enterprise.brand}”。")
        return data


class CodeForm(forms.Form):
    code = forms.CharField(
        label="短信验证码",
        max_length=8,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]*"}
        ),
    )


class PhoneForm(forms.Form):
    phone = _phone_field()

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data["phone"])


def focus_first_error(form: forms.Form) -> forms.Form:
    """Put the cursor in the first field with an error, so that a courier on a phone lands on
    what to fix (and a screen reader reads it) instead of at the top of the page."""
    for name in form.errors:
        if name in form.fields:
            form.fields[name].widget.attrs["autofocus"] = True
            break
    return form


def _bad_token(request: HttpRequest) -> HttpResponse:
    return render(request, "checkin/bad_token.html", status=400)


def _send_code(request: HttpRequest, phone: str, *, deliver: bool = True) -> bool:
    try:
        code = otp.send_code(
            phone, devices.address_hash(request), devices.device_hash(request), deliver=deliver
        )
    except otp.CodeError as problem:
        messages.error(request, str(problem))
        return False
    if settings.DEBUG and deliver:  # development only: the console backend does not really send
        request.session[DEBUG_CODE] = code
    return True


def _debug_code(request: HttpRequest) -> str | None:
    """The last code sent, shown on the page in development only."""
    return request.session.get(DEBUG_CODE) if settings.DEBUG else None


@devices.remembers_device
def checkin_start(request: HttpRequest, token: str) -> HttpResponse:
    point = point_from_token(token)
    if point is None:
        return _bad_token(request)
    campaign = Campaign.objects.current()
    courier = identity.current_courier(request)
    current = existing_checkin(courier, campaign) if courier and campaign else None
    if campaign is None or current is not None:
        return render(
            request,
            "checkin/already.html",
            {
                "point": point,
                "campaign": campaign,
                "checkin": current,
                "token": token,
            },
        )
    initial = {}
    if courier:
        initial = {
            "name": courier.name,
            "brand": courier.brand_id,
            "outlet": courier.outlet_id,
            "work_town": courier.work_town_id,
        }
    pending = request.session.get(PENDING)
    if request.method == "GET" and pending and pending.get("point") == point.pk:
        # Back from the code page (「号码填错了？」): what they typed is still there.
        initial = _initial_from_pending(pending)
    form = CheckinForm(
        request.POST or None,
        point=point,
        initial=initial,
        known_phone=courier.phone if courier else "",
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        pending = {
            "point": point.pk,
            "name": data["name"].strip(),
            "phone": data["phone"],
            "brand": data["brand"].pk if data["brand"] else None,
            "outlet": data["outlet"].pk if data["outlet"] else None,
            "workplace": data["workplace"].strip(),
            "work_town": data["work_town"].pk,
            "political_status": data["political_status"],
            "interests": data["interests"],
            "sensitive": bool(data["political_status"] and data["agree_sensitive"]),
        }
        if courier and courier.phone == data["phone"]:  # already proved this phone
            return _complete(request, token, point, pending, campaign)
        request.session[PENDING] = pending | {"started_at": time.time()}
        if courier is None:  # a visitor not signed in: the session itself ends with the form
            request.session.set_expiry(PENDING_MAX_AGE)
        if _send_code(request, data["phone"]):
            return redirect("checkin:verify", token=token)
    return render(
        request,
        "checkin/start.html",
        {"point": point, "campaign": campaign, "form": focus_first_error(form)},
    )


def _initial_from_pending(pending: dict) -> dict:
    return {
        "name": pending["name"],
        "phone": pending["phone"],
        "brand": pending["brand"],
        "outlet": pending["outlet"],
        "workplace": pending["workplace"],
        "work_town": pending["work_town"],
        "political_status": pending["political_status"],
        "interests": pending["interests"],
        "agree_sensitive": pending["sensitive"],
    }


@devices.remembers_device
def checkin_verify(request: HttpRequest, token: str) -> HttpResponse:
    point = point_from_token(token)
    if point is None:
        return _bad_token(request)
    pending = request.session.get(PENDING)
    if pending and time.time() - pending.get("started_at", 0) > PENDING_MAX_AGE:
        del request.session[PENDING]  # too old: dropped
        pending = None
    if not pending or pending["point"] != point.pk:
        return redirect("checkin:start", token=token)
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        if "resend" in request.POST:
            if _send_code(request, pending["phone"]):
                messages.success(request, "验证码已重新发送。")
            return redirect("checkin:verify", token=token)
        if form.is_valid():
            try:
                otp.verify_code(
                    pending["phone"], form.cleaned_data["code"], devices.device_hash(request)
                )
            except otp.CodeError as problem:
                form.add_error("code", str(problem))
            else:
                pending = request.session.pop(PENDING)
                request.session.pop(DEBUG_CODE, None)
                return _complete(request, token, point, pending, Campaign.objects.current())
    return render(
        request,
        "checkin/verify.html",
        {
            "point": point,
            "token": token,
            "form": focus_first_error(form),
            "phone": pending["phone"],
            "debug_code": _debug_code(request),
            "resend_wait": otp.resend_wait(pending["phone"], devices.device_hash(request)),
        },
    )


def _complete(
    request: HttpRequest, token: str, point: CheckinPoint, pending: dict, campaign
) -> HttpResponse:
    """The phone is proven: match or register the courier, then record the check-in."""
    if campaign is None:
        return redirect("checkin:start", token=token)
    try:
        courier, _created = find_or_register(
            pending["phone"],
            name=pending["name"],
            town=Town.objects.get(pk=pending["work_town"]),
            brand=Brand.objects.filter(pk=pending["brand"]).first(),
            outlet=Outlet.objects.select_related("enterprise__brand")
            .filter(pk=pending["outlet"])
            .first(),
            political_status=pending["political_status"],
            workplace=pending["workplace"],
        )
    except ValidationError as problem:
        messages.error(request, "登记信息有误：" + "；".join(problem.messages))
        return redirect("checkin:start", token=token)
    identity.sign_in(request, courier)
    outcome = check_in(
        courier,
        point,
        campaign,
        interests=pending["interests"],
        sensitive_consent=pending["sensitive"],
    )
    if outcome.status == "already" and outcome.checkin.point_id != point.pk:
        return redirect("checkin:start", token=token)  # offers to move the registration
    return redirect("checkin:done", token=token)


@require_POST
def checkin_move(request: HttpRequest, token: str) -> HttpResponse:
    point = point_from_token(token)
    if point is None:
        return _bad_token(request)
    courier, campaign = identity.current_courier(request), Campaign.objects.current()
    if courier is None or campaign is None:
        return redirect("checkin:start", token=token)
    current = existing_checkin(courier, campaign)
    if current is None:  # nothing to move: register through the form and its consent
        return redirect("checkin:start", token=token)
    outcome = check_in(
        courier,
        point,
        campaign,
        move=True,
        interests=current.interests,
        sensitive_consent=False,
    )
    if outcome.status == "moved":
        messages.success(request, f"已改到“{point.name}”报到。")
    return redirect("checkin:done", token=token)


def checkin_done(request: HttpRequest, token: str) -> HttpResponse:
    point = point_from_token(token)
    if point is None:
        return _bad_token(request)
    courier = identity.current_courier(request)
    campaign = Campaign.objects.current()
    checkin = existing_checkin(courier, campaign) if courier and campaign else None
    if checkin is None:
        return redirect("checkin:start", token=token)
    return render(
        request,
        "checkin/done.html",
        {
            "courier": courier,
            "checkin": checkin,
            "point": point,
            "stations": nearest_stations(point),
        },
    )


def nearest_stations(point: CheckinPoint, count: int = 3) -> list[Entry]:
    """The open stations nearest the point (by its coordinates, else in its town)."""
    if point.latitude is None:
        return search_stations(town=point.town, open_only=True)[:count]
    return search_stations(open_only=True, lat=point.latitude, lng=point.longitude)[:count]


# --- the courier's own page -----------------------------------------------------------------


class ContactForm(forms.ModelForm):
    """What the courier may change themselves; the phone changes with a code (my_data.me_phone),
    the political status through staff (it follows the party records)."""

    interests = forms.MultipleChoiceField(
        label="想参加的志愿服务（6I）",
        required=False,
        choices=SixI.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Courier
        fields = ["name", "work_town", "brand", "outlet"]
        labels = {
            "name": "姓名",
            "work_town": "工作街镇",
            "brand": "快递品牌",
            "outlet": "所在网点",
        }
        widgets = {"outlet": OutletSelect}

    def __init__(self, *args, checkin=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.checkin = checkin
        self.fields["outlet"].queryset = Outlet.objects.select_related("enterprise__brand")
        self.fields["outlet"].empty_label = "不填写"
        if checkin is None:
            del self.fields["interests"]
        else:
            self.fields["interests"].initial = checkin.interests

    def clean(self):
        data = super().clean()
        outlet, brand = data.get("outlet"), data.get("brand")
        if outlet and brand and outlet.enterprise.brand_id != brand.pk:
            self.add_error("outlet", f"这个网点属于“{outlet.enterprise.brand}”。")
        return data

    def save(self, commit: bool = True):
        courier = super().save(commit=False)
        outlet = self.cleaned_data.get("outlet")
        if outlet is not None:
            courier.enterprise = outlet.enterprise
            courier.brand = outlet.enterprise.brand
        courier.save()
        if self.checkin is not None:
            self.checkin.interests = self.cleaned_data.get("interests", [])
            self.checkin.save(update_fields=["interests", "updated_at"])
        return courier


@identity.courier_required
def me_edit(request: HttpRequest) -> HttpResponse:
    courier = identity.current_courier(request)
    old_brand_id = courier.brand_id
    if request.method == "POST" and request.POST.get("brand", "") != str(old_brand_id or ""):
        courier.enterprise = courier.outlet = None  # their outlet belonged to the old brand
    campaign = Campaign.objects.current()
    checkin = existing_checkin(courier, campaign) if campaign else None
    form = ContactForm(request.POST or None, instance=courier, checkin=checkin)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "已保存。")
        return redirect("me")
    return render(
        request, "checkin/me_edit.html", {"form": focus_first_error(form), "courier": courier}
    )


@devices.remembers_device
def me_signin(request: HttpRequest) -> HttpResponse:
    """Sign in again (on another phone) with phone and code."""
    if request.method == "POST" and "code" in request.POST:
        phone = request.session.get("signin_phone", "")
        form = CodeForm(request.POST)
        if phone and form.is_valid():
            try:
                otp.verify_code(phone, form.cleaned_data["code"], devices.device_hash(request))
            except otp.CodeError as problem:
                form.add_error("code", str(problem))
            else:
                courier = Courier.objects.filter(phone=phone).first()
                request.session.pop("signin_phone", None)
                if courier is not None:
                    identity.sign_in(request, courier)
                    target = identity.page_after_sign_in(_safe_next(request))
                    return redirect(target or reverse("me"))
        return render(
            request,
            "checkin/signin.html",
            {
                "code_form": focus_first_error(form),
                "phone": phone,
                "debug_code": _debug_code(request),
                "reason": identity.why_sign_in(_safe_next(request)),
            },
        )
    form = PhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        # One answer whether or not the phone has checked in, so that the page tells nobody who
        # is registered: the same limits, the same stored code and the same page either way;
        # only a courier's phone is sent the message.
        registered = Courier.objects.filter(phone=phone).exists()
        if _send_code(request, phone, deliver=registered):
            request.session["signin_phone"] = phone
            return render(
                request,
                "checkin/signin.html",
                {
                    "code_form": CodeForm(),
                    "phone": phone,
                    "debug_code": _debug_code(request),
                    "reason": identity.why_sign_in(_safe_next(request)),
                },
            )
    return render(
        request,
        "checkin/signin.html",
        {"form": focus_first_error(form), "reason": identity.why_sign_in(_safe_next(request))},
    )


def _safe_next(request: HttpRequest) -> str:
    target = request.GET.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if safe and target.startswith("/") else ""


@require_POST
def me_signout(request: HttpRequest) -> HttpResponse:
    identity.sign_out(request)
    messages.success(request, "已退出。")
    return redirect("home")
