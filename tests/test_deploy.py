"""Deployment files stay in step with the settings.

- The documented production environment (the [production] section of .env.example)
  passes `manage.py check --deploy` with no warnings.
- .env.example lists exactly the variables settings.py reads (plus the few that only
  docker-compose.yml reads, each of which it must really use).
- docker-compose.yml has the services the product promises, exactly one Celery beat,
  and hands the app processes their database and Redis.
- The Dockerfile runs as a non-root user and bakes no secret.

No Docker engine is needed; `docker compose config` runs only where the CLI has it.
"""

from __future__ import annotations

import ast
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "nuzzle" / "settings.py"
ENV_EXAMPLE = ROOT / ".env.example"
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

APP_SERVICES = ("web", "worker", "beat")
# Not read by settings.py; .env.example documents them for docker-compose.yml.
COMPOSE_SECTION = "compose"
PRODUCTION_SECTION = "production"

_SECTION = re.compile(r"^# \[(?P<name>[a-z /-]+)\]")
_ASSIGNMENT = re.compile(r"^#\s?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")


# --- helpers ---------------------------------------------------------------------


def settings_variables() -> set[str]:
    """Names settings.py reads: env("X"), env.<cast>("X"), os.environ/os.getenv."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(SETTINGS.read_text())):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        func = node.func
        reads_env = (isinstance(func, ast.Name) and func.id == "env") or (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "env"
            and func.attr != "read_env"
        )
        reads_os = (isinstance(func, ast.Attribute) and func.attr == "getenv") or (
            isinstance(func, ast.Attribute)
            and func.attr == "get"
            and isinstance(func.value, ast.Attribute)
            and func.value.attr == "environ"
        )
        if reads_env or reads_os:
            names.add(first.value)
    return names


def env_example_sections() -> dict[str, list[tuple[str, str, list[str]]]]:
    """{section: [(NAME, value, comment lines above it)]} from .env.example."""
    sections: dict[str, list[tuple[str, str, list[str]]]] = {}
    current = ""
    comments: list[str] = []
    for line in ENV_EXAMPLE.read_text().splitlines():
        if match := _SECTION.match(line):
            current = match["name"].split()[0]
            sections.setdefault(current, [])
            comments = []
        elif match := _ASSIGNMENT.match(line):
            sections.setdefault(current, []).append((match["name"], match["value"], comments))
            comments = []
        elif not line.strip():
            comments = []
        else:
            comments = [*comments, line]
    return sections


def run_in_project(args: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess:
    """Run a command from the project root with exactly this environment."""
    return subprocess.run(
        args, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120, check=False
    )


def production_environment() -> dict[str, str]:
    return {
        name: value.strip().strip('"')
        for name, value, _ in env_example_sections()[PRODUCTION_SECTION]
    }


def compose_file() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def command_of(service: dict) -> str:
    command = service.get("command") or ""
    return " ".join(command) if isinstance(command, list) else str(command)


def environment_of(service: dict) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in environment)
    return {key: "" if value is None else str(value) for key, value in environment.items()}


def runs_celery(service: dict, role: str) -> bool:
    return re.search(rf"\bcelery\b.*\b{role}\b", command_of(service)) is not None


# --- check --deploy ----------------------------------------------------------------


def test_the_documented_production_environment_passes_check_deploy(tmp_path):
    production = production_environment()
    assert production.get("SECRET_KEY") == "", (
        "The [production] block must leave SECRET_KEY blank: a key in a public file "
        "is not a secret."
    )
    # Start from this process's environment minus anything settings.py reads, so a
    # developer's DEBUG=1 in the shell can't leak in; then the documented values.
    # DJANGO_ALLOW_ASYNC_UNSAFE (set while Playwright runs) would trip async.E001.
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in settings_variables() and key != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    environment.update(production)
    environment["SECRET_KEY"] = secrets.token_urlsafe(50)
    # A throwaway SQLite file: the check doesn't connect, and nothing real is touched.
    environment["DATABASE_URL"] = f"sqlite:///{tmp_path / 'deploy-check.sqlite3'}"

    result = run_in_project(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        environment,
    )

    output = result.stdout + result.stderr
    hint = (
        " (a .env beside manage.py also feeds settings.py any variable not set above)"
        if (ROOT / ".env").exists()
        else ""
    )
    assert result.returncode == 0, f"check --deploy failed{hint}:\n{output}"
    assert "System check identified no issues (0 silenced)." in output, output


# --- .env.example ------------------------------------------------------------------


def test_env_example_lists_every_variable_settings_reads_and_nothing_else():
    read_by_settings = settings_variables()
    # Guard against the parser silently finding nothing.
    assert {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "EMAIL_URL"} <= read_by_settings

    sections = env_example_sections()
    documented = {
        name
        for section, entries in sections.items()
        if section not in (COMPOSE_SECTION, PRODUCTION_SECTION)
        for name, _, _ in entries
    }
    compose_only = {name for name, _, _ in sections.get(COMPOSE_SECTION, [])}
    production = set(production_environment())

    assert read_by_settings - documented == set(), "read by settings.py, missing in .env.example"
    assert documented - read_by_settings == set(), "in .env.example, never read by settings.py"
    assert production - read_by_settings == set(), "[production] sets unknown variables"
    compose_text = COMPOSE.read_text()
    unused = {name for name in compose_only if f"${{{name}" not in compose_text}
    # WEB_CONCURRENCY is also read by gunicorn itself; compose passes it through.
    assert unused == set(), "[compose] variables docker-compose.yml never uses"


def test_every_env_example_entry_says_what_it_does_and_its_default():
    for section, entries in env_example_sections().items():
        if section == PRODUCTION_SECTION:
            continue
        for name, _, comments in entries:
            text = "\n".join(comments)
            assert text.startswith(f"# {name}: "), f"{name}: no description"
            assert "# Default: " in text, f"{name}: no default"


# --- docker-compose.yml ------------------------------------------------------------


def test_compose_has_the_promised_services():
    services = compose_file()["services"]

    assert {"web", "worker", "beat", "postgres", "redis"} <= set(services)
    mail_catchers = [
        name
        for name, service in services.items()
        if str(service.get("image", "")).startswith(("axllent/mailpit", "mailhog/mailhog"))
    ]
    assert mail_catchers, "no mail catcher service"
    assert str(services["postgres"]["image"]).startswith("postgres:16")
    assert str(services["redis"]["image"]).startswith("redis:7")
    assert any(volume.startswith("postgres-data:") for volume in services["postgres"]["volumes"]), (
        "postgres data must live in a named volume"
    )
    assert "postgres-data" in compose_file()["volumes"]


def test_compose_runs_exactly_one_celery_beat_and_a_worker():
    services = compose_file()["services"]

    beats = [name for name, service in services.items() if runs_celery(service, "beat")]
    workers = [name for name, service in services.items() if runs_celery(service, "worker")]

    assert beats == ["beat"]
    assert workers == ["worker"]
    assert "replicas" not in (services["beat"].get("deploy") or {}), "beat must not scale"


def test_compose_gives_the_app_processes_their_configuration():
    services = compose_file()["services"]

    for name in APP_SERVICES:
        environment = environment_of(services[name])
        for variable in ("DATABASE_URL", "REDIS_URL", "EMAIL_URL", "SECRET_KEY"):
            assert environment.get(variable), f"{name} lacks {variable}"
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert "@postgres:" in environment["DATABASE_URL"]
        assert environment["REDIS_URL"].startswith("redis://redis:")
        assert environment["DEBUG"] == "0"
    # The web service runs the image's default command: gunicorn.
    assert "gunicorn" in command_of(services["web"]) or "command" not in services["web"]


def test_compose_migrates_and_sets_up_before_the_app_starts():
    services = compose_file()["services"]

    migrators = [name for name, s in services.items() if "migrate" in command_of(s)]
    assert len(migrators) == 1
    # ...and loads the prompt bank, without a demo couple, on every start (idempotent).
    assert "nuzzle_setup --no-demo" in command_of(services[migrators[0]])
    for name in APP_SERVICES:
        depends_on = services[name]["depends_on"]
        assert depends_on[migrators[0]]["condition"] == "service_completed_successfully"
        assert depends_on["postgres"]["condition"] == "service_healthy"
        assert depends_on["redis"]["condition"] == "service_healthy"
    for name in ("postgres", "redis"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} needs a healthcheck"


def _compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, timeout=30, check=False
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    return [standalone] if standalone else None


def test_docker_compose_accepts_the_file(tmp_path):
    command = _compose_command()
    if command is None:
        pytest.skip("no docker compose CLI on this machine")
    environment = {**os.environ, "SECRET_KEY": secrets.token_urlsafe(50)}
    # An empty env file for interpolation, so a developer's .env can't change the result.
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    result = run_in_project(
        [*command, "--env-file", str(env_file), "-f", str(COMPOSE), "config", "-q"],
        environment,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- Dockerfile --------------------------------------------------------------------


def test_the_image_runs_as_a_non_root_user_and_bakes_no_secret():
    lines = [
        line.strip()
        for line in DOCKERFILE.read_text().replace("\\\n", " ").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    instructions = [(line.split(None, 1)[0].upper(), line) for line in lines]

    assert instructions[0][1].startswith("FROM python:3.11-slim")
    users = [line for op, line in instructions if op == "USER"]
    assert users
    assert users[-1].split()[1] not in ("root", "0")
    assert not any(op in ("ENV", "ARG") and "SECRET_KEY" in line for op, line in instructions)
    installs = [line for op, line in instructions if op == "RUN" and "pip install" in line]
    assert any("-c constraints.txt" in line for line in installs)
    assert not any("[dev]" in line for line in installs), "the image gets runtime deps only"
    assert any("collectstatic" in line for op, line in instructions if op == "RUN")
    cmd = next(line for op, line in reversed(instructions) if op == "CMD")
    for part in ("gunicorn", "nuzzle.wsgi:application", "0.0.0.0:8000", "--access-logfile"):
        assert part in cmd


def test_the_build_context_leaves_out_secrets_and_local_state():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".env", ".git", ".venv", "var"} <= ignored
