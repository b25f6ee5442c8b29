"""The audit trail (django-auditlog): who changed which personal data, and who looked.

Every model is tracked by default (settings.AUDITLOG_*), with phone and ID numbers masked in
the log: fields named for them by django-auditlog, and any such number typed into free text
(notes, needs, answers) by `mask_entry`, as every entry is written. Imports write their rows
in bulk, past the model signals, so each import leaves one entry of its own with its file
name and counts, written by the import engine itself whoever started it (the admin or
`manage.py import_survey`); opening a courier's full ID number leaves an "access" entry.
"""

from __future__ import annotations

import json

from auditlog.middleware import AuditlogMiddleware
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from couriers.privacy.masking import mask_numbers
from couriers.security.ratelimit import client_address


class AuditMiddleware(AuditlogMiddleware):
    """Records the actor and the client's address like django-auditlog's own middleware, but
    reads the user only when an entry is written (public pages need not load the session),
    and takes the address the proxy saw (the last X-Forwarded-For hop, which the client
    cannot forge)."""

    def get_extra_data(self, request):
        return {
            "remote_addr": client_address(request) or None,
            "remote_port": None,
            "actor": request.user,  # lazy: evaluated when a log entry is saved
        }


def _masked(value):
    if isinstance(value, str):
        return mask_numbers(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(item) for item in value]
    return value


def mask_entry(sender, instance: LogEntry, **kwargs) -> None:
    """pre_save of every audit entry, whatever wrote it (a model's diff, a many-to-many change,
    an import, an access): the numbers in its text are masked before it is stored. The field
    masking of django-auditlog knows only field names, not what staff type into a note."""
    instance.object_repr = mask_numbers(instance.object_repr)
    instance.changes_text = mask_numbers(instance.changes_text)
    for name in ("changes", "serialized_data", "additional_data"):
        setattr(instance, name, _masked(getattr(instance, name)))


def mask_admin_entry(sender, instance, **kwargs) -> None:
    """pre_save of Django's own admin history (django_admin_log): it names the records it
    touched (an inline's added need, by its first characters) in its object name and message."""
    instance.object_repr = mask_numbers(instance.object_repr)
    try:  # JSON, whose \uXXXX escapes would hide a number's edges from the pattern
        message = json.loads(instance.change_message)
    except ValueError:
        instance.change_message = mask_numbers(instance.change_message)
    else:
        instance.change_message = json.dumps(_masked(message))


def _entry(subject, *, object_repr: str = "", **fields) -> LogEntry:
    """An audit entry about `subject`: one record, or a model when many were touched (an
    import from the command line, an export), then shown as "*"."""
    many = isinstance(subject, type)
    return LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(subject),
        object_pk="*" if many else str(subject.pk),
        object_id=None if many else subject.pk,
        object_repr=(object_repr or str(subject))[:200],
        **fields,
    )


def log_import(*, actor, filename: str, report, subject, sheet: str = "") -> LogEntry:
    """One entry per import: who, which file, and what it did. `subject` is the import's job
    (the admin's path), or the imported model when no job holds it (the command line)."""
    return _entry(
        subject,
        object_repr=f"{sheet}：{filename}" if isinstance(subject, type) else "",
        action=LogEntry.Action.CREATE,
        actor=actor,
        changes={
            "导入文件": ["", filename],
            "新增": ["", str(report.new)],
            "更新": ["", str(report.updated)],
            "无变化": ["", str(report.unchanged)],
            **_new_references(report),
        },
        additional_data={"kind": getattr(subject, "kind", ""), "rows": report.rows},
    )


def _new_references(report) -> dict[str, list[str]]:
    """The enterprises and outlets a survey import created (待核实), by name."""
    named = {"enterprise": "新建企业（待核实）", "outlet": "新建网点（待核实）"}
    changes: dict[str, list[str]] = {}
    for entry in getattr(report, "new_references", ()):
        changes.setdefault(named[entry["kind"]], ["", []])[1].append(entry["name"])
    return {label: ["", "、".join(names)] for label, (_, names) in changes.items()}


def log_merge(*, actor, source, target, moved: int) -> LogEntry:
    """One entry per merge of an enterprise or outlet into another: both named, on the one
    that stays (the merged one's own deletion is logged by django-auditlog)."""
    what = source._meta.verbose_name
    return _entry(
        target,
        action=LogEntry.Action.UPDATE,
        actor=actor,
        changes={
            f"合并{what}": [f"{source}（#{source.pk}）", f"{target}（#{target.pk}）"],
            "转入记录": ["", str(moved)],
        },
        additional_data={"merged_pk": source.pk},
    )


def log_access(request, subject, what: str) -> LogEntry:
    """Staff saw something in full (an ID number): that itself is recorded. `subject` is the
    record seen, or its model when many were (an export)."""
    return _entry(
        subject,
        object_repr=what if isinstance(subject, type) else "",
        action=LogEntry.Action.ACCESS,
        actor=request.user,
        remote_addr=client_address(request) or None,
        changes={what: ["", "查看完整内容"]},
    )


def log_staff_action(request, subject, changes: dict[str, list[str]]) -> LogEntry:
    """A staff action that is not a form save (an admin action on the outbox: resend,
    cancel), attributed like any change: who, from where, and what changed."""
    return _entry(
        subject,
        action=LogEntry.Action.UPDATE,
        actor=request.user,
        remote_addr=client_address(request) or None,
        changes=changes,
    )
