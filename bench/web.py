"""The web benchmark: requests/s and p50/p95 latency of Nuzzle's hot endpoints under
gunicorn on loopback, each beside three baselines measured in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nuzzle_bench \\
    REDIS_URL=redis://127.0.0.1:6379/1 .venv/bin/python bench/web.py

One command: it refuses a database whose name lacks "bench", seeds 10,000 couples
with a year of history (bench/seed_history.py; reused when already there), gives
every seeded person a token and a session, collects static files, starts gunicorn
twice with the production configuration (gunicorn.conf.py) — Nuzzle (with one extra,
bench-only route: bench/settings.py) and a bare Django app without middleware
(bench/baseline_settings.py) — and drives each row with bench/loadgen.py (its own
process) at a fixed concurrency: a warm-up, then the measured window. Every request
is another person's (round-robin over all seeded people in a shuffled order); writes
are valid, so anything but 2xx is an error, printed with samples.

Rows:
  L0  a bare Django JSON view, no middleware
  L1  L0 plus one primary-key query (a person by id)
  L2  the smallest authenticated DRF endpoint: knox token, default permission
      classes, the full middleware stack (GET /bench/l2)
  dashboard-html   GET /                         (session cookie)
  dashboard-api    GET /api/v1/dashboard         (token)
  checkin-put      PUT /api/v1/checkins/today    (mood, energy, an answer)
  answer-post      POST /api/v1/questions/{today's id}/answer  (first partners only:
                   their partner never answers in the benchmark, so it never reveals)
  lovemap-partner  GET /api/v1/lovemap/partner

Columns: requests/s, p50 and p95 latency (ms, as the client sees it, connect
included), non-2xx and connection errors, the ratio of requests/s to L2's, and the
gunicorn workers' CPU per request (ms; from /proc, all workers and the master), which
is far less noisy than requests/s on a shared machine.

Options: --couples (10,000), --concurrency (16), --duration (s per row, 12),
--warmup (s, 3), --rounds (rows measured in turn this many times, pooled; 1),
--only ROW[,ROW...] (L2 is always measured), --workers / --worker-class / --threads
(default: gunicorn.conf.py's), --reseed, and --profile ROW: no server, but N
requests of that row in this process under cProfile (top functions, queries and CPU
per request).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import resource
import runpy
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.server import BENCH_ENV, HOST, Gunicorn

ROWS = {
    "L0": "L0 bare Django view",
    "L1": "L1 + one pk query",
    "L2": "L2 DRF + token + middleware",
    "dashboard-html": "dashboard HTML (GET /)",
    "dashboard-api": "dashboard API",
    "checkin-put": "check-in PUT",
    "answer-post": "answer POST",
    "lovemap-partner": "love-map partner list",
    "checkin-list": "check-in list",
}
BASELINE = {"L0", "L1"}  # served by the server without middleware
ANSWER_TEXT = "Probably the long walk on Sunday, and the soup after it."


def _prepare_environment() -> None:
    """This process signs the sessions the server reads: same settings, same key."""
    for name, value in BENCH_ENV.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")


# --- Requests ------------------------------------------------------------------------


def raw(method: str, path: str, headers: dict[str, str], body: Any = None) -> str:
    """One HTTP/1.1 request as loadgen.py takes it (a latin-1 string)."""
    data = b"" if body is None else json.dumps(body).encode()
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}", "User-Agent: nuzzle-bench"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode().decode("latin-1") + data.decode("latin-1")


@dataclass
class Person:
    id: int
    timezone: str
    first: bool  # the first partner of the couple (answers today's question)
    question_id: int | None = None


def people_load() -> list[Person]:
    """Every seeded person, with today's question of their couple (assigned first by
    the sweep for couples whose day began since the seed), in a fixed shuffled order."""
    from nuzzle.couples.models import Membership
    from nuzzle.lib.timezones import local_date
    from prompts.models import DailyQuestion
    from prompts.sweep import daily_question_sweep

    daily_question_sweep()
    rows = list(
        Membership.objects.filter(ended_at__isnull=True, user__email__endswith="@bench.invalid")
        .values_list("user_id", "user__timezone", "couple_id", "couple__timezone")
        .order_by("user_id")
    )
    today = {zone: local_date(zone) for zone in {row[3] for row in rows}}
    questions: dict[int, int] = {}
    for couple_id, question_id, day, zone in DailyQuestion.objects.filter(
        status=DailyQuestion.Status.OPEN, couple_date__in=set(today.values())
    ).values_list("couple_id", "id", "couple_date", "couple__timezone"):
        if today[zone] == day:
            questions[couple_id] = question_id
    people = [
        Person(
            id=user_id,
            timezone=zone,
            first=user_id % 2 == 1,
            question_id=questions.get(couple_id),
        )
        for user_id, zone, couple_id, _ in rows
    ]
    random.Random(8).shuffle(people)
    return people


def _checkin_questions() -> dict[str, list[int] | None]:
    """Per zone, today's check-in question ids, or None so near local midnight that
    the date could change during the run (those check-ins then carry no answer)."""
    from django.utils import timezone

    from bench.seed_history import ZONES
    from nuzzle.lib.timezones import local_date
    from prompts.selectors import checkin_questions_for

    now = timezone.now()
    found: dict[str, list[int] | None] = {}
    for zone in ZONES:
        day = local_date(zone, now)
        if local_date(zone, now + timedelta(minutes=20)) != day:
            found[zone] = None
        else:
            found[zone] = [prompt.pk for prompt in checkin_questions_for(day=day)]
    return found


def requests_for(row: str, people: list[Person]) -> list[str]:
    from django.conf import settings

    from bench.seed_history import bench_session_key, bench_token

    def token(person: Person) -> dict[str, str]:
        return {"Authorization": f"Token {bench_token(person.id)}", "Accept": "application/json"}

    if row == "L0":
        return [raw("GET", "/l0", {})]
    if row == "L1":
        return [raw("GET", f"/l1?id={p.id}", {}) for p in people]
    if row == "L2":
        return [raw("GET", "/bench/l2", token(p)) for p in people]
    if row == "dashboard-html":
        cookie = settings.SESSION_COOKIE_NAME
        return [
            raw(
                "GET", "/", {"Cookie": f"{cookie}={bench_session_key(p.id)}", "Accept": "text/html"}
            )
            for p in people
        ]
    if row == "dashboard-api":
        return [raw("GET", "/api/v1/dashboard", token(p)) for p in people]
    if row == "lovemap-partner":
        return [raw("GET", "/api/v1/lovemap/partner", token(p)) for p in people]
    if row == "checkin-list":
        return [raw("GET", "/api/v1/checkins", token(p)) for p in people]
    if row == "checkin-put":
        questions = _checkin_questions()
        out = []
        for n, p in enumerate(people):
            ids = questions.get(p.timezone)
            body = {
                "mood": 1 + n % 5,
                "energy": 1 + (n * 3) % 5,
                "answers": [{"question_id": ids[n % len(ids)], "text": ANSWER_TEXT}] if ids else [],
                "visibility": "shared",
            }
            out.append(raw("PUT", "/api/v1/checkins/today", token(p), body))
        return out
    if row == "answer-post":
        return [
            raw(
                "POST",
                f"/api/v1/questions/{p.question_id}/answer",
                token(p),
                {"text": f"{ANSWER_TEXT} ({n % 7})"},
            )
            for n, p in enumerate(people)
            if p.first and p.question_id is not None
        ]
    raise ValueError(row)


# --- Measuring -----------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _cpu(pid: int, *, children_done: bool) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    if children_done:  # reaped children (recycled workers) count too
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _TICK


def server_cpu(master: int) -> float:
    """CPU seconds of a gunicorn master and all its workers, dead or alive."""
    total = _cpu(master, children_done=True)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            if ppid == master:
                total += _cpu(int(entry), children_done=False)
        except (OSError, ValueError, IndexError):
            continue
    return total


def postgres_cpu() -> float:
    """CPU seconds of PostgreSQL on this machine, read from /proc: every server process
    alive now, and the postmaster's reaped children (a connection or autovacuum worker
    that ended during the row still counts). 0 where PostgreSQL runs elsewhere."""
    names: dict[int, tuple[str, int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
            name, rest = stat.split("(", 1)[1].rsplit(")", 1)
            names[int(entry)] = (name, int(rest.split()[1]))
        except (OSError, ValueError, IndexError):
            continue
    total = 0.0
    for pid, (name, ppid) in names.items():
        if not name.startswith("postgres"):
            continue
        postmaster = not names.get(ppid, ("", 0))[0].startswith("postgres")
        try:
            total += _cpu(pid, children_done=postmaster)
        except OSError:
            continue
    return total


@dataclass
class Result:
    row: str
    count: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    retries: dict[str, int] = field(default_factory=dict)  # closed connections, resent
    failures: list[str] = field(default_factory=list)
    cpu: float = 0.0
    pg_cpu: float = 0.0
    client_cpu: float = 0.0
    total: int = 0

    @property
    def rps(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def bad(self) -> int:
        return sum(
            n for s, n in self.statuses.items() if not s.startswith("2") and s != "-1"
        ) + sum(self.errors.values())


def drive(server: Gunicorn, requests: list[str], args: argparse.Namespace) -> dict[str, Any]:
    spec = {
        "host": HOST,
        "port": server.port,
        "concurrency": args.concurrency,
        "warmup": args.warmup,
        "duration": args.duration,
        "requests": requests,
    }
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "loadgen.py")],
        input=json.dumps(spec).encode(),
        capture_output=True,
        check=True,
        timeout=args.warmup + args.duration + 120,
    )
    return json.loads(done.stdout)


def measure(
    row: str, server: Gunicorn, requests: list[str], args: argparse.Namespace, into: Result
) -> None:
    assert server.process is not None
    before, pg_before = server_cpu(server.process.pid), postgres_cpu()
    client_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    outcome = drive(server, requests, args)
    into.cpu += server_cpu(server.process.pid) - before
    into.pg_cpu += postgres_cpu() - pg_before
    client = resource.getrusage(resource.RUSAGE_CHILDREN)
    into.client_cpu += (client.ru_utime + client.ru_stime) - (
        client_before.ru_utime + client_before.ru_stime
    )
    into.total += outcome["total"]
    into.count += outcome["count"]
    into.seconds += outcome["seconds"]
    into.latencies += outcome["latencies_ms"]
    for status, n in outcome["statuses"].items():
        into.statuses[status] = into.statuses.get(status, 0) + n
    for kind, n in outcome["errors"].items():
        into.errors[kind] = into.errors.get(kind, 0) + n
    for kind, n in outcome["retries"].items():
        into.retries[kind] = into.retries.get(kind, 0) + n
    into.failures += outcome["failures"][: 5 - len(into.failures)]


def table(results: dict[str, Result], args: argparse.Namespace) -> str:
    l2 = results.get("L2")
    lines = [
        f"concurrency {args.concurrency}, {args.duration:g} s per row after {args.warmup:g} s "
        f"warm-up, {args.rounds} round(s); gunicorn {args.workers} × {args.worker_class}"
        + (f" ({args.threads} threads)" if args.worker_class == "gthread" else ""),
        "",
        "| row | requests/s | p50 ms | p95 ms | errors | ratio to L2 | worker CPU ms/req "
        "| PostgreSQL CPU ms/req | load generator CPU ms/req |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row, result in results.items():
        ratio = f"{result.rps / l2.rps:.2f}" if l2 and l2.rps else "–"
        cpu = f"{1000 * result.cpu / result.total:.1f}" if result.total else "–"
        pg = f"{1000 * result.pg_cpu / result.total:.1f}" if result.total else "–"
        client = f"{1000 * result.client_cpu / result.total:.1f}" if result.total else "–"
        lines.append(
            f"| {ROWS[row]} | {result.rps:,.0f} | {result.percentile(0.50):.1f} | "
            f"{result.percentile(0.95):.1f} | {result.bad} | {ratio} | {cpu} | {pg} | {client} |"
        )
    return "\n".join(lines)


# --- Profiling in process ---------------------------------------------------------------


def profile(row: str, people: list[Person], count: int) -> None:
    """`count` requests of one row through Django's full stack in this process (test
    client: same middleware, no server) under cProfile."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from bench.common import QueryCounter

    if row in BASELINE:
        sys.exit("--profile takes a Nuzzle row (L2 or a real endpoint)")
    raw = requests_for(row, people)
    client = Client(HTTP_HOST=HOST)

    def call(text: str) -> int:
        head, _, body = text.partition("\r\n\r\n")
        first, *header_lines = head.split("\r\n")
        method, path, _ = first.split(" ")
        headers = dict(line.split(": ", 1) for line in header_lines)
        extra: dict[str, str] = {}
        if "Authorization" in headers:
            extra["HTTP_AUTHORIZATION"] = headers["Authorization"]
        if "Cookie" in headers:
            name, value = headers["Cookie"].split("=", 1)
            client.cookies[name] = value
        else:
            client.cookies.pop(settings.SESSION_COOKIE_NAME, None)
        response = client.generic(
            method, path, body.encode("latin-1"), content_type="application/json", **extra
        )
        return response.status_code

    for text in raw[:20]:  # warm caches, templates, the URL resolver
        call(text)
    plain = (raw * (1 + 2 * count // len(raw)))[20 + count : 20 + 2 * count]
    cpu, wall = time.process_time(), time.perf_counter()
    for text in plain:
        call(text)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"{ROWS[row]}, without the profiler: {1000 * cpu / count:.2f} ms CPU, "
        f"{1000 * wall / count:.2f} ms wall per request (test client, this process)"
    )
    counter = QueryCounter()
    timed: dict[str, list[float]] = {}

    # The statements of the first requests (a list per request), for explain_reads.
    samples: list[list[tuple[str, Any]]] = []

    def timing(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if not many and samples and len(samples) <= EXPLAINED_REQUESTS:
            samples[-1].append((sql, params))
        started = time.perf_counter()
        try:
            return counter(execute, sql, params, many, context)
        finally:
            timed.setdefault(sql, []).append(time.perf_counter() - started)

    profiler = cProfile.Profile()
    statuses: dict[int, int] = {}
    cpu = time.process_time()
    with connection.execute_wrapper(timing):
        profiler.enable()
        for text in (raw * (1 + count // len(raw)))[20 : 20 + count]:
            if len(samples) <= EXPLAINED_REQUESTS:
                samples.append([])  # one more than explained: that one ends the recording
            status = call(text)
            statuses[status] = statuses.get(status, 0) + 1
        profiler.disable()
    cpu = time.process_time() - cpu
    print(f"{ROWS[row]}: {count} requests, statuses {statuses}")
    print(
        f"CPU {1000 * cpu / count:.2f} ms/request (profiled), "
        f"{counter.count / count:.2f} queries/request"
    )
    print("\nQueries by total time (ms per request, calls per request):")
    for sql, times in sorted(timed.items(), key=lambda item: -sum(item[1]))[:12]:
        print(f"  {1000 * sum(times) / count:7.2f} ms  {len(times) / count:5.2f}×  {sql[:220]}")
    if connection.vendor == "postgresql":
        explain_reads(samples[:EXPLAINED_REQUESTS])
    stats = pstats.Stats(profiler)
    # Python function calls per request: a deterministic measure of the work done,
    # unlike CPU time on a shared machine.
    print(f"{stats.total_calls / count:,.0f} function calls/request")  # type: ignore[attr-defined]
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(30)


EXPLAINED_REQUESTS = 50


def explain_reads(samples: list[list[tuple[str, Any]]]) -> None:
    """PostgreSQL's planning and execution time of the reads of the first requests
    (EXPLAIN ANALYZE of each SELECT again, after the run): how much of a request's
    database time is planning, which a statement this short pays every time."""
    import re

    from django.db import connection

    planning = execution = 0.0
    reads = [
        (sql, params)
        for statements in samples
        for sql, params in statements
        if sql.lstrip().startswith("SELECT")
    ]
    with connection.cursor() as cursor:
        for sql, params in reads:
            cursor.execute("EXPLAIN (ANALYZE, SUMMARY, TIMING OFF) " + sql, params)
            plan = "\n".join(line for (line,) in cursor.fetchall())
            planning += float(re.search(r"Planning Time: ([\d.]+)", plan).group(1))  # type: ignore[union-attr]
            execution += float(re.search(r"Execution Time: ([\d.]+)", plan).group(1))  # type: ignore[union-attr]
    requests = len(samples)
    print(
        f"\nPostgreSQL, reads of the first {requests} requests explained: "
        f"{len(reads) / requests:.1f} reads/request, planning {planning / requests:.2f} ms, "
        f"execution {execution / requests:.2f} ms per request"
    )


# --- Main ----------------------------------------------------------------------------------


def static_current() -> bool:
    """Whether collected static files (and WhiteNoise's manifest) are newer than every
    source file and the pinned dependencies (packages ship static files too): then
    collectstatic, which compresses everything anew, can be skipped."""
    from django.conf import settings

    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if not manifest.exists():
        return False
    sources = [path for path in (ROOT / "static").rglob("*") if path.is_file()]
    newest = max(path.stat().st_mtime for path in [*sources, ROOT / "constraints.txt"])
    return manifest.stat().st_mtime > newest


def gunicorn_defaults() -> dict[str, Any]:
    """The production worker settings, from gunicorn.conf.py."""
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    return {
        "workers": int(config.get("workers", 1)),
        "worker_class": str(config.get("worker_class", "sync")),
        "threads": int(config.get("threads", 1)),
    }


def main(argv: list[str] | None = None) -> None:
    defaults = gunicorn_defaults()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--couples", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=12.0, help="seconds measured per row")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring")
    parser.add_argument("--rounds", type=int, default=1, help="measure the rows in turn N times")
    parser.add_argument("--only", default="", help="comma-separated rows: " + ", ".join(ROWS))
    parser.add_argument("--workers", type=int, default=defaults["workers"])
    parser.add_argument("--worker-class", default=defaults["worker_class"])
    parser.add_argument("--threads", type=int, default=defaults["threads"])
    parser.add_argument("--reseed", action="store_true", help="seed even if already seeded")
    parser.add_argument("--profile", metavar="ROW", help="profile one row in process instead")
    parser.add_argument("--profile-requests", type=int, default=300)
    args = parser.parse_args(argv)
    rows = list(ROWS)
    if args.only:
        wanted = {name.strip() for name in args.only.split(",") if name.strip()}
        unknown = wanted - set(ROWS)
        if unknown:
            parser.error(f"unknown rows: {', '.join(sorted(unknown))}")
        rows = [row for row in ROWS if row in wanted or row == "L2"]

    _prepare_environment()
    from bench.common import guard, setup

    setup()
    guard()
    from bench.seed_history import credentials_ensure, seed_ensure

    info = seed_ensure(couples=args.couples, reseed=args.reseed)
    if info.reused:
        print(f"seed: reusing {info.couples:,} couples seeded {info.seeded_at:%Y-%m-%d %H:%M} UTC")
    else:
        print(
            f"seed: {info.couples:,} couples, {sum(info.rows.values()):,} rows "
            f"in {info.seconds:.1f} s"
        )
    print(f"credentials: {credentials_ensure():.1f} s")
    people = people_load()
    env = {"DJANGO_SETTINGS_MODULE": "bench.settings"}
    config = {"workers": args.workers, "worker_class": args.worker_class, "threads": args.threads}
    started = time.perf_counter()
    main_server = Gunicorn(env=env, log=ROOT / "var" / "bench-web-gunicorn.log", **config)
    # Pages link hashed static names from the manifest: the profile needs it too.
    if static_current():
        print("static files: collected already, nothing newer in static/")
    else:
        main_server.collectstatic()
        print(f"collectstatic: {time.perf_counter() - started:.1f} s")
    if args.profile:
        profile(args.profile, people, args.profile_requests)
        return
    requests = {row: requests_for(row, people) for row in rows}
    from django.db import connections

    connections.close_all()  # the servers need the connections, not this process

    baseline = Gunicorn(
        env={"DJANGO_SETTINGS_MODULE": "bench.baseline_settings"},
        log=ROOT / "var" / "bench-web-baseline.log",
        **config,
    )
    results = {row: Result(row) for row in rows}
    with main_server, baseline:
        for round_ in range(args.rounds):
            for row in rows:
                server = baseline if row in BASELINE else main_server
                measure(row, server, requests[row], args, results[row])
                r = results[row]
                print(
                    f"  round {round_ + 1} {row:<16} {r.rps:7.0f} req/s  "
                    f"p95 {r.percentile(0.95):6.1f} ms  errors {r.bad}",
                    flush=True,
                )
    print()
    print(table(results, args))
    for row, result in results.items():
        if result.bad:
            print(f"\n{ROWS[row]}: statuses {result.statuses}, errors {result.errors}")
            for failure in result.failures:
                print(f"  {failure}")
        if result.retries:
            print(f"\n{ROWS[row]}: resent after the server closed the connection {result.retries}")


if __name__ == "__main__":
    main()
