"""The issue's "done when": confidential parts, drafts, hidden content and personal data planted in every place
the open data leaves out appear in no file of any dataset (CSV, CSV for Excel, JSON, the zip, the README and
the catalogue), over every dataset the manifests declare (``components.datasets()``, so datasets that other
parts add are covered too), while the public rows are there (so the test can fail)."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlmodel import Session

from cocreate import components
from cocreate.db import Database
from cocreate.opendata import generate as files
from cocreate.opendata.pseudonyms import keyed, pseudonym
from cocreate.settings import Settings
from tests.cocreate.opendata.world import build

pytestmark = pytest.mark.databases("sqlite", why="what is published is decided in Python and portable SQL")


def _texts(published: files.Published) -> dict[str, str]:
    """Every published file as text, and every member of the zip."""
    texts: dict[str, str] = {}
    for filename in published.manifest["files"]:
        data = (published.path / filename).read_bytes()
        if filename.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as bundle:
                for member in bundle.namelist():
                    texts[f"{filename}:{member}"] = bundle.read(member).decode("utf-8-sig")
            continue
        texts[filename] = data.decode("utf-8-sig")
    return texts


def test_no_file_of_any_dataset_holds_what_is_not_public(session: Session, database: Database,
                                                         settings: Settings) -> None:
    world = build(session)
    declared = components.datasets()
    assert {"challenges", "proposals", "decisions", "questions", "vote_counts", "voices", "comments", "test_fields",
            "bookings", "trials", "trial_kpis"} <= {dataset.name for dataset in declared}
    files.generate(database, settings)
    published = files.current(settings)
    assert published is not None and files.MANIFEST in published.manifest["files"]

    texts = _texts(published)
    for dataset in declared:  # every declared dataset was written in every format, and zipped
        for filename in files.filenames(dataset.name).values():
            assert filename in texts, filename
        assert f"{files.ZIP}:{dataset.name}.csv" in texts and f"{files.ZIP}:{dataset.name}.json" in texts
    everything = "\n".join(texts.values())

    leaks = [f"{label}: {secret!r} in {name}" for label, secret in world.secrets.items()
             for name, text in texts.items() if secret in text]
    assert not leaks, "\n".join(leaks)
    missing = [f"{label}: {text!r}" for label, text in world.public.items() if text not in everything]
    assert not missing, "public rows missing:\n" + "\n".join(missing)

    with keyed(settings.signing_key()):
        resident, voter = pseudonym(world_resident_id(session)), pseudonym(world.ids["voter"])
    assert resident in texts["comments.csv"]  # the resident's comment, under their pseudonym
    assert voter not in everything  # who voted is nowhere
    for account_id_column in ("author_id", "asker_id", "user_id", "respondent_id", "entered_by_id", "desk_note"):
        assert account_id_column not in everything


def world_resident_id(session: Session) -> int:
    from sqlmodel import select

    from cocreate.accounts.models import User

    found = session.exec(select(User.id).where(User.email == "resident@example.jp")).one()
    return int(found)
