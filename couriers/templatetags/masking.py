"""`{{ text|mask_numbers }}`: free text published on a public page (a report's description, a
story) with any phone or ID number in it masked, since people type them in."""

import re

from django import template

from couriers.privacy.masking import mask_id_number, mask_phone

register = template.Library()

# An ID number first: its digits would otherwise read as a phone number inside it.
_NUMBERS = re.compile(r"(?<![\dA-Za-z])(\d{17}[\dXx]|1[3-9]\d{9})(?![\dA-Za-z])")


@register.filter
def mask_numbers(text: str) -> str:
    def hide(match: re.Match) -> str:
        found = match.group(1)
        return mask_id_number(found) if len(found) == 18 else mask_phone(found)

    return _NUMBERS.sub(hide, str(text)) if text else text
