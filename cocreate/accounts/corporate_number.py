"""法人番号 (corporate number): 13 digits, the first a check digit over the other 12.

The rule (法人番号の指定等に関する省令 第2条, as the National Tax Agency applies it): take the 12-digit
base number, multiply its digits by 1 and 2 alternately starting from the rightmost digit (weight 1),
add them up; the check digit is ``9 - (sum mod 9)``, so it is always 1-9 and never 0.

Being mod 9, the check cannot tell a 0 from a 9 in the base number; every other single-digit slip is
caught, and so is any change of the check digit itself.
"""

from __future__ import annotations

import re

LENGTH = 13
# Separators people type between digit groups: hyphens and dashes of every width, spaces.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212\u30fc\uff0d\uff70]+")
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def check_digit(base: str) -> int:
    """The check digit of a 12-digit base number (会社法人等番号 or another base)."""
    if len(base) != LENGTH - 1 or not base.isascii() or not base.isdigit():
        raise ValueError("the base number must be 12 ASCII digits")
    total = sum(int(digit) * (1 if position % 2 else 2) for position, digit in enumerate(reversed(base), start=1))
    return 9 - total % 9


def normalize(raw: str | None) -> str:
    """Full-width digits to ASCII, separators removed; the result may still be invalid."""
    return _SEPARATORS.sub("", (raw or "").translate(_FULL_WIDTH_DIGITS))


def is_valid(number: str) -> bool:
    """Whether ``number`` (already normalised) is 13 ASCII digits with a correct check digit."""
    if len(number) != LENGTH or not number.isascii() or not number.isdigit():
        return False
    return int(number[0]) == check_digit(number[1:])


class InvalidCorporateNumber(ValueError):
    """Why a corporate number was refused: ``reason`` is ``"format"`` or ``"check_digit"``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse(raw: str | None) -> str:
    """The 13 ASCII digits of a typed corporate number, or :class:`InvalidCorporateNumber`.

    Accepts full-width digits and hyphens or spaces between groups (``1-1803-0101-8771``).
    """
    number = normalize(raw)
    if len(number) != LENGTH or not number.isascii() or not number.isdigit():
        raise InvalidCorporateNumber("format")
    if not is_valid(number):
        raise InvalidCorporateNumber("check_digit")
    return number

