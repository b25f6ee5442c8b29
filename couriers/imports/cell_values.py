"""Spreadsheet cell values as people type them, turned into the registry's values.

Each parser takes a raw cell (str, int, float, datetime, date or None) and returns the typed
value, or raises ValueError with a Chinese reason that the import reports beside the row
number and column. Identifiers (phone, ID number, credit code) are normalised by
`couriers.validators`, shared with the admin and public forms.
"""

from __future__ import annotations

import dataclasses
import datetime
import re

from django.core.exceptions import ValidationError

from couriers import validators
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
    if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) >= 1e15:
        return as_office_shows(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        value = value.date()
    return " ".join(str(value).replace("\u3000", " ").split())


def is_blank(value: object) -> bool:
    return text(value) == ""


def as_office_shows(number: float) -> str:
    """A number as a spreadsheet shows it in a 常规 cell once it has more digits than it keeps:
    15 significant digits in exponent form (341221197608097773 → 3.41221197608098E+17), so a
    report quotes what the office sees, not digits that are in no cell."""
    mantissa, exponent = f"{float(number):.14E}".split("E")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}E{exponent[0]}{int(exponent[1:]):02d}"


_EXPONENT = re.compile(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$")


def _digits_lost(value: object) -> bool:
    """Whether an identifier cell went through a number: a number cell (a float keeps 15
    significant digits) or text in exponent form (3.41221197608098E+17)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return True
    return isinstance(value, str) and bool(_EXPONENT.match(value.strip()))


ID_AS_NUMBER = "身份证号码被表格存成了数字，后几位已丢失：请把该列设为文本后重新填写"
PHONE_AS_NUMBER = "手机号码被表格存成了数字，后几位已丢失：请把该列设为文本后重新填写"


def id_number(value: object) -> str:
    """An ID number from its cell. One that went through a number is refused whatever its
    digits: rounded to 15 significant digits, about one in eleven still passes the checksum."""
    if _digits_lost(value):
        raise ValueError(ID_AS_NUMBER)
    return validators.normalize_id_number(value)


def phone(value: object) -> str:
    """A mobile number from its cell. An 11-digit number cell is exact (a float holds it), so
    it is read; text in exponent form (1.39E+10) has lost digits and is refused."""
    if isinstance(value, str) and _EXPONENT.match(value.strip()):
        raise ValueError(PHONE_AS_NUMBER)
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(PHONE_AS_NUMBER)
    return validators.normalize_phone(value)


def is_mobile(value: object) -> bool:
    """Whether a cell holds a mainland mobile number (to tell a phone column from a landline)."""
    try:
        return bool(phone(value))
    except (ValueError, ValidationError):
        return False


_NAME_SPACES = re.compile(r"[\s\u3000\xa0]+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def person_name(value: object) -> str:
    """A name as typed: a Chinese name loses every space inside it (冯　伟 is 冯伟, so a search
    for 冯伟 finds it); a name in Latin script keeps single spaces between its parts."""
    name = text(value)
    if _CJK.search(name):
        return _NAME_SPACES.sub("", name)
    return name


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


@dataclasses.dataclass(frozen=True)
class UncertainMonth:
    """A birth month that a number cell cannot settle: 1988.1 is January typed 1988.1, or
    October typed 1988.10 that the number lost its 0 of. The ID number may settle it."""

    year: int
    months: tuple[int, ...]
    typed: str

    def reason(self) -> str:
        year = self.year
        return (
            f"出生年月 {self.typed} 是数字，分不清是 1 月还是 10 月（{year}.10 存成数字后也是 "
            f"{year}.1）：请写成 {year}-01 或 {year}-10，或填写身份证号码"
        )

    def __str__(self) -> str:
        return self.typed

    def settled_by(self, born: datetime.date) -> bool:
        return born.year == self.year and born.month in self.months


def birth_date(value: object) -> datetime.date | UncertainMonth | None:
    """A date cell, or a date typed as text or as a number. A number like 1988.1 may mean two
    months: it comes back as UncertainMonth for the importer to settle by the ID number."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 1900 <= value < 2101:
        if float(value).is_integer():
            raise ValueError(f"出生年月只有年份：{text(value)}（请写成 1990.05 或 1990-05-21）")
        # The shortest text of the float is what the cell shows: 1990.05, 1982.5, 1988.1.
        year, fraction = repr(float(value)).split(".")
        if len(fraction) == 1 and fraction == "1":
            return UncertainMonth(int(year), (1, 10), f"{year}.{fraction}")
        # One digit of 2–9 can only be that month (1982.5: May; 1982.50 is no month).
        return _from_text(f"{year}.{fraction}")
    return date(value)


def date(value: object) -> datetime.date | None:
    if value is None or is_blank(value):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1900 <= value < 2101:
            result = birth_date(value)
            if isinstance(result, UncertainMonth):
                raise ValueError(result.reason())
            return result
        if 1 <= value < 80_000 and float(value).is_integer():
            # An Excel serial date that lost its date format (e.g. via CSV).
            return _EXCEL_EPOCH + datetime.timedelta(days=int(value))
        return _from_text(text(value))
    return _from_text(text(value).translate(_FULLWIDTH))


def _from_text(raw: str) -> datetime.date:
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


_WORD_SPACES = re.compile(r"[\s\u3000]+")
_WORD_MARKS = str.maketrans("（）／，", "()/,")


def word_key(value: object) -> str:
    """A typed word for lookup in a list of words: no spaces, half-width brackets and slash,
    case-folded (高中（中专） and 高中(中专) are one word)."""
    return _WORD_SPACES.sub("", text(value)).translate(_WORD_MARKS).casefold()


def _choice_words(mapping: dict[str, list[str]]) -> dict[str, str]:
    return {word_key(word): value for value, words in mapping.items() for word in words}


# Only words with one meaning: a word that could mean two values is an error to fix, not a guess.
_YES_NO = _choice_words(
    {
        True: ["是", "√", "✓", "✔", "✔️", "☑", "y", "yes", "1", "true", "对", "有", "是的"],
        # "/" and "—" are how offices mark a cell as not applicable; blank already means 否.
        False: [
            "否",
            "×",
            "✗",
            "✘",
            "x",
            "n",
            "no",
            "0",
            "false",
            "不是",
            "无",
            "非",
            "/",
            "-",
            "—",
            "——",
            "",
        ],
    }
)


def yes_no(value: object) -> bool:
    try:
        return _YES_NO[word_key(value)]
    except KeyError:
        raise ValueError(f"应填“是”或“否”：{text(value)}") from None


PoliticalStatus = Courier.PoliticalStatus
_POLITICAL = _choice_words(
    {
        PoliticalStatus.MEMBER: [
            "中共党员",
            "党员",
            "中国共产党党员",
            "共产党员",
            "正式党员",
            "中共正式党员",
        ],
        PoliticalStatus.PROBATIONARY: ["中共预备党员", "预备党员", "中国共产党预备党员"],
        PoliticalStatus.ACTIVIST: ["入党积极分子", "积极分子", "中共入党积极分子"],
        PoliticalStatus.APPLICANT: [
            "有入党意愿",
            "入党意愿",
            "有意愿",
            "申请入党",
            "入党申请人",
            "有意愿入党",
            "要求入党",
            "有入党要求",
            "想入党",
            "已申请入党",
            "递交入党申请书",
            "已递交入党申请书",
            "已提交入党申请书",
            "入党申请",
        ],
        PoliticalStatus.LEAGUE: ["共青团员", "团员", "共青团", "中国共产主义青年团团员"],
        PoliticalStatus.MASSES: ["群众", "无", "无党派", "无党派人士", "普通群众"],
    }
)


def political_status(value: object) -> str:
    """Blank is "not given" (None); the importer decides what that means."""
    word = text(value)
    if not word:
        return ""
    try:
        return _POLITICAL[word_key(word)]
    except KeyError:
        raise ValueError(
            f"无法识别的政治面貌：{word}（可填 中共党员、预备党员、入党积极分子、有入党意愿、"
            "共青团员、群众）"
        ) from None


Education = Courier.Education
_EDUCATION = _choice_words(
    {
        Education.PRIMARY_OR_LESS: [
            "初中及以下",
            "初中",
            "小学",
            "初中以下",
            "文盲",
            "无",
            "小学及以下",
            "初中毕业",
            "小学毕业",
            "初中学历",
            "小学学历",
        ],
        Education.SENIOR: [
            "高中/中专",
            "高中",
            "中专",
            "职高",
            "技校",
            "中技",
            "高中及中专",
            "中专/高中",
            "高中(中专)",
            "高中(含中专)",
            "中专(高中)",
            "高中/中专/技校",
            "高中/职高",
            "职业高中",
            "职校",
            "中等专科",
            "高中毕业",
            "中专毕业",
            "高中学历",
            "中专学历",
        ],
        Education.COLLEGE: [
            "大专",
            "专科",
            "大学专科",
            "高职",
            "大专(高职)",
            "专科(高职)",
            "高职高专",
            "大专/高职",
            "大专学历",
            "专科学历",
            "大专毕业",
        ],
        Education.BACHELOR: ["大学本科", "本科", "大学", "本科学历", "本科毕业", "学士"],
        Education.POSTGRADUATE: [
            "研究生",
            "硕士",
            "博士",
            "硕士研究生",
            "博士研究生",
            "研究生学历",
            "硕士学历",
        ],
    }
)


def education(value: object) -> str:
    word = text(value)
    if not word:
        return ""
    try:
        return _EDUCATION[word_key(word)]
    except KeyError:
        raise ValueError(
            f"无法识别的文化程度：{word}（可填 初中及以下、高中/中专、大专、大学本科、研究生）"
        ) from None


_GENDER = _choice_words(
    {
        Courier.Gender.MALE: ["男", "男性", "男士", "m", "male"],
        Courier.Gender.FEMALE: ["女", "女性", "女士", "f", "female"],
    }
)


def gender(value: object) -> str:
    word = text(value)
    if not word:
        return ""
    try:
        return _GENDER[word_key(word)]
    except KeyError:
        raise ValueError(f"性别应填“男”或“女”：{word}") from None


_EMPLOYMENT = _choice_words(
    {
        Courier.EmploymentStatus.ACTIVE: ["在职", "在岗", "是", "在职在岗", "在岗在职", "正常在岗"],
        Courier.EmploymentStatus.LEFT: [
            "离职",
            "已离职",
            "否",
            "辞职",
            "已辞职",
            "离岗",
            "已离岗",
            "不在职",
        ],
    }
)


def employment_status(value: object) -> str:
    word = text(value)
    if not word:
        return ""
    try:
        return _EMPLOYMENT[word_key(word)]
    except KeyError:
        raise ValueError(f"从业状态应填“在职”或“离职”：{word}") from None


# What an office writes after a brand's name (中通快递, 韵达速递, 中国邮政速递物流): tried off
# the end of a name that matches no brand.
_BRAND_SUFFIXES = ("有限公司", "股份", "集团", "公司", "快递", "速递", "速运", "物流", "快运")


def brand_names(value: object) -> list[str]:
    """The name as typed, then with the words offices add after a brand taken off one by one:
    for the importer to try against the brands and their aliases."""
    name = _WORD_SPACES.sub("", text(value))
    names = [name]
    trimmed = True
    while trimmed:
        trimmed = False
        for suffix in _BRAND_SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix) + 1:
                name = name[: -len(suffix)]
                names.append(name)
                trimmed = True
    return names
