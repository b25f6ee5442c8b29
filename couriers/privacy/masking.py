"""Masked display of personal identifiers for lists, logs and public pages (PIPL)."""

import re

# An ID number first: its digits would otherwise read as a phone number inside it.
_NUMBERS = re.compile(r"(?<![\dA-Za-z])(\d{17}[\dXx]|1[3-9]\d{9})(?![\dA-Za-z])")


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


def mask_numbers(text: str) -> str:
    """Free text (a published story, a log line) with every phone or ID number in it masked,
    since people type them in and URLs carry them."""

    def hide(match: re.Match) -> str:
        found = match.group(1)
        return mask_id_number(found) if len(found) == 18 else mask_phone(found)

    return _NUMBERS.sub(hide, str(text)) if text else text
