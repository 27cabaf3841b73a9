"""Authors' pseudonyms: stable for one person and one secret, different between people and between sites,
not the account id in any readable form, and never made without the key."""

from __future__ import annotations

import re

import pytest

from cocreate import components
from cocreate.opendata.pseudonyms import keyed, pseudonym
from cocreate.opendata.tasks import TASK


def test_pseudonyms_are_stable_keyed_and_opaque() -> None:
    with keyed("site-secret-one"):
        first, again, other = pseudonym(42), pseudonym(42), pseudonym(43)
        assert pseudonym(None) == ""
    with keyed("site-secret-two"):
        elsewhere = pseudonym(42)
    assert first == again and first != other and first != elsewhere
    assert re.fullmatch(r"p-[0-9a-f]{16}", first)


def test_no_pseudonym_without_the_key() -> None:
    with pytest.raises(RuntimeError):
        pseudonym(1)


def test_the_generation_is_on_the_daily_schedule() -> None:
    components.load()
    entries = [entry for entry in components.beat_schedule().values() if entry["task"] == TASK]
    assert len(entries) == 1
    schedule = entries[0]["schedule"]
    assert schedule.hour == {4} and schedule.minute == {15}  # daily, before the ward's working day
