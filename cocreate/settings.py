"""Typed settings, read from ``COCREATE_*`` environment variables when the app is created.

Nothing here runs at import time: call :meth:`Settings.from_env` (or build ``Settings(...)`` directly in
tests). Every default works without a server: SQLite, a local search index, a Celery broker on SQLite
and mail written as files, all under one data folder.
"""

from __future__ import annotations

import os
import re
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

OIDC_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class OidcProvider(BaseModel):
    """An OpenID Connect provider people may sign in with (one entry of ``COCREATE_OIDC_PROVIDERS``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    slug: str = Field(description="Short id used in addresses and stored with linked accounts, e.g. itabashi-id.")
    name: str = Field(min_length=1, max_length=100, description="Display name on the buttons, e.g. Itabashi ID.")
    issuer: str = Field(description="Issuer URL; its /.well-known/openid-configuration is read.")
    client_id: str = Field(min_length=1, max_length=255)
    client_secret: SecretStr
    scopes: str = Field("openid email profile", description="Space-separated; must include openid.")

    @field_validator("slug")
    @classmethod
    def _check_slug(cls, value: str) -> str:
        if not OIDC_SLUG.match(value):
            raise ValueError("slug: 1-32 lower-case letters, digits and inner hyphens")
        return value

    @field_validator("issuer")
    @classmethod
    def _check_issuer(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError("issuer: an http(s) URL without query or fragment")
        return value

    @field_validator("scopes")
    @classmethod
    def _check_scopes(cls, value: str) -> str:
        if "openid" not in value.split():
            raise ValueError("scopes must include openid")
        return " ".join(value.split())


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COCREATE_", extra="ignore", validate_default=True)

    env: Environment = Field(Environment.DEVELOPMENT, description="development, test or production.")
    data_dir: Path = Field(
        Path("var"), description="Folder for every embedded default (database, index, mail, broker)."
    )
    database_url: str = Field("", description="SQLAlchemy URL; default: SQLite file in the data folder.")
    broker_url: str = Field("", description="Celery broker; default: SQLite broker file in the data folder.")
    mail_url: str = Field(
        "",
        description="file:///path (one .eml a message) or smtp://[user:pass@]host:port; default: data folder.",
    )
    mail_folder_days: int = Field(
        14, ge=1, description="Days the embedded mail folder (file://) keeps each message before it is removed.")
    data_export_days: int = Field(
        7, ge=1, le=90, description="Days a \"download my data\" link works before its file is deleted.")
    mail_from: str = Field("cocreate <noreply@cocreate.localhost>", description="Sender of every e-mail.")
    search_index_dir: Path | None = Field(None, description="Whoosh index folder; default: data folder.")
    upload_dir: Path | None = Field(None, description="Uploaded files; default: data folder.")
    secret_key: SecretStr = Field(
        SecretStr(""),
        description="Signs sessions and links; generated into the data folder outside production.",
    )
    audit_key_file: Path | None = Field(
        None, description="Ed25519 private key (PEM) signing the audit log's checkpoints; keep it out of the "
        "database and its backups. Default: generated into the data folder outside production.")
    audit_anchor_file: Path | None = Field(
        None, description="Where the latest signed audit checkpoint is kept outside the database; "
        "default: beside the key.")
    base_url: str = Field("http://127.0.0.1:8000", description="Public address, used in e-mails and feeds.")
    default_locale: str = Field("ja", description="Locale for visitors without a preference.")
    debug: bool = Field(False, description="Show tracebacks (never in production).")
    oidc_providers: list[OidcProvider] = Field(
        default_factory=list,
        description='JSON list of {"slug", "name", "issuer", "client_id", "client_secret", "scopes"}.',
    )
    session_store_url: str = Field(
        "",
        description="redis://host:port/db keeps sessions and rate-limit counters in Redis; default: both in "
        "the database. Either way every web process and host shares them.",
    )
    write_rate_limit: int = Field(
        60, ge=1, description="Form posts and other writes allowed per minute per account (or address)."
    )
    rate_limit_scale: float = Field(
        1.0,
        gt=0,
        le=10_000,
        description="Multiplies the budgets of sign-in, registration, password reset, e-mail change and the "
        "OpenID Connect start (per address and per account; docs/security.md 2.5). Raise it where many "
        "people share one address (an office, a school).",
    )
    map_tile_url: str = Field(
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        description="Map tiles for field maps and /map ({z}/{x}/{y}); empty: no map, the address and a link, or the list.",
    )
    map_attribution: str = Field(
        "© OpenStreetMap contributors", description="Attribution shown under maps, as the tile licence asks."
    )
    web_processes: int = Field(
        0, ge=0, le=64, description="Web processes `cocreate web` and `serve` start; 0: one per CPU core."
    )
    web_threads: int = Field(
        8,
        ge=1,
        le=256,
        description="Requests one web process works on at once (its thread pool); its database pool holds "
        "as many connections plus two, so a thread never waits for one.",
    )
    password_hashing: Literal["rfc9106-low-memory", "fast-for-tests"] = Field(
        "rfc9106-low-memory",
        description="argon2id parameters for new password hashes; fast-for-tests only outside production.",
    )
    public_cache_seconds: float = Field(
        2.0,
        ge=0,
        le=300,
        description="How long each web process answers visitors who are not signed in from memory; 0: never.",
    )
    stats_min_cell: int = Field(
        10,
        ge=2,
        le=1000,
        description="Statistics of profiles (area, age band) show no count below this: such cells read "
        "\"fewer than N\", and enough others are hidden too that no total gives them away.",
    )
    db_wait_seconds: float = Field(
        5.0,
        gt=0,
        le=120,
        description="Longest wait of a web request for a database connection or lock; after it the request "
        "is answered 503 with Retry-After instead of hanging.",
    )

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Settings from the environment; keyword arguments win over it."""
        return cls(**overrides)  # type: ignore[arg-type]

    @model_validator(mode="after")
    def _derive_defaults(self) -> Settings:
        data = self.data_dir
        if not self.database_url:
            self.database_url = f"sqlite:///{(data / 'cocreate.sqlite3').resolve()}"
        if not self.broker_url:
            self.broker_url = f"sqla+sqlite:///{(data / 'celery-broker.sqlite3').resolve()}"
        if not self.mail_url:
            self.mail_url = f"file://{(data / 'mail').resolve()}"
        if self.search_index_dir is None:
            self.search_index_dir = data / "index"
        if self.upload_dir is None:
            self.upload_dir = data / "uploads"
        if self.env is Environment.PRODUCTION:
            if not self.secret_key.get_secret_value():
                raise ValueError("COCREATE_SECRET_KEY must be set in production")
            if self.debug:
                raise ValueError("COCREATE_DEBUG cannot be on in production")
            if self.password_hashing != "rfc9106-low-memory":  # noqa: S105 - a profile name
                raise ValueError("COCREATE_PASSWORD_HASHING must keep its default in production")
        if self.session_store_url and not self.session_store_url.startswith(("redis://", "rediss://")):
            raise ValueError("COCREATE_SESSION_STORE_URL must be a redis:// or rediss:// URL")
        if self.map_tile_url and not self.map_tile_url.startswith(("https://", "http://")):
            raise ValueError("COCREATE_MAP_TILE_URL must be an http(s) URL template")
        if self.default_locale not in ("ja", "en"):
            raise ValueError("COCREATE_DEFAULT_LOCALE must be ja or en")
        slugs = [provider.slug for provider in self.oidc_providers]
        if len(set(slugs)) != len(slugs):
            raise ValueError("COCREATE_OIDC_PROVIDERS: each slug must be unique")
        if self.env is Environment.PRODUCTION and any(
            not provider.issuer.startswith("https://") for provider in self.oidc_providers
        ):
            raise ValueError("COCREATE_OIDC_PROVIDERS: issuers must use https in production")
        return self

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def audit_key_path(self) -> Path:
        return self.audit_key_file or self.data_dir / "audit-signing-key.pem"

    @property
    def audit_anchor_path(self) -> Path:
        return self.audit_anchor_file or self.audit_key_path.with_name("audit-checkpoint.json")

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def web_process_count(self) -> int:
        """Web processes to start: the setting, or one per CPU core."""
        return self.web_processes or max(os.cpu_count() or 1, 1)

    @property
    def db_pool_size(self) -> int:
        """Connections each web process keeps: one per thread, plus two for work done on the event loop
        (closing a request's session) so it never waits behind the threads."""
        return self.web_threads + 2

    @property
    def max_requests_in_flight(self) -> int:
        """Requests one web process accepts before answering 503 at once: enough queued behind the threads
        for a burst, not so many that the last would wait longer than a client does."""
        return self.web_threads * 32

    @property
    def secure_cookies(self) -> bool:
        return urlsplit(self.base_url).scheme == "https"

    def oidc_provider(self, slug: str) -> OidcProvider | None:
        """The configured provider with this slug, or None."""
        return next((provider for provider in self.oidc_providers if provider.slug == slug), None)

    def ensure_dirs(self) -> None:
        """Create the data folders the embedded defaults write to."""
        for path in (self.data_dir, self.search_index_dir, self.upload_dir):
            assert path is not None
            path.mkdir(parents=True, exist_ok=True)
        if self.mail_url.startswith("file://"):
            Path(self.mail_url.removeprefix("file://")).mkdir(parents=True, exist_ok=True)

    def signing_key(self) -> str:
        """The secret key; outside production one is generated once and kept in the data folder."""
        key = self.secret_key.get_secret_value()
        if key:
            return key
        path = self.data_dir / "secret_key"
        if not path.exists():
            write_once(path, secrets.token_urlsafe(48).encode())
        return path.read_text().strip()

    def public_summary(self) -> dict[str, str]:
        """What ``cocreate check`` prints: every setting in force, secrets and passwords masked."""
        return {
            "env": self.env.value,
            "data_dir": str(self.data_dir.resolve()),
            "database_url": _mask(self.database_url),
            "broker_url": _mask(self.broker_url),
            "mail_url": _mask(self.mail_url),
            "search_index_dir": str(self.search_index_dir),
            "upload_dir": str(self.upload_dir),
            "base_url": self.base_url,
            "default_locale": self.default_locale,
            "session_store_url": _mask(self.session_store_url) or "database",
            "audit_key_file": str(self.audit_key_path),
            "web": f"{self.web_process_count} processes x {self.web_threads} threads, "
            f"{self.db_pool_size} database connections each ({self.web_process_count * self.db_pool_size} in all), "
            f"waits up to {self.db_wait_seconds:g} s",
            "oidc_providers": ", ".join(f"{p.slug} ({p.issuer})" for p in self.oidc_providers) or "-",
        }


def write_once(path: Path, content: bytes) -> None:
    """Create ``path`` (readable by its owner only) holding ``content``, unless it exists.

    Written to a private temporary file and linked into place: of several processes starting at once
    on a fresh folder, exactly one file wins and every process then reads that one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    temporary.write_bytes(content)
    temporary.chmod(0o600)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()


def _mask(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url
