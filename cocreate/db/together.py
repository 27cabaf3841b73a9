"""Several small reads in one round trip: the rows of a few tables, each with its own filter and order,
as one UNION ALL.

A page that shows a handful of short lists of one parent (a challenge's owners, criteria, KPIs, dates,
attachments) would otherwise spend a query on each. :class:`Together` is built once, at import time,
from SELECTs that take their parent's id as a bound parameter: the statement is constructed once, and
each call only executes it and builds the instances.

Every branch carries the same generic columns: a part number, a row number (each part's order), and
as many integer, text and time columns as the widest part needs, typed NULLs where a part has fewer.
SQL sees one column type per place (both dialects agree on the union), and the values are handed back
to the models by name, enum columns turned back into their enums.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from cocreate.db.base import UTCDateTime

_KINDS: dict[str, sa.types.TypeEngine[Any]] = {"int": sa.BigInteger(), "text": sa.Text(), "time": UTCDateTime()}


def _kind(column: sa.Column[Any]) -> str:
    if isinstance(column.type, UTCDateTime | sa.DateTime):
        return "time"
    underlying = column.type.impl_instance if isinstance(column.type, sa.TypeDecorator) else column.type
    if isinstance(underlying, sa.Integer | sa.Boolean):
        return "int"
    if isinstance(underlying, sa.String):  # Text, SQLModel's AutoString and non-native enums are strings
        return "text"
    raise TypeError(f"{column} has a type Together does not carry: {column.type!r}")


@dataclass(frozen=True)
class _Part:
    model: type[Any]
    places: tuple[tuple[str, int, Any], ...]
    """(attribute, index in the row, what turns the raw value back into the attribute's value)."""

    def build(self, row: Sequence[Any]) -> Any:
        return self.model(**{name: convert(row[index]) if convert is not None and row[index] is not None
                             else row[index] for name, index, convert in self.places})


class Together:
    """One UNION ALL of ``parts``: (model, a SELECT of the model's rows without ORDER BY, their order)."""

    def __init__(self, parts: Sequence[tuple[type[Any], sa.Select[Any], Sequence[Any]]]) -> None:
        assigned: list[dict[str, list[sa.Column[Any]]]] = []
        for model, _statement, _order in parts:
            slots: dict[str, list[sa.Column[Any]]] = {kind: [] for kind in _KINDS}
            for column in model.__table__.columns:
                slots[_kind(column)].append(column)
            assigned.append(slots)
        widths = {kind: max(len(slots[kind]) for slots in assigned) for kind in _KINDS}
        offsets, start = {}, 2  # after the part and row numbers
        for kind in _KINDS:
            offsets[kind] = start
            start += widths[kind]

        branches = []
        self._parts: list[_Part] = []
        for number, ((model, statement, order), slots) in enumerate(zip(parts, assigned, strict=True)):
            values: list[Any] = [sa.literal(number, sa.Integer()).label("part"),
                                 sa.func.row_number().over(order_by=order).label("n")]
            places = []
            for kind, slot_type in _KINDS.items():
                for place in range(widths[kind]):
                    label = f"{kind}{place}"
                    if place < len(slots[kind]):
                        column = slots[kind][place]
                        values.append(sa.type_coerce(column, slot_type).label(label))
                        enum = getattr(column.type, "enum_class", None)
                        convert = enum if isinstance(enum, type) and issubclass(enum, Enum) else (
                            bool if isinstance(column.type, sa.Boolean) else None)
                        places.append((column.key, offsets[kind] + place, convert))
                    else:
                        values.append(sa.cast(sa.null(), slot_type).label(label))
            branches.append(statement.with_only_columns(*values))
            self._parts.append(_Part(model, tuple(places)))
        self.statement = sa.union_all(*branches).order_by(sa.literal_column("part"), sa.literal_column("n"))

    def load(self, session: Session, params: Mapping[str, Any]) -> list[list[Any]]:
        """Each part's rows in its order, as instances of its model (not added to the session: for reading)."""
        result: list[list[Any]] = [[] for _ in self._parts]
        for row in session.execute(self.statement, params):
            result[row[0]].append(self._parts[row[0]].build(row))
        return result
