"""Phone, ID number and credit code normalisation: what people type, what is stored."""

import pytest
from django.core.exceptions import ValidationError

from couriers.privacy.masking import mask_id_number, mask_name, mask_phone
from couriers.validators import (
    id_check_char,
    normalize_id_number,
    normalize_phone,
    normalize_uscc,
    uscc_check_char,
)
from tests.factories import id_number


@pytest.mark.parametrize(
    "typed",
    [
        "13812345678",
        " 138 1234 5678 ",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "008613812345678",
        "8613812345678",
        "１３８１２３４５６７８",
        13812345678,
        13812345678.0,
        "13812345678.0",
        "（138）1234-5678",
    ],
)
def test_phone_is_normalised_to_eleven_digits(typed):
    assert normalize_phone(typed) == "13812345678"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1381234567", "11 位"),
        ("23812345678", "11 位"),
        ("12812345678", "11 位"),
        ("138123456789", "11 位"),
        ("138abc45678", "只能包含数字"),
        ("021-57412345", "11 位"),
    ],
)
def test_bad_phone_gets_a_chinese_error(typed, message):
    with pytest.raises(ValidationError) as caught:
        normalize_phone(typed)
    assert message in caught.value.messages[0]


def test_empty_phone_stays_empty():
    assert normalize_phone("  ") == ""
    assert normalize_phone(None) == ""


def test_known_valid_id_number_passes_checksum():
    # The GB 11643 standard's own example.
    assert normalize_id_number("11010519491231002X") == "11010519491231002X"


def test_id_number_lowercase_x_and_spaces_are_normalised():
    assert normalize_id_number(" 11010519491231002x ") == "11010519491231002X"


def test_id_check_char_matches_standard_example():
    assert id_check_char("11010519491231002") == "X"
    assert id_number("19900521", 123)[-1] == id_check_char("31012019900521123")


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("110105194912310021", "校验位"),
        ("11010519491231002", "18 位"),
        ("11010519491331002X", "出生日期"),
        ("1101051949123100ZX", "18 位"),
        ("110105294912310021", "出生日期"),
    ],
)
def test_bad_id_number_gets_a_chinese_error(typed, message):
    with pytest.raises(ValidationError) as caught:
        normalize_id_number(typed)
    assert message in caught.value.messages[0]


def test_credit_code_checksum():
    body = "91310120MA1HKL2X3"
    good = body + uscc_check_char(body)
    assert normalize_uscc(good.lower()) == good
    wrong = body + ("0" if good[-1] != "0" else "1")
    with pytest.raises(ValidationError, match="校验位"):
        normalize_uscc(wrong)
    with pytest.raises(ValidationError, match="18 位"):
        normalize_uscc("91310120MA1HKL2X")


def test_masks_hide_the_middle():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number("11010519491231002X") == "110***********002X"
    assert mask_name("张伟") == "张*"
    assert mask_name("欧阳小明") == "欧**明"
