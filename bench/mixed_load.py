"""Mixed load: many couples checking in, answering, reading their dashboard at once,
against gunicorn on loopback. Fails on any 5xx, lost write or cross-couple content.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nuzzle_bench_mixed \\
    REDIS_URL=redis://127.0.0.1:6379/2 .venv/bin/python bench/mixed_load.py

What it does and checks: bench/README.md, "Mixed load (mixed_load.py)".
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import runpy
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.server import BENCH_ENV, ROOT, Gunicorn

if TYPE_CHECKING:  # imported in main(), once Django is set up
    from bench.mixed_client import Simulation
    from bench.mixed_ledger import Ledger

LOG = ROOT / "var" / "bench-mixed-gunicorn.log"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--partners", type=int, default=500, help="people (two per couple)")
    parser.add_argument("--duration", type=float, default=120, help="seconds of load")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="gunicorn workers (default: gunicorn.conf.py's if it exists, else 4 sync)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (choices, not timing)")
    parser.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=(5.0, 15.0),
        metavar=("MIN", "MAX"),
        help="seconds between a partner's actions, uniform (default 5 15)",
    )
    parser.add_argument(
        "--logins",
        type=int,
        default=10,
        help="partners who log in through the real endpoints first (token and form); "
        "the others get their token and session minted (default 10)",
    )
    parser.add_argument(
        "--double-submits",
        type=float,
        default=0.8,
        metavar="WEIGHT",
        help="weight of 'send a write twice at once' among the actions (others: 0.3-3; "
        "default 0.8, about 3%% of actions; 0: none)",
    )
    parser.add_argument(
        "--collectstatic",
        action="store_true",
        help="collect static files even when var/static looks current",
    )
    parser.add_argument(
        "--connections",
        type=int,
        default=None,
        help="requests in flight at most, the others wait in the client (default: twice "
        "the server's workers x threads, enough to keep every worker busy)",
    )
    args = parser.parse_args()
    if args.partners < 2 or args.partners % 2:
        parser.error("--partners must be an even number of at least 2")
    return args


def server_settings(workers: int | None) -> tuple[int, str, int, str]:
    """(workers, worker class, threads, where from): an explicit --workers wins, then
    the repository's gunicorn.conf.py (gunicorn reads the rest of it by itself, as it
    runs from the repository root), then 4 sync workers."""
    if workers:
        return workers, "sync", 1, "--workers"
    conf = ROOT / "gunicorn.conf.py"
    if conf.exists():
        values = runpy.run_path(str(conf))
        return (
            int(values.get("workers", 1)),
            str(values.get("worker_class", "sync")),
            int(values.get("threads", 1)),
            "gunicorn.conf.py",
        )
    return 4, "sync", 1, "default"


def cpu_seconds(parent: int) -> float:
    """CPU time (user + system) so far of gunicorn: the master, its live workers, and
    the workers it has reaped (recycled after max_requests), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(entry.name) == parent:
                total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
            elif int(fields[1]) == parent:
                total += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    return total / tick


class DatabaseCpu(threading.Thread):
    """CPU time of the PostgreSQL backends serving one database during the load.
    Workers drop and reopen their connections (CONN_MAX_AGE), so the backends are
    sampled twice a second and each one's last reading counts; a backend that lived
    less than half a second is missed."""

    def __init__(self, database: str) -> None:
        super().__init__(daemon=True)
        self.database = database
        self.first = self._read()
        self.last = dict(self.first)
        self.halt = threading.Event()

    def _read(self) -> dict[int, float]:
        tick = os.sysconf("SC_CLK_TCK")
        found = {}
        wanted = f" {self.database} ".encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                command = (entry / "cmdline").read_bytes()
                if not command.startswith(b"postgres: ") or wanted not in command:
                    continue
                stat = (entry / "stat").read_text()
                fields = stat[stat.rindex(")") + 2 :].split()
                found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
            except (OSError, ValueError, IndexError):
                continue
        return found

    def run(self) -> None:
        while not self.halt.wait(0.5):
            self.last.update(self._read())

    def stop(self) -> float:
        self.halt.set()
        self.join()
        self.last.update(self._read())
        return sum(cpu - self.first.get(pid, 0.0) for pid, cpu in self.last.items())


def flush_redis(url: str) -> None:
    """The cache outlives the database flush and ids start again at 1: a cached entry
    from an earlier run would be served as this run's couple content."""
    import redis

    client = redis.Redis.from_url(url)
    db = client.connection_pool.connection_kwargs.get("db", 0)
    if not db:
        sys.exit(f"refusing to flush Redis database 0 ({url}): give the benchmark its own")
    client.flushdb()


def main() -> int:
    args = parse_args()
    # The benchmark process mints sessions and tokens the server must accept: the
    # same SECRET_KEY and settings as the server's.
    for name, value in BENCH_ENV.items():
        os.environ.setdefault(name, value)

    from bench.common import guard, reset, setup

    setup()
    guard()

    from django.conf import settings
    from django.db import connections

    from bench.mixed_client import Simulation
    from bench.mixed_ledger import Ledger
    from bench.mixed_seed import lovemap_topic_ids, mint_credentials, seed
    from bench.mixed_verify import verify

    redis_url = os.environ.get("REDIS_URL", "")
    database = settings.DATABASES["default"]
    print(f"database {database['ENGINE'].rsplit('.', 1)[-1]}:{database['NAME']}", end="; ")
    print(f"redis {redis_url or 'none (per-process memory cache)'}")
    if redis_url:
        flush_redis(redis_url)
    started = time.monotonic()
    print("resetting the database and seeding ...")
    reset()
    ledger = Ledger()
    rng = random.Random(args.seed)
    specs = seed(couples=args.partners // 2, rng=rng, ledger=ledger)
    real = rng.sample(specs, min(args.logins, len(specs)))
    real_ids = {spec.user_id for spec in real}
    mint_credentials([s for s in specs if s.user_id not in real_ids])
    topics = lovemap_topic_ids()
    print(f"  ready in {time.monotonic() - started:.1f} s")
    connections.close_all()  # the server's workers get the database to themselves

    workers, worker_class, threads, source = server_settings(args.workers)
    server = Gunicorn(
        workers=workers,
        worker_class=worker_class,
        threads=threads,
        env={"REDIS_URL": redis_url} if redis_url else {},
        log=LOG,
    )
    LOG.parent.mkdir(exist_ok=True)
    LOG.write_text("")
    print("static files ...", end=" ", flush=True)
    phase = time.monotonic()
    server.collectstatic(force=args.collectstatic)  # skipped when nothing changed
    print(f"{time.monotonic() - phase:.1f} s")
    sim = Simulation(
        base_url=server.url(""),
        specs=specs,
        ledger=ledger,
        seed=args.seed,
        think=(args.think[0], args.think[1]),
        connections=args.connections or 2 * workers * threads,
        topics=topics,
        session_cookie_name=settings.SESSION_COOKIE_NAME,
        csrf_cookie_name=settings.CSRF_COOKIE_NAME,
        double_submits=args.double_submits,
    )
    print(
        f"gunicorn: {workers} {worker_class} workers x {threads} threads ({source}); "
        f"log {LOG.relative_to(ROOT)}"
    )
    phase = time.monotonic()
    with server:
        print(f"  gunicorn answering after {time.monotonic() - phase:.1f} s")
        if real:
            print(f"{len(real)} partners log in through the endpoints ...")
            login_partners = [p for p in sim.partners if p.user_id in real_ids]
            login_time = asyncio.run(sim.login_all(login_partners))
            print(f"  {len(real) * 2} log-ins in {login_time:.1f} s")
        for p in sim.partners:
            p.session_cookie = p.spec.session
        mean_think = sum(args.think) / 2
        print(
            f"{len(specs)} partners for {args.duration:.0f} s, think {args.think[0]:g}-"
            f"{args.think[1]:g} s (at most ~{len(specs) / mean_think:.0f} actions/s offered) ..."
        )
        assert server.process is not None
        server_cpu = cpu_seconds(server.process.pid)
        database_cpu = DatabaseCpu(str(database["NAME"]))
        database_cpu.start()
        try:
            asyncio.run(sim.run(args.duration))
        finally:
            sim.stats.database_cpu = database_cpu.stop()
        sim.stats.server_cpu = cpu_seconds(server.process.pid) - server_cpu
        phase = time.monotonic()
    print(f"gunicorn stopped in {time.monotonic() - phase:.1f} s; checking the database ...")
    summary = verify(ledger)
    report(sim, summary, ledger)
    return 1 if ledger.failure_count else 0


def report(sim: Simulation, summary: list[str], ledger: Ledger) -> None:
    stats = sim.stats
    elapsed = stats.finished - stats.started
    timed = sorted(k for k in stats.latencies if not k.startswith("auth."))
    logins = sorted(k for k in stats.latencies if k.startswith("auth."))
    count = sum(len(stats.latencies[k]) for k in timed)
    print()
    duration = stats.deadline - stats.started
    print(
        f"{stats.in_window} requests in {duration:.0f} s: {stats.in_window / duration:.1f} req/s "
        f"({len(sim.partners)} partners); then {elapsed - duration:.1f} s and "
        f"{count - stats.in_window} requests to finish the actions under way"
    )
    print(
        f"{stats.actions} actions ({count / max(stats.actions, 1):.2f} requests each); "
        f"CPU per request: gunicorn {stats.server_cpu / count * 1000:.1f} ms, PostgreSQL "
        f"{stats.database_cpu / count * 1000:.1f} ms, this client "
        f"{stats.client_cpu / count * 1000:.1f} ms"
    )
    print(
        f"waiting for one of the {sim.connections} client connections: "
        f"{stats.waited / count * 1000:.0f} ms per request on average (in the latencies below)"
    )
    buckets = [stats.timeline[i] for i in range(int(elapsed // 10) + 1)]
    print("req/s per 10 s: " + " ".join(f"{n / 10:.0f}" for n in buckets))
    print()
    header = (
        f"{'endpoint':<24} {'count':>6} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} "
        f"{'sent p50':>8} {'sent p95':>8}  statuses"
    )
    print(header)
    print("-" * len(header))
    rows = [(e, stats.latencies[e], stats.in_flight[e], stats.statuses[e]) for e in sorted(timed)]
    rows.append(
        (
            "all (without log-ins)",
            [v for e in timed for v in stats.latencies[e]],
            [v for e in timed for v in stats.in_flight[e]],
            None,
        )
    )
    rows += [(e, stats.latencies[e], stats.in_flight[e], stats.statuses[e]) for e in logins]
    for endpoint, waited, sent, statuses in rows:
        if not waited:
            continue
        total, flight = sorted(waited), sorted(sent)
        codes = " ".join(f"{s}:{n}" for s, n in sorted(statuses.items())) if statuses else ""
        print(
            f"{endpoint:<24} {len(total):>6} {_ms(total, 0.5):>7} {_ms(total, 0.95):>7} "
            f"{_ms(total, 1):>7} {_ms(flight, 0.5):>8} {_ms(flight, 0.95):>8}  {codes}"
        )
    print(
        "(ms from wanting to send to the answer; 'sent': from sending, without the wait "
        "for a free client connection)"
    )
    if stats.no_store_missing:
        missing = ", ".join(f"{k} {n}" for k, n in sorted(stats.no_store_missing.items()))
        print(f"note: responses without Cache-Control: no-store: {missing}")
    print()
    for line in summary:
        print(f"  {line}")
    print(
        f"  markers scanned in every response: {ledger.serial} texts written, {ledger.leaks} leaks"
    )
    five = sum(n for v in stats.statuses.values() for s, n in v.items() if s.startswith("5"))
    errors = sum(v.get("error", 0) for v in stats.statuses.values())
    print(f"  5xx: {five}, no response: {errors}")
    print()
    if ledger.failure_count:
        print(f"FAIL: {ledger.failure_count} failures (first {len(ledger.failures)}):")
        for message in ledger.failures:
            print(f"  - {message}")
        if five:
            print(f"  server tracebacks: {LOG.relative_to(ROOT)}")
    else:
        print("PASS")


def _ms(values: list[float], quantile: float) -> str:
    return f"{values[min(len(values) - 1, int(len(values) * quantile))] * 1000:.0f}"


def _terminate(signum: int, frame: FrameType | None) -> None:
    # Handled as Ctrl+C is: asyncio cancels the partners, KeyboardInterrupt unwinds
    # through `with server`, which stops gunicorn.
    signal.raise_signal(signal.SIGINT)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminate)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted: gunicorn stopped, nothing checked", file=sys.stderr)
        sys.exit(130)
