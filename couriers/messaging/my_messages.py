"""「我的」 → 消息设置: the courier chooses which kinds of message they get (codes always come:
signing in needs them) and sees the last messages sent to them. Choosing here also ends a
reply-stop (退订): the courier has chosen afresh."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from couriers import identity
from couriers.messaging import templates
from couriers.models import Courier, Message, MessagePreference

RECENT = 10
CHOOSABLE = [(kind.value, kind.label) for kind in templates.Kind if kind != templates.Kind.CODE]


class PreferenceForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        label="接收以下消息",
        choices=CHOOSABLE,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


def _received_kinds(courier: Courier) -> list[str]:
    preference = MessagePreference.objects.filter(courier=courier).first()
    return [kind for kind, _ in CHOOSABLE if preference is None or preference.allows(kind)]


def _recent(courier: Courier) -> list[dict]:
    sent = (
        Message.objects.filter(courier=courier)
        .exclude(template__in=[t.code for t in templates.TEMPLATES.values() if t.kind == "code"])
        .order_by("-created_at", "-id")[:RECENT]
    )
    return [
        {
            "at": message.sent_at or message.created_at,
            "title": templates.get(message.template).title,
            "text": templates.get(message.template).render(message.params),
            "state": message.get_state_display(),
        }
        for message in sent
    ]


@identity.courier_required
def me_messages(request: HttpRequest) -> HttpResponse:
    courier = identity.current_courier(request)
    form = PreferenceForm(initial={"kinds": _received_kinds(courier)})
    return render(
        request,
        "checkin/me_messages.html",
        {"form": form, "recent": _recent(courier), "code_kind": templates.Kind.CODE.label},
    )


@require_POST
@identity.courier_required
def me_messages_save(request: HttpRequest) -> HttpResponse:
    courier = identity.current_courier(request)
    form = PreferenceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "没有保存：请重新选择。")
        return redirect("me_messages")
    chosen = set(form.cleaned_data["kinds"])
    muted = [kind for kind, _ in CHOOSABLE if kind not in chosen]
    MessagePreference.objects.update_or_create(
        courier=courier, defaults={"muted_kinds": muted, "stopped_at": None}
    )
    messages.success(request, "消息设置已保存。")
    return redirect("me_messages")
