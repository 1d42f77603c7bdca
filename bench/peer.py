"""The peer benchmark: Nuzzle beside X-Unyra (an open-source couples app, Django + DRF,
MIT) in one run, on listing and on writing check-ins, each app against the L2 of its
own stack.

    .venv/bin/python bench/peer.py --peer ../shared/peers/x-unyra

The peer's folder is an argument (default ../shared/peers/x-unyra, relative to the
repository); when it is absent the peer is skipped with a message and Nuzzle's rows
are measured alone (exit 0). Nothing in the peer's folder is written: the peer runs
from its own virtualenv (var/peer-venv, made from its requirements.txt when missing
or changed), under a settings module this benchmark writes into a temporary
directory (the peer's settings, imported, with DEBUG off and 127.0.0.1 as the only
host), with its database, secret key and token lifetime from the environment
variables its settings read. Its bytecode goes to var/peer-pycache.

Both apps are seeded at the same volume (`--couples` couples, `--days` days of
history before today), each into its own PostgreSQL database (the names must contain
"bench"; created with psql when missing; a seed is reused when couples and days
match): Nuzzle by bench/seed_history.py, the peer by bench/peer_xunyra.py (set-based
SQL into the peer's tables, run with the peer's virtualenv and models). Every seeded
person gets a credential up front: a knox token (Nuzzle), a SimpleJWT access token
(the peer). Both apps run under gunicorn with the same settings, Nuzzle's
gunicorn.conf.py (4 gthread workers × 2 threads, preloaded, the same recycling and
access log), each on its own WSGI module and its own gunicorn; the rows are driven
by bench/loadgen.py at 16 concurrent clients, a warm-up then the measured window,
every request another person's (round-robin over all seeded people, shuffled).

Rows:
  Nuzzle  L2      GET /bench/l2: knox token, default permissions, full middleware
          list    GET /api/v1/checkins (first page: 30 of mine and my partner's
                  shared check-ins, with their answers and responses)
          write   PUT /api/v1/checkins/today (mood, energy, one answer, visibility)
  X-Unyra L2      GET /api/auth/me/: its cheapest authenticated DRF endpoint (its
                  JWT authentication, IsAuthenticated, its middleware)
          list    GET /api/checkins/ (its default: my own check-ins of the last 7 days)
          list 30 GET /api/checkins/?from=<35 days ago> (about 30 rows, Nuzzle's page)
          create  POST /api/checkins/ (a day with no check-in yet for that person:
                  before the seeded history; deleted again before each create row)
          update  PUT /api/checkins/{id}/ (the person's newest check-in, same values)

Columns: requests/s, p50/p95 latency (ms, as the client sees it), errors (non-2xx and
connection errors: every request is valid, so any is an error and is printed), the
ratio of requests/s to the same app's L2, the gunicorn workers' CPU per request (ms,
from /proc: master and workers, dead or alive), the items and bytes of a response
(from a few requests sent before the load), and the 1-minute load average at the
row's start. It ends by saying which app spends less worker CPU per request to list
and to write check-ins.

Options: --peer PATH, --couples (2,000), --days (365), --concurrency (16),
--duration (s per row, 12), --warmup (s, 3), --rounds N (all rows in turn N times,
pooled; the apps' order alternates), --workers / --worker-class / --threads (default:
gunicorn.conf.py's, for both apps), --nuzzle-database-url, --peer-database-url,
--redis-url (Nuzzle's; db 3), --peer-venv (var/peer-venv), --reseed.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.server import BENCH_ENV, HOST, Gunicorn
from bench.web import Result, gunicorn_defaults, measure, raw

NUZZLE_DB = "postgres://postgres@127.0.0.1:5432/nuzzle_bench_peer_nuzzle"
PEER_DB = "postgres://postgres@127.0.0.1:5432/nuzzle_bench_peer"
REDIS = "redis://127.0.0.1:6379/3"
PEER_DEFAULT = "../shared/peers/x-unyra"
PEER_SETTINGS = "nuzzle_bench_peer_settings"
PEER_SECRET = "bench-only-peer-secret-key-never-used-in-production-0123456789"  # noqa: S105
MARKER = "nuzzle-bench-write"  # bench/peer_xunyra.py deletes check-ins whose note starts so
NOTE = "Probably the long walk on Sunday, and the soup after it."  # web.py's answer text
PROBES = 5  # requests of each row sent one by one before the load: status, items, bytes


# --- The peer's folder, virtualenv and settings -----------------------------------------


def peer_backend(folder: Path) -> Path | None:
    """The peer's Django project (the folder with manage.py), or None when absent."""
    for candidate in (folder / "backend", folder):
        if (candidate / "manage.py").is_file() and (candidate / "couple_backend").is_dir():
            return candidate
    return None


def peer_venv_ensure(venv: Path, requirements: Path) -> Path:
    """The peer's own virtualenv, made (or brought up to date) from its requirements:
    its pins are not Nuzzle's (its gunicorn is < 22). Returns its python."""
    python = venv / "bin" / "python"
    stamp = venv / ".bench-requirements"
    wanted = hashlib.sha256(requirements.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    started = time.perf_counter()
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-r", str(requirements)], check=True
    )
    stamp.write_text(wanted)
    print(f"peer virtualenv: {venv.relative_to(ROOT)} in {time.perf_counter() - started:.1f} s")
    return python


def peer_settings_write(directory: Path) -> None:
    """A settings module of ours: the peer's settings, imported, with what a benchmark
    needs changed (its settings hard-code DEBUG = True and every host)."""
    (directory / f"{PEER_SETTINGS}.py").write_text(
        '"""Written by Nuzzle\'s bench/peer.py for one run, then deleted: the peer\'s own\n'
        'settings with DEBUG off and loopback as the only host."""\n\n'
        "from couple_backend.settings import *  # noqa: F403\n\n"
        "DEBUG = False\n"
        f'ALLOWED_HOSTS = ["{HOST}"]\n'
    )


def peer_environment(backend: Path, settings_dir: Path, database_url: str) -> dict[str, str]:
    """The variables the peer's settings read, plus where to find our settings module."""
    return {
        "DJANGO_SETTINGS_MODULE": PEER_SETTINGS,
        "PYTHONPATH": os.pathsep.join([str(settings_dir), str(backend)]),
        "PYTHONPYCACHEPREFIX": str(ROOT / "var" / "peer-pycache"),  # its folder stays as it is
        "DATABASE_URL": database_url,
        "DJANGO_SECRET_KEY": PEER_SECRET,
        "DJANGO_TIME_ZONE": "UTC",
        "JWT_ACCESS_MINUTES": "720",  # tokens made up front outlive any run
    }


def peer_helper(
    python: Path, backend: Path, env: dict[str, str], command: str, spec: dict[str, Any]
) -> dict[str, Any]:
    """Run bench/peer_xunyra.py COMMAND with the peer's python, settings and models."""
    done = subprocess.run(
        [str(python), "-P", str(ROOT / "bench" / "peer_xunyra.py"), command],
        input=json.dumps(spec).encode(),
        cwd=backend,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        check=True,
    )
    return json.loads(done.stdout)


class PeerGunicorn(Gunicorn):
    """The peer's WSGI app under its own gunicorn (its virtualenv), with Nuzzle's
    gunicorn.conf.py: the same workers, threads, preloading, recycling and access log.
    Ready once its API root (public, no database) answers."""

    ready_path = "/"
    ready_timeout = 60.0

    def __init__(
        self,
        *,
        python: Path,
        backend: Path,
        env: dict[str, str],
        log: Path,
        workers: int,
        worker_class: str,
        threads: int,
    ) -> None:
        super().__init__(
            app="couple_backend.wsgi:application",
            workers=workers,
            worker_class=worker_class,
            threads=threads,
            env=env,
            log=log,
        )
        self.python = python
        self.cwd = backend


# --- Databases ---------------------------------------------------------------------------


def database_ensure(url: str) -> None:
    """Create the database when missing (psql, as postgres); refuse any name without
    "bench": both seeds empty their database first."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name or not re.fullmatch(r"[a-z0-9_]+", name):
        sys.exit(f"refusing {name!r}: a benchmark database's name contains 'bench' (a-z, 0-9, _)")
    psql = ["psql", "-h", parts.hostname or HOST, "-p", str(parts.port or 5432)]
    psql += ["-U", parts.username or "postgres", "-d", "postgres", "-Atc"]
    found = subprocess.run(
        [*psql, f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],  # noqa: S608 (checked above)
        capture_output=True,
        text=True,
        check=True,
    )
    if found.stdout.strip() != "1":
        subprocess.run([*psql, f'CREATE DATABASE "{name}"'], check=True, capture_output=True)
        print(f"created database {name}")


# --- Requests ------------------------------------------------------------------------------


@dataclass
class Row:
    app: str  # "Nuzzle" or "X-Unyra"
    key: str  # L2, list, list-30, write, create, update
    label: str
    server: Gunicorn
    requests: Callable[[], list[str]]  # built when measured (the create row's dates)
    before: Callable[[], None] | None = None  # run before the probes and the load
    # Requests probed before the load (default: the row's last few, which the load
    # reaches last; the create row's: a day of its own, deleted again before the load).
    probes: Callable[[], list[str]] | None = None
    result: Result = field(default_factory=lambda: Result(""))
    probe: dict[str, Any] = field(default_factory=dict)
    loads: list[float] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.app} {self.key}"


@dataclass
class PeerPerson:
    id: int
    token: str
    checkin_id: int | None
    checkin_date: str | None


def nuzzle_requests(people: list[Any]) -> dict[str, list[str]]:
    from bench.seed_history import bench_token
    from bench.web import requests_for

    def token(person: Any) -> dict[str, str]:
        return {"Authorization": f"Token {bench_token(person.id)}", "Accept": "application/json"}

    return {
        "L2": requests_for("L2", people),
        "list": [raw("GET", "/api/v1/checkins", token(p)) for p in people],
        "write": requests_for("checkin-put", people),
    }


def peer_requests(people: list[PeerPerson], today: date, days: int) -> dict[str, Any]:
    def bearer(person: PeerPerson) -> dict[str, str]:
        return {"Authorization": f"Bearer {person.token}", "Accept": "application/json"}

    since = (today - timedelta(days=35)).isoformat()

    def body(n: int, day: str, note: str) -> dict[str, Any]:
        return {
            "date": day,
            "mood": 1 + n % 10,
            "stress": 1 + (n * 3) % 10,
            "energy": 1 + (n * 7) % 10,
            "note": note,
        }

    def create(rounds: int, first: int = 0) -> list[str]:
        """POSTs for days before the seeded history, one day after another, every
        person once per day: no request repeats in `rounds` × people."""
        return [
            raw(
                "POST",
                "/api/checkins/",
                bearer(p),
                body(n, (today - timedelta(days=days + 1 + k)).isoformat(), f"{MARKER}: {NOTE}"),
            )
            for k in range(first, first + rounds)
            for n, p in enumerate(people)
        ]

    return {
        "L2": [raw("GET", "/api/auth/me/", bearer(p)) for p in people],
        "list": [raw("GET", "/api/checkins/", bearer(p)) for p in people],
        "list-30": [raw("GET", f"/api/checkins/?from={since}", bearer(p)) for p in people],
        "create": create,
        "update": [
            raw(
                "PUT",
                f"/api/checkins/{p.checkin_id}/",
                bearer(p),
                body(n, p.checkin_date, NOTE),
            )
            for n, p in enumerate(people)
            if p.checkin_id is not None and p.checkin_date is not None
        ],
    }


# --- Probing and measuring -------------------------------------------------------------------


def probe(server: Gunicorn, requests: list[str]) -> dict[str, Any]:
    """Send requests one by one before the load: their statuses, and the items (a
    page's results) and bytes of a response, to show what each app answers."""
    statuses: dict[int, int] = {}
    items: list[int] = []
    sizes: list[int] = []
    sample = ""
    for text in requests:
        head, _, body = text.partition("\r\n\r\n")
        first, *lines = head.split("\r\n")
        method, path, _ = first.split(" ")
        headers = dict(line.split(": ", 1) for line in lines)
        connection = http.client.HTTPConnection(HOST, server.port, timeout=30)
        try:
            connection.request(method, path, body.encode("latin-1") or None, headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        statuses[response.status] = statuses.get(response.status, 0) + 1
        sizes.append(len(data))
        if not 200 <= response.status < 300 and not sample:
            sample = f"{response.status} {method} {path}: {data[:300]!r}"
        try:
            parsed = json.loads(data)
        except ValueError:
            continue
        if isinstance(parsed, dict) and isinstance(parsed.get("results"), list):
            items.append(len(parsed["results"]))
        elif isinstance(parsed, list):
            items.append(len(parsed))
        else:
            items.append(1)
    return {
        "statuses": statuses,
        "items": sum(items) / len(items) if items else float("nan"),
        "bytes": sum(sizes) / len(sizes) if sizes else float("nan"),
        "sample": sample,
    }


def run_row(row: Row, args: argparse.Namespace) -> None:
    if row.before is not None:
        row.before()
    requests = row.requests()
    if not row.probe:
        row.probe = probe(row.server, row.probes() if row.probes else requests[-PROBES:])
        if row.before is not None:
            row.before()  # whatever the probe wrote goes again
    row.result.row = row.name
    row.loads.append(os.getloadavg()[0])
    measure(row.name, row.server, requests, args, row.result)


def table(rows: list[Row], args: argparse.Namespace, load: tuple[float, ...]) -> str:
    lines = [
        f"{args.couples:,} couples × {args.days} days each; concurrency {args.concurrency}, "
        f"{args.duration:g} s per row after {args.warmup:g} s warm-up, {args.rounds} round(s); "
        f"gunicorn {args.workers} × {args.worker_class}"
        + (f" ({args.threads} threads)" if args.worker_class == "gthread" else "")
        + f"; load average at start {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}",
        "",
        "| app | row | requests/s | p50 ms | p95 ms | errors | ratio to own L2 "
        "| worker CPU ms/req | items, bytes per response | load at row start |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    l2 = {row.app: row.result for row in rows if row.key == "L2"}
    for row in rows:
        r = row.result
        base = l2.get(row.app)
        ratio = f"{r.rps / base.rps:.2f}" if base and base.rps else "–"
        cpu = f"{1000 * r.cpu / r.total:.1f}" if r.total else "–"
        shape = f"{row.probe.get('items', float('nan')):.0f}, {row.probe.get('bytes', 0):,.0f} B"
        loads = ", ".join(f"{value:.2f}" for value in row.loads)
        errors = f"**{r.bad}**" if r.bad else "0"
        lines.append(
            f"| {row.app} | {row.label} | {r.rps:,.0f} | {r.percentile(0.50):.1f} | "
            f"{r.percentile(0.95):.1f} | {errors} | {ratio} | {cpu} | {shape} | {loads} |"
        )
    return "\n".join(lines)


def cpu_ms(row: Row) -> float:
    return 1000 * row.result.cpu / row.result.total if row.result.total else float("nan")


def verdict(rows: list[Row]) -> list[str]:
    """Which app spends less worker CPU per request, to list and to write."""
    by = {row.name: row for row in rows}
    out = []
    for task, nuzzle_key, peer_keys in (
        ("list", "list", ["list", "list-30"]),
        ("write", "write", ["create", "update"]),
    ):
        nuzzle = by.get(f"Nuzzle {nuzzle_key}")
        peers = [by[f"X-Unyra {key}"] for key in peer_keys if f"X-Unyra {key}" in by]
        if nuzzle is None or not peers:
            continue
        ours = cpu_ms(nuzzle)
        winners = {"X-Unyra" if cpu_ms(peer) < ours else "Nuzzle" for peer in peers}
        verdict = (
            f"**{winners.pop()}** spends less worker CPU per request"
            if len(winners) == 1
            else "**neither** spends less worker CPU per request on every row"
        )

        def items(row: Row, task: str = task) -> str:
            return f", {row.probe.get('items', 0):.0f} items" if task == "list" else ""

        theirs = " and ".join(f"{cpu_ms(peer):.1f} ms ({peer.key}{items(peer)})" for peer in peers)
        times = " and ".join(f"{ours / cpu_ms(peer):.1f}×" for peer in peers)
        out.append(
            f"- {task}: {verdict}. Nuzzle "
            f"{ours:.1f} ms ({nuzzle.key}{items(nuzzle)}), X-Unyra {theirs}: "
            f"Nuzzle spends {times} as much."
        )
    l2 = {row.app: cpu_ms(row) for row in rows if row.key == "L2"}
    if len(l2) == 2:
        out.append(
            f"- each app's own L2 costs Nuzzle {l2['Nuzzle']:.1f} ms and X-Unyra "
            f"{l2['X-Unyra']:.1f} ms of worker CPU per request; above it: "
            + ", ".join(
                f"{row.name} +{cpu_ms(row) - l2[row.app]:.1f} ms" for row in rows if row.key != "L2"
            )
        )
    bad = [row for row in rows if row.result.bad]
    if bad:
        out.append("- **ERRORS on " + ", ".join(row.name for row in bad) + ": see below**")
    return out


# --- Main -------------------------------------------------------------------------------------


RECOUNT = "checkins_showed_up_recount"


def seed_without_triggers(seed: Callable[[], Any]) -> Any:
    """Run seed_history's seed with row triggers off on every connection it opens
    (`session_replication_role = replica`), then let the database derive what its
    triggers would have. The seed fills the big tables without their indexes, so a row
    trigger that counts over its table (the check-ins' showed-up count) makes the seed
    quadratic: 10,000 check-ins took 6 s, a year for 2,000 couples had not finished
    after 3 minutes. Afterwards, when the database has that count's function, it is run once
    per couple and month, which is what the trigger leaves behind."""
    from django.db import connection
    from django.db.backends.signals import connection_created

    def replica(sender: Any, connection: Any, **kwargs: Any) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")

    connection_created.connect(replica)
    connection.close()  # the next query opens a connection the signal sees
    try:
        info = seed()
    finally:
        connection_created.disconnect(replica)
        connection.close()
    if getattr(info, "reused", True):
        return info
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_proc WHERE proname = %s", [RECOUNT])
        if cursor.fetchone()[0]:
            started = time.perf_counter()
            cursor.execute(
                f"SELECT count({RECOUNT}(couple_id, month)) FROM (SELECT DISTINCT couple_id, "  # noqa: S608
                "date_trunc('month', couple_date)::date AS month FROM checkins_checkin "
                "WHERE couple_id IS NOT NULL) AS months"
            )
            months = cursor.fetchone()[0]
            cursor.execute("VACUUM ANALYZE checkins_showedupmonth")
            print(f"  {RECOUNT}: {months:,} couple-months in {time.perf_counter() - started:.1f} s")
    return info


def nuzzle_prepare(args: argparse.Namespace) -> list[Any]:
    """Seed (or reuse) Nuzzle's benchmark database at the chosen volume; tokens for all.
    Returns web.py's people (shuffled, with their zone for today's check-in)."""
    for name, value in BENCH_ENV.items():
        os.environ.setdefault(name, value)
    os.environ["DATABASE_URL"] = args.nuzzle_database_url
    os.environ["REDIS_URL"] = args.redis_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    from bench.common import guard, setup

    setup()
    guard()
    from django.core.management import call_command
    from django.db import connection

    import bench.seed_history as seed_history
    from bench.web import people_load

    # seed_history's marker knows the couples, not the days: this benchmark keeps its own.
    seed_history.DAYS = args.days
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_peer_days (id int PRIMARY KEY, days int)")
        cursor.execute("SELECT days FROM bench_peer_days WHERE id = 1")
        found = cursor.fetchone()
    same_days = found is not None and found[0] == args.days
    info = seed_without_triggers(
        lambda: seed_history.seed_ensure(couples=args.couples, reseed=args.reseed or not same_days)
    )
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_peer_days (id int PRIMARY KEY, days int)")
        cursor.execute(
            "INSERT INTO bench_peer_days VALUES (1, %s) ON CONFLICT (id) DO UPDATE SET days = %s",
            [args.days, args.days],
        )
    if info.reused:
        print(f"Nuzzle seed: reusing {info.couples:,} couples × {args.days} days")
    else:
        print(
            f"Nuzzle seed: {info.couples:,} couples × {args.days} days, "
            f"{sum(info.rows.values()):,} rows in {info.seconds:.1f} s"
        )
    print(f"Nuzzle credentials: {seed_history.credentials_ensure():.1f} s")
    people = people_load()
    connection.close()
    return people


def main(argv: list[str] | None = None) -> None:
    defaults = gunicorn_defaults()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peer", default=PEER_DEFAULT, help="the peer's folder")
    parser.add_argument("--couples", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=365, help="days of history before today")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=12.0, help="seconds measured per row")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring")
    parser.add_argument("--rounds", type=int, default=1, help="measure all rows in turn N times")
    parser.add_argument("--workers", type=int, default=defaults["workers"])
    parser.add_argument("--worker-class", default=defaults["worker_class"])
    parser.add_argument("--threads", type=int, default=defaults["threads"])
    parser.add_argument("--nuzzle-database-url", default=NUZZLE_DB)
    parser.add_argument("--peer-database-url", default=PEER_DB)
    parser.add_argument("--redis-url", default=REDIS, help="Nuzzle's Redis (not db 0)")
    parser.add_argument("--peer-venv", default="var/peer-venv", help="relative to the repository")
    parser.add_argument("--reseed", action="store_true", help="seed both even if seeded")
    args = parser.parse_args(argv)

    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}")
    folder = (ROOT / args.peer).resolve()
    backend = peer_backend(folder)
    if backend is None:
        print(f"peer: no X-Unyra backend in {args.peer}; skipping the peer, measuring Nuzzle only")
    for url in [args.nuzzle_database_url, *([args.peer_database_url] if backend else [])]:
        database_ensure(url)

    settings_dir = Path(tempfile.mkdtemp(prefix="nuzzle-peer-"))
    try:
        peer: dict[str, Any] | None = None
        peer_people: list[PeerPerson] = []
        if backend is not None:
            python = peer_venv_ensure(ROOT / args.peer_venv, backend / "requirements.txt")
            peer_settings_write(settings_dir)
            env = peer_environment(backend, settings_dir, args.peer_database_url)
            started = time.perf_counter()
            peer = peer_helper(
                python,
                backend,
                env,
                "prepare",
                {"couples": args.couples, "days": args.days, "reseed": args.reseed},
            )
            rows_seeded = sum(peer["rows"].values())
            print(
                f"X-Unyra seed: {'reusing ' if peer['reused'] else ''}{args.couples:,} couples × "
                f"{args.days} days"
                + ("" if peer["reused"] else f", {rows_seeded:,} rows in {peer['seconds']:.1f} s")
                + f"; {len(peer['people']):,} JWTs in {time.perf_counter() - started:.1f} s"
            )
            peer_people = [PeerPerson(**person) for person in peer["people"]]
            random.Random(8).shuffle(peer_people)
        people = nuzzle_prepare(args)
        nuzzle = nuzzle_requests(people)
        config = {
            "workers": args.workers,
            "worker_class": args.worker_class,
            "threads": args.threads,
        }
        nuzzle_server = Gunicorn(
            env={"DJANGO_SETTINGS_MODULE": "bench.settings"},
            log=ROOT / "var" / "bench-peer-nuzzle.log",
            **config,
        )
        rows = [
            Row(
                "Nuzzle",
                "L2",
                "L2 DRF + knox token + middleware",
                nuzzle_server,
                lambda: nuzzle["L2"],
            ),
            Row(
                "Nuzzle",
                "list",
                "check-in list (GET /api/v1/checkins)",
                nuzzle_server,
                lambda: nuzzle["list"],
            ),
            Row(
                "Nuzzle",
                "write",
                "check-in write (PUT /api/v1/checkins/today)",
                nuzzle_server,
                lambda: nuzzle["write"],
            ),
        ]
        servers: list[Gunicorn] = [nuzzle_server]
        if backend is not None and peer is not None:
            today = date.fromisoformat(peer["today"])
            theirs = peer_requests(peer_people, today, args.days)
            peer_server = PeerGunicorn(
                python=python,
                backend=backend,
                env=env,
                log=ROOT / "var" / "bench-peer-xunyra.log",
                **config,
            )
            servers.append(peer_server)
            window = args.warmup + args.duration

            def creates() -> list[str]:
                # Enough distinct (person, day) pairs for 1.5 × the peer's L2 rate.
                l2 = next(r.result.rps for r in rows if r.name == "X-Unyra L2") or 3000.0
                days = max(2, math.ceil(1.5 * l2 * (window + 2) / len(peer_people)))
                return theirs["create"](days)

            def cleanup() -> None:
                peer_helper(python, backend, env, "cleanup", {})

            rows += [
                Row(
                    "X-Unyra",
                    "L2",
                    "L2 GET /api/auth/me/ (JWT + middleware)",
                    peer_server,
                    lambda: theirs["L2"],
                ),
                Row(
                    "X-Unyra",
                    "list",
                    "check-in list (GET /api/checkins/, 7 days)",
                    peer_server,
                    lambda: theirs["list"],
                ),
                Row(
                    "X-Unyra",
                    "list-30",
                    "check-in list, ~30 rows (?from=35 days ago)",
                    peer_server,
                    lambda: theirs["list-30"],
                ),
                Row(
                    "X-Unyra",
                    "create",
                    "check-in create (POST /api/checkins/)",
                    peer_server,
                    creates,
                    cleanup,
                    lambda: theirs["create"](1, first=1000)[:PROBES],
                ),
                Row(
                    "X-Unyra",
                    "update",
                    "check-in update (PUT /api/checkins/{id}/)",
                    peer_server,
                    lambda: theirs["update"],
                ),
            ]
        from django.db import connections

        connections.close_all()  # the servers need the connections, not this process
        for server in servers:
            server.start()
        try:
            apps = ["Nuzzle", "X-Unyra"]
            for round_ in range(args.rounds):
                order = apps if round_ % 2 == 0 else apps[::-1]  # alternate who goes first
                for app in order:
                    for row in [r for r in rows if r.app == app]:
                        run_row(row, args)
                        r = row.result
                        print(
                            f"  round {round_ + 1} {row.name:<16} {r.rps:7.0f} req/s  "
                            f"p95 {r.percentile(0.95):6.1f} ms  errors {r.bad}  "
                            f"load {row.loads[-1]:.2f}",
                            flush=True,
                        )
        finally:
            for server in servers:
                server.stop()
            if backend is not None:
                with_cleanup = [row for row in rows if row.key == "create" and row.before]
                for row in with_cleanup:
                    assert row.before is not None
                    row.before()
    finally:
        shutil.rmtree(settings_dir, ignore_errors=True)

    print()
    print(table(rows, args, load))
    print()
    for line in verdict(rows):
        print(line)
    for row in rows:
        r = row.result
        if row.probe.get("sample") or any(
            not 200 <= s < 300 for s in row.probe.get("statuses", {})
        ):
            print(f"\n{row.name}: probe statuses {row.probe['statuses']}: {row.probe['sample']}")
        if r.bad:
            print(f"\n!!! {row.name}: {r.bad} ERRORS: statuses {r.statuses}, errors {r.errors}")
            for failure in r.failures:
                print(f"  {failure}")
        if r.retries:
            print(f"\n{row.name}: resent after the server closed the connection {r.retries}")
    if backend is None:
        print(f"\npeer skipped: no X-Unyra backend in {args.peer}")


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on the way out
    main()
