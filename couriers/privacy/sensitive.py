"""Which fields hold personal identifiers, and who may see them in full: the one place.

A field is sensitive by its name, whichever model it belongs to (the audit log masks the same
names: settings.AUDITLOG_MASK_TRACKING_FIELDS, kept equal by a test). Each name maps to the
permission that lets a user see the full value, or None when nobody may (password hashes).
The admin refuses filters, sorting and partial searches on these fields to everyone else
(couriers.privacy.admin).
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist

SENSITIVE_FIELDS: dict[str, str | None] = {
    "phone": "couriers.view_full_phone",
    "contact_phone": "couriers.view_full_phone",
    "id_number": "couriers.view_full_id_number",
    "password": None,
}


def field_names(model) -> list[str]:
    """The sensitive fields of `model`."""
    return [f.name for f in model._meta.concrete_fields if f.name in SENSITIVE_FIELDS]


def may_see_full(user, name: str) -> bool:
    permission = SENSITIVE_FIELDS[name]
    return permission is not None and user.has_perm(permission)


def sensitive_step(model, path: str):
    """The sensitive field an ORM path ("courier__phone__startswith", "-id_number") reaches, as
    (path to it, the field), or None. Relations are followed, forward and reverse; the walk
    stops at the first part that is not a field (a lookup or transform)."""
    parts = path.lstrip("-").split("__")
    for i, part in enumerate(parts):
        if model is None:
            return None
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        if not field.is_relation:
            if field.name in SENSITIVE_FIELDS:
                return "__".join(parts[: i + 1]), field
            return None
        model = field.related_model
    return None


def hidden_from(user, model, path: str) -> str | None:
    """The path to a sensitive field that `path` reaches and `user` may not see in full."""
    step = sensitive_step(model, path)
    if step is None or may_see_full(user, step[1].name):
        return None
    return step[0]
