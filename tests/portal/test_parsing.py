"""Bounded parsers: random and adversarial input gets a value of the promised type or a Refusal with a sentence."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.errors import Refusal
from portal.parsing import (
    MAX_JSON_DEPTH,
    MAX_PAGE,
    PAGE_SENTENCE,
    page_slice,
    parse_id,
    parse_int,
    parse_json,
    parse_json_object,
    parse_page,
    parse_text,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def _refused_with_a_sentence(call) -> Refusal:
    with pytest.raises(Refusal) as refused:
        call()
    assert refused.value.status == HTTPStatus.BAD_REQUEST
    assert refused.value.message.endswith(".") and len(refused.value.message) > 10
    return refused.value


@given(st.text(max_size=300) | st.binary(max_size=300))
def test_parse_json_never_raises_anything_but_a_refusal(raw):
    try:
        parse_json(raw)
    except Refusal as refused:
        assert refused.status == HTTPStatus.BAD_REQUEST and refused.message.startswith("The request body")


@given(json_values)
def test_parse_json_reads_back_what_json_wrote(value):
    assert parse_json(json.dumps(value)) == value


@given(st.integers(min_value=MAX_JSON_DEPTH + 1, max_value=20_000), st.sampled_from(["[", '{"a":']))
@settings(max_examples=25)
def test_deeply_nested_json_is_refused_not_a_recursion_error(depth, opener):
    closer = "]" if opener == "[" else "}"
    refusal = _refused_with_a_sentence(lambda: parse_json(opener * depth + "1" + closer * depth, what="The choice", max_bytes=10**6))
    assert refusal.message == f"The choice is nested too deeply (at most {MAX_JSON_DEPTH} levels)."


def test_a_999_deep_vote_choice_is_refused():
    refusal = _refused_with_a_sentence(lambda: parse_json("[" * 999 + "]" * 999, what="The choice"))
    assert "nested too deeply" in refusal.message


def test_brackets_inside_strings_do_not_count_as_depth():
    text = json.dumps({"body": "[" * 5000 + '\\"{' * 100})
    assert parse_json(text) == json.loads(text)


@pytest.mark.parametrize("raw", ["NaN", "[Infinity]", '{"a": -Infinity}', "1" * 5000, "", "{", b"\xff\xfe"])
def test_not_json_is_refused(raw):
    _refused_with_a_sentence(lambda: parse_json(raw))


def test_oversized_json_is_refused():
    refusal = _refused_with_a_sentence(lambda: parse_json(b"[" + b"1," * 40_000 + b"1]"))
    assert refusal.message == "The request body is too long (at most 65,536 bytes)."


def test_parse_json_object_wants_an_object():
    assert _refused_with_a_sentence(lambda: parse_json_object("[1]")).message == "The request body must be a JSON object."


@given(st.text(max_size=30))
def test_parse_int_accepts_only_ascii_digits(text):
    try:
        value = parse_int(text, minimum=0)
    except Refusal as refused:
        assert refused.status == HTTPStatus.BAD_REQUEST
        stripped = text.strip()
        assert not (stripped.isascii() and stripped.isdigit() and len(stripped.lstrip("0")) <= 18)
    else:
        assert isinstance(value, int) and value == int(text.strip()) and text.strip().isascii()


@pytest.mark.parametrize("raw", ["²", "①", "١٢", "１２", "1.5", "1e3", "0x10", "", " ", "+1", "--1", True, None, 1.0, [1]])
def test_parse_int_refuses_what_is_not_a_whole_ascii_number(raw):
    assert _refused_with_a_sentence(lambda: parse_int(raw, what="The weight")).message == "The weight must be a whole number."


def test_parse_int_bounds():
    assert parse_int("007", minimum=0) == 7
    assert parse_int("-3") == -3
    assert _refused_with_a_sentence(lambda: parse_int("-3", minimum=0)).message == "The number must be a whole number."
    assert _refused_with_a_sentence(lambda: parse_int("9" * 19)).message == "The number is too large."
    assert _refused_with_a_sentence(lambda: parse_int(10**30)).message == "The number is too large."
    assert _refused_with_a_sentence(lambda: parse_int("11", maximum=10)).message == "The number must be at most 10."


@given(st.one_of(st.none(), st.text(max_size=25), st.integers()))
def test_parse_page_is_a_bounded_positive_page_or_the_sentence(raw):
    try:
        page = parse_page(raw)
    except Refusal as refused:
        assert refused.message == PAGE_SENTENCE and refused.status == HTTPStatus.BAD_REQUEST
    else:
        assert 1 <= page <= MAX_PAGE + 1


@pytest.mark.parametrize(
    ("raw", "page"),
    [(None, 1), ("", 1), ("1", 1), ("2", 2), ("0002", 2), ("9223372036854775807", MAX_PAGE + 1), ("9" * 400, MAX_PAGE + 1)],
)
def test_parse_page(raw, page):
    assert parse_page(raw) == page


@pytest.mark.parametrize("raw", ["0", "-1", "²", "1.0", "abc", "١", True, 0, -5])
def test_a_page_that_is_not_a_positive_integer_is_the_400_sentence(raw):
    assert _refused_with_a_sentence(lambda: parse_page(raw)).message == PAGE_SENTENCE


def test_page_slice_stays_small_for_huge_pages():
    huge = page_slice(page=parse_page("9223372036854775807"), per_page=100)
    assert huge.stop < 2**31


@given(st.one_of(st.none(), st.integers(), st.text(max_size=40), st.dictionaries(st.text(max_size=3), st.integers())))
def test_parse_text_wants_a_string(raw):
    try:
        text = parse_text(raw, what="Your comment", max_length=20)
    except Refusal as refused:
        assert refused.message.startswith("Your comment")
    else:
        assert isinstance(raw, str) and text == raw.strip() and 0 < len(text) <= 20


@pytest.mark.parametrize("raw", [None, {"a": 1}, ["x"], 5])
def test_socket_bodies_that_are_not_strings_are_refused(raw):
    assert _refused_with_a_sentence(lambda: parse_text(raw, what="Your comment", max_length=10_000)).message == (
        "Your comment must be text."
    )


def test_parse_id():
    assert parse_id("12") == 12
    for raw in ("0", "²", "9223372036854775808", "-1"):
        _refused_with_a_sentence(lambda raw=raw: parse_id(raw))
