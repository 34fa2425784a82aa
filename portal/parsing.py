"""Bounded parsers for outside input: every body, frame, query value and choice string goes through these.

Each one either returns a value of the promised type or raises a `Refusal` (400) with a sentence; none of them can
raise anything else (no RecursionError from deep JSON, no ValueError from `int("²")`, no integer so large that the
database overflows). Property tests in tests/portal/test_parsing.py throw random and adversarial input at each.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import WithJsonSchema

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from portal.errors import Refusal

MAX_JSON_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32
MAX_DIGITS = 18  # below 2**63: safe for every database's integer column and for OFFSET
MAX_PAGE = 100_000  # past this every list is empty anyway; keeps OFFSET arithmetic small


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def json_depth_exceeds(text: str, max_depth: int) -> bool:
    """True when arrays/objects in `text` nest deeper than `max_depth` (brackets inside strings don't count).

    A linear scan before `json.loads`, so a 5,000-deep body costs one pass instead of a RecursionError."""
    depth = 0
    in_string = False
    escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > max_depth:
                return True
        elif char in "]}":
            depth -= 1
    return False


def parse_json(
    raw: str | bytes | bytearray,
    *,
    what: str = "The request body",
    max_bytes: int = MAX_JSON_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
) -> Any:
    """`raw` as JSON, at most `max_bytes` long and `max_depth` deep; NaN and Infinity are refused. Raises Refusal
    whose sentence starts with `what`."""
    if isinstance(raw, (bytes, bytearray)):
        if len(raw) > max_bytes:
            raise Refusal(f"{what} is too long (at most {max_bytes:,} bytes).")
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise Refusal(f"{what} is not valid UTF-8 text.") from None
    elif isinstance(raw, str):
        text = raw
        if len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
            raise Refusal(f"{what} is too long (at most {max_bytes:,} bytes).")
    else:
        raise Refusal(f"{what} must be JSON text.")
    if json_depth_exceeds(text, max_depth):
        raise Refusal(f"{what} is nested too deeply (at most {max_depth} levels).")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):  # JSONDecodeError, an integer past Python's digit limit
        raise Refusal(f"{what} is not valid JSON.") from None


def parse_json_object(raw: str | bytes | bytearray, *, what: str = "The request body", **bounds) -> dict:
    """Like `parse_json`, but the top level must be an object."""
    value = parse_json(raw, what=what, **bounds)
    if not isinstance(value, dict):
        raise Refusal(f"{what} must be a JSON object.")
    return value


def parse_int(
    raw: object, *, what: str = "The number", minimum: int | None = None, maximum: int | None = None
) -> int:
    """A whole number written only with ASCII digits (an optional leading '-' when `minimum` allows negatives),
    at most 18 digits, within [minimum, maximum]. Accepts a real int too (not a bool). Raises Refusal."""
    if isinstance(raw, bool):
        raise Refusal(f"{what} must be a whole number.")
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str):
        text = raw.strip()
        digits = text[1:] if text.startswith("-") and (minimum is None or minimum < 0) else text
        if not digits or not (digits.isascii() and digits.isdigit()):
            raise Refusal(f"{what} must be a whole number.")
        if len(digits.lstrip("0")) > MAX_DIGITS:
            raise Refusal(f"{what} is too large.")
        value = int(text)
    else:
        raise Refusal(f"{what} must be a whole number.")
    if abs(value) >= 10**MAX_DIGITS:
        raise Refusal(f"{what} is too large.")
    if minimum is not None and value < minimum:
        raise Refusal(f"{what} must be at least {minimum}.")
    if maximum is not None and value > maximum:
        raise Refusal(f"{what} must be at most {maximum:,}.")
    return value


PAGE_SENTENCE = "The page must be a positive whole number, like ?page=2."


def parse_page(raw: object) -> int:
    """A 1-based page number from a query value: missing or empty → 1; not a positive whole number → Refusal (400)
    with PAGE_SENTENCE; very large → MAX_PAGE + 1, which lists nothing, as every page past the end does."""
    if raw is None or raw == "":
        return 1
    if isinstance(raw, bool):
        raise Refusal(PAGE_SENTENCE)
    if isinstance(raw, int):
        text = str(raw)
    elif isinstance(raw, str):
        text = raw.strip()
    else:
        raise Refusal(PAGE_SENTENCE)
    if not (text.isascii() and text.isdigit()):
        raise Refusal(PAGE_SENTENCE)
    significant = text.lstrip("0")
    if not significant:
        raise Refusal(PAGE_SENTENCE)
    if len(significant) > len(str(MAX_PAGE)):
        return MAX_PAGE + 1
    return min(int(significant), MAX_PAGE + 1)


# An API `?page=` parameter: taken as text and read by parse_page, so that every bad page answers PAGE_SENTENCE
# with 400 (a typed int would be pydantic's 422); documented as what it must be, an integer from 1.
PageQuery = Annotated[str | None, WithJsonSchema({"type": "integer", "minimum": 1, "default": 1})]


def page_slice(*, page: int, per_page: int) -> slice:
    """The queryset slice for a page number from `parse_page`."""
    start = (page - 1) * per_page
    return slice(start, start + per_page)


def page_rows(rows, *, page: int, per_page: int) -> tuple[list, bool]:
    """One page of `rows` (a queryset or list) and whether another page follows: per_page + 1 rows are read, so no
    COUNT is needed."""
    start = (page - 1) * per_page
    window = list(rows[start : start + per_page + 1])
    return window[:per_page], len(window) > per_page


def pager(*, page: int, has_next: bool) -> dict:
    """What templates/portal/_pager.html needs: this page and the previous/next page numbers (None at the ends)."""
    return {"page": page, "previous_page": page - 1 if page > 1 else None, "next_page": page + 1 if has_next else None}


def parse_id(raw: object, *, what: str = "The id") -> int:
    """A database id from outside (a query value, a form field, a socket frame): 1 … 2**63 − 1."""
    return parse_int(raw, what=what, minimum=1, maximum=2**63 - 1)


def parse_text(raw: object, *, what: str, max_length: int, required: bool = True) -> str:
    """A string field of a body or frame: must be a JSON string (not null, a number or an object), stripped,
    at most `max_length` characters; empty is refused when `required`."""
    if raw is None and not required:
        return ""
    if not isinstance(raw, str):
        raise Refusal(f"{what} must be text.")
    text = raw.strip()
    if required and not text:
        raise Refusal(f"{what} is empty.")
    if len(text) > max_length:
        raise Refusal(f"{what} is too long (at most {max_length:,} characters).")
    return text


MAX_EMAIL = 254  # RFC 5321's path limit
EMAIL_SENTENCE = "That is not an e-mail address we can send to. Please check it, e.g. name@example.org."


def parse_email(raw: object) -> str:
    """A bounded, lower-cased e-mail address (Django's validator), or a 400 sentence."""
    if not isinstance(raw, str):
        raise Refusal(EMAIL_SENTENCE)
    address = raw.strip()
    if not address or len(address) > MAX_EMAIL:
        raise Refusal(EMAIL_SENTENCE)
    try:
        validate_email(address)
    except ValidationError:
        raise Refusal(EMAIL_SENTENCE) from None
    return address.lower()
