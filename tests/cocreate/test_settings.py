from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from cocreate.settings import Environment, Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("COCREATE_"):
            monkeypatch.delenv(key)


def test_embedded_defaults_need_no_server(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.env is Environment.DEVELOPMENT
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'cocreate.sqlite3'}"
    assert settings.broker_url == f"sqla+sqlite:///{tmp_path.resolve() / 'celery-broker.sqlite3'}"
    assert settings.mail_url == f"file://{tmp_path.resolve() / 'mail'}"
    assert settings.search_index_dir == tmp_path / "index"
    assert settings.upload_dir == tmp_path / "uploads"
    assert settings.default_locale == "ja"
    assert settings.uses_sqlite
    assert not settings.secure_cookies


def test_default_data_dir_is_var() -> None:
    assert Settings().data_dir == Path("var")


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COCREATE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COCREATE_DATABASE_URL", "postgresql+psycopg://u:pw@db:5432/cocreate")
    monkeypatch.setenv("COCREATE_BROKER_URL", "redis://redis:6379/0")
    monkeypatch.setenv("COCREATE_MAIL_URL", "smtp://mail:25")
    monkeypatch.setenv("COCREATE_BASE_URL", "https://cocreate.example.jp")
    monkeypatch.setenv("COCREATE_DEFAULT_LOCALE", "en")
    settings = Settings.from_env()
    assert settings.data_dir == tmp_path
    assert settings.database_url == "postgresql+psycopg://u:pw@db:5432/cocreate"
    assert not settings.uses_sqlite
    assert settings.broker_url == "redis://redis:6379/0"
    assert settings.mail_url == "smtp://mail:25"
    assert settings.secure_cookies
    assert settings.default_locale == "en"
    assert settings.search_index_dir == tmp_path / "index"


def test_keyword_overrides_win_over_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COCREATE_BASE_URL", "https://from-env.example")
    assert Settings.from_env(base_url="http://from-code.example").base_url == "http://from-code.example"


def test_nothing_is_read_at_import_time() -> None:
    # With an invalid setting in the environment, importing the app (and every component through
    # it) still works; only creating the settings fails.
    code = (
        "import cocreate.app, cocreate.cli, cocreate.tasks, proposals.models, labs.models\n"
        "from cocreate.settings import Settings\n"
        "try:\n    Settings.from_env()\nexcept Exception as exc:\n    print('rejected', type(exc).__name__)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("COCREATE_")} | {"COCREATE_ENV": "bogus"}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "rejected ValidationError"


@pytest.mark.parametrize(
    ("name", "value"),
    [("COCREATE_ENV", "staging"), ("COCREATE_DEBUG", "sometimes"), ("COCREATE_DEFAULT_LOCALE", "fr")],
)
def test_invalid_values_are_rejected_with_the_setting_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises((ValidationError, ValueError)) as excinfo:
        Settings.from_env()
    assert name.removeprefix("COCREATE_").lower() in str(excinfo.value).lower()


def test_production_requires_a_secret_key_and_no_debug(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="COCREATE_SECRET_KEY"):
        Settings(env="production", data_dir=tmp_path)
    with pytest.raises(ValidationError, match="COCREATE_DEBUG"):
        Settings(env="production", data_dir=tmp_path, secret_key="x" * 40, debug=True)
    assert Settings(env="production", data_dir=tmp_path, secret_key="x" * 40).is_production


def test_development_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path).signing_key()
    second = Settings(data_dir=tmp_path).signing_key()
    assert first == second
    assert len(first) >= 48
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert Settings(data_dir=tmp_path, secret_key="explicit").signing_key() == "explicit"


def test_public_summary_masks_passwords(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url="postgresql+psycopg://cocreate:hunter2@db/cocreate",
        broker_url="redis://:s3cret@redis:6379/0",
    )
    summary = settings.public_summary()
    assert "hunter2" not in str(summary) and "s3cret" not in str(summary)
    assert summary["database_url"] == "postgresql+psycopg://cocreate:***@db/cocreate"


def test_ensure_dirs_creates_the_data_folders(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "fresh")
    settings.ensure_dirs()
    for folder in ("index", "uploads", "mail"):
        assert (tmp_path / "fresh" / folder).is_dir()
