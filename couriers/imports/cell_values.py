"""Spreadsheet cell values as people type them, turned into the registry's values.

Each parser takes a raw cell (str, int, float, datetime, date or None) and returns the typed
value, or raises ValueError with a Chinese reason that the import reports beside the row
number and column. Identifiers (phone, ID number, credit code) are normalised by
`couriers.validators`, shared with the admin and public forms.
"""

from __future__ import annotations

import datetime
import re

from couriers.models import Courier

_FULLWIDTH = str.maketrans("０１２３４５６７８９．－／　", "0123456789.-/ ")


def text(value: object) -> str:
    """A cell as trimmed text; Excel numbers lose their ".0"; None is ""."""
    if type(value) is str:  # the common case first: this runs for every cell
        value = value.strip()
        if "  " in value or "\u3000" in value or "\n" in value or "\t" in value:
            return " ".join(value.replace("\u3000", " ").split())
        return value
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        value = value.date()
    return " ".join(str(value).replace("\u3000", " ").split())


def is_blank(value: object) -> bool:
    return text(value) == ""


_DATE_PATTERNS = [
    # 1990-05-21, 1990/5/21, 1990.5.21, 1990年5月21日
    (re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$"), True),
    # 1990.05, 1990-5, 1990/05, 1990年5月 (month precision: the 1st of the month)
    (re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$"), False),
    # 19900521
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), True),
    # 199005
    (re.compile(r"^(\d{4})(\d{2})$"), False),
]
_EXCEL_EPOCH = datetime.date(1899, 12, 30)


def date(value: object) -> datetime.date | None:
    if value is None or is_blank(value):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1900 <= value < 2101:
            if float(value).is_integer():
                raise ValueError(f"出生年月只有年份：{text(value)}（请写成 1990.05 或 1990-05-21）")
            raw = f"{value:.2f}"  # a typed 1990.05 stored as a number; 1990.1 means October
        elif 1 <= value < 80_000 and float(value).is_integer():
            # An Excel serial date that lost its date format (e.g. via CSV).
            return _EXCEL_EPOCH + datetime.timedelta(days=int(value))
        else:
            raw = text(value)
    else:
        raw = text(value).translate(_FULLWIDTH)
    for pattern, has_day in _DATE_PATTERNS:
        match = pattern.match(raw)
        if match:
            year, month = int(match.group(1)), int(match.group(2))
            day = int(match.group(3)) if has_day else 1
            try:
                result = datetime.date(year, month, day)
            except ValueError:
                raise ValueError(f"日期不存在：{raw}") from None
            if not 1900 <= result.year <= datetime.date.today().year:
                raise ValueError(f"年份不合理：{raw}")
            return result
    raise ValueError(f"无法识别的日期：{raw}（可写 1990-05-21、1990/5/21、1990.05 或 1990年5月）")


_TRUE = {"是", "√", "✓", "✔", "y", "yes", "1", "true", "对", "有"}
_FALSE = {"否", "×", "✗", "✘", "x", "n", "no", "0", "false", "不是", "无", ""}


def yes_no(value: object) -> bool:
    word = text(value).casefold()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(f"应填“是”或“否”：{text(value)}")


def _choice_words(mapping: dict[str, list[str]]) -> dict[str, str]:
    return {word.casefold(): value for value, words in mapping.items() for word in words}


PoliticalStatus = Courier.PoliticalStatus
_POLITICAL = _choice_words(
    {
        PoliticalStatus.MEMBER: ["中共党员", "党员", "中国共产党党员", "共产党员", "正式党员"],
        PoliticalStatus.PROBATIONARY: ["中共预备党员", "预备党员"],
        PoliticalStatus.ACTIVIST: ["入党积极分子", "积极分子"],
        PoliticalStatus.APPLICANT: ["有入党意愿", "入党意愿", "有意愿", "申请入党", "入党申请人"],
        PoliticalStatus.LEAGUE: ["共青团员", "团员", "共青团"],
        PoliticalStatus.MASSES: ["群众", "无", "无党派", "无党派人士", "普通群众"],
    }
)


def political_status(value: object) -> str:
    """Blank is "not given" (None); the importer decides what that means."""
    word = text(value)
    if not word:
        return ""
    try:
        return _POLITICAL[word.casefold()]
    except KeyError:
        raise ValueError(
            f"无法识别的政治面貌：{word}（可填 中共党员、预备党员、入党积极分子、有入党意愿、"
            "共青团员、群众）"
        ) from None


Education = Courier.Education
_EDUCATION = _choice_words(
    {
        Education.PRIMARY_OR_LESS: ["初中及以下", "初中", "小学", "初中以下", "文盲", "无"],
        Education.SENIOR: ["高中/中专", "高中", "中专", "职高", "技校", "中技", "高中及中专"],
        Education.COLLEGE: ["大专", "专科", "大学专科", "高职"],
        Education.BACHELOR: ["大学本科", "本科", "大学"],
        Education.POSTGRADUATE: ["研究生", "硕士", "博士", "硕士研究生", "博士研究生"],
    }
)


def education(value: object) -> str:
    word = text(value)
    if not word:
        return ""
    try:
        return _EDUCATION[word.casefold()]
    except KeyError:
        raise ValueError(
            f"无法识别的文化程度：{word}（可填 初中及以下、高中/中专、大专、大学本科、研究生）"
        ) from None


def gender(value: object) -> str:
    word = text(value)
    if not word:
        return ""
    if word in ("男", "男性", "M", "m"):
        return Courier.Gender.MALE
    if word in ("女", "女性", "F", "f"):
        return Courier.Gender.FEMALE
    raise ValueError(f"性别应填“男”或“女”：{word}")


def employment_status(value: object) -> str:
    word = text(value)
    if not word:
        return ""
    if word in ("在职", "在岗", "是"):
        return Courier.EmploymentStatus.ACTIVE
    if word in ("离职", "已离职", "否"):
        return Courier.EmploymentStatus.LEFT
    raise ValueError(f"从业状态应填“在职”或“离职”：{word}")
