"""A person's rights over their data (PIPL): everything held about them, and its erasure.

A person is found by their phone number: their courier record and every record that points
at it (followed generically, so later features are covered without a change here), one-time
codes sent to the number, enterprise and check-in point contacts with that number, audit and
admin log entries about those records, sessions signed in as them, and uploaded spreadsheets
still waiting to be imported that contain the number.

On erasure the courier record stays as an anonymous shell, so the district's statistics (how
many checked in, posts claimed) keep their meaning, but nothing in it identifies anyone.
Records pointing at it are deleted, unless their model says otherwise:

- ``KEEP_ON_ERASURE = True``: bare facts (a check-in, a claim, a points entry) are kept and
  point at the anonymous shell;
- ``erase_personal_data(queryset)`` (a classmethod): the model removes what is personal itself.
"""

from __future__ import annotations

import datetime
import io
import json
from collections import defaultdict
from dataclasses import dataclass, field

from auditlog.context import disable_auditlog
from auditlog.models import LogEntry as AuditEntry
from django.apps import apps
from django.contrib.admin.models import LogEntry as AdminEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core import serializers
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction

from couriers.identity import SESSION_KEY
from couriers.models import Courier, Enterprise, ImportJob, PhoneCode, PhoneLock

ERASED_NAME = "已注销"


@dataclass
class Holdings:
    """The records held about one person, model by model."""

    phone: str
    courier: Courier | None = None
    related: dict[type[models.Model], list[models.Model]] = field(
        default_factory=lambda: defaultdict(list)
    )
    contacts: list[models.Model] = field(default_factory=list)
    codes: list[models.Model] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)
    import_jobs: list[ImportJob] = field(default_factory=list)

    def records(self) -> list[models.Model]:
        own = [self.courier] if self.courier else []
        return own + [obj for objs in self.related.values() for obj in objs] + self.contacts

    def audit_entries(self):
        return _entries_about(AuditEntry, self.records())

    def admin_entries(self):
        return _entries_about(AdminEntry, self.records())


def _entries_about(entry_model, records):
    by_type = defaultdict(list)
    for obj in records:
        by_type[ContentType.objects.get_for_model(obj)].append(str(obj.pk))
    query = models.Q(pk__in=[])
    for content_type, pks in by_type.items():
        query |= models.Q(content_type=content_type, object_id__in=pks)
    return entry_model.objects.filter(query)


def _referrers(objs: list[models.Model], depth: int, found: dict) -> None:
    """Rows of any model that point at `objs` (and rows pointing at those, to `depth`)."""
    if not objs or depth == 0:
        return
    model = type(objs[0])
    for relation in model._meta.related_objects:
        if not (relation.one_to_many or relation.one_to_one):
            continue
        related = relation.related_model
        rows = list(related._base_manager.filter(**{f"{relation.field.name}__in": objs}))
        rows = [row for row in rows if row not in found[related]]
        if rows:
            found[related].extend(rows)
            _referrers(rows, depth - 1, found)


def find(phone: str) -> Holdings:
    held = Holdings(phone=phone)
    held.courier = Courier.objects.filter(phone=phone).first()
    if held.courier:
        _referrers([held.courier], depth=3, found=held.related)
        held.sessions = [
            s for s in Session.objects.all() if s.get_decoded().get(SESSION_KEY) == held.courier.pk
        ]
    held.contacts = list(Enterprise.objects.filter(contact_phone=phone))
    checkin_point = apps.get_model("stations", "CheckinPoint")
    held.contacts += list(checkin_point.objects.filter(contact_phone=phone))
    held.codes = list(PhoneCode.objects.filter(phone=phone)) + list(
        PhoneLock.objects.filter(phone=phone)
    )
    pending = ImportJob.objects.exclude(file="")
    held.import_jobs = [job for job in pending if _file_mentions(job, phone)]
    return held


def _file_mentions(job: ImportJob, phone: str) -> bool:
    from couriers.imports.spreadsheets import UnreadableFile, iter_rows

    try:
        with job.file.open("rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return False
    try:
        return any(phone in str(cell) for row in iter_rows(data, job.filename) for cell in row)
    except UnreadableFile:
        return phone.encode() in data


def export(held: Holdings) -> str:
    """Everything held, as JSON: what a data-access request receives."""

    def dump(objs):
        return json.loads(serializers.serialize("json", objs)) if objs else []

    document = {
        "phone": held.phone,
        "exported_at": datetime.datetime.now(datetime.UTC).isoformat(),
        "courier": dump([held.courier] if held.courier else []),
        "related": {model._meta.label: dump(objs) for model, objs in held.related.items()},
        "contacts": dump(held.contacts),
        "codes": [
            {"model": obj._meta.label, "created_at": getattr(obj, "created_at", None)}
            for obj in held.codes
        ],
        "audit_log": [
            {
                "time": entry.timestamp,
                "action": entry.get_action_display(),
                "object": f"{entry.content_type.app_label}.{entry.content_type.model}:"
                f"{entry.object_pk}",
                "actor": str(entry.actor or ""),
                "changes": entry.changes,
            }
            for entry in held.audit_entries().select_related("content_type", "actor")
        ],
        "admin_log": [
            {"time": entry.action_time, "message": entry.get_change_message()}
            for entry in held.admin_entries()
        ],
        "signed_in_sessions": len(held.sessions),
        "pending_import_files": [job.filename for job in held.import_jobs],
    }
    out = io.StringIO()
    json.dump(document, out, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    return out.getvalue()


@transaction.atomic
def erase(held: Holdings) -> dict[str, int]:
    """Remove or anonymise everything `find` found; counts of what was touched, by kind.

    The audit log is paused meanwhile: its own "deleted" entries would keep copies of the
    deleted records."""
    with disable_auditlog():
        return _erase(held)


def _erase(held: Holdings) -> dict[str, int]:
    touched: dict[str, int] = defaultdict(int)
    # Log entries first: afterwards the deleted records can no longer be matched to them.
    touched["审计日志"] = held.audit_entries().delete()[0]
    touched["后台操作记录"] = held.admin_entries().delete()[0]
    courier = held.courier
    if courier is not None:
        for model, objs in held.related.items():
            if model._meta.auto_created:
                continue
            queryset = model._base_manager.filter(pk__in=[o.pk for o in objs])
            label = str(model._meta.verbose_name)
            if getattr(model, "KEEP_ON_ERASURE", False):
                touched[f"{label}（保留、已匿名）"] += len(objs)
            elif hasattr(model, "erase_personal_data"):
                model.erase_personal_data(queryset)
                touched[f"{label}（已清除个人内容）"] += len(objs)
            elif queryset.exists():
                touched[f"{label}（已删除）"] += len(objs)
                queryset.delete()
        Courier.objects.filter(pk=courier.pk).update(**anonymous_courier_fields(courier))
        touched["快递小哥（已匿名）"] += 1
        touched["登录会话"] = Session.objects.filter(
            session_key__in=[s.session_key for s in held.sessions]
        ).delete()[0]
    for contact in held.contacts:
        blank = {"contact_phone": ""}
        for name_field in ("contact_person", "contact_name"):
            if hasattr(contact, name_field):
                blank[name_field] = ""
        type(contact).objects.filter(pk=contact.pk).update(**blank)
        touched[f"{contact._meta.verbose_name}联系人"] += 1
    touched["短信验证码"] = PhoneCode.objects.filter(phone=held.phone).delete()[0]
    touched["短信验证码"] += PhoneLock.objects.filter(phone=held.phone).delete()[0]
    for job in held.import_jobs:
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="")
        touched["待导入文件（已删除）"] += 1
    return {kind: count for kind, count in touched.items() if count}


def anonymous_courier_fields(courier: Courier) -> dict:
    """What an erased courier keeps: nothing that identifies them. The phone column is unique
    and required, so it gets a placeholder that can never be a phone number."""
    return {
        "name": ERASED_NAME,
        # Past the field's normaliser, which (rightly) accepts only real numbers.
        "phone": models.Value(f"X{courier.pk:010d}"[-11:], output_field=models.CharField()),
        "id_number": "",
        "gender": "",
        "birth_date": None,
        "membership_location": "",
        "residence_community": None,
        "notes": "",
        "show_on_leaderboard": False,
    }
