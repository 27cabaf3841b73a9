"""The benchmark's bulk datasets leave exactly the rows the services would.

A tiny plan (every kind of row the peer and ward datasets have) is built twice on copies of one migrated
SQLite database holding the core demo: once through the real services, in the order the plan's story
tells, and once by :func:`tests.bench.bulk.write`. Table by table, both must hold the same number of
rows with the same columns set (ids and times aside: only whether they are NULL counts), the same
phases, statuses, audit actions and the like, and the same counters on the same ids.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select

from cocreate import audit, demo
from cocreate.accounts import admin as accounts_admin
from cocreate.accounts import organisations, passwords
from cocreate.accounts import services as accounts
from cocreate.accounts.models import Department, User
from cocreate.accounts.organisations import OrganisationForm
from cocreate.accounts.permissions import Principal
from cocreate.comments import services as comments
from cocreate.db import Database, migrations
from cocreate.forms import KpiRow
from cocreate.mail import OutboundEmail
from cocreate.search import indexer
from cocreate.settings import Settings
from cocreate.tasks import queue
from proposals import submissions
from proposals.challenges import lifecycle
from proposals.challenges import services as challenges
from proposals.challenges.services import ChallengeForm, CriterionRow
from proposals.submissions import ProposalForm
from proposals.votes import services as votes
from tests.bench import bulk
from tests.bench.plan import PASSWORD, TINY, Plan
from tests.conftest import make_settings

VALUES = {
    "user_account": ("locale",),
    "consent": ("document", "version"),
    "user_token": ("purpose",),
    "role_assignment": ("role",),
    "organisation": ("kind",),
    "organisation_member": ("is_admin",),
    "challenge": ("id", "phase", "proposal_count", "vote_limit", "question_count", "revision"),
    "challenge_phase_change": ("challenge_id", "from_phase", "to_phase", "reason"),
    "challenge_phase_date": ("challenge_id", "phase"),
    "challenge_department": ("challenge_id", "department_id"),
    "proposal": ("id", "challenge_id", "status", "version", "vote_count", "comment_count"),
    "proposal_organisation": ("proposal_id", "organisation_id", "is_lead"),
    "proposal_version": ("proposal_id", "number"),
    "comment": ("id", "target_id", "parent_id", "depth", "official", "reply_count", "author_id"),
    "vote": ("proposal_id", "challenge_id", "user_id"),
    "follow": ("user_id", "target_type", "target_id"),
    "audit_entry": ("action", "target_type", "target_id", "actor_id"),
}
"""Columns whose values must match too: categories, and counters and links on ids both builds share."""


def snapshot(engine: sa.Engine) -> dict[str, Counter[Any]]:
    """Per table: a multiset of (columns not NULL, values of the VALUES columns) over its rows."""
    result: dict[str, Counter[Any]] = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name == "search_outbox":
                continue
            shown = VALUES.get(table.name, ())
            rows = conn.execute(sa.select(table)).mappings().all()
            result[table.name] = Counter(
                (frozenset(name for name, value in row.items() if value is not None and name != "id"),
                 tuple(str(row[name]) for name in shown))
                for row in rows)
    return result


def outbox_keys(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(sa.text("SELECT doc_key FROM search_outbox")).scalars())


# --- the plan through the services ----------------------------------------------------------------


def build_through_services(database: Database, settings: Settings, plan: Plan) -> None:
    with database.session() as session:
        _Story(session, settings, plan).tell()


class _Story:
    def __init__(self, session: Session, settings: Settings, plan: Plan) -> None:
        self.session = session
        self.settings = settings
        self.plan = plan
        self.user_ids: dict[int, int] = {}
        self.organisation_ids: dict[int, int] = {}
        self.challenge_ids: dict[int, int] = {}
        self.proposal_ids: dict[int, int] = {}
        self._principals: dict[int, Principal] = {}

    def actor(self, index: int) -> Principal:
        if index not in self._principals:
            user = self.session.get(User, self.user_ids[index])
            self._principals[index] = Principal.load(self.session, user)
        return self._principals[index]

    def tell(self) -> None:
        session, plan = self.session, self.plan
        admin = Principal.load(session, session.exec(select(User).where(User.email == "demo-admin@example.jp")).one())
        departments = {d.code: d.id for d in session.exec(select(Department)).all()}
        for user in plan.users:
            created = accounts.register(session, self.settings, accounts.RegistrationForm(
                email=user.email, display_name=user.display_name, password=PASSWORD, accept_terms=True,
                accept_privacy=True, locale=user.locale))
            assert created is not None and created.id is not None
            mail = session.exec(select(OutboundEmail).where(OutboundEmail.to_address == user.email)
                                .order_by(col(OutboundEmail.id).desc())).first()
            assert mail is not None
            token = re.search(r"/account/confirm/(\S+)", mail.body_text)
            assert token is not None and accounts.confirm_email(session, token.group(1)) is not None
            self.user_ids[user.index] = created.id
        for user in plan.users:
            if user.department is not None:
                accounts_admin.grant_role(session, admin, self.user_ids[user.index], accounts_admin.GrantForm(
                    role="staff", department_id=departments[user.department]))
        for o in plan.organisations:
            created_org = organisations.create(session, self.actor(o.admin), OrganisationForm(
                name=o.name, kind=o.kind, corporate_number=o.corporate_number, address=o.address, website=o.website,
                description=o.description))
            organisations.verify(session, self.settings, admin, created_org.id)  # type: ignore[arg-type]
            self.organisation_ids[o.index] = created_org.id  # type: ignore[assignment]
        for c in plan.challenges:
            data = ChallengeForm(
                title=c.title, summary=c.summary, category=c.category, area=c.area, contact_name=c.contact_name,
                contact_email=c.contact_email, contact_phone=c.contact_phone, background=c.background,
                current_situation=c.current_situation, desired_outcome=c.desired_outcome, constraints=c.constraints,
                eligibility=c.eligibility, support_facilities=c.support_facilities, support_data=c.support_data,
                support_other=c.support_other, budget_cap_yen=c.budget_cap_yen,
                co_owners=[departments[code] for code in c.co_owners],
                criteria=[CriterionRow(name=k.name, weight=k.weight, description=k.description) for k in c.criteria],
                kpis=[KpiRow(indicator=k.indicator, baseline=k.baseline, target=k.target, unit=k.unit)
                      for k in c.kpis],
                schedule=dict(c.schedule))
            challenge = challenges.create_draft(session, self.actor(c.staff), departments[c.department], data)
            assert challenge.id is not None
            self.challenge_ids[c.index] = challenge.id
            challenges.publish(session, self.actor(c.staff), challenge.id, now=c.published_at)
            if c.vote_limit is not None:
                votes.update_settings(session, self.actor(c.staff), challenge.id,
                                      votes.VotingForm(vote_limit=c.vote_limit))
        self.advance(0)
        for p in plan.proposals:
            draft = submissions.create_draft(
                session, self.actor(p.author), self.challenge_ids[p.challenge], self.organisation_ids[p.organisation],
                ProposalForm(title=p.title, summary=p.summary, description=p.description, team=p.team,
                             cost_estimate_yen=p.cost_estimate_yen, schedule=p.schedule,
                             test_field_needs=p.test_field_needs, confidential=p.confidential,
                             kpis=[{"indicator": k.indicator, "baseline": k.baseline, "target": k.target,
                                    "unit": k.unit} for k in p.kpis]))
            assert draft.id is not None
            submissions.submit(session, self.actor(p.author), draft.id)
            self.proposal_ids[p.index] = draft.id
        self.advance(1)
        for p in plan.proposals:
            posted: dict[int, int] = {}
            for c in plan.comments_of(p):
                form = comments.CommentForm(body=c.body, parent_id=posted[c.parent] if c.parent is not None else None)
                comment = comments.post(session, self.actor(c.author), "proposal", self.proposal_ids[p.index], form)
                assert comment.official == c.official and comment.id is not None
                posted[c.number] = comment.id
        for v in plan.votes():
            assert votes.vote(session, self.actor(v.user), self.proposal_ids[v.proposal])
        self.advance(2)

    def advance(self, move: int) -> None:
        """Let the schedule make each challenge's ``move``-th phase change, as beat's job would."""
        for c in self.plan.challenges:
            moves = c.phase_changes()
            if move < len(moves):
                lifecycle.advance_due(self.session, now=moves[move][2])


# --- the test -------------------------------------------------------------------------------------


@cache
def _hash(password: str) -> str:
    return passwords.hasher().hash(password)


@pytest.fixture
def base_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A migrated SQLite database with the core demo (departments and one account per role)."""
    monkeypatch.setattr(passwords, "hash_password", _hash)  # argon2 costs 0.1 s a hash on purpose
    monkeypatch.setattr(queue.celery_app, "send_task", lambda *args, **kwargs: None)  # no worker in this test
    path = tmp_path / "base.sqlite3"
    settings = make_settings(tmp_path / "base", database_url=f"sqlite:///{path}")
    migrations.upgrade(settings, "head")
    database = Database(settings)
    with database.transaction() as session:
        demo.load(session, settings)
    database.dispose()
    return path


def _copy(base: Path, tmp_path: Path, name: str) -> tuple[Database, Settings]:
    path = tmp_path / f"{name}.sqlite3"
    shutil.copyfile(base, path)
    settings = make_settings(tmp_path / name, database_url=f"sqlite:///{path}")
    return Database(settings), settings


def test_the_bulk_dataset_has_the_rows_the_services_write(base_database: Path, tmp_path: Path) -> None:
    plan = Plan(TINY)
    by_services, services_settings = _copy(base_database, tmp_path, "services")
    in_bulk, bulk_settings = _copy(base_database, tmp_path, "bulk")
    try:
        build_through_services(by_services, services_settings, plan)
        bulk.write(in_bulk, bulk_settings, plan)

        expected, actual = snapshot(by_services.engine), snapshot(in_bulk.engine)
        for table in expected:
            assert actual[table] == expected[table], (
                f"{table}: only through the services {sorted(expected[table] - actual[table], key=str)}; "
                f"only in bulk {sorted(actual[table] - expected[table], key=str)}")
        assert outbox_keys(in_bulk.engine) == outbox_keys(by_services.engine)
        with in_bulk.transaction() as session:
            assert audit.verify(session).ok
            assert session.exec(select(sa.func.count()).select_from(User)).one() == (
                len(demo.DEMO_ACCOUNTS) + TINY.users + TINY.voters)

        indexed = indexer.rebuild(in_bulk, bulk_settings)
        assert indexed == TINY.challenges + TINY.proposals
        assert outbox_keys(in_bulk.engine) == set()
    finally:
        by_services.dispose()
        in_bulk.dispose()
