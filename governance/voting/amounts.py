"""Token amounts as the portal publishes them: one function turns a Decimal into CONTRACT's decimal string."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

WEI = Decimal("0.000000000000000001")


def wei(value: Decimal) -> Decimal:
    """`value` rounded to one wei (18 decimals), half to even."""
    return value.quantize(WEI, rounding=ROUND_HALF_EVEN)


def amount_text(value: Decimal | int | str) -> str:
    """A token amount as published (API, recount file, command output): plain digits with an optional fraction and no
    trailing zeros — `"0"`, `"12.5"`, `"0.000000000000000001"` — never exponent notation such as `"0E-18"`.

    Raises ValueError for something that is not a finite number (a bug, not user input)."""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite amount.")
    if number.is_zero():
        return "0"  # also for -0 and 0E-18
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
