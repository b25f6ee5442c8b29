"""Template parameters cut to what a provider accepts.

Providers refuse a message whose variable is longer than they allow (Aliyun: 35 characters a
variable in a notification template; Tencent: what the account's console shows, 6 for accounts
opened since 2024-01-25) and the whole text may not pass 500 characters. A refused message
helps nobody, so a value that would not fit is shortened here, before it is sent: on a word
boundary, never in the middle of a number, a time or a Latin word, and marked with "…". A
courier reads 「您报名的奉贤区快递小哥安全骑行…已确认」 rather than nothing at all.

Chinese has no spaces between words: any place between two Chinese characters is a boundary.
"""

from __future__ import annotations

import re

from couriers.messaging.templates import PLACEHOLDER, Kind, Template

ELLIPSIS = "…"

# What may never be cut apart: runs of Latin letters and digits, with the marks that join them
# inside one number, time, date or address ("14:30", "3.5", "2025-06-01", "A-12", "x@y.cn"),
# and a number's sign ("+5", "-3").
_TOKEN = re.compile(r"[+\-]?[A-Za-z0-9]+(?:[.:/\-_@,][A-Za-z0-9]+)*|.", re.DOTALL)
# Left off the end before the ellipsis: a dangling comma or space reads as a mistake.
_TRAILING = " \t\n，,、。.；;：:（(《“\"'‘-—"


def shorten(value: str, limit: int) -> str:
    """`value` if it has at most `limit` characters, else its longest start that ends on a word
    boundary, followed by "…", `limit` characters at most in all. A first word longer than
    the limit (a 40-digit number) is not cut into pieces: what is left is "…" alone."""
    value = str(value)
    if limit <= 0 or len(value) <= limit:
        return value
    kept, length = [], 0
    for token in _TOKEN.findall(value):
        if length + len(token) + len(ELLIPSIS) > limit:
            break
        kept.append(token)
        length += len(token)
    return "".join(kept).rstrip(_TRAILING) + ELLIPSIS


def fit(
    names: tuple[str, ...],
    params: dict,
    *,
    each: int | None,
    room: int | None = None,
) -> dict[str, str]:
    """The template's parameters (`names`, in order) as strings, each at most `each`
    characters, and all together at most `room` characters (what the provider's total length
    leaves once the signature and the template's own text are counted): past that the longest
    value is shortened first, so a short one (a time, a number of points) stays whole."""
    values = {name: shorten(str(params.get(name, "")), each or 0) for name in names}
    if room is None:
        return values
    room = max(room, len(names))  # at the very least "…" for each
    while sum(len(value) for value in values.values()) > room:
        longest = max(values, key=lambda name: len(values[name]))
        excess = sum(len(value) for value in values.values()) - room
        target = max(1, len(values[longest]) - excess)
        shorter = shorten(values[longest], target)
        if shorter == values[longest]:
            break  # nothing left to take from it
        values[longest] = shorter
    return values


def room(text: str, sign_name: str, total: int) -> int:
    """Characters left for all the parameters of a template whose registered `text` is sent
    under 【sign_name】, when the provider allows `total` in all."""
    return total - len(PLACEHOLDER.sub("", text)) - len(sign_name) - 2


def for_template(
    template: Template, values: dict, *, each: int | None, total: int, sign_name: str
) -> dict[str, str]:
    """`fit` for one of the portal's templates, sent under 【sign_name】 by a provider that
    allows `each` characters a variable and `total` in all. A one-time code is never
    shortened: a cut code is worse than none (and every provider takes 6 digits)."""
    if template.kind == Kind.CODE:
        return {name: str(values.get(name, "")) for name in template.params}
    return fit(template.params, values, each=each, room=room(template.text, sign_name, total))
