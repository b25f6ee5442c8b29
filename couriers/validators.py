"""Normalisation and validation of the registry's personal identifiers.

One place for the rules, so the admin, the spreadsheet import and the public forms give the same
Chinese error for the same bad value. Normalisers take what people type (spaces, dashes, +86,
full-width digits, Excel's trailing ".0") and return the canonical form or raise ValidationError.
"""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError

_FULLWIDTH = str.maketrans("０１２３４５６７８９ｘＸ＋－　", "0123456789xX+- ")
_SEPARATORS = re.compile(r"[\s\-‐‑–—()（）.]")
MOBILE_RE = re.compile(r"1[3-9]\d{9}")  # use fullmatch
ID_SHAPE_RE = re.compile(r"\d{17}[\dX]")  # use fullmatch


def _clean_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        # Excel stores a phone typed as a number as 13812345678.0
        value = int(value)
    text = str(value).translate(_FULLWIDTH).strip()
    if re.fullmatch(r"\d+\.0+", text):
        text = text.split(".")[0]
    return text


def normalize_phone(value: object) -> str:
    """Return an 11-digit mainland mobile number, or raise ValidationError.

    An empty value returns "" so optional fields stay optional.
    """
    text = _clean_text(value)
    if not text:
        return ""
    digits = _SEPARATORS.sub("", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not digits.isdigit():
        raise ValidationError(
            "手机号码只能包含数字：%(value)s", code="phone_chars", params={"value": text}
        )
    if not MOBILE_RE.fullmatch(digits):
        raise ValidationError(
            "手机号码应为 11 位大陆手机号（以 13–19 开头）：%(value)s",
            code="phone_format",
            params={"value": text},
        )
    return digits


# GB 11643-1999: weights of the first 17 digits and the check character for sum % 11.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of an ID number."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def normalize_id_number(value: object) -> str:
    """Return an 18-character resident ID number (upper-case X), or raise ValidationError."""
    text = _SEPARATORS.sub("", _clean_text(value)).upper()
    if not text:
        return ""
    if not re.fullmatch(r"\d{17}[\dX]", text):
        raise ValidationError(
            "身份证号码应为 18 位（最后一位可为 X）：%(value)s",
            code="id_format",
            params={"value": text},
        )
    try:
        id_birth_date(text)
    except ValueError:
        raise ValidationError(
            "身份证号码中的出生日期无效：%(value)s",
            code="id_birth_date",
            params={"value": text},
        ) from None
    if id_check_char(text[:17]) != text[17]:
        raise ValidationError(
            "身份证号码校验位不正确，请核对：%(value)s",
            code="id_checksum",
            params={"value": text},
        )
    return text


def id_birth_date(id_number: str) -> datetime.date:
    """Birth date encoded in digits 7–14 of an 18-digit ID number (ValueError if impossible)."""
    born = datetime.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    if born.year < 1900 or born > datetime.date.today():
        raise ValueError("birth date out of range")
    return born


def id_gender(id_number: str) -> str:
    """'M' or 'F' from the 17th digit (odd is male)."""
    return "M" if int(id_number[16]) % 2 else "F"


# GB 32100-2015 unified social credit code: 18 characters from this alphabet, last is a check.
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def normalize_uscc(value: object) -> str:
    """Return an upper-case 18-character unified social credit code, or raise ValidationError."""
    text = _SEPARATORS.sub("", _clean_text(value)).upper()
    if not text:
        return ""
    if len(text) != 18 or any(c not in _USCC_ALPHABET for c in text):
        raise ValidationError(
            "统一社会信用代码应为 18 位数字或大写字母（不含 I、O、Z、S、V）：%(value)s",
            code="uscc_format",
            params={"value": text},
        )
    if uscc_check_char(text[:17]) != text[17]:
        raise ValidationError(
            "统一社会信用代码校验位不正确，请核对：%(value)s",
            code="uscc_checksum",
            params={"value": text},
        )
    return text


def validate_phone(value: str) -> None:
    normalize_phone(value)


def validate_id_number(value: str) -> None:
    normalize_id_number(value)


def validate_uscc(value: str) -> None:
    normalize_uscc(value)
