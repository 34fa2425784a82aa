"""Reading the signed `choice` text (CONTRACT: JSON text, choices numbered from 1) before a voting type checks it.

The text comes from anyone who can sign, so reading it is bounded: at most 2,000 ASCII characters, one level of
list or object, each option named once. Anything else is an InvalidChoice with a sentence; nothing else escapes.
"""

from __future__ import annotations

import json
import math
from http import HTTPStatus

from portal.errors import Refusal
from portal.parsing import json_depth_exceeds

MAX_CHOICE_TEXT = 2000
MAX_AMOUNT = 10**12  # per option in a weighted or quadratic split

Ballot = int | list[int] | dict[int, int]


class InvalidChoice(Refusal):
    """The choice text does not fit the voting type; the message is a sentence for the voter."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY


def choice_json(text: object) -> object:
    """The choice text as a JSON value: a number, a flat list or a flat object. Raises InvalidChoice."""
    if not isinstance(text, str) or len(text) > MAX_CHOICE_TEXT:
        raise InvalidChoice("The choice must be short JSON text.")
    foreign = next((c for c in text if not c.isascii()), None)
    if foreign is not None:
        raise InvalidChoice(f"Write option numbers with the digits 0 to 9: “{foreign}” is not one of them.")
    if json_depth_exceeds(text, 1):
        raise InvalidChoice("The choice is nested too deeply: give one number, one list or one object of numbers.")
    try:
        return json.loads(text, object_pairs_hook=_object_once)
    except ValueError:
        raise InvalidChoice("The choice is not valid JSON text.") from None


def _object_once(pairs: list[tuple[str, object]]) -> dict:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise InvalidChoice("Name each option at most once.")
    return dict(pairs)


def is_whole(value: object) -> bool:
    """A JSON whole number (not a bool, not 1.0)."""
    return isinstance(value, int) and not isinstance(value, bool)


def option_key(key: str, n_choices: int) -> int | None:
    """The option number a weighted/quadratic key names ("1" … "n", no sign, no leading zero), or None."""
    if key.isascii() and key.isdigit() and key == str(int(key)) and 1 <= int(key) <= n_choices:
        return int(key)
    return None


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st (snapshot.js getNumberWithOrdinal)."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def js_tenths(scaled: float) -> str:
    """`Math.round(scaled) / 10` as JavaScript prints the number: "66.7", "50" (snapshot.js getChoiceString)."""
    value = math.floor(scaled + 0.5) / 10
    return str(int(value)) if value == int(value) else repr(value)
