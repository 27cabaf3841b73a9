"""Numbers of KPIs as people type them: measured values, and the baseline and target read from their texts
(used by :mod:`labs.trials` for the KPI rows and by :mod:`labs.kpis` for measurements)."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from cocreate.forms import FieldType, normalised, refuse
from cocreate.i18n import lazy_gettext

VALUE_LIMIT = 1e12
"""The largest value (either sign) a measurement, baseline or target may have."""
NUMBER_RE = re.compile(r"^[+-]?\d{1,13}(?:\.\d{1,6})?$")
A_NUMBER = lazy_gettext("Enter a number, for example 1,250 or 12.5.")


def parse_number(raw: Any) -> float | None:
    """``1,234.5``, ``１２３４．５``, ``-3`` → a float; None for anything else (words, NaN, infinity, exponents,
    more than :data:`VALUE_LIMIT`)."""
    text = re.sub(r"[\s,]", "", normalised(raw))
    if not NUMBER_RE.fullmatch(text):
        return None
    value = float(text)
    if not math.isfinite(value) or abs(value) > VALUE_LIMIT:
        return None
    return value + 0.0  # no negative zero


def number_in_text(text: str | None) -> float | None:
    """The first number in a KPI's baseline or target text (``"1,150人/日"`` → 1150.0; ``"未計測"`` → None),
    as the migration read the existing texts."""
    match = re.search(r"-?\d+(?:[.,]\d+)*", unicodedata.normalize("NFKC", text or ""))
    if not match:
        return None
    return parse_number(match.group())


@dataclass(frozen=True)
class Number(FieldType):
    """A decimal number (:func:`parse_number`); empty is None unless ``required`` gives the message."""

    required: Any = None
    message: Any = None

    def parse(self, value: Any) -> float | None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value) if math.isfinite(value) and abs(value) <= VALUE_LIMIT else None
        else:
            if not normalised(value):
                if self.required is not None:
                    raise refuse(self.required)
                return None
            number = parse_number(value)
        if number is None:
            raise refuse(self.message or A_NUMBER)
        return number
