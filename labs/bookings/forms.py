"""What the booking forms send, typed and checked (:mod:`cocreate.forms`): the request form with its
numbered rows of periods, the notes of the field's managers, the reason for cancelling and a document.

Building a form checks what needs no database: lengths, characters, ids, numbers and that each period
row holds two readable local times, the end after the start. The services check the rest (which
field, organisation and trial may be chosen, and the booking rules of :mod:`labs.bookings.rules`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, NamedTuple

from litestar.datastructures import UploadFile
from pydantic import Field
from pydantic_core import PydanticCustomError, core_schema

from cocreate.errors import Invalid
from cocreate.forms import (
    Choice,
    FormModel,
    Line,
    RowId,
    Text,
    WholeNumber,
    as_text,
    first,
    parse_local_datetime,
)
from cocreate.i18n import gettext as _
from cocreate.i18n import lazy_gettext
from labs.models import DocumentKind

MAX_PERIODS = 20
FORM_ROWS = 5
"""Period rows a form shows at least (blank rows are ignored)."""
MAX_TITLE = 200
MAX_TEXT = 5000
MAX_NOTE = 2000
MAX_PEOPLE = 100_000


# --- periods -------------------------------------------------------------------------------------


class Period(NamedTuple):
    """A period as the form's row ``number`` (from 1, as shown) gives it, in UTC."""

    number: int
    starts_at: datetime
    ends_at: datetime


PeriodRow = tuple[Any, Any]
"""A row as typed: (start, end) in local time, ``2026-12-01T09:00``; both blank when unused."""


def typed_rows(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The rows of periods a form sent (``period-1-start``, ``period-1-end``, …) as typed, up to the
    last one not left blank."""
    rows = [(as_text(data.get(f"period-{n}-start")), as_text(data.get(f"period-{n}-end")))
            for n in range(1, MAX_PERIODS + 1)]
    while rows and not rows[-1][0].strip() and not rows[-1][1].strip():
        rows.pop()
    return rows


def _blank(row: Period | PeriodRow) -> bool:
    return not isinstance(row, Period) and not any(as_text(value).strip() for value in row)


def read_periods(rows: Sequence[Period | PeriodRow]) -> tuple[list[Period], dict[str, str]]:
    """The periods of the rows not left blank, and the problems of each row beside it
    (``period-{n}-start``, ``-end``, ``-order``; ``periods`` when there are too many)."""
    errors: dict[str, str] = {}
    if len([row for row in rows if not _blank(row)]) > MAX_PERIODS:
        return [], {"periods": _("A request can have at most %(max)s periods.", max=MAX_PERIODS)}
    periods: list[Period] = []
    for number, row in enumerate(rows, start=1):
        if isinstance(row, Period):
            periods.append(row)
            continue
        if _blank(row):
            continue
        starts_at, ends_at = parse_local_datetime(row[0]), parse_local_datetime(row[1])
        if starts_at is None:
            errors[f"period-{number}-start"] = _(
                "Period %(n)s: enter the start as a date and time, like 2026-12-01 09:00.", n=number)
        if ends_at is None:
            errors[f"period-{number}-end"] = _(
                "Period %(n)s: enter the end as a date and time, like 2026-12-01 17:00.", n=number)
        if starts_at is not None and ends_at is not None:
            if ends_at <= starts_at:
                errors[f"period-{number}-order"] = _("Period %(n)s: the end must be after the start.", n=number)
            else:
                periods.append(Period(number, starts_at, ends_at))
    return periods, errors


class PeriodsForm(FormModel):
    """A form with rows of periods: posted as ``period-{n}-start`` / ``period-{n}-end``, or given as
    ``periods=[(start, end), …]``. Each row's problems are reported beside it, together with the
    errors of the form's other fields."""

    periods: list[Period] = Field(default_factory=list)

    def __init__(self, **data: Any) -> None:
        rows = data.pop("periods", None)
        if not isinstance(rows, list | tuple):
            rows = typed_rows(data)
        periods, errors = read_periods(rows)
        try:
            super().__init__(periods=periods, **data)
        except Invalid as failed:
            raise Invalid(failed.errors | errors) from None
        if errors:
            raise Invalid(errors)


# --- the request ---------------------------------------------------------------------------------


class BookingForm(PeriodsForm):
    """The request form. The field and the organisation are fixed once a request exists (its edit form
    does not send them); ``action`` is ``submit`` to submit at once."""

    field_id: Annotated[int | None, RowId(lazy_gettext("Choose a test field."))] = None
    organisation_id: Annotated[int | None, RowId(lazy_gettext("Choose one of your organisations."))] = None
    trial_id: Annotated[int | None, RowId(lazy_gettext("Choose one of your organisation's trials, or none."))] = None
    title: Annotated[str, Line(MAX_TITLE, required=lazy_gettext("Enter a title."))] = ""
    purpose: Annotated[str, Text(MAX_TEXT)] = ""
    public_description: Annotated[str, Text(MAX_TEXT)] = ""
    equipment: Annotated[str, Text(MAX_TEXT)] = ""
    expected_people: Annotated[int | None, WholeNumber(lazy_gettext(
        "Enter the number of people as a whole number from 0 to %(max)s.", max=MAX_PEOPLE),
        maximum=MAX_PEOPLE)] = None
    action: Annotated[str, Line(20)] = ""

    @property
    def submit(self) -> bool:
        return self.action == "submit"


# --- the field's managers and cancelling ---------------------------------------------------------


class ApproveForm(FormModel):
    note: Annotated[str, Text(MAX_NOTE)] = ""


class ChangesForm(FormModel):
    note: Annotated[str, Text(MAX_NOTE, required=lazy_gettext("Say what the organisation should change."))] = ""


class RejectForm(FormModel):
    note: Annotated[str, Text(MAX_NOTE, required=lazy_gettext("Give the reason for rejecting the request."))] = ""


class RescheduleForm(PeriodsForm):
    """New periods for an approved booking, and why."""

    note: Annotated[str, Text(MAX_NOTE, required=lazy_gettext("Say why the dates change."))] = ""


class CancelForm(FormModel):
    reason: Annotated[str, Text(MAX_NOTE, required=lazy_gettext("Give a reason for cancelling."))] = ""


# --- documents -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """A file sent with a multipart form (the first when sent twice); none, or one without a name (an
    empty file input), is refused with ``message``."""

    message: Any

    def parse(self, value: Any) -> UploadFile:
        value = first(value)
        if isinstance(value, UploadFile) and value.filename:
            return value
        raise PydanticCustomError("cocreate", "{message}", {"message": str(self.message)})

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(self.parse)


class DocumentForm(FormModel):
    """A document of the request: which one it is, and its file."""

    document: Annotated[DocumentKind, Choice(DocumentKind, lazy_gettext("Choose which document this is.")),
                        Field(validate_default=True)] = ""  # type: ignore[assignment]
    file: Annotated[UploadFile, Upload(lazy_gettext("Choose a file to upload.")),
                    Field(validate_default=True)] = None  # type: ignore[assignment]
