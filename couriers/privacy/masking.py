"""Masked display of personal identifiers for lists, logs and public pages (PIPL)."""

import re


def mask_phone(phone: str) -> str:
    """138****1234; short or empty values are masked whole."""
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def mask_id_number(id_number: str) -> str:
    """310***********1234: region prefix and last four only."""
    if not id_number:
        return ""
    if len(id_number) < 8:
        return "*" * len(id_number)
    return f"{id_number[:3]}{'*' * (len(id_number) - 7)}{id_number[-4:]}"


def mask_name(name: str) -> str:
    """张*伟, 李*; a public leaderboard or story shows no full name."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return f"{name[0]}*"
    return f"{name[0]}{'*' * (len(name) - 2)}{name[-1]}"


def mask_for_log(value: str) -> str:
    """How the audit log stores a sensitive field's value: enough to tell two apart, no more.

    Phone numbers and contact phones keep their first three and last four digits, ID numbers
    their region prefix and last four; anything else (a password hash) is hidden whole.
    """
    value = str(value)
    if value.startswith(("pbkdf2_", "argon2", "bcrypt", "md5$", "!")):
        return "******"
    if len(value) >= 15:
        return mask_id_number(value)
    return mask_phone(value)


# An ID number first: its digits would otherwise read as a phone number inside it. People
# type them grouped (139 0000 1111, 139-0000-1111) and phones with the country code (+86,
# 86): all of that is one number.
_NUMBERS = re.compile(
    r"(?<![\dA-Za-z])(?:\+?86[ -]?)?"
    r"(\d{6}[ -]?\d{8}[ -]?\d{3}[\dXx]|1[3-9]\d[ -]?\d{4}[ -]?\d{4})"
    r"(?![\dA-Za-z])"
)


def mask_numbers(text: str) -> str:
    """Free text (a note, a need, a published report) with every mobile or ID number in it
    masked, since people type them in."""

    def hide(match: re.Match) -> str:
        digits = re.sub(r"[ -]", "", match.group(1))
        return mask_id_number(digits) if len(digits) == 18 else mask_phone(digits)

    return _NUMBERS.sub(hide, str(text)) if text else text
