"""Template parameters shortened to what a provider accepts — on a word boundary, never through
a number or a Latin word — and the README's list of templates to register, kept in step with
the registry."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from couriers.messaging import params, templates
from couriers.messaging.providers import table
from couriers.messaging.providers.aliyun import PARAM_LIMIT

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.parametrize(
    ("value", "limit", "expected"),
    [
        ("消防安全培训", 35, "消防安全培训"),  # fits: untouched
        ("奉贤区快递小哥安全骑行培训", 8, "奉贤区快递小哥…"),  # Chinese: any place is a boundary
        ("12月3日 14:00 南桥驿站", 10, "12月3日…"),  # "14:00" is not cut to "14:" or "1"
        ("第20251203期培训", 8, "第…"),  # nor a number to "2025"
        ("A-12号柜 Fengxian station", 14, "A-12号柜…"),  # nor a Latin word
        ("积分+3.5，原因：补录", 7, "积分+3.5…"),  # a sign stays with its number
        ("积分+3.5，原因：补录", 6, "积分…"),
        ("南桥镇，西渡街道，庄行镇", 5, "南桥镇…"),  # no dangling comma before "…"
        ("12345678901234567890", 10, "…"),  # one word longer than the limit: not in pieces
        ("任何长度", 0, "任何长度"),  # 0: no limit
    ],
)
def test_shorten(value, limit, expected):
    assert params.shorten(value, limit) == expected


@given(st.text(alphabet="奉贤南桥 abcXYZ0123:.-，。", max_size=60), st.integers(1, 40))
def test_shortened_values_fit_and_are_a_start_of_the_original(value, limit):
    short = params.shorten(value, limit)
    assert len(short) <= limit
    if short != value:
        assert short.endswith(params.ELLIPSIS)
        assert value.startswith(short[:-1])
        # The cut is never inside a run of letters and digits.
        kept = short[:-1]
        if kept and kept[-1].isascii() and kept[-1].isalnum():
            assert not (value[len(kept)].isascii() and value[len(kept)].isalnum())


def test_fit_takes_from_the_longest_value_when_the_message_would_be_too_long():
    fitted = params.fit(
        ("title", "content"),
        {"title": "高温预警", "content": "今天各骑乐融融站点提供防暑药品。" * 10},
        each=None,
        room=60,
    )
    assert fitted["title"] == "高温预警"
    assert len(fitted["title"]) + len(fitted["content"]) <= 60
    assert fitted["content"].endswith("…")


def test_fit_gives_every_parameter_of_the_template_as_text():
    fitted = params.fit(("post", "points"), {"points": 5}, each=PARAM_LIMIT)
    assert fitted == {"post": "", "points": "5"}


def test_room_counts_the_signature_and_the_templates_own_text():
    reminder = templates.get(
        "activity_reminder"
    )  # 提醒：您报名的${activity}将于${time}在${place}开始。
    fixed = len("提醒：您报名的将于在开始。")
    assert params.room(reminder.text, "奉贤快递小哥", 500) == 500 - fixed - len("【奉贤快递小哥】")


def test_tencent_text_numbers_the_parameters_in_their_order():
    assert (
        table.tencent_text(templates.get("activity_reminder"))
        == "提醒：您报名的{1}将于{2}在{3}开始。"
    )


def test_the_readme_lists_every_template_as_registered():
    readme = README.read_text()
    assert table.START in readme and table.END in readme
    listed = readme[readme.index(table.START) : readme.index(table.END) + len(table.END)]
    assert listed == table.markdown(), (
        "README 的短信模板表与 couriers/messaging/templates.py 不一致，请用 "
        "couriers.messaging.providers.table.markdown() 重新生成：\n" + table.markdown()
    )
