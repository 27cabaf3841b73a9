"""Booking requests (利用申請) for test fields, and the rule that two approved bookings never overlap.

The package, from the bottom up:

- :mod:`~labs.bookings.states`: the states of a request and the moves between them;
- :mod:`~labs.bookings.rules`: opening hours, what may be booked and when, and what conflicts;
- :mod:`~labs.bookings.forms`: what the forms send, read and checked;
- :mod:`~labs.bookings.access`: a request loaded for who acts on it (the rules are
  :mod:`labs.permissions`'), and the order of its locks;
- :mod:`~labs.bookings.notifications`: what members and coordinators are told (the notification kinds);
- :mod:`~labs.bookings.workflow`: the services that change a request (save, submit, approve, …);
- :mod:`~labs.bookings.documents`: the documents of a request;
- :mod:`~labs.bookings.jobs`: the scheduled job (completing finished bookings);
- :mod:`~labs.bookings.views`: what the pages show.

This module re-exports their public names, so callers write ``from labs import bookings`` and
``bookings.approve(...)``.
"""

from __future__ import annotations

from labs.bookings.access import (
    for_manager,
    for_member,
    require_any_membership,
    visible_booking,
)
from labs.bookings.documents import (
    MAX_DOCUMENTS,
    MAX_FILE_BYTES,
    STORAGE_FOLDER,
    add_document,
    delete_document,
    documents_of,
    for_download,
    path_of,
)
from labs.bookings.forms import (
    FORM_ROWS,
    MAX_NOTE,
    MAX_PEOPLE,
    MAX_PERIODS,
    MAX_TEXT,
    MAX_TITLE,
    ApproveForm,
    BookingForm,
    CancelForm,
    ChangesForm,
    DocumentForm,
    Period,
    RejectForm,
    RescheduleForm,
    typed_rows,
)
from labs.bookings.jobs import complete_finished
from labs.bookings.notifications import KINDS, STATUS_KIND, SUBMITTED_KIND, TARGET, booking_url
from labs.bookings.rules import (
    TZ,
    booking_problems,
    describe_hours,
    duration_text,
    hours_text,
    local_input,
    merged_windows,
    missing_documents,
    numbered,
    overlap_message,
    periods_of,
    problems,
    required_documents,
    to_local,
    weekday_names,
    within_hours,
)
from labs.bookings.states import (
    ALLOWED,
    EDITABLE,
    NOTE_REQUIRED,
    OPEN,
    can_move,
)
from labs.bookings.views import (
    ALL_FILTER,
    PENDING_FILTER,
    Detail,
    EventView,
    ListItem,
    bookable_fields,
    detail,
    form_values,
    managed_fields,
    my_bookings,
    my_organisations,
    queue,
    trial_bookings,
    trials_of,
)
from labs.bookings.workflow import (
    Saved,
    approve,
    cancel,
    manager_cancel,
    reject,
    request_changes,
    reschedule,
    save,
    start_review,
    submit,
)

__all__ = [
    "ALLOWED",
    "ALL_FILTER",
    "EDITABLE",
    "FORM_ROWS",
    "KINDS",
    "MAX_DOCUMENTS",
    "MAX_FILE_BYTES",
    "MAX_NOTE",
    "MAX_PEOPLE",
    "MAX_PERIODS",
    "MAX_TEXT",
    "MAX_TITLE",
    "NOTE_REQUIRED",
    "OPEN",
    "PENDING_FILTER",
    "STATUS_KIND",
    "STORAGE_FOLDER",
    "SUBMITTED_KIND",
    "TARGET",
    "TZ",
    "ApproveForm",
    "BookingForm",
    "CancelForm",
    "ChangesForm",
    "Detail",
    "DocumentForm",
    "EventView",
    "ListItem",
    "Period",
    "RejectForm",
    "RescheduleForm",
    "Saved",
    "add_document",
    "approve",
    "bookable_fields",
    "booking_problems",
    "booking_url",
    "can_move",
    "cancel",
    "complete_finished",
    "delete_document",
    "describe_hours",
    "detail",
    "documents_of",
    "duration_text",
    "for_download",
    "for_manager",
    "for_member",
    "form_values",
    "hours_text",
    "local_input",
    "managed_fields",
    "manager_cancel",
    "merged_windows",
    "missing_documents",
    "my_bookings",
    "my_organisations",
    "numbered",
    "overlap_message",
    "path_of",
    "periods_of",
    "problems",
    "queue",
    "reject",
    "request_changes",
    "require_any_membership",
    "required_documents",
    "reschedule",
    "save",
    "start_review",
    "submit",
    "to_local",
    "trial_bookings",
    "trials_of",
    "typed_rows",
    "visible_booking",
    "weekday_names",
    "within_hours",
]
