"""Compute the statistics snapshot: the core's own counts (accounts, comments, profiles by area and age band)
and every component's (:mod:`cocreate.stats.sources`), as one JSON-able dict.

The snapshot (``version`` 1)::

    {"version": 1, "computed_at": ISO time, "staff": bool, "min_cell": 10,
     "months": ["2026-01", ...],                       # the last 12 months, oldest first
     "monthly": {"accounts": [n per month], ...},      # participation over time
     "challenges": [{"id", "title", "questions", ...}],  # newest first
     "funnel": {"challenges": n, "proposals": n, ...},
     "areas": {"bands": [...], "rows": [{"key", "kind", "cells": [n or null], "total": n or null}],
               "totals": [n or null per band], "total": n or null},
     "fields": [{"id", "name", "booked": [days per month], "available": [days per month]}]}

Profile groups (area x age band) are suppressed below ``min_cell`` (:func:`suppress`): a suppressed cell is
``null`` and never leaves this module as a number.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from cocreate import components
from cocreate.accounts.models import AgeBand, User
from cocreate.areas import Area
from cocreate.comments.models import Comment
from cocreate.db.base import utcnow
from cocreate.i18n import WARD_TIMEZONE
from cocreate.i18n import lazy_gettext as _l
from cocreate.stats.sources import Counts, Measure, StatsSource, Window, monthly_counts

VERSION = 1
MONTHS = 12
DEFAULT_MIN_CELL = 10
NOT_GIVEN = "none"
OTHER = "other"

AREA_NAMES = {
    "板橋": Area.ITABASHI,
    "常盤台": Area.TOKIWADAI,
    "志村": Area.SHIMURA,
    "赤塚": Area.AKATSUKA,
    "高島平": Area.TAKASHIMADAIRA,
}
"""Place names that open a profile's area text and the ward area they name ("高島平三丁目" → Takashimadaira).
A text that opens with none of them (another 町名, a postal code) is grouped as written."""
_PREFIXES = ("東京都", "板橋区")


def area_key(text: str) -> tuple[str, str]:
    """(kind, key) of a profile's free-text area: ("area", slug) when it names one of the ward's areas,
    ("text", the text normalised) otherwise, (NOT_GIVEN, "") when empty."""
    value = unicodedata.normalize("NFKC", text or "").strip().replace(" ", "")
    if not value:
        return NOT_GIVEN, ""
    if value.lower() in {area.value for area in Area}:
        return "area", value.lower()
    rest = value
    for prefix in _PREFIXES:
        rest = rest.removeprefix(prefix)
    for name, area in AREA_NAMES.items():
        if rest.startswith(name) and not rest.startswith(name + "区"):
            return "area", area.value
    return "text", value


def _core_counts(session: Session, window: Window) -> Counts:
    comment_where = sa.and_(col(Comment.hidden_at).is_(None), col(Comment.deleted_at).is_(None))
    monthly = monthly_counts(session, window, {
        "accounts": (col(User.created_at), User, None),
        "comments": (col(Comment.created_at), Comment, comment_where),
    })
    return Counts(monthly=monthly)


CORE = StatsSource(
    name="core",
    count=_core_counts,
    monthly=(Measure("accounts", _l("New accounts"), 10), Measure("comments", _l("Comments"), 20)),
)


def sources() -> list[StatsSource]:
    return [CORE, *components.statistics_sources()]


def months_ending(now: datetime, count: int = MONTHS) -> tuple[str, ...]:
    local = now.astimezone(WARD_TIMEZONE)
    year, month = local.year, local.month
    months = []
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return tuple(reversed(months))


# --- profiles by area and age band, suppressed ---------------------------------------------------


BANDS = [band.value for band in AgeBand] + [NOT_GIVEN]


def _area_table(session: Session, min_cell: int) -> dict[str, Any]:
    """People who gave an area or an age band in their profile, by area (rows) and age band (columns)."""
    rows = session.exec(
        select(User.area, User.age_band, sa.func.count())
        .where(col(User.deleted_at).is_(None), sa.or_(User.area != "", col(User.age_band).is_not(None)))
        .group_by(User.area, User.age_band)
    ).all()
    counts: dict[tuple[str, str], list[int]] = {}
    for text, band, count in rows:
        key = area_key(text)
        cells = counts.setdefault(key, [0] * len(BANDS))
        cells[BANDS.index(band.value if band else NOT_GIVEN)] += int(count)
    # Areas as people wrote them that count fewer than the threshold go together into "other".
    grouped: dict[tuple[str, str], list[int]] = {}
    for key, cells in counts.items():
        if key[0] == "text" and sum(cells) < min_cell:
            key = (OTHER, "")
        target = grouped.setdefault(key, [0] * len(BANDS))
        for index, value in enumerate(cells):
            target[index] += value
    order = ([("area", area.value) for area in Area if ("area", area.value) in grouped]
             + sorted((key for key in grouped if key[0] == "text"), key=lambda key: (-sum(grouped[key]), key[1]))
             + [key for key in ((OTHER, ""), (NOT_GIVEN, "")) if key in grouped])
    table = [grouped[key] for key in order]
    cells, row_totals, column_totals, total = suppress(table, min_cell)
    return {
        "bands": BANDS,
        "rows": [{"kind": kind, "key": key, "cells": cells[index], "total": row_totals[index]}
                 for index, (kind, key) in enumerate(order)],
        "totals": column_totals,
        "total": total,
    }


def suppress(table: list[list[int]], min_cell: int) -> tuple[list[list[int | None]], list[int | None],
                                                            list[int | None], int | None]:
    """Suppress small counts in a table with row and column totals, so that nobody can be singled out.

    Primary suppression: every count from 1 to ``min_cell - 1`` (totals included). Complementary
    suppression: a row or column (with its total) in which exactly one number is suppressed would give it
    away by subtraction, so a second one is suppressed there too (the smallest other count, a total only
    when nothing else is left), until no row or column has exactly one. Returns the cells, the row totals,
    the column totals and the grand total, suppressed ones as None."""
    rows, columns = len(table), len(BANDS) if not table else len(table[0])
    grid = [[*row, sum(row)] for row in table]
    grid.append([*(sum(row[c] for row in table) for c in range(columns)), sum(sum(row) for row in table)])
    hidden = {(r, c) for r in range(rows + 1) for c in range(columns + 1) if 0 < grid[r][c] < min_cell}
    relations = ([[(r, c) for c in range(columns + 1)] for r in range(rows + 1)]
                 + [[(r, c) for r in range(rows + 1)] for c in range(columns + 1)])
    changed = True
    while changed:
        changed = False
        for relation in relations:
            if sum(1 for place in relation if place in hidden) != 1:
                continue
            candidates = [place for place in relation if place not in hidden]
            if not candidates:
                continue
            total = relation[-1]

            def cost(place: tuple[int, int], total: tuple[int, int] = total) -> tuple[int, int, int]:
                value = grid[place[0]][place[1]]
                return (place == total, value == 0, value)

            hidden.add(min(candidates, key=cost))
            changed = True

    def shown(r: int, c: int) -> int | None:
        return None if (r, c) in hidden else grid[r][c]

    return ([[shown(r, c) for c in range(columns)] for r in range(rows)],
            [shown(r, columns) for r in range(rows)],
            [shown(rows, c) for c in range(columns)],
            shown(rows, columns))


# --- the snapshot --------------------------------------------------------------------------------


def compute(session: Session, *, staff: bool, min_cell: int = DEFAULT_MIN_CELL,
            now: datetime | None = None) -> dict[str, Any]:
    """The statistics for the public (``staff`` False) or for ward staff, by SQL aggregates (a fixed number of
    queries, whatever the number of rows)."""
    now = now or utcnow()
    window = Window(months=months_ending(now), staff=staff, now=now)
    monthly: dict[str, list[int]] = {}
    challenges: dict[int, dict[str, Any]] = {}
    funnel: dict[str, int] = {}
    fields: list[dict[str, Any]] = []
    for source in sources():
        counts = source.count(session, window)
        for measure in source.monthly:
            by_month = counts.monthly.get(measure.key, {})
            monthly[measure.key] = [by_month.get(month, 0) for month in window.months]
        for row in counts.challenges:
            challenges.setdefault(row["id"], {}).update(row)
        for measure in source.funnel:
            funnel[measure.key] = counts.funnel.get(measure.key, 0)
        fields.extend(counts.fields)
    return {
        "version": VERSION,
        "computed_at": now.isoformat(),
        "staff": staff,
        "min_cell": min_cell,
        "months": list(window.months),
        "monthly": monthly,
        "challenges": list(challenges.values()),
        "funnel": funnel,
        "areas": _area_table(session, min_cell),
        "fields": fields,
    }
