"""What the search index holds of the labs component: published trials (with their public progress,
results and calls for participants) and published test fields. Every change goes through the outbox
(``indexer.process_pending``) and the test searches again, as a visitor would."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from cocreate.accounts.models import Organisation
from cocreate.db import Database
from cocreate.db.base import utcnow
from cocreate.search import indexer, query
from cocreate.search.models import SearchOutbox
from cocreate.settings import Settings
from labs import recruitment
from labs.models import (
    Area,
    RecruitmentCall,
    RecruitmentStatus,
    TestField,
    Trial,
    TrialKpi,
    TrialOrganisation,
    TrialStatus,
    TrialUpdate,
)
from proposals.models import Category, Challenge, Phase
from proposals.search import AREA_NAMES
from tests.factories import create_challenge
from tests.helpers import count_queries
from tests.labs.helpers import create_department, create_field, create_organisation

pytestmark = pytest.mark.databases("sqlite", why="what the index may hold is Python")






def keys(database: Database, settings: Settings, text: str, **filters: object) -> set[str]:
    """Drain the outbox, then the keys of everything ``text`` finds."""
    indexer.process_pending(database, settings)
    return {hit.key for hit in query.search(settings, text, per_page=100, **filters).hits}  # type: ignore[arg-type]


def make_trial(session: Session, *, challenge: Challenge | None = None, published: bool = True,
               **values: object) -> Trial:
    trial = Trial(title=str(values.pop("title", "自動配送ロボットの実証")), summary="歩道を走る配送ロボットを試します。",
                  challenge_id=challenge.id if challenge else None, published=published, status=TrialStatus.RUNNING,
                  **values)  # type: ignore[arg-type]
    session.add(trial)
    session.commit()
    return trial


# --- trials --------------------------------------------------------------------------------------


def test_a_published_trial_is_found_with_its_organisations_kpis_updates_and_public_calls(
        session: Session, database: Database, settings: Settings) -> None:
    department = create_department(session)
    challenge = create_challenge(session, department, phase="trial", category="transport_mobility")
    organisation = create_organisation(session, "板橋ロボティクス株式会社", verified=True)
    trial = make_trial(session, challenge=challenge)
    session.add(TrialOrganisation(trial_id=trial.id, organisation_id=organisation.id, is_lead=True))  # type: ignore[arg-type]
    session.add(TrialKpi(trial_id=trial.id, indicator="配送完了率"))  # type: ignore[arg-type]
    session.add(TrialUpdate(trial_id=trial.id, posted_on=date(2026, 5, 1), title="第一週の報告",  # type: ignore[arg-type]
                            body="雨天でもセンサーは安定していました。"))
    session.add(RecruitmentCall(trial_id=trial.id, title="モニター募集（公開中）", consent_text="同意します", places=5,  # type: ignore[arg-type]
                                status=RecruitmentStatus.OPEN))
    draft_call = RecruitmentCall(trial_id=trial.id, title="下書きの参加者募集", consent_text="同意します", places=5,  # type: ignore[arg-type]
                                 status=RecruitmentStatus.DRAFT)
    session.add(draft_call)
    session.commit()
    key = f"trial:{trial.id}"

    indexer.process_pending(database, settings)
    hit = next(hit for hit in query.search(settings, "配送", per_page=100).hits if hit.key == key)
    assert (hit.url, hit.category, hit.challenge_id, hit.phase) == (
        f"/trials/{trial.id}", "transport_mobility", challenge.id, None)
    for text in ("板橋ロボティクス", "配送完了率", "センサー", "モニター"):
        assert keys(database, settings, text) == {key}, text
    assert keys(database, settings, "下書き") == set()  # a draft call is not public
    assert keys(database, settings, "ロボット", types=["trial"], category="transport_mobility") == {key}


def test_an_unpublished_trial_and_unpublished_results_are_never_found(session: Session, database: Database,
                                                                      settings: Settings) -> None:
    trial = make_trial(session, published=False, results="利用者の満足度は九割でした。")
    key = f"trial:{trial.id}"
    assert keys(database, settings, "配送") == set()

    trial.published = True
    session.commit()
    assert keys(database, settings, "配送") == {key}
    assert keys(database, settings, "満足度") == set()  # the report is saved but not published

    trial.results_published_at = utcnow()
    session.commit()
    assert keys(database, settings, "満足度") == {key}

    trial.published = False
    session.commit()
    assert keys(database, settings, "配送") == set()


def test_watched_changes_reindex_the_trial(session: Session, database: Database, settings: Settings) -> None:
    organisation = create_organisation(session, "Quokka Logistics", verified=True)
    trial = make_trial(session)
    session.add(TrialOrganisation(trial_id=trial.id, organisation_id=organisation.id, is_lead=True))  # type: ignore[arg-type]
    update = TrialUpdate(trial_id=trial.id, posted_on=date(2026, 5, 1), title="中間報告", body="順調です。")  # type: ignore[arg-type]
    session.add(update)
    session.commit()
    key = f"trial:{trial.id}"
    assert keys(database, settings, "中間報告") == {key}

    session.delete(update)
    renamed = session.get(Organisation, organisation.id)
    renamed.name = "Zephyr Robotics"  # type: ignore[union-attr]
    session.commit()
    assert keys(database, settings, "中間報告") == set()
    assert keys(database, settings, "quokka") == set()
    assert keys(database, settings, "Zephyr") == {key}

    trial.title = "ドローン配送の実証"
    session.commit()
    assert keys(database, settings, "ドローン") == {key}


@pytest.mark.databases("sqlite", "postgresql", why="the outbox and its hooks")
def test_a_challenge_change_reaches_its_trials(session: Session, database: Database, settings: Settings) -> None:
    challenge = create_challenge(session, create_department(session), phase="trial", category="transport_mobility")
    trial = make_trial(session, challenge=challenge)
    assert keys(database, settings, "配送", category="transport_mobility") == {f"trial:{trial.id}"}

    challenge.category = Category.ADMIN_DX
    session.commit()
    assert keys(database, settings, "配送", category="transport_mobility") == set()
    assert keys(database, settings, "配送", category="admin_dx") == {f"trial:{trial.id}"}

    challenge.phase = Phase.DRAFT  # a draft challenge is not shown with the trial
    session.commit()
    assert keys(database, settings, "配送", category="admin_dx") == set()
    assert keys(database, settings, "配送") == {f"trial:{trial.id}"}

    challenge.phase = Phase.TRIAL
    session.commit()
    assert keys(database, settings, "配送", category="admin_dx") == {f"trial:{trial.id}"}
    session.delete(challenge)  # the database unlinks the trial (ON DELETE SET NULL)
    session.commit()
    assert keys(database, settings, "配送", category="admin_dx") == set()
    assert keys(database, settings, "配送") == {f"trial:{trial.id}"}


def test_closing_calls_in_bulk_after_the_trial_marks_the_trial(session: Session, database: Database,
                                                               settings: Settings) -> None:
    trial = make_trial(session, ends_on=date.today() - timedelta(days=400), participant_data_retention_days=30)
    session.add(RecruitmentCall(trial_id=trial.id, title="歩行者モニター", consent_text="同意します", places=5,  # type: ignore[arg-type]
                                status=RecruitmentStatus.DRAFT))
    session.commit()
    assert keys(database, settings, "歩行者") == set()
    recruitment.delete_expired_participant_data(session)  # closes the calls with one UPDATE
    assert session.exec(select(SearchOutbox.doc_key)).all() == [f"trial:{trial.id}"]
    assert keys(database, settings, "歩行者") == {f"trial:{trial.id}"}  # a closed call shows on the trial


def test_trials_load_in_a_fixed_number_of_queries(session: Session, database: Database) -> None:
    organisation = create_organisation(session, "板橋ロボティクス株式会社", verified=True)
    challenge = create_challenge(session, create_department(session), phase="trial")

    def count(trials: int) -> int:
        made = [make_trial(session, challenge=challenge, title=f"実証{n}") for n in range(trials)]
        for trial in made:
            session.add(TrialOrganisation(trial_id=trial.id, organisation_id=organisation.id, is_lead=True))  # type: ignore[arg-type]
            session.add(TrialUpdate(trial_id=trial.id, posted_on=date(2026, 5, 1), title="報告", body="順調"))  # type: ignore[arg-type]
        session.commit()
        wanted = [f"trial:{t.id}" for t in made]
        session.expire_all()
        with count_queries(database.engine) as log:
            loaded = indexer.load(session, wanted)
        assert set(loaded) == set(wanted)
        return log.count

    assert count(2) == count(12)


# --- test fields ---------------------------------------------------------------------------------


def test_published_fields_are_found_by_area_and_leave_when_unpublished_or_deleted(
        session: Session, database: Database, settings: Settings) -> None:
    park = create_field(session, name="高島平 けやき公園", summary="芝生の広場で実証できます。")
    hall = create_field(session, name="常盤台 地域センター", area=Area.TOKIWADAI, summary="屋内の広場で実証できます。",
                        address="東京都板橋区常盤台1丁目")
    hidden = create_field(session, name="赤塚 非公開の広場", area=Area.AKATSUKA, published=False)
    assert keys(database, settings, "広場") == {f"test_field:{park.id}", f"test_field:{hall.id}"}
    assert keys(database, settings, "広場", area="tokiwadai") == {f"test_field:{hall.id}"}
    assert keys(database, settings, "東京都板橋区常盤台1丁目") == {f"test_field:{hall.id}"}  # the address
    hit = query.search(settings, "けやき").hits[0]
    assert (hit.type, hit.url, hit.area, hit.title) == ("test_field", f"/fields/{park.id}", "takashimadaira",
                                                         "高島平 けやき公園")

    park.published = False
    hidden.published = True
    session.commit()
    assert keys(database, settings, "広場") == {f"test_field:{hall.id}", f"test_field:{hidden.id}"}

    session.delete(session.get(TestField, hall.id))
    session.commit()
    assert keys(database, settings, "広場") == {f"test_field:{hidden.id}"}


def test_the_area_names_proposals_knows_are_the_ward_areas() -> None:
    """proposals does not import labs, so it keeps its own copy of the area slugs: they must agree."""
    assert set(AREA_NAMES.values()) == {area.value for area in Area}


def test_every_watched_column_exists() -> None:
    """A misspelt column in a watch would raise during every flush of that model."""
    from labs import search

    assert set(search.TRIAL_FIELDS) <= set(sa.inspect(Trial).attrs.keys())
    assert set(search.FIELD_FIELDS) <= set(sa.inspect(TestField).attrs.keys())
