"""What 「我的」 promises in the privacy notice (「你可以随时在“我的”页面查看、修改」): the courier
withdraws the separate consent for their political status, changes their phone with a code
sent to the new number, and asks for erasure, which staff of their town complete."""

from __future__ import annotations

import time

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from couriers import identity
from couriers.messaging import otp
from couriers.models import Courier, ErasureRequest
from stations import devices
from stations.checkin.views import CodeForm, PhoneForm, focus_first_error
from stations.models import CheckIn

PHONE_CHANGE = "me_phone_change"
PHONE_CHANGE_MAX_AGE = 900  # the new number's code is good for 10 minutes; a little slack


def sensitive_consent(courier: Courier) -> dict:
    """Where the courier's consent to processing their political status stands."""
    given = (
        CheckIn.objects.filter(courier=courier, sensitive_consent_at__isnull=False)
        .order_by("-sensitive_consent_at")
        .values_list("sensitive_consent_at", flat=True)
        .first()
    )
    withdrawn = courier.sensitive_consent_withdrawn_at
    return {
        "given_at": given,
        "withdrawn_at": withdrawn,
        "active": given is not None and withdrawn is None,
    }


@require_POST
@identity.courier_required
def me_consent_withdraw(request: HttpRequest) -> HttpResponse:
    courier = identity.current_courier(request)
    if courier.sensitive_consent_withdrawn_at is None:
        courier.sensitive_consent_withdrawn_at = timezone.now()
        courier.save(update_fields=["sensitive_consent_withdrawn_at", "updated_at"])
    messages.success(
        request,
        "已撤回对处理政治面貌的单独同意：它不再用于任何公开的统计和页面，工作人员会看到你已撤回。",
    )
    return redirect("me")


@devices.remembers_device
@identity.courier_required
def me_phone(request: HttpRequest) -> HttpResponse:
    """Step one, the new number (a code is sent to it); step two, that code."""
    courier = identity.current_courier(request)
    pending = request.session.get(PHONE_CHANGE)
    if pending and time.time() - pending["at"] > PHONE_CHANGE_MAX_AGE:
        request.session.pop(PHONE_CHANGE)
        pending = None
    if request.method == "POST" and "code" in request.POST and pending:
        form = CodeForm(request.POST)
        if form.is_valid():
            try:
                otp.verify_code(pending["phone"], form.cleaned_data["code"], _device(request))
            except otp.CodeError as problem:
                form.add_error("code", str(problem))
            else:
                request.session.pop(PHONE_CHANGE)
                if _change_phone(courier, pending["phone"]):
                    messages.success(request, "手机号已更换，以后用新号码登录。")
                    return redirect("me")
                messages.error(
                    request, "这个号码已登记在另一位小哥名下，请联系所在街镇的工作人员。"
                )
                return redirect("me_phone")
        return render(
            request,
            "checkin/me_phone.html",
            {"code_form": focus_first_error(form), "phone": pending["phone"]},
        )
    form = PhoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        if phone == courier.phone:
            form.add_error("phone", "这就是你现在的手机号。")
        else:
            try:
                otp.send_code(phone, devices.address_hash(request), _device(request))
            except otp.CodeError as problem:
                form.add_error("phone", str(problem))
            else:
                request.session[PHONE_CHANGE] = {"phone": phone, "at": time.time()}
                return render(
                    request, "checkin/me_phone.html", {"code_form": CodeForm(), "phone": phone}
                )
    return render(
        request, "checkin/me_phone.html", {"form": focus_first_error(form), "courier": courier}
    )


def _device(request: HttpRequest) -> str:
    return devices.device_hash(request)


def _change_phone(courier: Courier, phone: str) -> bool:
    """The new number is proven; False when another courier holds it."""
    try:
        with transaction.atomic():
            if Courier.objects.filter(phone=phone).exclude(pk=courier.pk).exists():
                return False
            courier.phone = phone
            courier.save(update_fields=["phone", "updated_at"])
    except IntegrityError:
        return False
    return True


@identity.courier_required
def me_erasure(request: HttpRequest) -> HttpResponse:
    """Ask for erasure: a request staff of the courier's town see and complete."""
    courier = identity.current_courier(request)
    open_request = ErasureRequest.objects.filter(courier=courier, completed_at__isnull=True).first()
    if request.method == "POST" and open_request is None and request.POST.get("confirm") == "1":
        try:
            with transaction.atomic():
                open_request = ErasureRequest.objects.create(
                    courier=courier,
                    town=courier.work_town,
                    reason=request.POST.get("reason", "").strip()[:200],
                )
        except IntegrityError:  # a double tap: the first request stands
            pass
        messages.success(
            request,
            f"已提交注销申请，{courier.work_town.name}工作人员核实后会删除或匿名化你的全部信息。",
        )
        return redirect("me")
    return render(request, "checkin/me_erasure.html", {"open_request": open_request})
