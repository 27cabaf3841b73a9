"""The ``cocreate`` command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click

from cocreate.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def _settings() -> Settings:
    from cocreate.accounts import passwords

    settings = Settings.from_env()
    passwords.configure(settings.password_hashing)
    return settings


@click.group()
def main() -> None:
    """cocreate: the ward's co-creation platform."""
    from cocreate import components

    components.load()  # the CLI's composition root: worker, beat, demo, search and backups need them all


# --- web, worker, beat ---------------------------------------------------------------------------


def _default_base_url(host: str, port: int) -> None:
    """Links in e-mails and feeds follow the address the server runs on, unless COCREATE_BASE_URL says
    otherwise (behind a proxy or a domain name it must): set it for this process and its children."""
    if os.environ.get("COCREATE_BASE_URL"):
        return
    everywhere = "0.0.0.0"  # noqa: S104 - naming the address, not binding to it
    shown = "127.0.0.1" if host in (everywhere, "") else "[::1]" if host == "::" else (
        f"[{host}]" if ":" in host else host)
    os.environ["COCREATE_BASE_URL"] = f"http://{shown}:{port}"


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--web-workers", default=None, type=int, help="Web processes (default: COCREATE_WEB_PROCESSES).")
def serve(host: str, port: int, web_workers: int | None) -> None:
    """Run the web server, a Celery worker and Celery beat; Ctrl-C or SIGTERM stops all three.

    Links in e-mails and feeds use COCREATE_BASE_URL, by default this host and port."""
    _default_base_url(host, port)
    settings = _settings()
    settings.ensure_dirs()
    exe = [sys.executable, "-m", "cocreate.cli"]
    web_workers = web_workers or settings.web_process_count
    commands = {
        "web": [*exe, "web", "--host", host, "--port", str(port), "--workers", str(web_workers)],
        "worker": [*exe, "worker"],
        "beat": [*exe, "beat"],
    }
    processes: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def stop(*_args: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    try:
        for name, command in commands.items():
            # Own process groups, so a terminal's Ctrl-C reaches only us and we stop children in order.
            processes[name] = subprocess.Popen(command, start_new_session=True)
        # A first task right away, so `cocreate check` can show the worker processing tasks without
        # waiting for beat's first minute. An unreachable broker must not take serve down with it.
        from cocreate.tasks import celery_app, configure_celery

        configure_celery(settings)
        try:
            celery_app.send_task("cocreate.heartbeat", args=("serve",), retry=False)
        except Exception as exc:
            click.echo(f"warning: could not queue the first heartbeat task: {exc}", err=True)
        click.echo(f"cocreate is running at http://{host}:{port}/ (web, worker and beat). Ctrl-C stops it.")
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    click.echo(
                        f"{name} exited with code {process.returncode}; stopping the others.", err=True
                    )
                    exit_code = process.returncode or 1
                    stopping = True
                    break
            time.sleep(0.2)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    sys.exit(exit_code)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="Web processes (default: COCREATE_WEB_PROCESSES).")
def web(host: str, port: int, workers: int | None) -> None:
    """Run only the web server (uvicorn); each process serves COCREATE_WEB_THREADS requests at once.

    Links in e-mails and feeds use COCREATE_BASE_URL, by default this host and port."""
    import uvicorn

    _default_base_url(host, port)
    workers = workers or _settings().web_process_count
    uvicorn.run(
        "cocreate.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level="info",
        # The supervisor pings each process from a thread; on a loaded machine (a burst, a benchmark
        # on the same cores) 5 s is too short and healthy processes were killed and restarted.
        timeout_worker_healthcheck=30,
    )


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--queues", default="default,search", show_default=True)
@click.option("--concurrency", default=1, show_default=True, type=int)
@click.pass_context
def worker(ctx: click.Context, queues: str, concurrency: int) -> None:
    """Run a Celery worker (extra arguments go to Celery)."""
    from cocreate.tasks import configure_celery

    settings = _settings()
    app = configure_celery(settings)
    pool = "solo" if concurrency == 1 else "prefork"
    argv = [
        "worker",
        f"--pool={pool}",
        f"--concurrency={concurrency}",
        f"--queues={queues}",
        "--without-gossip",
        "--without-mingle",
        "--loglevel=INFO",
        *ctx.args,
    ]
    app.worker_main(argv)


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def beat(ctx: click.Context) -> None:
    """Run Celery beat, the scheduler of periodic jobs."""
    from cocreate.tasks import configure_celery

    settings = _settings()
    app = configure_celery(settings)
    schedule = settings.data_dir / "celerybeat-schedule"
    app.start(["beat", f"--schedule={schedule}", "--loglevel=INFO", *ctx.args])


# --- database ------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from cocreate.db import migrations

    settings = _settings()
    settings.ensure_dirs()
    migrations.upgrade(settings, revision)
    click.echo(f"database at {migrations.current(settings)}")


@db.command("current")
def db_current() -> None:
    from cocreate.db import migrations

    click.echo(migrations.current(_settings()) or "empty")


@db.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Write a new migration from the difference between models and database (for developers)."""
    from cocreate.db import migrations

    migrations.revision(_settings(), message)


# --- content -------------------------------------------------------------------------------------


@main.command()
def demo() -> None:
    """Load demo content drawn from the ward's policy documents (idempotent)."""
    from cocreate import components
    from cocreate.db import Database
    from cocreate.tasks import configure_celery

    settings = _settings()
    if settings.is_production:
        raise click.ClickException("refusing to load demo content: COCREATE_ENV is production")
    configure_celery(settings)  # the services enqueue tasks after commit: onto this broker, not Celery's default
    database = Database(settings)
    for name, loader in components.demo_loaders():
        # A session, not one unit of work: the loaders call the services, and each service commits its
        # own (some read apart from this session, e.g. a vote's checks, and must see what came before).
        with database.session() as session:
            summary = loader(session, settings)
            session.commit()  # what a loader wrote itself (back-dated timestamps, reference rows)
        click.echo(f"{name}: {summary}")
    from cocreate.search import indexer

    settings.ensure_dirs()
    click.echo(f"search: {indexer.rebuild(database, settings)} documents indexed")
    from cocreate.opendata import generate as open_data

    published = open_data.generate(database, settings)  # /open-data has its files at once, not after the daily run
    rows = sum(entry["row_count"] for entry in published.manifest["datasets"].values())
    click.echo(f"open data: {len(published.manifest['datasets'])} datasets, {rows} rows")
    database.dispose()


# --- accounts ------------------------------------------------------------------------------------


@main.command("create-admin")
@click.option("--email", required=True, help="The administrator's e-mail address (sign-in name).")
@click.option("--display-name", required=True, help="Name shown in the site and in the audit log.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of standard input."
)
def create_admin(email: str, display_name: str, password_stdin: bool) -> None:
    """Create the first administrator, or make an existing account an administrator.

    The account is confirmed and gets the password you type (an existing account's password is
    replaced and its sessions end, so this also recovers a lost administrator password). Recorded in
    the audit log with the actor "cli".
    """
    import sqlalchemy as sa

    from cocreate.accounts import admin
    from cocreate.db import Database
    from cocreate.errors import Invalid
    from cocreate.i18n import using_locale

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")
    database = Database(_settings())
    try:
        with using_locale("en"), database.session() as session:
            try:
                result = admin.create_admin(session, email, display_name, password)
            except Invalid as failed:
                raise click.ClickException("; ".join(failed.errors.values())) from None
            except (sa.exc.OperationalError, sa.exc.ProgrammingError) as error:
                raise click.ClickException(
                    f"the database is not ready ({type(error.orig).__name__}): run `cocreate db upgrade` first"
                ) from None
    finally:
        database.dispose()
    user = result.user
    what = "created" if result.created else "updated (new password, signed out everywhere)"
    role = "granted the administrator role" if result.granted else "already an administrator"
    click.echo(f"account {user.email} (#{user.id}) {what}; {role}.")


# --- diagnostics ---------------------------------------------------------------------------------


@main.command()
@click.option("--timeout", default=3.0, show_default=True, type=float)
def check(timeout: float) -> None:
    """Print the database, broker, index and mail settings in force and whether each is reachable."""
    from cocreate import checks

    settings = _settings()
    click.echo("Settings in force:")
    for key, value in settings.public_summary().items():
        click.echo(f"  {key:18} {value}")
    click.echo("Reachability:")
    failures = 0
    for result in checks.run_all(settings, timeout=timeout):
        mark = "ok  " if result.ok else "FAIL"
        failures += 0 if result.ok else 1
        click.echo(f"  [{mark}] {result.name:9} {result.detail}")
    sys.exit(1 if failures else 0)


# --- audit log -----------------------------------------------------------------------------------


def _printable(text: str) -> str:
    # Stored text is the actors' own; escape control characters so it cannot drive the terminal.
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


@main.group()
def audit() -> None:
    """The audit log of staff and admin actions."""


@audit.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain and that it reaches the latest signed checkpoint; exit 1 if an
    entry was altered or removed, or the log was cut short."""
    from cocreate.audit import checkpoints
    from cocreate.db import Database

    settings = _settings()
    database = Database(settings)
    try:
        with database.session() as session:
            # A deferred (read) transaction on SQLite: verifying must not block writers meanwhile.
            session.connection(execution_options={"sqlite_deferred": True})
            result = checkpoints.verify(session, settings)
            latest = checkpoints.latest(session)
    finally:
        database.dispose()
    if result.ok:
        anchored = (f", reaches the signed checkpoint of {latest.created_at:%Y-%m-%d %H:%M} UTC"
                    if latest is not None else ", no signed checkpoint yet")
        click.echo(f"audit log intact: {result.checked} entries{anchored}")
        return
    where = f" at entry {result.first_bad_id}" if result.first_bad_id is not None else ""
    click.echo(f"audit log BROKEN{where}: {result.reason}", err=True)
    sys.exit(1)


@audit.command("keygen")
def audit_keygen() -> None:
    """Make the Ed25519 key that signs the audit log's checkpoints (COCREATE_AUDIT_KEY_FILE), unless it
    exists; print its id. Keep the file out of the database's backups."""
    from cocreate.audit import checkpoints

    settings = _settings()
    made = checkpoints.create_key(settings)
    public = checkpoints.signing_key(settings).public_key()
    state = "made" if made else "already there"
    click.echo(f"audit signing key {state}: {settings.audit_key_path} (key id {checkpoints.key_id(public)})")


@audit.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign a checkpoint of the audit log now (the worker does it every hour)."""
    from cocreate.audit import checkpoints
    from cocreate.db import Database

    settings = _settings()
    database = Database(settings)
    try:
        with database.transaction() as session:
            checkpoint = checkpoints.make(session, settings)
    finally:
        database.dispose()
    if checkpoint is None:
        click.echo("audit log unchanged since the latest checkpoint (or empty): nothing signed")
        return
    checkpoints.write_anchor(settings, checkpoint)
    click.echo(f"signed checkpoint: {checkpoint.entry_count} entries, head {checkpoint.head_hash[:12]}")


@audit.command("tail")
@click.option("-n", "--lines", "count", default=20, show_default=True, type=click.IntRange(min=1))
def audit_tail(count: int) -> None:
    """Print the latest entries (times in Asia/Tokyo)."""
    from zoneinfo import ZoneInfo

    from cocreate.audit.services import latest
    from cocreate.db import Database

    tokyo = ZoneInfo("Asia/Tokyo")
    database = Database(_settings())
    try:
        with database.session() as session:
            session.connection(execution_options={"sqlite_deferred": True})
            entries = latest(session, count)
    finally:
        database.dispose()
    for entry in entries:
        when = entry.created_at.astimezone(tokyo).strftime("%Y-%m-%d %H:%M:%S %Z")
        actor = _printable(entry.actor_label)
        if entry.actor_id is not None:
            actor = f"{actor} (#{entry.actor_id})"
        target = _printable(
            f"{entry.target_type}:{entry.target_id}" if entry.target_id else entry.target_type
        )
        click.echo(f"{entry.id:>6}  {when}  {actor}  {entry.action}  {target}")


# --- search --------------------------------------------------------------------------------------


@main.group()
def search() -> None:
    """The search index (Whoosh)."""


@search.command("rebuild")
def search_rebuild() -> None:
    """Rebuild the whole index from the database and swap it in (drains wait meanwhile)."""
    from cocreate.db import Database
    from cocreate.search import indexer

    settings = _settings()
    settings.ensure_dirs()
    database = Database(settings)
    started = time.monotonic()
    try:
        count = indexer.rebuild(database, settings)
    finally:
        database.dispose()
    click.echo(f"indexed {count} documents in {time.monotonic() - started:.1f} s")


@search.command("status")
def search_status() -> None:
    """Show the live index, its document count and the outbox rows waiting to be indexed."""
    from cocreate.db import Database
    from cocreate.search import indexer

    settings = _settings()
    database = Database(settings)
    try:
        numbers = indexer.status(database, settings)
    finally:
        database.dispose()
    for name, value in numbers.items():
        click.echo(f"{name}: {value if value is not None else '-'}")


# --- backups -------------------------------------------------------------------------------------


@main.command("backup")
@click.argument("path")
def backup_command(path: str) -> None:
    """Write a consistent backup of the running site (database, uploads, manifest) to PATH.

    PATH is a new .tar file, or a folder (existing, or ending in /) that gets cocreate-backup-<UTC time>.tar.
    See cocreate/ops/backup.py.
    """
    from cocreate.ops import backup as ops

    try:
        result = ops.backup(_settings(), Path(path), into_folder=path.endswith(("/", os.sep)))
    except ops.BackupError as error:
        raise click.ClickException(str(error)) from None
    manifest = result.manifest
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(
        f"backup written to {result.path} in {result.seconds:.1f} s: {manifest.dialect} at revision "
        f"{manifest.alembic_revision}, {len(manifest.tables)} tables ({sum(manifest.tables.values())} rows), "
        f"{manifest.audit.entries} audit entries, {len(manifest.uploads)} uploaded files"
    )


@main.command("restore")
@click.argument("path", type=click.Path(path_type=Path))
def restore_command(path: Path) -> None:
    """Restore the backup PATH into an empty database and upload folder (refused when they hold data).

    Checks the archive against its manifest, restores the database in one step, moves the uploads in,
    upgrades the schema if the backup is older, rebuilds the search index and verifies the audit chain.
    """
    from cocreate.ops import backup as ops

    try:
        result = ops.restore(_settings(), path, progress=click.echo)
    except ops.BackupError as error:
        raise click.ClickException(str(error)) from None
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    head = result.manifest.audit.head_hash or "-"
    click.echo(
        f"restored the backup of {result.manifest.created_at:%Y-%m-%d %H:%M:%S} UTC in {result.seconds:.1f} s: "
        f"{result.tables} tables ({result.rows} rows), {result.uploads} uploaded files, "
        f"audit log intact ({result.audit_entries} entries, head {head[:12]}), "
        f"search index rebuilt ({result.documents} documents)"
        + (f", schema upgraded to {result.upgraded_to}" if result.upgraded_to else "")
    )


# --- translations --------------------------------------------------------------------------------


@main.group()
def i18n() -> None:
    """Translation catalogs (Babel)."""


TRANSLATIONS = ROOT / "cocreate" / "translations"
SOURCE_LOCALE = "en"
"""The language the messages are written in (``gettext("…")``): its catalog needs no translations."""


def _pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True, cwd=ROOT)


@i18n.command("extract")
def i18n_extract() -> None:
    """Extract messages to cocreate/translations/messages.pot and update every catalog."""
    _pybabel(
        "extract",
        "-F",
        "babel.cfg",
        "-o",
        "cocreate/translations/messages.pot",
        "--no-location",
        "--sort-output",
        "--project=cocreate",
        # Babel skips folders starting with "_" by default; templates may live in such folders.
        "--ignore-dirs=.* node_modules __pycache__ test-artifacts",
        "-k",
        "lazy_gettext",
        "-k",
        "_l",
        "-k",
        "N_",
        ".",
    )
    _pybabel(
        "update",
        "-i",
        "cocreate/translations/messages.pot",
        "-d",
        "cocreate/translations",
        "--no-fuzzy-matching",
        "--ignore-obsolete",
    )


@i18n.command("compile")
def i18n_compile() -> None:
    """Compile the catalogs (.po to .mo); the build runs this, binaries are not committed.

    Prints one line. Babel's own statistics would say "26 of 2292 messages (1%) translated" for English,
    which reads as a failure: the messages are written in English and need no translation.
    """
    from babel.messages.pofile import read_po

    _pybabel("--quiet", "compile", "-d", str(TRANSLATIONS))
    parts = []
    for po in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")):
        locale = po.parent.parent.name
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        messages = [m for m in catalog if m.id]
        translated = sum(1 for m in messages if m.string and not m.fuzzy
                         and (all(m.string) if isinstance(m.string, tuple | list) else True))
        if locale == SOURCE_LOCALE:
            parts.append(f"{locale} (the language the messages are written in)")
        elif translated == len(messages):
            parts.append(f"{locale} ({len(messages)} messages)")
        else:
            parts.append(f"{locale} ({translated} of {len(messages)} messages translated, "
                         f"{len(messages) - translated} shown in English)")
    click.echo("translation catalogs compiled: " + ", ".join(parts))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
