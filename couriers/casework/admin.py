"""Admin for casework: 三送三问 visits with their needs, the needs queue (overdue first to the
eye), the party-stage inline of the courier page, the courier worklists, the "登记走访"
button on courier, outlet and enterprise pages, and the political-status answers to verify.
Registered from `couriers.admin`."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from import_export.admin import ExportMixin
from import_export.formats import base_formats

from couriers.admin_scoping import TownScopedAdmin
from couriers.casework import pipeline
from couriers.casework import workflow as casework
from couriers.imports.resources import NeedResource, VisitResource
from couriers.models import Courier, Need, PartyStage, StatusCheck, Visit

TEXTAREA = forms.Textarea(attrs={"rows": 2, "cols": 40})


# --- courier page: worklists, party stages, quick visit entry -------------------------------


class WorklistFilter(admin.SimpleListFilter):
    """待办名单: the lists staff act on, each a queryset method of `Courier.objects`."""

    title = "待办名单"
    parameter_name = "worklist"
    LISTS = {
        "unmanaged": ("党员未纳入属地党组织管理", "unmanaged_members"),
        "no_contact": ("流动党员近期未参加组织生活", "mobile_without_recent_contact"),
        "stalled": ("入党进程停滞（超过期限未推进）", "stalled_in_pipeline"),
        "backbone_willing": ("有入党意愿的业务骨干", "willing_backbones"),
        "status_to_verify": ("政治面貌待核实（报到时所填与入党进程不符）", "status_to_verify"),
    }

    # What staff need to act on each list, shown as extra columns while it is chosen.
    COLUMNS = {
        "unmanaged": ("membership_location", "managing_organization"),
        "no_contact": ("membership_location", "managing_organization", "last_organization_contact"),
        "stalled": ("party_stage", "party_stage_since"),
        "backbone_willing": ("is_business_backbone",),
        "status_to_verify": ("party_stage", "party_stage_since"),
    }

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _method) in self.LISTS.items()]

    def queryset(self, request, queryset):
        chosen = self.LISTS.get(self.value() or "")
        if chosen is None:
            return queryset
        return getattr(queryset, chosen[1])()


class PartyStageFormSet(forms.BaseInlineFormSet):
    """The history must run forward; with a history, the status follows its latest stage."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        stages = [
            (form.cleaned_data["stage"], form.cleaned_data["date"])
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("stage")
            and form.cleaned_data.get("date")
        ]
        pipeline.check_history(stages)
        top = pipeline.latest(stages)
        courier = self.instance
        if top is None or courier.pk is None:
            return
        stored = Courier.objects.filter(pk=courier.pk).values_list("political_status", flat=True)
        stored_status = stored.first()
        wanted = pipeline.status_for(top[0])
        if courier.political_status != stored_status and courier.political_status != wanted:
            label = Courier.PoliticalStatus(wanted).label
            raise ValidationError(
                f"该小哥有入党进程记录，政治面貌由最新阶段决定（“{label}”）。"
                "请在入党进程中登记新阶段，或把政治面貌改回。"
            )
        member_statuses = Courier.PoliticalStatus.member_values()
        if courier.is_mobile_party_member and wanted not in member_statuses:
            raise ValidationError("流动党员的入党进程最新阶段须为预备党员或正式党员。")


class PartyStageInline(admin.TabularInline):
    model = PartyStage
    formset = PartyStageFormSet
    extra = 1
    fields = ("stage", "date", "note")
    verbose_name_plural = "入党进程（政治面貌随最新阶段变化）"


class VisitLinksMixin:
    """A "登记走访" button (and the list of past visits) on the change page; the visit form
    opens with this record chosen as the one visited."""

    visit_target = ""  # the Visit field naming this model: "courier", "outlet", "enterprise"
    change_form_template = "admin/couriers/change_form_visit.html"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        if request.user.has_perm("couriers.add_visit"):
            extra_context["visit_add_url"] = (
                reverse("admin:couriers_visit_add") + f"?{self.visit_target}={object_id}"
            )
        if request.user.has_perm("couriers.view_visit"):
            extra_context["visit_list_url"] = (
                reverse("admin:couriers_visit_changelist")
                + f"?{self.visit_target}__id__exact={object_id}"
            )
        return super().change_view(request, object_id, form_url, extra_context)


# --- needs ----------------------------------------------------------------------------------


class OverdueFilter(admin.SimpleListFilter):
    title = "是否逾期"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "已逾期"), ("no", "未逾期")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.overdue()
        if self.value() == "no":
            return queryset.exclude(pk__in=queryset.overdue().values("pk"))
        return queryset


class NeedForm(forms.ModelForm):
    """Status changes follow the workflow in `couriers.casework.workflow`; 通过短信告知 sends
    the result to the courier and ticks 已告知."""

    inform_by_sms = forms.BooleanField(
        label="通过短信告知",
        required=False,
        help_text="勾选后把办理结果（或不能解决的原因）短信发给小哥，并标记为已告知",
    )

    class Meta:
        model = Need
        fields = [
            "category",
            "description",
            "responsible",
            "deadline",
            "status",
            "resolution",
            "reason",
            "courier_informed",
            "informed_on",
        ]
        widgets = {
            "description": TEXTAREA,
            "resolution": TEXTAREA,
            "reason": TEXTAREA,
            "deadline": forms.DateInput(attrs={"type": "date"}),
            "informed_on": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.old_status = self.instance.status if self.instance.pk else None

    def clean(self):
        data = super().clean()
        status = data.get("status")
        if self.old_status and status:
            try:
                casework.check_move(self.old_status, status)
            except ValidationError as problem:
                self.add_error("status", problem)
        if status in Need.Status.open_values() and self.old_status != status:
            # Reopened (or still open): nothing has been told to the courier yet.
            data["courier_informed"], data["informed_on"] = False, None
        if data.get("inform_by_sms"):
            visit = data.get("visit") or getattr(self.instance, "visit", None)
            if status in Need.Status.open_values():
                self.add_error("inform_by_sms", "办结后才能短信告知小哥结果。")
            elif visit is not None and visit.pk is not None and visit.courier_id is None:
                self.add_error(
                    "inform_by_sms", "这条需求来自对网点或企业的走访，没有可告知的小哥。"
                )
        return data

    def save(self, commit=True):
        casework.apply_status(self.instance, self.old_status)
        return super().save(commit)

    def _save_m2m(self):
        # Runs once the need is saved, whether the form saved it (the visit's inline) or the
        # admin did (save_model, then save_related), inside the admin's transaction.
        super()._save_m2m()
        if self.cleaned_data.get("inform_by_sms") and self.instance.visit.courier_id:
            casework.inform_by_message(self.instance)


class NeedInline(admin.StackedInline):
    model = Need
    form = NeedForm
    extra = 0
    fields = (
        ("category", "deadline"),
        "description",
        "responsible",
        ("status", "courier_informed", "informed_on", "inform_by_sms"),
        "resolution",
        "reason",
    )
    verbose_name_plural = "提出的需求和意见（逐条跟踪办理）"


@admin.register(Need)
class NeedAdmin(ExportMixin, TownScopedAdmin):
    form = NeedForm
    resource_classes = [NeedResource]
    formats = [base_formats.XLSX, base_formats.CSV]
    list_display = (
        "summary",
        "category",
        "town",
        "visited",
        "responsible",
        "deadline",
        "status",
        "overdue_flag",
        "courier_informed",
    )
    list_filter = (OverdueFilter, "status", "category", "visit__town", "courier_informed")
    list_select_related = (
        "visit__town",
        "visit__courier",
        "visit__outlet",
        "visit__enterprise",
    )
    search_fields = ("description", "responsible")
    autocomplete_fields = ("visit",)
    actions = ["mark_informed", "send_results"]
    fields = ("visit", *NeedForm.Meta.fields, "inform_by_sms", "closed_on")
    readonly_fields = ("closed_on",)

    class Media:
        css = {"all": ["css/admin_casework.css"]}

    @admin.display(description="需求", ordering="description")
    def summary(self, need: Need) -> str:
        return need.description[:40]

    @admin.display(description="街镇", ordering="visit__town")
    def town(self, need: Need) -> str:
        return need.visit.town.name

    @admin.display(description="走访对象")
    def visited(self, need: Need) -> str:
        return str(need.visit.target)

    @admin.display(description="逾期")
    def overdue_flag(self, need: Need) -> str:
        if not need.is_overdue():
            return ""
        days = (timezone.localdate() - need.deadline).days
        return format_html('<strong class="need-overdue">已逾期 {} 天</strong>', days)

    def get_export_resource_kwargs(self, request, **kwargs):
        return {"user": request.user}

    @admin.action(description="标记为已告知小哥（仅已办结的需求）", permissions=["change"])
    def mark_informed(self, request, queryset):
        done = 0
        for need in queryset.closed().filter(courier_informed=False):
            casework.mark_informed(need)
            done += 1
        skipped = queryset.count() - done
        message = f"已标记 {done} 条需求为已告知小哥。"
        if skipped:
            message += f"{skipped} 条尚未办结或已告知，未改动。"
        self.message_user(request, message, messages.SUCCESS)

    @admin.action(
        description="通过短信告知小哥结果（仅已办结、走访小哥的需求）", permissions=["change"]
    )
    def send_results(self, request, queryset):
        done = 0
        for need in (
            queryset.closed()
            .filter(courier_informed=False, visit__courier__isnull=False)
            .select_related("visit__courier")
        ):
            done += casework.inform_by_message(need)
        skipped = queryset.count() - done
        message = f"已短信告知 {done} 条需求的办理结果。"
        if skipped:
            message += f"{skipped} 条尚未办结、已告知、不是走访小哥或小哥不接收此类短信，未发送。"
        self.message_user(request, message, messages.SUCCESS)


# --- visits ---------------------------------------------------------------------------------


class TargetKindFilter(admin.SimpleListFilter):
    title = "走访对象类型"
    parameter_name = "target"

    def lookups(self, request, model_admin):
        return [("courier", "小哥"), ("outlet", "网点"), ("enterprise", "企业")]

    def queryset(self, request, queryset):
        if self.value() in ("courier", "outlet", "enterprise"):
            return queryset.filter(**{f"{self.value()}__isnull": False})
        return queryset


@admin.register(Visit)
class VisitAdmin(ExportMixin, TownScopedAdmin):
    resource_classes = [VisitResource]
    formats = [base_formats.XLSX, base_formats.CSV]
    inlines = [NeedInline]
    list_display = ("date", "visited", "kind", "town", "staff", "need_count", "open_need_count")
    list_filter = (TargetKindFilter, "town")
    list_select_related = ("town", "staff", "courier", "outlet", "enterprise")
    date_hierarchy = "date"
    search_fields = ("courier__name", "outlet__name", "enterprise__name")
    autocomplete_fields = ("courier", "outlet", "enterprise")
    readonly_fields = ("staff", "created_at")
    fieldsets = (
        ("走访对象（小哥、网点、企业三选一）", {"fields": ("courier", "outlet", "enterprise")}),
        (None, {"fields": ("date", "town", "staff")}),
        ("三送", {"fields": ("policy_note", "service_note", "warmth_note")}),
        ("三问", {"fields": ("needs_answer", "opinions_answer", "ideas_answer")}),
    )

    def get_queryset(self, request):
        open_needs = Q(needs__status__in=Need.Status.open_values())
        return (
            super()
            .get_queryset(request)
            .annotate(
                needs_total=Count("needs", distinct=True),
                needs_open=Count("needs", filter=open_needs, distinct=True),
            )
        )

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in (
            "policy_note",
            "service_note",
            "warmth_note",
            "needs_answer",
            "opinions_answer",
            "ideas_answer",
        ):
            kwargs["widget"] = TEXTAREA
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        user = request.user

        class VisitForm(form):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                if self.instance.pk is None:
                    # Known before validation, so a double submission is caught as a duplicate.
                    self.instance.staff = user

        return VisitForm

    def get_changeform_initial_data(self, request):
        # ?courier=<id> (from the courier page's 登记走访 button) preselects whom was visited.
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("date", timezone.localdate())
        return initial

    @admin.display(description="走访对象")
    def visited(self, visit: Visit) -> str:
        return str(visit.target)

    @admin.display(description="类型")
    def kind(self, visit: Visit) -> str:
        return "小哥" if visit.courier_id else "网点" if visit.outlet_id else "企业"

    @admin.display(description="需求", ordering="needs_total")
    def need_count(self, visit: Visit) -> int:
        return visit.needs_total

    @admin.display(description="未办结", ordering="needs_open")
    def open_need_count(self, visit: Visit) -> int:
        return visit.needs_open

    def get_export_resource_kwargs(self, request, **kwargs):
        return {"user": request.user}


# --- political-status answers to verify -------------------------------------------------------


@admin.register(StatusCheck)
class StatusCheckAdmin(TownScopedAdmin):
    """A courier's own answer that differs from their stage history: staff check with them
    and record a stage on the courier page if the answer was right, then mark it verified."""

    list_display = ("courier", "answered", "registered", "stage", "source", "raised_at", "verified")
    list_filter = (("resolved_at", admin.EmptyFieldListFilter), "courier__work_town")
    list_select_related = ("courier", "resolved_by")
    search_fields = ("courier__name",)
    readonly_fields = (
        "courier_link",
        "answered",
        "registered",
        "stage",
        "source",
        "raised_at",
        "resolved_at",
        "resolved_by",
    )
    fields = (*readonly_fields, "note")
    actions = ["mark_verified"]

    def has_add_permission(self, request) -> bool:
        return False  # raised only by a courier's answer

    @admin.display(description="已核实", boolean=True, ordering="resolved_at")
    def verified(self, check: StatusCheck) -> bool:
        return check.resolved_at is not None

    @admin.display(description="快递小哥")
    def courier_link(self, check: StatusCheck) -> str:
        url = reverse("admin:couriers_courier_change", args=[check.courier_id])
        return format_html('<a href="{}">{}（在入党进程中登记新阶段）</a>', url, check.courier)

    def save_model(self, request, obj, form, change):
        if obj.note.strip() and obj.resolved_at is None:
            obj.resolved_at, obj.resolved_by = timezone.now(), request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="标记为已核实", permissions=["change"])
    def mark_verified(self, request, queryset):
        done = queryset.open().update(resolved_at=timezone.now(), resolved_by=request.user)
        self.message_user(request, f"已核实 {done} 条。", messages.SUCCESS)
