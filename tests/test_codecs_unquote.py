"""The %-decoder TextCodec uses for HTTP_HEADERS baggage equals ``urllib.parse.unquote_plus``."""

from __future__ import annotations

import codecs
from urllib.parse import quote, unquote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaeger_client import codecs as jaeger_codecs
from jaeger_client.codecs import _quoted_len, _unquote_plus

# pieces that exercise every branch: escapes valid, short, at the end, mixed case, of UTF-8
# lead and continuation bytes; backslashes (escape_decode's own escape); non-ASCII; surrogates
PIECES = st.sampled_from(
    [
        "%", "%4", "%41", "%e9", "%C3", "%c3%A9", "%E6%97%A5", "%ff", "%zz", "%%", "%+", "+",
        "\\", "\\x41", "\\\\", "a", " ", "é", "日", "\ud800", "\udfff", "%\ud800", "%é",
        "\U0001f600", "%F0%9F", "%98%80", "%00", "\x00", "\n", "x",
    ]
)  # fmt: skip
TEXTS = st.one_of(
    st.text(st.characters(codec=None, exclude_categories=())),
    st.lists(PIECES | st.text(max_size=3), max_size=40).map("".join),
)


@settings(max_examples=1000, deadline=None)
@given(text=TEXTS)
def test_unquote_plus_equals_urllib_for_any_text(text: str) -> None:
    assert _unquote_plus(text) == (unquote_plus(text), 0)


@settings(max_examples=300, deadline=None)
@given(text=TEXTS)
def test_unquote_plus_without_escape_decode_equals_urllib(text: str) -> None:
    """``codecs.escape_decode`` is undocumented: without it, urllib does the work."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jaeger_codecs, "_escape_decode", None)
        assert _unquote_plus(text)[0] == unquote_plus(text)


def test_escape_decode_is_present_on_this_python() -> None:
    assert jaeger_codecs._escape_decode is codecs.escape_decode  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "budget", "expected"),
    [
        ("%41%42", 0, ("AB", 0)),  # valid escapes cost nothing
        ("%zz%41", 1, ("%zzA", 0)),
        ("%zz%zz", 1, (None, 0)),  # over budget: nothing decoded, the budget spent
        ("%zz%zz", 2, ("%zz%zz", 0)),
        ("a+b", 0, ("a b", 0)),
        ("\ud800%zz", 1, ("\ud800%zz", 0)),  # urllib's path: every '%' counts
        ("\ud800%41%42", 1, (None, 0)),
    ],
)
def test_bad_escapes_spend_the_budget(text: str, budget: int, expected: tuple[object, int]) -> None:
    assert _unquote_plus(text, budget) == expected


@settings(max_examples=500, deadline=None)
@given(text=TEXTS)
def test_quoted_len_equals_the_length_quote_writes(text: str) -> None:
    """Extract bounds HTTP_HEADERS baggage by its re-injected (quoted) size, without quoting."""
    assert _quoted_len(text) == len(quote(text, errors="replace"))


@settings(max_examples=500, deadline=None)
@given(values=st.lists(TEXTS, max_size=12), budget=st.integers(0, 40))
def test_decoding_values_together_equals_decoding_them_one_by_one(
    values: list[str], budget: int
) -> None:
    """One ``_unquote_plus`` call over newline-joined values (``_decode_together``) gives what
    decoding them in turn gives whenever the bad-escape budget allows it; values it cannot
    afford become None, and it spends no more of the budget than decoding in turn would."""
    entries = [(f"k{i}", jaeger_codecs._Encoded(v)) for i, v in enumerate(values)]
    together, left = jaeger_codecs._decode_together(entries, budget)
    assert [k for k, _ in together] == [k for k, _ in entries]
    if len(values) < 2:
        assert (together, left) == (entries, budget)
        return
    one_by_one_left = budget
    one_by_one = []
    for value in values:
        expected, one_by_one_left = _unquote_plus(value, one_by_one_left)
        one_by_one.append(expected)
    for (_, got), value in zip(together, values):
        assert got is None or got == unquote_plus(value)
    assert 0 <= left <= budget
    if None not in one_by_one:  # decoding in turn could afford every value: so could this
        assert [v for _, v in together] == one_by_one == [unquote_plus(v) for v in values]


def test_values_past_the_decode_together_limit_stay_encoded_for_later() -> None:
    value = "%41" * 30  # 91 bytes joined: 270 of them fill the 24 KB limit
    entries = [(f"k{i}", jaeger_codecs._Encoded(value)) for i in range(400)]
    together, _ = jaeger_codecs._decode_together(entries, 0)
    decoded = [v for _, v in together if type(v) is str]
    still_encoded = [v for _, v in together if type(v) is jaeger_codecs._Encoded]
    assert decoded == ["A" * 30] * (jaeger_codecs._DECODE_TOGETHER_BYTES // 91)
    assert len(decoded) + len(still_encoded) == 400 and set(still_encoded) == {value}
    assert [k for k, _ in together] == [k for k, _ in entries]
