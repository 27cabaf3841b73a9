"""argon2id: production parameters by default, the cheap profile only where the settings allow it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import extract_parameters, profiles
from pydantic import ValidationError

from cocreate.accounts import passwords
from cocreate.settings import Settings


@pytest.fixture
def production_profile() -> Iterator[None]:
    passwords.configure(Settings().password_hashing)
    yield
    passwords.configure("fast-for-tests")  # what the rest of the suite runs with (tests/conftest.py)


def test_new_hashes_use_rfc_9106_argon2id_with_64_mib_and_3_passes(production_profile: None) -> None:
    hashed = passwords.hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    parameters = extract_parameters(hashed)
    assert parameters == profiles.RFC_9106_LOW_MEMORY
    assert (parameters.memory_cost, parameters.time_cost, parameters.parallelism) == (65536, 3, 4)
    assert passwords.verify_password(hashed, "correct horse battery")
    assert not passwords.verify_password(hashed, "correct horse batterY")
    assert not passwords.needs_rehash(hashed)


def test_hashes_of_the_test_profile_are_upgraded_on_the_next_sign_in(production_profile: None) -> None:
    passwords.configure("fast-for-tests")
    cheap = passwords.hash_password("correct horse battery")
    assert extract_parameters(cheap) == profiles.CHEAPEST
    passwords.configure("rfc9106-low-memory")
    assert passwords.verify_password(cheap, "correct horse battery")  # the parameters come from the hash
    assert passwords.needs_rehash(cheap)


def test_the_cheap_profile_is_refused_in_production(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).password_hashing == "rfc9106-low-memory"
    with pytest.raises(ValidationError, match="COCREATE_PASSWORD_HASHING"):
        Settings(data_dir=tmp_path, env="production", secret_key="x" * 40, password_hashing="fast-for-tests")  # type: ignore[arg-type]
