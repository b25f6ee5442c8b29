"""A person's rights over their data (PIPL): everything held about them, and its erasure.

A person is found by their phone number (and ID number, theirs on record or given): their
courier record and every record that points at it (followed generically, so later features
are covered without a change here: their outbox messages among them), one-time codes sent to
the number and the outbox messages that carried them, enterprise and
check-in point contacts with that number, audit and admin log entries about those records,
sessions signed in as them or holding their number (a check-in started but not verified, a
sign-in waiting for its code), uploaded spreadsheets still waiting to be imported that
contain the number, and the rows of import reports (previews, errors) that name them: a full
phone or ID number, or their name beside the masked form of either.

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
from django.utils import timezone

from couriers.identity import SESSION_KEY
from couriers.models import (
    Courier,
    Enterprise,
    ErasureRequest,
    ImportJob,
    Message,
    PhoneCode,
    PhoneLock,
)
from couriers.models.registry import ERASED_PHONE_PREFIX
from couriers.privacy.masking import mask_id_number, mask_phone
from couriers.privacy.signals import courier_erased

ERASED_NAME = "已注销"


@dataclass
class Holdings:
    """The records held about one person, model by model."""

    phone: str
    id_numbers: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    courier: Courier | None = None
    related: dict[type[models.Model], list[models.Model]] = field(
        default_factory=lambda: defaultdict(list)
    )
    contacts: list[models.Model] = field(default_factory=list)
    codes: list[models.Model] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)  # signed in as them: deleted
    # Other sessions holding something about them: session key -> the entries that do.
    session_entries: dict[str, dict] = field(default_factory=dict)
    import_jobs: list[ImportJob] = field(default_factory=list)
    # Import reports naming them: job -> its preview rows and error rows that do.
    report_rows: dict[ImportJob, dict[str, list]] = field(default_factory=dict)

    def found_anything(self) -> bool:
        return bool(
            self.records()
            or self.codes
            or self.import_jobs
            or self.sessions
            or self.session_entries
            or self.report_rows
        )

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


def find(phone: str, id_number: str = "") -> Holdings:
    held = Holdings(phone=phone)
    held.courier = Courier.objects.filter(phone=phone).first()
    if id_number:
        held.id_numbers.add(id_number.upper())
    if held.courier:
        _referrers([held.courier], depth=3, found=held.related)
        held.names.add(held.courier.name)
        if held.courier.id_number:
            held.id_numbers.add(held.courier.id_number.upper())
    _find_in_sessions(held)
    _find_in_reports(held)
    held.contacts = list(Enterprise.objects.filter(contact_phone=phone))
    checkin_point = apps.get_model("stations", "CheckinPoint")
    held.contacts += list(checkin_point.objects.filter(contact_phone=phone))
    held.codes = (
        list(PhoneCode.objects.filter(phone=phone))
        + list(PhoneLock.objects.filter(phone=phone))
        # Messages written to the number rather than to a courier (one-time codes).
        + list(Message.objects.filter(phone=phone))
    )
    pending = ImportJob.objects.exclude(file="")
    held.import_jobs = [job for job in pending if _file_mentions(job, phone)]
    return held


def _numbers(held: Holdings) -> list[str]:
    return [held.phone, *held.id_numbers]


def _mentions(value, numbers: list[str]) -> bool:
    """Whether a session value (any nesting of dicts, lists and scalars) holds a number."""
    if isinstance(value, dict):
        return any(_mentions(item, numbers) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_mentions(item, numbers) for item in value)
    text = str(value).upper()
    return any(number in text for number in numbers)


def _find_in_sessions(held: Holdings) -> None:
    """Sessions signed in as them, and entries of any other session that hold their number;
    the names typed beside it (an unverified check-in) are theirs too."""
    numbers = _numbers(held)
    for session in Session.objects.all():
        data = session.get_decoded()
        if held.courier is not None and data.get(SESSION_KEY) == held.courier.pk:
            held.sessions.append(session)
            continue
        entries = {key: value for key, value in data.items() if _mentions(value, numbers)}
        if entries:
            held.session_entries[session.session_key] = entries
            for value in entries.values():
                if isinstance(value, dict) and isinstance(value.get("name"), str):
                    held.names.add(value["name"])


def _names_them(cells: list, held: Holdings) -> bool:
    """A report row about them: a full number, or their name beside a masked one (previews
    show numbers masked)."""
    texts = [str(cell).strip().upper() for cell in cells]
    full = _numbers(held)
    if any(number in text for text in texts for number in full):
        return True
    masked = [mask_phone(held.phone), *(mask_id_number(n) for n in held.id_numbers)]
    named = any(text in held.names for text in [str(cell).strip() for cell in cells])
    return named and any(m in text for text in texts for m in masked)


def _find_in_reports(held: Holdings) -> None:
    for job in ImportJob.objects.exclude(report={}):
        report = job.report or {}
        preview = [row for row in report.get("preview", []) if _names_them(row, held)]
        # An error row is one cell; a spreadsheet row's errors are judged together.
        by_row: dict[object, list[dict]] = defaultdict(list)
        for error in report.get("errors", []):
            by_row[error.get("row")].append(error)
        errors = [
            error
            for group in by_row.values()
            if _names_them([e.get(k, "") for e in group for k in ("value", "message")], held)
            for error in group
        ]
        if preview or errors:
            held.report_rows[job] = {"preview": preview, "errors": errors}


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
        # What other sessions hold about them (e.g. a check-in started but not verified).
        "sessions": list(held.session_entries.values()),
        "pending_import_files": [job.filename for job in held.import_jobs],
        "import_reports": [
            {
                "job": job.pk,
                "file": job.filename,
                "kind": job.get_kind_display(),
                "uploaded_at": job.created_at,
                "preview_rows": rows["preview"],
                "errors": rows["errors"],
            }
            for job, rows in held.report_rows.items()
        ],
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
        # Apps above the registry drop what the shell must no longer get (a place promoted
        # from a waiting list), in this same transaction.
        courier_erased.send(sender=Courier, courier=courier)
        touched["登录会话"] = Session.objects.filter(
            session_key__in=[s.session_key for s in held.sessions]
        ).delete()[0]
    for session_key, entries in held.session_entries.items():
        session = Session.objects.filter(session_key=session_key).first()
        if session is None:
            continue
        data = {k: v for k, v in session.get_decoded().items() if k not in entries}
        # An empty session is deleted by the manager's save.
        Session.objects.save(session_key, data, session.expire_date)
        touched["其他会话中的信息（如未验证的报到）"] += 1
    for job, rows in held.report_rows.items():
        report = dict(job.report)
        report["preview"] = [r for r in report.get("preview", []) if r not in rows["preview"]]
        report["errors"] = [e for e in report.get("errors", []) if e not in rows["errors"]]
        ImportJob.objects.filter(pk=job.pk).update(report=report)
        touched["导入记录中的行（已删除）"] += len(rows["preview"]) + len(rows["errors"])
    for contact in held.contacts:
        blank = {"contact_phone": ""}
        for name_field in ("contact_person", "contact_name"):
            if hasattr(contact, name_field):
                blank[name_field] = ""
        type(contact).objects.filter(pk=contact.pk).update(**blank)
        touched[f"{contact._meta.verbose_name}联系人"] += 1
    touched["短信验证码"] = PhoneCode.objects.filter(phone=held.phone).delete()[0]
    touched["短信验证码"] += PhoneLock.objects.filter(phone=held.phone).delete()[0]
    to_phone = Message.objects.filter(phone=held.phone)
    touched["发往该号码的短信（已清除号码和内容）"] = to_phone.count()
    Message.erase_personal_data(to_phone)
    for job in held.import_jobs:
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="")
        touched["待导入文件（已删除）"] += 1
    return {kind: count for kind, count in touched.items() if count}


def complete_erasure(erasure_request: ErasureRequest, by) -> dict[str, int]:
    """Staff complete a courier's erasure request: everything held about them erased as by
    `manage.py erase_person`, and the request marked done (it is kept: KEEP_ON_ERASURE)."""
    with transaction.atomic():
        locked = ErasureRequest.objects.select_for_update().get(pk=erasure_request.pk)
        if locked.completed_at is not None:
            return {}
        courier = locked.courier
        touched = erase(find(courier.phone, courier.id_number))
        ErasureRequest.objects.filter(pk=locked.pk).update(
            completed_at=timezone.now(), completed_by=by
        )
        return touched


def anonymous_courier_fields(courier: Courier) -> dict:
    """What an erased courier keeps: nothing that identifies them. The phone column is unique
    and required, so it gets a placeholder that can never be a phone number."""
    return {
        "name": ERASED_NAME,
        # Past the field's normaliser, which (rightly) accepts only real numbers.
        "phone": models.Value(
            f"{ERASED_PHONE_PREFIX}{courier.pk:010d}"[-11:], output_field=models.CharField()
        ),
        "id_number": "",
        "gender": "",
        "birth_date": None,
        "membership_location": "",
        "residence_community": None,
        "notes": "",
        "show_on_leaderboard": False,
    }
