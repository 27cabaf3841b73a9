"""Many entries at once: the rows of the bulk form or of a CSV file, each checked on its own.

Two kinds: ``voices`` (a row is an :class:`~proposals.voices.assisted.AssistedVoiceForm`) and ``comments``
on a challenge (a :class:`CommentRow`). A CSV file is read as UTF-8 (with or without a byte-order mark) or,
failing that, as Shift_JIS the way Excel in Japan writes it (cp932). Its header names the columns
(:data:`COLUMNS`, in English or Japanese, in any order); a file that cannot be read as such (binary, another
encoding, unknown or missing columns, too many rows, too large) is refused as a whole with a translated reason
under ``file``, and nothing else happens. Each row that can be read becomes a :class:`Row` with its own errors,
so the preview shows every row, and only the valid ones are created.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from cocreate.errors import Invalid
from cocreate.forms import ROW_KEY, FormModel, Line, Text, as_text
from cocreate.i18n import gettext as _
from cocreate.i18n import lazy_gettext
from proposals.voices.assisted import NOTE_MAX, AssistedVoiceForm

VOICES = "voices"
COMMENTS = "comments"
KINDS = (VOICES, COMMENTS)
MAX_ROWS = 200
"""At most this many opinions in one file or one form (a large workshop's worth)."""
MAX_FILE_BYTES = 512 * 1024
BLANK_ROWS = 10
MORE_ROWS = 10
BODY_MAX = 4000


class CommentRow(FormModel):
    """One resident's opinion on a challenge, with the desk's private note."""

    body: Annotated[str, Text(BODY_MAX, required=lazy_gettext("Write the resident's opinion."))] = ""
    note: Annotated[str, Line(NOTE_MAX)] = ""


MODELS: dict[str, type[FormModel]] = {VOICES: AssistedVoiceForm, COMMENTS: CommentRow}

COLUMNS: dict[str, tuple[tuple[str, str, str], ...]] = {
    # (field, the CSV column in English, its Japanese name)
    VOICES: (("title", "title", "タイトル"), ("body", "description", "内容"), ("category", "category", "分野"),
             ("area", "area", "地域"), ("address", "address", "住所"), ("note", "note", "メモ")),
    COMMENTS: (("body", "opinion", "意見"), ("note", "note", "メモ")),
}
REQUIRED_COLUMNS = {VOICES: ("title", "body", "category"), COMMENTS: ("body",)}


@dataclass
class Row:
    """One row as sent, and what is wrong with it (field -> translated message; empty when it is valid)."""

    number: int
    """Its number for people: the line of the CSV file (the header is line 1), or the form's row."""
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    parsed: Any = None

    @property
    def valid(self) -> bool:
        return not self.errors


@dataclass
class Batch:
    kind: str
    rows: list[Row]

    @property
    def valid(self) -> list[Row]:
        return [row for row in self.rows if row.valid]

    @property
    def invalid(self) -> list[Row]:
        return [row for row in self.rows if not row.valid]


def fields(kind: str) -> tuple[str, ...]:
    return tuple(MODELS[kind].model_fields)


def check(kind: str, values: list[tuple[int, dict[str, str]]]) -> Batch:
    """Each row checked on its own (rows with nothing in them are left out)."""
    model = MODELS[kind]
    rows = []
    for number, row_values in values:
        if not any(value.strip() for value in row_values.values()):
            continue
        row = Row(number, row_values)
        try:
            row.parsed = model.parse(row_values)
        except Invalid as failed:
            row.errors = dict(failed.errors) or {"form": failed.detail}
        rows.append(row)
    if len(rows) > MAX_ROWS:
        raise Invalid({"rows": _("At most %(max)s opinions can be entered at once.", max=MAX_ROWS)})
    return Batch(kind, rows)


def posted_rows(kind: str, data: Mapping[str, Any], prefix: str = "rows") -> list[tuple[int, dict[str, str]]]:
    """The indexed rows of a form (``rows-0-title``, ``rows-0-body``, …), by index, blank ones included."""
    parts = set(fields(kind)) | {"line"}
    indexes = sorted({int(match.group(2)) for key in data if (match := ROW_KEY.match(str(key)))
                      and match.group(1) == prefix and match.group(3) in parts})
    if len(indexes) > MAX_ROWS * 2:
        raise Invalid({"rows": _("At most %(max)s opinions can be entered at once.", max=MAX_ROWS)})
    rows = []
    for index in indexes:
        values = {part: as_text(data.get(f"{prefix}-{index}-{part}")) for part in fields(kind)}
        line = as_text(data.get(f"{prefix}-{index}-line"))
        rows.append((int(line) if line.isdigit() and len(line) < 7 else index + 1, values))
    return rows


# --- CSV files ----------------------------------------------------------------------------------


def _unreadable() -> Invalid:
    return Invalid({"file": _("This file cannot be read as CSV text. Save it from your spreadsheet as "
                              "\"CSV UTF-8\" or \"CSV\" and try again.")})


def decode(raw: bytes) -> str:
    """The file's text: UTF-8 (a byte-order mark is dropped) or else Shift_JIS as Excel writes it (cp932)."""
    if b"\x00" in raw:  # binary, or UTF-16, which spreadsheets call "Unicode text"
        raise _unreadable()
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    for encoding in ("utf-8", "cp932"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if any(ch in text for ch in "\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x7f"):
            raise _unreadable()
        return text
    raise _unreadable()


def read_csv(kind: str, raw: bytes) -> Batch:
    """The rows of a CSV file of ``kind``, each checked; the whole file refused (``Invalid`` under ``file``)
    when it cannot be read as one."""
    if not raw.strip():
        raise Invalid({"file": _("The file is empty.")})
    if len(raw) > MAX_FILE_BYTES:
        raise Invalid({"file": _("The file is too large: at most %(size)s kB.", size=MAX_FILE_BYTES // 1024)})
    text = decode(raw)
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        raise _unreadable() from None
    while records and not any(cell.strip() for cell in records[0]):
        records.pop(0)
    if not records:
        raise Invalid({"file": _("The file is empty.")})
    header = [cell.strip().lstrip("\ufeff").casefold() for cell in records[0]]
    names = {name.casefold(): part for part, english, japanese in COLUMNS[kind] for name in (english, japanese, part)}
    unknown = [cell for cell in header if cell and cell not in names]
    positions = {names[cell]: index for index, cell in reversed(list(enumerate(header))) if cell in names}
    missing = [english for part, english, _japanese in COLUMNS[kind]
               if part in REQUIRED_COLUMNS[kind] and part not in positions]
    if unknown or missing:
        expected = ", ".join(english for _part, english, _japanese in COLUMNS[kind])
        raise Invalid({"file": _("The columns of the file do not match. The first line must name the columns: "
                                 "%(expected)s.", expected=expected)})
    body = records[1:]
    if sum(1 for record in body if any(cell.strip() for cell in record)) > MAX_ROWS:
        raise Invalid({"file": _("The file has too many rows: at most %(max)s opinions at once.", max=MAX_ROWS)})
    values = []
    for line, record in enumerate(body, start=2):
        values.append((line, {part: (record[index] if index < len(record) else "")
                              for part, index in positions.items()}))
    filled = [(line, {part: row.get(part, "") for part in fields(kind)}) for line, row in values]
    return check(kind, filled)


def template(kind: str) -> bytes:
    """An empty CSV file with the header (the page shows examples), UTF-8 with a byte-order mark (Excel opens it)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([english for _part, english, _japanese in COLUMNS[kind]])
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")
