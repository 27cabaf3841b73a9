"""Typed input: one definition of each kind of field that forms, the API and the CLI send.

A form is a :class:`FormModel` (pydantic) whose fields are annotated with the types below, e.g.::

    class AskForm(FormModel):
        body: Annotated[str, Text(4000, required=lazy_gettext("Write your question."))] = ""
        visibility: Annotated[QuestionVisibility, Choice(QuestionVisibility, lazy_gettext("Choose …"))] = PUBLIC
        organisation_id: Annotated[int | None, RowId()] = None

Building one (``AskForm.parse(posted)``, or ``AskForm(body=…)`` in services and tests) checks what
can be checked without the database: lengths, characters, dates, amounts, choices, ids. A failure
raises :class:`cocreate.errors.Invalid` with a translated message per field, the same error a
service raises for its own rules, so routes have one error path (:func:`cocreate.web.forms.form_post`
shows the form again). Services then check only what needs the database or the current state.

Posted bodies are read leniently: a field sent twice counts once (its first value), full-width
digits count as digits, surrounding spaces go, line breaks become ``\\n``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from enum import Enum
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic_core import PydanticCustomError, core_schema

from cocreate.errors import Invalid
from cocreate.i18n import WARD_TIMEZONE, lazy_gettext
from cocreate.i18n import gettext as _

CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Characters no text field accepts (tabs and line breaks are checked by :class:`Text` itself)."""
MAX_ID_DIGITS = 18
"""Row ids are 64-bit integers in PostgreSQL and SQLite: 18 digits always fit, so longer input is no id."""
MAX_REPEATED = 200
"""At most this many values of a repeated field (checkboxes) or indexed rows are read."""
Message = str | Any  # a string or a lazy_gettext proxy, translated when the error is raised
CHOOSE_FROM_LIST = lazy_gettext("Choose one from the list.")
CHOOSE_SOME_FROM_LIST = lazy_gettext("Choose from the list.")
CHOOSE_AN_OPTION = lazy_gettext("Choose one of the options.")
CHOOSE_SOME_OPTIONS = lazy_gettext("Choose from the options.")
ENTER_WHOLE_NUMBER = lazy_gettext("Enter a whole number.")
TOO_MANY_ROWS = lazy_gettext("At most %(max)s rows can be sent.")


def refuse(message: Message) -> PydanticCustomError:
    """The error a field type raises to refuse a value with ``message`` (shown under the field)."""
    return PydanticCustomError("cocreate", "{message}", {"message": str(message)})


def first(value: Any) -> Any:
    """A field sent twice counts once: its first value."""
    if isinstance(value, list | tuple):
        return value[0] if value else None
    return value


def as_text(value: Any) -> str:
    """Any posted value as text with ``\\n`` line breaks (None and a missing field are empty)."""
    value = first(value)
    if value is None:
        return ""
    return str(value).replace("\r\n", "\n").replace("\r", "\n")


def normalised(value: Any) -> str:
    """Text compared as numbers, dates and codes are: full-width as half-width, no surrounding spaces."""
    return unicodedata.normalize("NFKC", as_text(value)).strip()


class FieldType:
    """A field type: annotate with ``Annotated[python_type, FieldType(...)]``; it parses the raw value."""

    def parse(self, value: Any) -> Any:  # pragma: no cover - every field type defines it
        raise NotImplementedError

    def _validate(self, value: Any) -> Any:
        return self.parse(value)

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(self._validate)


def text_error(value: str, max_length: int, *, required: Message | None = None,
               single_line: bool = False) -> str | None:
    """Why ``value`` is no acceptable text (None when it is): missing, too long or with characters
    that cannot be used. For services that check text against rules only they know."""
    if required is not None and not value.strip():
        return str(required)
    if len(value) > max_length:
        return _("Use at most %(max)s characters.", max=max_length)
    if CONTROL_CHARS.search(value) or (single_line and ("\n" in value or "\t" in value)):
        return _("This field contains characters that cannot be used.")
    return None


@dataclass(frozen=True)
class Text(FieldType):
    """Text of at most ``max_length`` characters, without surrounding spaces; line breaks only when not
    ``single_line``. Empty is allowed unless ``required`` gives the message to show."""

    max_length: int
    required: Message | None = None
    single_line: bool = False
    strip: bool = True

    def parse(self, value: Any) -> str:
        text = as_text(value)
        if self.strip:
            text = text.strip()
        if message := text_error(text, self.max_length, required=self.required, single_line=self.single_line):
            raise refuse(message)
        return text


def Line(max_length: int, required: Message | None = None) -> Text:
    """A single-line :class:`Text` (names, titles, places)."""
    return Text(max_length, required, single_line=True)


def parse_id(value: Any) -> int | None:
    """A row id sent as text (a select's or checkbox's value), or None when it cannot be one.

    Digits only (full-width ones are read as such), at most :data:`MAX_ID_DIGITS` of them: ``"-1"``,
    ``"abc"`` and a 40-digit number are refused here rather than overflowing the database driver.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 <= value < 10**MAX_ID_DIGITS else None
    text = normalised(value)
    if text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS:
        return int(text)
    return None


@dataclass(frozen=True)
class RowId(FieldType):
    """The id of a row chosen from a list; empty is None (or refused with ``required``)."""

    message: Message | None = None
    required: bool = False

    def parse(self, value: Any) -> int | None:
        if isinstance(value, int) and not isinstance(value, bool):
            raw: Any = value
        else:
            raw = normalised(value)
            if not raw:
                if self.required:
                    raise refuse(self.message or CHOOSE_FROM_LIST)
                return None
        parsed = parse_id(raw)
        if parsed is None:
            raise refuse(self.message or CHOOSE_FROM_LIST)
        return parsed


@dataclass(frozen=True)
class RowIds(FieldType):
    """Several row ids (checkboxes, multi-selects), in the order sent, without repeats."""

    message: Message | None = None

    def parse(self, value: Any) -> list[int]:
        values = value if isinstance(value, list | tuple) else ([] if value in (None, "") else [value])
        ids: list[int] = []
        for item in values[:MAX_REPEATED]:
            parsed = parse_id(item)
            if parsed is None:
                raise refuse(self.message or CHOOSE_SOME_FROM_LIST)
            if parsed not in ids:
                ids.append(parsed)
        return ids


@dataclass(frozen=True)
class Choice(FieldType):
    """One value of an enumeration, by its value (``"public"`` for ``Visibility.PUBLIC``)."""

    enum: type[Enum]
    message: Message | None = None
    required: bool = True

    def parse(self, value: Any) -> Enum | None:
        if isinstance(value, self.enum):
            return value
        text = as_text(value).strip()
        if not text and not self.required:
            return None
        try:
            return self.enum(text)
        except ValueError:
            raise refuse(self.message or CHOOSE_AN_OPTION) from None


@dataclass(frozen=True)
class Choices(FieldType):
    """Several values of an enumeration (checkboxes), without repeats."""

    enum: type[Enum]
    message: Message | None = None

    def parse(self, value: Any) -> list[Enum]:
        values = value if isinstance(value, list | tuple) else ([] if value in (None, "") else [value])
        chosen: list[Enum] = []
        for item in values[:MAX_REPEATED]:
            try:
                member = item if isinstance(item, self.enum) else self.enum(as_text(item).strip())
            except ValueError:
                raise refuse(self.message or CHOOSE_SOME_OPTIONS) from None
            if member not in chosen:
                chosen.append(member)
        return chosen


TRUE_VALUES = frozenset({"on", "yes", "true", "1"})


@dataclass(frozen=True)
class Flag(FieldType):
    """A checkbox: ticked (``on``, ``yes``, ``true``, ``1``) or not (anything else, or not sent)."""

    def parse(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        return normalised(value).lower() in TRUE_VALUES


def parse_whole_number(raw: Any, *, allow: str = "") -> int | None:
    """``3,000,000``, ``３０００００`` or ``¥3,000,000円`` -> 3000000; None when it is not a whole number."""
    text = re.sub(rf"[\s,{re.escape(allow)}]", "", normalised(raw))
    if not re.fullmatch(r"-?\d{1,16}", text):
        return None
    return int(text)


@dataclass(frozen=True)
class WholeNumber(FieldType):
    """A whole number between ``minimum`` and ``maximum``, with thousands separators and the unit
    characters in ``allow`` tolerated; empty is None unless ``required``."""

    message: Message | None = None
    minimum: int = 0
    maximum: int = 10**15
    allow: str = ""
    required: Message | None = None

    def parse(self, value: Any) -> int | None:
        if isinstance(value, int) and not isinstance(value, bool):
            number: int | None = value
        else:
            if not normalised(value):
                if self.required is not None:
                    raise refuse(self.required)
                return None
            number = parse_whole_number(value, allow=self.allow)
        if number is None or not self.minimum <= number <= self.maximum:
            raise refuse(self.message or ENTER_WHOLE_NUMBER)
        return number


def Yen(required: Message | None = None) -> WholeNumber:
    """An amount in yen (``3,000,000``, ``¥3,000,000``, ``３００万`` is not one)."""
    return WholeNumber(lazy_gettext("Enter the amount in yen as a whole number, for example 3,000,000."),
                       allow="円¥", required=required)


DATE_RE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
TIME_RE = re.compile(r"^(\d{1,2})[:時](\d{2})(?:分|:00)?$")


def parse_date(raw: Any) -> date | None:
    """``2027-04-01``, ``2027/4/1`` or ``2027年4月1日`` (full-width digits too); None when it is no date."""
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    match = DATE_RE.match(normalised(raw)[:20])
    if not match:
        return None
    try:
        value = date(*(int(part) for part in match.groups()))
    except ValueError:
        return None
    return value if 2000 <= value.year <= 2100 else None


def parse_time(raw: Any) -> time | None:
    """``14:00``, ``１４：００``, ``14時00分`` or ``14:00:00`` (what a time input with seconds sends);
    None when it is no time of day."""
    if isinstance(raw, time):
        return raw
    match = TIME_RE.match(normalised(raw)[:20])
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def parse_local_datetime(raw: Any) -> datetime | None:
    """A ``datetime-local`` value, read as the ward's time, returned in UTC (None when it is not one)."""
    if isinstance(raw, datetime):
        value = raw if raw.tzinfo is not None else raw.replace(tzinfo=WARD_TIMEZONE)
        return value.astimezone(UTC)
    text = normalised(raw).replace(" ", "T")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    if value.tzinfo is not None or not 2000 <= value.year <= 2100:
        return None
    return value.replace(tzinfo=WARD_TIMEZONE).astimezone(UTC)


@dataclass(frozen=True)
class _Parsed(FieldType):
    parser: Callable[[Any], Any]
    message: Message
    required: Message | None

    def parse(self, value: Any) -> Any:
        if not isinstance(value, date | time) and not normalised(value):
            if self.required is not None:
                raise refuse(self.required)
            return None
        parsed = self.parser(value)
        if parsed is None:
            raise refuse(self.message)
        return parsed


def LocalDateTime(required: Message | None = None,
                  message: Message = lazy_gettext("Enter a date and time, for example 2027-04-01 10:00.")) -> _Parsed:
    """A date and time typed in the ward's time zone (``datetime-local``), as an aware UTC datetime."""
    return _Parsed(parse_local_datetime, message, required)


def Date(required: Message | None = None,
         message: Message = lazy_gettext("Enter a date, for example 2027-04-01.")) -> _Parsed:
    """A calendar date (``2027-04-01``, ``2027/4/1``, ``2027年4月1日``)."""
    return _Parsed(parse_date, message, required)


def TimeOfDay(required: Message | None = None,
              message: Message = lazy_gettext("Enter a time, for example 14:00.")) -> _Parsed:
    """A time of day (``14:00``)."""
    return _Parsed(parse_time, message, required)


ROW_KEY = re.compile(r"^([a-z_]+)-(\d{1,3})-([a-z_]+)$")


@dataclass(frozen=True)
class Rows(FieldType):
    """Indexed rows of a table form (``kpis-0-indicator``, ``kpis-0-target``, ``kpis-1-…``), each
    parsed into ``row`` (a :class:`FormModel`); rows left blank or ticked ``remove`` are dropped.

    The form field's name is the prefix; :class:`FormModel` gathers the indexed keys into it."""

    row: type[FormModel]
    max_rows: int = 50
    message: Message | None = None

    def gather(self, name: str, data: Mapping[str, Any]) -> list[dict[str, Any]]:
        parts = set(self.row.model_fields) | {"remove"}
        indexes = sorted({int(match.group(2)) for key in data if (match := ROW_KEY.match(key))
                          and match.group(1) == name and match.group(3) in parts})
        rows = []
        for index in indexes[:MAX_REPEATED]:
            row = {part: data.get(f"{name}-{index}-{part}") for part in self.row.model_fields}
            if Flag().parse(data.get(f"{name}-{index}-remove")):
                continue
            if any(as_text(value).strip() for value in row.values()):
                rows.append(row)
        return rows

    def parse(self, value: Any) -> list[Any]:
        rows = value if isinstance(value, list) else []
        if len(rows) > self.max_rows:
            raise refuse(str(self.message or TOO_MANY_ROWS) % {"max": self.max_rows})
        parsed = []
        for index, row in enumerate(rows):
            if isinstance(row, self.row):
                parsed.append(row)
                continue
            try:
                parsed.append(self.row.parse(row if isinstance(row, Mapping) else vars(row)))
            except Invalid as failed:
                raise PydanticCustomError("cocreate_rows", "{message}",
                                          {"message": failed.detail, "index": index,
                                           "errors": failed.errors}) from None
        return parsed


def _errors_of(failed: ValidationError) -> dict[str, str]:
    """Field name -> one translated message (the first) for each field that failed."""
    errors: dict[str, str] = {}
    for error in failed.errors():
        location = error["loc"]
        name = str(location[0]) if location else "form"
        context = error.get("ctx") or {}
        if error["type"] == "cocreate_rows":
            for part, message in context["errors"].items():
                errors.setdefault(f"{name}-{context['index']}-{part}", message)
            errors.setdefault(name, str(context["message"]))
        elif error["type"] == "cocreate":
            errors.setdefault(name, str(context["message"]))
        elif error["type"] == "missing":
            errors.setdefault(name, _("This field is required."))
        else:
            errors.setdefault(name, _("This value cannot be read. Check it and try again."))
    return errors


class FormModel(BaseModel):
    """What a form (or an API body) sends, typed and checked; a failure is :class:`Invalid`."""

    model_config = ConfigDict(extra="ignore", arbitrary_types_allowed=True, validate_default=True)
    ROWS: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as failed:
            raise Invalid(_errors_of(failed)) from None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        """Read a posted body (or any mapping of field names to values)."""
        return cls(**{str(key): value for key, value in data.items()})

    @model_validator(mode="before")
    @classmethod
    def _gather_rows(cls, data: Any) -> Any:
        """Table fields (:class:`Rows`) are sent as indexed keys; collect them under the field's name."""
        if not isinstance(data, Mapping):
            return data
        gathered = dict(data)
        for name, info in cls.model_fields.items():
            for marker in info.metadata:
                if isinstance(marker, Rows) and not isinstance(gathered.get(name), list):
                    gathered[name] = marker.gather(name, data)
        return gathered


def shown(data: Mapping[str, Any], model: type[FormModel] | None = None) -> dict[str, Any]:
    """What was sent, to put back into the form beside its errors: one string per field (the first
    value of a repeated one, all values of a checkbox list), and table fields as lists of rows."""
    values: dict[str, Any] = {}
    for key, value in data.items():
        if ROW_KEY.match(str(key)):
            continue
        values[str(key)] = [as_text(item) for item in value] if isinstance(value, list | tuple) else as_text(value)
    if model is not None:
        for name, info in model.model_fields.items():
            for marker in info.metadata:
                if isinstance(marker, Rows):
                    values[name] = [{part: as_text(cell) for part, cell in row.items()}
                                    for row in marker.gather(name, data)]
    return values


@dataclass
class Problems:
    """Errors collected by a service checking several rules before it refuses (``Invalid`` at the end)."""

    errors: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, message: Message) -> None:
        self.errors.setdefault(name, str(message))

    def extend(self, errors: Iterable[tuple[str, str]] | Mapping[str, str]) -> None:
        for name, message in (errors.items() if isinstance(errors, Mapping) else errors):
            self.add(name, message)

    def raise_any(self) -> None:
        if self.errors:
            raise Invalid(dict(self.errors))

    def __bool__(self) -> bool:
        return bool(self.errors)


DECIMAL_DEGREES = re.compile(r"^[-+]?\d{1,3}(\.\d{1,15})?$")


@dataclass(frozen=True)
class Degrees(FieldType):
    """A latitude or longitude in decimal degrees (``35.789``) inside ``low``..``high``; empty is None."""

    low: float
    high: float
    message: Message

    def parse(self, value: Any) -> float | None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        else:
            text = normalised(value)
            if not text:
                return None
            if not DECIMAL_DEGREES.match(text):
                raise refuse(_("Enter a number in decimal degrees, for example 35.789."))
            number = float(text)
        if not self.low <= number <= self.high:
            raise refuse(self.message)
        return number


# --- files ----------------------------------------------------------------------------------------


def uploaded(value: Any) -> Any | None:
    """The file chosen in a multipart form's file field (an ``UploadFile`` with a name), or None when
    none was chosen (browsers send an empty part without a name) or the value is no file at all."""
    value = first(value)
    return value if getattr(value, "filename", "") and hasattr(value, "file") else None


@dataclass
class PhotoSlot:
    """One photo slot of a form with numbered photos: ``photo-N`` the file, ``alt-N`` its description."""

    index: int
    source: Any | None = None
    filename: str = ""
    alt_text: str = ""

    @property
    def has_file(self) -> bool:
        return self.source is not None and bool(self.filename)


def photo_slots(data: Any, count: int) -> Any:
    """For a form model's ``mode="before"`` validator: the raw form's ``photo-N``/``alt-N`` pairs (N below
    ``count``) gathered into ``photos``, a list of :class:`PhotoSlot` (data already holding ``photos``,
    or no mapping at all, passes as it is)."""
    if not isinstance(data, Mapping) or "photos" in data:
        return data
    slots = []
    for index in range(count):
        upload = uploaded(data.get(f"photo-{index}"))
        slots.append(PhotoSlot(index, upload.file if upload else None, upload.filename if upload else "",
                               as_text(data.get(f"alt-{index}")).strip()))
    return {**data, "photos": slots}


def check_photo_slots(photos: Iterable[PhotoSlot], alt_max: int, problems: Problems) -> None:
    """Each photo has its description (read out to people who cannot see it) and each description its
    photo; the errors go under ``photo-N`` / ``alt-N``."""
    for slot in photos:
        if not slot.has_file:
            if slot.alt_text:
                problems.add(f"photo-{slot.index}", _("Choose the photo this description belongs to."))
        elif not slot.alt_text:
            problems.add(f"alt-{slot.index}", _("Describe the photo in a few words; this text is read out to "
                                                "people who cannot see it."))
        elif message := text_error(slot.alt_text, alt_max, single_line=True):
            problems.add(f"alt-{slot.index}", message)


@dataclass(frozen=True)
class Upload(FieldType):
    """A file field of a multipart form: the ``UploadFile`` chosen, or None (refused with ``required``).
    Its content is checked where it is stored (:func:`cocreate.files.storage.receive`)."""

    required: Message | None = None

    def parse(self, value: Any) -> Any | None:
        upload = uploaded(value)
        if upload is None and self.required is not None:
            raise refuse(self.required)
        return upload


# --- where to go back ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnPath(FieldType):
    """Where a form sends the browser back to (``next``): a path on this site, cut to ``max_length``,
    or "" when none was sent or it is no such path (the route then uses its own default). Never
    refused: only a tampered form sends anything else, and the rest of the form still counts."""

    max_length: int = 500

    def parse(self, value: Any) -> str:
        path = as_text(value)[: self.max_length]
        if (path.startswith("/") and not path.startswith("//") and "\\" not in path
                and path.isprintable()):
            return path
        return ""


# --- KPI tables -----------------------------------------------------------------------------------

KPI_REQUIRED = lazy_gettext("This field is required.")


class KpiRow(FormModel):
    """One row of a KPI table (``kpis-0-indicator``…, read with ``Rows(KpiRow, max_rows=…)``): what is
    measured, today's value, the target and its unit. Challenges and proposals need an indicator and a
    target; every part is a single line."""

    indicator: Annotated[str, Line(200, required=KPI_REQUIRED)] = ""
    baseline: Annotated[str, Line(100)] = ""
    target: Annotated[str, Line(100, required=KPI_REQUIRED)] = ""
    unit: Annotated[str, Line(50)] = ""
