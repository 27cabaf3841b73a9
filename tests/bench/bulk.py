"""Writing a :class:`~tests.bench.plan.Plan` in bulk: the rows the services would leave, without the services.

Ids are given explicitly (from each table's current maximum on), so every row can refer to others
without reading them back; rows go in with ``executemany`` on SQLite and ``COPY`` on PostgreSQL, one
transaction for the whole dataset, and PostgreSQL's sequences are moved past the new ids at the end.
What each service writes, and so what is written here for it:

- ``accounts.services.register`` + ``confirm_email``: the user (confirmed), the terms and privacy
  consents, the spent confirmation token and the confirmation e-mail in the outbox;
- ``accounts.admin.grant_role``: the staff role, granted by the demo administrator, and its audit entry;
- ``accounts.organisations.create`` + ``verify``: the organisation, its creator as administrator, two
  audit entries and the verification e-mail to that administrator;
- ``proposals.challenges.services.create_draft`` + ``publish``, then ``lifecycle.advance_due`` as the schedule
  passes: the challenge with its departments, criteria, KPIs and phase dates, the phase changes, the
  audit entries and the creator's follow; ``votes.update_settings`` for a raised vote limit (audited);
- ``proposals.submissions.create_draft`` + ``submit``: the proposal (its counters already final), the
  lead organisation's confirmed part, KPIs, version 1 with the full content, the author's follows of the
  proposal and the challenge, the audit entry, and ``Challenge.proposal_count``;
- ``cocreate.comments.services.post``: the comment (its Markdown body, official mark, depth), ``reply_count`` of
  its thread and ``Proposal.comment_count``;
- ``proposals.votes.services.vote``: the vote and ``Proposal.vote_count``;
- the search outbox: one row per challenge and proposal document made stale (the caller then rebuilds
  the index, which empties it).

``tests/bench/test_bulk.py`` builds a tiny plan both ways and compares the tables.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import make_msgid
from itertools import islice
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

from cocreate.accounts import passwords
from cocreate.accounts.services import CONFIRM_EMAIL_TTL
from cocreate.audit.models import GENESIS_HASH
from cocreate.audit.services import canonical_json, compute_hash
from cocreate.db import Database
from cocreate.i18n import gettext as _
from cocreate.i18n import using_locale
from cocreate.pages.seed import FIRST_VERSION
from cocreate.settings import Settings
from cocreate.web.templating import render_standalone
from proposals.models import Phase
from tests.bench.plan import DAY, MINUTE, PASSWORD, ChallengeSpec, Plan

CHUNK = 5000


class Sink:
    """One connection and one transaction that rows are poured into, table by table."""

    def __init__(self, database: Database) -> None:
        self.engine = database.engine
        self.dialect = self.engine.dialect
        self.tables = SQLModel.metadata.tables
        self.raw = self.engine.raw_connection()
        self.driver: Any = self.raw.driver_connection
        self.sqlite = self.dialect.name == "sqlite"
        self.counts: dict[str, int] = {}
        self._next: dict[str, int] = {}
        self._converters: dict[str, list[Callable[[Any], Any] | None]] = {}
        cursor = self.driver.cursor()
        if self.sqlite:
            cursor.execute("PRAGMA synchronous=OFF")  # this connection only; one commit at the end
            cursor.execute("BEGIN IMMEDIATE")
        cursor.close()

    def scalar(self, sql: str, *params: Any) -> Any:
        cursor = self.driver.cursor()
        cursor.execute(sql.replace("?", "%s") if not self.sqlite else sql, params)
        row = cursor.fetchone()
        cursor.close()
        return row[0] if row else None

    def first_id(self, table: str, count: int) -> int:
        """Reserve ``count`` ids of ``table``; returns the first."""
        if table not in self._next:
            self._next[table] = (self.scalar(f'SELECT max(id) FROM "{table}"') or 0) + 1  # noqa: S608 - a model's table
        first = self._next[table]
        self._next[table] += count
        return first

    def _convert(self, table: sa.Table, columns: list[str]) -> list[Callable[[Any], Any] | None]:
        key = f"{table.name}:{','.join(columns)}"
        if key not in self._converters:
            processors = []
            for name in columns:
                type_ = table.c[name].type
                processors.append(type_.dialect_impl(self.dialect).bind_processor(self.dialect))
            self._converters[key] = processors
        return self._converters[key]

    def insert(self, name: str, rows: Iterable[dict[str, Any]]) -> int:
        """Insert rows given as dicts; missing columns take the model's scalar default (or NULL)."""
        table = self.tables[name]
        iterator = iter(rows)
        first = next(iterator, None)
        if first is None:
            return 0
        columns = [c.name for c in table.c if c.name in first or (c.default is not None and c.default.is_scalar)]
        defaults = {c.name: c.default.arg for c in table.c if c.default is not None and c.default.is_scalar}
        processors = self._convert(table, columns)

        def tuples() -> Iterator[tuple[Any, ...]]:
            for row in _chain(first, iterator):
                values = []
                for column, processor in zip(columns, processors, strict=True):
                    value = row[column] if column in row else defaults[column]
                    if hasattr(value, "value") and not isinstance(value, str | int | float | bool):
                        value = value.value
                    values.append(processor(value) if processor is not None and value is not None else value)
                yield tuple(values)

        count = 0
        quoted = ", ".join(f'"{c}"' for c in columns)
        if self.sqlite:
            cursor = self.driver.cursor()
            statement = f'INSERT INTO "{name}" ({quoted}) VALUES ({", ".join("?" * len(columns))})'  # noqa: S608
            source = tuples()
            while chunk := list(islice(source, CHUNK)):
                cursor.executemany(statement, chunk)
                count += len(chunk)
            cursor.close()
        else:
            with self.driver.cursor() as cursor, cursor.copy(f'COPY "{name}" ({quoted}) FROM STDIN') as copy:
                for values in tuples():
                    copy.write_row(values)
                    count += 1
        self.counts[name] = self.counts.get(name, 0) + count
        return count

    def commit(self) -> None:
        if not self.sqlite:
            cursor = self.driver.cursor()
            for table in self._next:
                sequence = f"pg_get_serial_sequence('\"{table}\"', 'id')"
                cursor.execute(f'SELECT setval({sequence}, (SELECT max(id) FROM "{table}"))')  # noqa: S608
            cursor.close()
            self.driver.commit()
        else:
            cursor = self.driver.cursor()
            cursor.execute("COMMIT")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
        self.raw.close()

    def rollback(self) -> None:
        try:
            if self.sqlite:
                self.driver.execute("ROLLBACK")
            else:
                self.driver.rollback()
        finally:
            self.raw.close()


def _chain(first: dict[str, Any], rest: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield first
    yield from rest


@dataclass
class Ids:
    """Database ids of the plan's rows."""

    users: int = 0
    organisations: int = 0
    challenges: int = 0
    proposals: int = 0
    admin: int = 0
    admin_label: str = ""
    departments: dict[str, int] = field(default_factory=dict)
    department_names: dict[str, tuple[str, str]] = field(default_factory=dict)

    def user(self, index: int) -> int:
        return self.users + index

    def organisation(self, index: int) -> int:
        return self.organisations + index

    def challenge(self, index: int) -> int:
        return self.challenges + index

    def proposal(self, index: int) -> int:
        return self.proposals + index


@dataclass
class AuditEvent:
    at: datetime
    actor_id: int | None
    actor_label: str
    action: str
    target_type: str
    target_id: str
    details: dict[str, Any]


@dataclass
class Report:
    ids: Ids = field(default_factory=Ids)
    seconds: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


def write(database: Database, settings: Settings, plan: Plan, *,
          progress: Callable[[str], None] = lambda message: None) -> Report:
    """Write the whole plan in one transaction (rolled back on error); returns timings and row counts."""
    sink = Sink(database)
    report = Report()
    try:
        _write(sink, settings, plan, report, progress)
    except BaseException:
        sink.rollback()
        raise
    started = time.perf_counter()
    sink.commit()
    report.seconds["commit"] = time.perf_counter() - started
    report.rows = dict(sink.counts)
    return report


def _write(sink: Sink, settings: Settings, plan: Plan, report: Report, progress: Callable[[str], None]) -> None:
    ids = report.ids
    admin = sink.scalar("SELECT id, display_name FROM user_account WHERE email = ?", "demo-admin@example.jp")
    if admin is None:
        raise RuntimeError("the demo administrator is missing: run `cocreate demo` first")
    ids.admin = admin
    ids.admin_label = sink.scalar("SELECT display_name FROM user_account WHERE id = ?", admin)
    cursor = sink.driver.cursor()
    cursor.execute("SELECT id, code, division_ja, section_ja FROM department")
    for department_id, code, division, section in cursor.fetchall():
        ids.departments[code] = department_id
        ids.department_names[code] = (division, section)
    cursor.close()
    audit: list[AuditEvent] = []

    def step(name: str, function: Callable[[], None]) -> None:
        started = time.perf_counter()
        function()
        report.seconds[name] = time.perf_counter() - started
        progress(f"{name}: {report.seconds[name]:.1f} s")

    step("users", lambda: _users(sink, settings, plan, ids, audit))
    step("organisations", lambda: _organisations(sink, settings, plan, ids, audit))
    step("challenges", lambda: _challenges(sink, plan, ids, audit))
    step("proposals", lambda: _proposals(sink, plan, ids, audit))
    step("comments", lambda: _comments(sink, plan, ids))
    step("votes", lambda: _votes(sink, plan, ids))
    step("audit", lambda: _audit(sink, audit))
    step("search outbox", lambda: _outbox(sink, plan, ids))


# --- people ---------------------------------------------------------------------------------------


def _token_hash(plan: Plan, *key: object) -> str:
    return hashlib.sha256(":".join(str(k) for k in ("bench", plan.seed, plan.now.isoformat(), *key)).encode()).hexdigest()


def _email(to: str, subject: str, body: str, at: datetime) -> dict[str, Any]:
    return {"to_address": to, "subject": subject[:300], "body_text": body, "headers_json": "{}",
            "message_id": make_msgid(domain="cocreate.localhost"), "created_at": at}


def _users(sink: Sink, settings: Settings, plan: Plan, ids: Ids, audit: list[AuditEvent]) -> None:
    users = plan.users
    ids.users = sink.first_id("user_account", len(users))
    password_hash = passwords.hash_password(PASSWORD)  # one hash for all: argon2 takes 0.1 s on purpose
    confirmed = {user.index: user.registered_at + 20 * MINUTE for user in users}
    sink.insert("user_account", ({
        "id": ids.user(u.index), "email": u.email, "display_name": u.display_name, "password_hash": password_hash,
        "locale": u.locale, "email_confirmed_at": confirmed[u.index], "created_at": u.registered_at,
        "updated_at": confirmed[u.index], "terms_version": FIRST_VERSION, "privacy_version": FIRST_VERSION}
        for u in users))
    sink.insert("consent", ({"user_id": ids.user(u.index), "document": document, "version": version,
                             "created_at": u.registered_at, "updated_at": u.registered_at}
                            for u in users for document, version in (("terms", FIRST_VERSION),
                                                                     ("privacy", FIRST_VERSION))))
    sink.insert("user_token", ({"user_id": ids.user(u.index), "purpose": "confirm_email",
                                "token_hash": _token_hash(plan, "confirm", u.index),
                                "expires_at": u.registered_at + CONFIRM_EMAIL_TTL, "used_at": confirmed[u.index],
                                "created_at": u.registered_at, "updated_at": confirmed[u.index]} for u in users))
    texts: dict[str, str] = {}

    def confirmation(u: Any) -> dict[str, Any]:
        # Rendered once per language with a placeholder, then given each user's link and name.
        if u.locale not in texts:
            with using_locale(u.locale):
                fake = _FakeUser(display_name="\x00NAME\x00", email="\x00EMAIL\x00", locale=u.locale)
                texts[u.locale] = render_standalone("mail/confirm_email.txt", user=fake, base_url=settings.base_url,
                                                    link="\x00LINK\x00")
                texts[u.locale + ":subject"] = _("Confirm your e-mail address for cocreate")
        link = f"{settings.base_url}/account/confirm/{_token_hash(plan, 'link', u.index)[:43]}"
        body = texts[u.locale].replace("\x00NAME\x00", u.display_name).replace("\x00EMAIL\x00", u.email) \
            .replace("\x00LINK\x00", link)
        return _email(u.email, texts[u.locale + ":subject"], body, u.registered_at)

    sink.insert("outbound_email", (confirmation(u) for u in users))
    staff = [u for u in users if u.department is not None]
    first = sink.first_id("role_assignment", len(staff))
    sink.insert("role_assignment", ({"id": first + n, "user_id": ids.user(u.index), "role": "staff",
                                     "department_id": ids.departments[u.department], "granted_by_id": ids.admin,
                                     "created_at": confirmed[u.index] + DAY, "updated_at": confirmed[u.index] + DAY}
                                    for n, u in enumerate(staff)))
    for u in staff:
        assert u.department is not None
        audit.append(AuditEvent(confirmed[u.index] + DAY, ids.admin, ids.admin_label, "role.granted", "user",
                                str(ids.user(u.index)), {"role": "staff", "department_id": ids.departments[u.department],
                                                         "department_code": u.department}))


@dataclass
class _FakeUser:
    """What the e-mail templates read of a user."""

    display_name: str
    email: str
    locale: str
    id: int = 0

    @property
    def public_name(self) -> str:
        return self.display_name


def _organisations(sink: Sink, settings: Settings, plan: Plan, ids: Ids, audit: list[AuditEvent]) -> None:
    organisations = plan.organisations
    users = plan.users
    ids.organisations = sink.first_id("organisation", len(organisations))
    sink.insert("organisation", ({
        "id": ids.organisation(o.index), "name": o.name, "kind": o.kind, "corporate_number": o.corporate_number,
        "address": o.address, "website": o.website, "description": o.description,
        "created_by_id": ids.user(o.admin), "verified_at": o.verified_at, "verified_by_id": ids.admin,
        "created_at": o.created_at, "updated_at": o.verified_at} for o in organisations))
    sink.insert("organisation_member", ({"organisation_id": ids.organisation(o.index), "user_id": ids.user(o.admin),
                                         "is_admin": True, "created_at": o.created_at, "updated_at": o.created_at}
                                        for o in organisations))
    emails = []
    for o in organisations:
        member = users[o.admin]
        label = f"{member.display_name} (#{ids.user(o.admin)})"
        audit.append(AuditEvent(o.created_at, ids.user(o.admin), label, "organisation.created", "organisation",
                                str(ids.organisation(o.index)), {"name": o.name, "kind": o.kind,
                                                                 "corporate_number": o.corporate_number}))
        audit.append(AuditEvent(o.verified_at, ids.admin, f"{ids.admin_label} (#{ids.admin})", "organisation.verified",
                                "organisation", str(ids.organisation(o.index)),
                                {"name": o.name, "corporate_number": o.corporate_number, "note": ""}))
        with using_locale(member.locale):
            fake = _FakeUser(display_name=member.display_name, email=member.email, locale=member.locale)
            organisation = _FakeOrganisation(id=ids.organisation(o.index), name=o.name)
            body = render_standalone("mail/organisation_verification.txt", user=fake, organisation=organisation,
                                     verified=True, note="", base_url=settings.base_url,
                                     link=f"{settings.base_url}/organisations/{organisation.id}")
            subject = _("%(organisation)s is now verified on cocreate", organisation=o.name)
        emails.append(_email(member.email, subject, body, o.verified_at))
    sink.insert("outbound_email", emails)


@dataclass
class _FakeOrganisation:
    id: int
    name: str


# --- challenges -----------------------------------------------------------------------------------


def _challenge_row(plan: Plan, ids: Ids, c: ChallengeSpec) -> dict[str, Any]:
    moves = c.phase_changes()
    last_move = moves[-1][2]
    return {
        "id": ids.challenge(c.index), "title": c.title, "summary": c.summary, "category": c.category, "area": c.area,
        "phase": c.final_phase.value, "department_id": ids.departments[c.department], "published_at": c.published_at,
        "proposals_close_at": c.schedule[Phase.VOTING], "contact_name": c.contact_name,
        "contact_email": c.contact_email, "contact_phone": c.contact_phone, "background": c.background,
        "current_situation": c.current_situation, "desired_outcome": c.desired_outcome, "constraints": c.constraints,
        "eligibility": c.eligibility, "budget_cap_yen": c.budget_cap_yen, "support_facilities": c.support_facilities,
        "support_data": c.support_data, "support_other": c.support_other, "phase_changed_at": last_move,
        "next_transition_at": c.next_transition_at, "revision": 0, "proposal_count": len(c.proposals),
        "question_count": 0, "created_by_id": ids.user(c.staff), "vote_limit": c.vote_limit or 3,
        "votes_require_verified": False, "created_at": c.created_at, "updated_at": last_move}


def _challenges(sink: Sink, plan: Plan, ids: Ids, audit: list[AuditEvent]) -> None:
    challenges = plan.challenges
    users = plan.users
    ids.challenges = sink.first_id("challenge", len(challenges))
    sink.insert("challenge", (_challenge_row(plan, ids, c) for c in challenges))
    sink.insert("challenge_department", ({"challenge_id": ids.challenge(c.index), "department_id": ids.departments[code]}
                                         for c in challenges for code in dict.fromkeys((c.department, *c.co_owners))))
    sink.insert("challenge_criterion", ({"challenge_id": ids.challenge(c.index), "position": position,
                                         "name": k.name, "description": k.description, "weight": k.weight}
                                        for c in challenges for position, k in enumerate(c.criteria)))
    sink.insert("challenge_kpi", ({"challenge_id": ids.challenge(c.index), "position": position,
                                   "indicator": k.indicator, "baseline": k.baseline, "target": k.target, "unit": k.unit}
                                  for c in challenges for position, k in enumerate(c.kpis)))
    sink.insert("challenge_phase_date", ({"challenge_id": ids.challenge(c.index), "phase": phase.value,
                                          "starts_at": when} for c in challenges for phase, when in c.schedule.items()))
    changes = []
    for c in challenges:
        changes.append({"challenge_id": ids.challenge(c.index), "from_phase": "draft", "to_phase": "published",
                        "changed_at": c.published_at, "changed_by_id": ids.user(c.staff), "reason": ""})
        changes.extend({"challenge_id": ids.challenge(c.index), "from_phase": before.value, "to_phase": after.value,
                        "changed_at": when, "changed_by_id": None, "reason": ""}
                       for before, after, when in c.phase_changes())
    sink.insert("challenge_phase_change", changes)
    sink.insert("follow", ({"user_id": ids.user(c.staff), "target_type": "challenge", "target_id": ids.challenge(c.index),
                            "created_at": c.created_at, "updated_at": c.created_at} for c in challenges))
    for c in challenges:
        staff = users[c.staff]
        challenge_id = ids.challenge(c.index)
        audit.append(AuditEvent(c.created_at, ids.user(c.staff), staff.display_name, "challenge.created", "challenge",
                                str(challenge_id), {"title": c.title, "department_id": ids.departments[c.department]}))
        audit.append(AuditEvent(c.published_at, ids.user(c.staff), staff.display_name, "challenge.published",
                                "challenge", str(challenge_id), {"title": c.title}))
        if c.vote_limit is not None and c.vote_limit != 3:
            before = {"vote_limit": 3, "votes_require_verified": False}
            after = {"vote_limit": c.vote_limit, "votes_require_verified": False}
            audit.append(AuditEvent(c.published_at + MINUTE, ids.user(c.staff), staff.display_name,
                                    "challenge.voting_updated", "challenge", str(challenge_id),
                                    {"before": before, "after": after}))


# --- proposals, comments, votes -------------------------------------------------------------------


def _proposals(sink: Sink, plan: Plan, ids: Ids, audit: list[AuditEvent]) -> None:
    proposals = plan.proposals
    organisations = plan.organisations
    users = plan.users
    challenges = plan.challenges
    ids.proposals = sink.first_id("proposal", len(proposals))
    sink.insert("proposal", ({
        "id": ids.proposal(p.index), "challenge_id": ids.challenge(p.challenge),
        "lead_organisation_id": ids.organisation(p.organisation), "created_by_id": ids.user(p.author),
        "status": "submitted", "title": p.title, "summary": p.summary, "description": p.description, "team": p.team,
        "cost_estimate_yen": p.cost_estimate_yen, "schedule": p.schedule, "test_field_needs": p.test_field_needs,
        "confidential": p.confidential, "submitted_at": p.submitted_at, "version": 1, "vote_count": p.votes,
        "comment_count": p.comment_count, "created_at": p.created_at, "updated_at": p.submitted_at}
        for p in proposals))
    sink.insert("proposal_organisation", ({
        "proposal_id": ids.proposal(p.index), "organisation_id": ids.organisation(p.organisation), "is_lead": True,
        "confirmed_at": p.created_at, "confirmed_by_id": ids.user(p.author)} for p in proposals))
    sink.insert("proposal_kpi", ({"proposal_id": ids.proposal(p.index), "position": position, "indicator": k.indicator,
                                  "baseline": k.baseline, "target": k.target, "unit": k.unit}
                                 for p in proposals for position, k in enumerate(p.kpis)))

    def version(p: Any) -> dict[str, Any]:
        organisation = organisations[p.organisation]
        content = {"title": p.title, "summary": p.summary, "description": p.description, "team": p.team,
                   "schedule": p.schedule, "test_field_needs": p.test_field_needs, "confidential": p.confidential,
                   "cost_estimate_yen": p.cost_estimate_yen,
                   "kpis": [[k.indicator, k.baseline, k.target, k.unit] for k in p.kpis],
                   "organisations": [[ids.organisation(p.organisation), organisation.name, True]], "attachments": []}
        return {"proposal_id": ids.proposal(p.index), "number": 1, "submitted_at": p.submitted_at,
                "submitted_by_id": ids.user(p.author), "content_json": json.dumps(content, ensure_ascii=False)}

    sink.insert("proposal_version", (version(p) for p in proposals))

    def follows() -> Iterator[dict[str, Any]]:
        following: set[tuple[int, int]] = {(c.staff, c.index) for c in challenges}
        for p in proposals:
            user = ids.user(p.author)
            yield {"user_id": user, "target_type": "proposal", "target_id": ids.proposal(p.index),
                   "created_at": p.created_at, "updated_at": p.created_at}
            if (p.author, p.challenge) not in following:  # following twice is a no-op
                following.add((p.author, p.challenge))
                yield {"user_id": user, "target_type": "challenge", "target_id": ids.challenge(p.challenge),
                       "created_at": p.created_at, "updated_at": p.created_at}

    sink.insert("follow", follows())
    for p in proposals:
        author = users[p.author]
        audit.append(AuditEvent(p.submitted_at, ids.user(p.author), f"{author.display_name} (#{ids.user(p.author)})"[:200],
                                "proposal.submitted", "proposal", str(ids.proposal(p.index)),
                                {"challenge_id": ids.challenge(p.challenge), "version": 1}))


def _comments(sink: Sink, plan: Plan, ids: Ids) -> None:
    total = sum(p.comment_count for p in plan.proposals)
    first = sink.first_id("comment", total)

    def rows() -> Iterator[dict[str, Any]]:
        next_id = first
        for p in plan.proposals:
            comments = plan.comments_of(p)
            base = next_id
            for c in comments:
                yield {"id": base + c.number, "target_type": "proposal", "target_id": ids.proposal(p.index),
                       "parent_id": base + c.parent if c.parent is not None else None,
                       "depth": 0 if c.parent is None else 1, "author_id": ids.user(c.author), "body": c.body,
                       "official": c.official, "reply_count": c.reply_count, "created_at": c.created_at,
                       "updated_at": c.created_at + timedelta(seconds=1) if c.reply_count else c.created_at}
            next_id += len(comments)

    sink.insert("comment", rows())


def _votes(sink: Sink, plan: Plan, ids: Ids) -> None:
    sink.insert("vote", ({"proposal_id": ids.proposal(v.proposal), "challenge_id": ids.challenge(v.challenge),
                          "user_id": ids.user(v.user), "created_at": v.created_at} for v in plan.votes()))


def _audit(sink: Sink, events: list[AuditEvent]) -> None:
    """Chain the entries onto the latest one, in the order the actions happened."""
    previous = sink.scalar("SELECT entry_hash FROM audit_entry ORDER BY id DESC LIMIT 1") or GENESIS_HASH

    def rows() -> Iterator[dict[str, Any]]:
        nonlocal previous
        for event in sorted(events, key=lambda e: e.at):
            fields = {"created_at": event.at, "actor_id": event.actor_id, "actor_label": event.actor_label[:200],
                      "action": event.action, "target_type": event.target_type, "target_id": event.target_id,
                      "details_json": canonical_json(event.details), "previous_hash": previous}
            entry_hash = compute_hash(**fields)
            yield {**fields, "entry_hash": entry_hash}
            previous = entry_hash

    sink.insert("audit_entry", rows())


def _outbox(sink: Sink, plan: Plan, ids: Ids) -> None:
    keys = [f"challenge:{ids.challenge(c.index)}" for c in plan.challenges]
    keys += [f"proposal:{ids.proposal(p.index)}" for p in plan.proposals]
    sink.insert("search_outbox", ({"doc_key": key, "created_at": plan.now} for key in keys))
