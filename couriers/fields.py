"""Model fields that store personal identifiers in their canonical form.

`to_python` normalises, so anything that calls `full_clean()` (the admin's ModelForms, the
import, public forms) stores the same 11-digit phone or upper-case ID number, and uniqueness is
checked on the normalised value.
"""

from django.db import models

from couriers import validators


class _NormalizedCharField(models.CharField):
    """Room in the form for what people type ("+86 138-1234-5678"); the model normalises."""

    def formfield(self, **kwargs):
        kwargs.setdefault("max_length", 32)
        return super().formfield(**kwargs)


class PhoneNumberField(_NormalizedCharField):
    description = "Mainland mobile phone number, stored as 11 digits"
    default_validators = [validators.validate_phone]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 11)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if type(value) is str and validators.MOBILE_RE.fullmatch(value):
            return value  # already canonical: bulk writes and lookups skip the normaliser
        return validators.normalize_phone(super().to_python(value))


class IdNumberField(_NormalizedCharField):
    description = "Resident identity card number (GB 11643), stored upper-case"
    default_validators = [validators.validate_id_number]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 18)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if type(value) is str and validators.ID_SHAPE_RE.fullmatch(value):
            return value  # canonical shape; full_clean's validator still checks the checksum
        return validators.normalize_id_number(super().to_python(value))


class CreditCodeField(_NormalizedCharField):
    description = "Unified social credit code (GB 32100)"
    default_validators = [validators.validate_uscc]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 18)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        return validators.normalize_uscc(super().to_python(value))
