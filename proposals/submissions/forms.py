"""Typed input of proposals: what the proposal form, the consortium form and the attachment form send,
and the limits of their fields.

A draft needs only a title (:class:`ProposalForm`); submitting, or changing a submitted proposal, needs a
summary and a description as well (:class:`CompleteProposalForm`). Building either checks every field
(lengths, characters, the amount, the KPI rows) and raises :class:`cocreate.errors.Invalid` with a
message per field.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from cocreate.forms import (
    Flag,
    FormModel,
    KpiRow,
    Line,
    RowId,
    Rows,
    Text,
    WholeNumber,
    as_text,
    parse_id,
)
from cocreate.i18n import gettext as _
from cocreate.i18n import lazy_gettext
from proposals.challenges import services as challenges

TITLE_MAX = 200
SUMMARY_MAX = 500
LONG_TEXT_MAX = 20_000
COST_MAX = 1_000_000_000_000
MAX_KPIS = challenges.MAX_KPIS
ATTACHMENT_TITLE_MAX = 200

LONG_FIELDS = ("description", "team", "schedule", "test_field_needs", "confidential")
TEXT_FIELDS = ("title", "summary", *LONG_FIELDS)

REQUIRED = lazy_gettext("This field is required.")
NOT_AN_AMOUNT = lazy_gettext("Enter the amount in yen as a whole number, for example 3,000,000.")


def _cost_in_range(value: int | None) -> int | None:
    if value is not None and not 0 <= value <= COST_MAX:
        raise PydanticCustomError("cocreate", "{message}", {
            "message": _("Enter an amount in yen between 0 and %(max)s.", max=f"{COST_MAX:,}")})
    return value


Cost = Annotated[int | None, WholeNumber(NOT_AN_AMOUNT, minimum=-(10**16), maximum=10**16, allow="円¥"),
                 AfterValidator(_cost_in_range)]
"""An amount in yen (``3,000,000``, ``¥3,000,000円``): what is no whole number and what is out of range
get their own messages."""
LongText = Annotated[str, Text(LONG_TEXT_MAX, strip=False)]
"""Markdown, kept as typed (leading spaces can matter)."""


class ProposalForm(FormModel):
    """What the proposal form sends (a draft: only the title is needed)."""


    title: Annotated[str, Line(TITLE_MAX, required=REQUIRED)] = ""
    summary: Annotated[str, Text(SUMMARY_MAX)] = ""
    description: LongText = ""
    team: LongText = ""
    cost_estimate_yen: Cost = None
    schedule: LongText = ""
    test_field_needs: LongText = ""
    confidential: LongText = ""
    kpis: Annotated[list[KpiRow], Rows(KpiRow, max_rows=MAX_KPIS,
                                       message=lazy_gettext("Use at most %(max)s KPIs."))] = Field(default_factory=list)


class CompleteProposalForm(ProposalForm):
    """A proposal that can be submitted, or a submitted one changed: a summary and a description too."""

    summary: Annotated[str, Text(SUMMARY_MAX, required=REQUIRED)] = ""
    description: Annotated[str, Text(LONG_TEXT_MAX, required=REQUIRED, strip=False)] = ""


class NewProposalForm(ProposalForm):
    """The form of a new proposal: its content and the organisation that leads it."""

    organisation_id: Annotated[int | None, RowId(lazy_gettext("Choose the organisation that proposes."),
                                                 required=True)] = None


def complete(form: ProposalForm) -> CompleteProposalForm:
    """The form as a complete proposal; :class:`~cocreate.errors.Invalid` says what is missing."""
    if isinstance(form, CompleteProposalForm):
        return form
    return CompleteProposalForm(**form.model_dump())


# --- the consortium ------------------------------------------------------------------------------


class CoauthorAction(StrEnum):
    ADD = "add"
    CONFIRM = "confirm"
    REMOVE = "remove"


def _action_or_none(value: Any) -> CoauthorAction | None:
    try:
        return CoauthorAction(as_text(value).strip())
    except ValueError:
        return None


class CoauthorForm(FormModel):
    """The consortium forms: invite (the lead), confirm (the invited organisation) or remove a co-author.

    Both fields are None when what was sent cannot be read: the service says what is wrong, once it has
    checked that the actor is an author at all."""

    action: Annotated[CoauthorAction | None, BeforeValidator(_action_or_none)] = None
    organisation_id: Annotated[int | None, BeforeValidator(parse_id)] = None


# --- attachments ---------------------------------------------------------------------------------


def _one_line(value: Any) -> str:
    """Spaces, tabs and line breaks as one space: a title pasted over several lines is one line."""
    return " ".join(as_text(value).split())


class AttachmentForm(FormModel):
    """The fields sent with a proposal's file (the file itself goes to the service as it is)."""

    attachment_title: Annotated[str, Line(ATTACHMENT_TITLE_MAX), BeforeValidator(_one_line)] = ""
    confidential: Annotated[bool, Flag()] = False
