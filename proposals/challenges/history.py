"""A challenge's public change history: each published edit as a readable before and after, long texts
and lists as a line diff (:func:`line_diff`, also used to compare proposal versions)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from cocreate import i18n
from cocreate.accounts.models import Department
from cocreate.i18n import gettext as _
from proposals import phases
from proposals.challenges import services as challenges
from proposals.models import Category

DIFF_FIELDS = frozenset({"summary", *challenges.LONG_FIELDS, "owners", "criteria", "kpis", "schedule"})
"""Fields shown as a line diff (long text, and lists); the others as before → after."""
DIFF_CONTEXT = 1
"""Unchanged lines kept around each change; longer unchanged runs fold into "… n lines unchanged"."""


@dataclass(frozen=True)
class DiffLine:
    kind: str
    """``same``, ``removed``, ``added`` or ``gap`` (unchanged lines folded: ``text`` is their count)."""
    segments: tuple[tuple[str, bool], ...]
    """(text, changed): within a line that was edited, the characters that changed."""


def _char_segments(a: str, b: str) -> tuple[tuple[tuple[str, bool], ...], tuple[tuple[str, bool], ...]]:
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    old: list[tuple[str, bool]] = []
    new: list[tuple[str, bool]] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            old.append((a[i1:i2], False))
            new.append((b[j1:j2], False))
            continue
        if i2 > i1:
            old.append((a[i1:i2], True))
        if j2 > j1:
            new.append((b[j1:j2], True))
    return tuple(old), tuple(new)


def line_diff(before: str, after: str, context: int = DIFF_CONTEXT) -> list[DiffLine]:
    """A readable diff of two texts: changed lines, with the changed characters of edited lines marked."""
    # Blank lines only separate Markdown paragraphs; as diff lines they would be noise.
    a = [line for line in before.splitlines() if line.strip()]
    b = [line for line in after.splitlines() if line.strip()]
    lines: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    opcodes = matcher.get_opcodes()
    for index, (op, i1, i2, j1, j2) in enumerate(opcodes):
        if op == "equal":
            same = a[i1:i2]
            head = same[:context] if index > 0 else []
            tail = same[-context:] if index < len(opcodes) - 1 and context else []
            if len(same) <= len(head) + len(tail):
                head, tail = same, []
            lines += [DiffLine("same", ((text, False),)) for text in head]
            folded = len(same) - len(head) - len(tail)
            if folded:
                lines.append(DiffLine("gap", ((str(folded), False),)))
            lines += [DiffLine("same", ((text, False),)) for text in tail]
        elif op == "replace" and i2 - i1 == j2 - j1:
            for old_text, new_text in zip(a[i1:i2], b[j1:j2], strict=True):
                old, new = _char_segments(old_text, new_text)
                lines += [DiffLine("removed", old), DiffLine("added", new)]
        else:
            lines += [DiffLine("removed", ((text, False),)) for text in a[i1:i2]]
            lines += [DiffLine("added", ((text, False),)) for text in b[j1:j2]]
    return lines


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    before: str
    after: str
    diff: list[DiffLine] | None
    """For long text and lists; None when ``before`` → ``after`` says it all."""


def _value_text(name: str, value: Any, departments: Mapping[int, Department]) -> str:
    """A tracked value as the public reads it (lists one item a line)."""
    if value is None or value == "":
        return ""
    if name == "category":
        try:
            return Category(value).label
        except ValueError:
            return str(value)
    if name == "budget_cap_yen":
        try:
            return i18n.format_yen(int(value))
        except (TypeError, ValueError):
            return str(value)
    if name == "owners" and isinstance(value, list):
        return "\n".join(departments[d].display_name() if d in departments else f"#{d}" for d in value)
    if name == "criteria" and isinstance(value, list):
        return "\n".join(_("%(name)s (weight %(weight)s%%)", name=row[0], weight=row[1])
                         + (f" — {row[2]}" if len(row) > 2 and row[2] else "") for row in value)
    if name == "kpis" and isinstance(value, list):
        return "\n".join(_("%(indicator)s: %(baseline)s → %(target)s %(unit)s", indicator=row[0],
                           baseline=row[1] or "–", target=row[2], unit=row[3]).strip() for row in value)
    if name == "schedule" and isinstance(value, dict):
        rows = []
        for phase in phases.ORDER:
            if phase.value in value:
                try:
                    when = i18n.format_date(datetime.fromisoformat(value[phase.value]))
                except (TypeError, ValueError):
                    when = str(value[phase.value])
                rows.append(f"{phase.label}: {when}")
        return "\n".join(rows)
    return str(value)


def history_of(session: Session, challenge_id: int) -> list[dict[str, Any]]:
    """The public revisions, newest first, each change with its translated field name and before/after."""
    revisions = challenges.revisions_of(session, challenge_id)
    department_ids = {d for r in revisions for v in r["changes"].get("owners", []) if isinstance(v, list)
                      for d in v if isinstance(d, int)}
    departments = {d.id: d for d in session.exec(select(Department).where(col(Department.id).in_(department_ids)))
                   } if department_ids else {}
    labels = challenges.field_labels()
    order = list(labels)
    result = []
    for revision in revisions:
        changes = []
        for name, pair in sorted(revision["changes"].items(), key=lambda kv: order.index(kv[0])
                                 if kv[0] in order else len(order)):
            before, after = [*pair, None, None][:2] if isinstance(pair, list) else (None, pair)
            before_text = _value_text(name, before, departments)  # type: ignore[arg-type]
            after_text = _value_text(name, after, departments)  # type: ignore[arg-type]
            diff = line_diff(before_text, after_text) if name in DIFF_FIELDS else None
            changes.append(FieldChange(name, labels.get(name, name), before_text, after_text, diff))
        result.append(revision | {"changes": changes})
    return result
