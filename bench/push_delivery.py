"""Benchmark: nudge delivery by Web Push beside delivery by email, in the same run.
Prints notifications/s, worker CPU per notification and queries per notification for
each channel, with each number of worker processes asked for.

Seeds 2 × N people in N couples (bench/nudge_tick.py's bulk inserts: today's open
question for every couple, nudge preferences and schedules, mid-day everywhere, nobody
has answered). The first N people get one push device each (the default channel
choice, `auto`, then sends them push only); the other N have none and get email. Each
person gets today's `question_ready` outbox row as a tick writes it (inserted directly:
planning is what bench/nudge_tick.py measures).

Then, for each entry of --workers, once for push and once for email: every row of
that channel's people made due now (and back to `pending` if an earlier run sent it),
the other channel's rows left waiting, and `nudges_deliver` run in that many forked
worker processes (as the `deliver` task runs it, until nothing is due). Push goes to
a stand-in push service on 127.0.0.1 in its own process (asyncio, HTTP/1.1 keep-alive:
it checks the headers a push must carry, answers 201 and counts; --decrypt also
decrypts every body as the browser would); email to bench/nudge_tick.py's aiosmtpd
sink, also its own process. It checks that each service received exactly the rows
marked sent, no device twice, and nothing for the other channel's people.

    psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE nuzzle_bench_push"   # once
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nuzzle_bench_push \\
        .venv/bin/python bench/push_delivery.py --people 5000 --workers 1 2

Options: --people N (people per channel; 5,000), --workers W [W ...] (1 2),
--deliver-batch (rows per claim, and per SMTP connection or pooled HTTP session;
NUDGE_DELIVERY_BATCH), --decrypt (the push stand-in decrypts each body; it then uses
more CPU, on the same two cores as the workers).

"worker cpu" is the worker processes' CPU time, "server" their PostgreSQL backends'
(from /proc). The database is flushed first, so it refuses one whose name does not
contain "bench"; it is left in place afterwards (the next run flushes it). Everything
stays on loopback, and both stand-ins stop with the benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import guard, process_cpu_seconds, reset, setup

setup()

import multiprocessing

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from bench.nudge_tick import (
    POSTGRESQL,
    Sink,
    WorkerReport,
    deliver_parallel,
    pick_zones,
    seed_orm,
    zone_plans,
)
from nuzzle.couples.models import User
from nuzzle.nudges import webpush
from nuzzle.nudges.kinds import Kind
from nuzzle.nudges.models import Nudge, PushDevice
from prompts.models import Prompt

HOST = "127.0.0.1"
CHANNELS = ("push", "email")


# --- The push service stand-in (its own process: it must not take the workers' GIL) --


def _push_main(  # type: ignore[no-untyped-def]
    sock: socket.socket, counters, browser_key: Any, auth: str, decrypt: bool, parent: int
) -> None:
    received, malformed, repeated, run = counters
    seen: set[tuple[int, str]] = set()

    def well_formed(method: str, path: str, headers: dict[str, str], body: bytes) -> bool:
        if method != "POST" or not path.startswith("/push/") or not body:
            return False
        if headers.get("content-encoding") != "aes128gcm" or "ttl" not in headers:
            return False
        if not headers.get("authorization", "").startswith("vapid t="):
            return False
        if decrypt:
            import http_ece

            try:
                json.loads(
                    http_ece.decrypt(
                        body,
                        private_key=browser_key,
                        auth_secret=webpush.b64url_decode(auth),
                        version="aes128gcm",
                    )
                )
            except Exception:
                return False
        return True

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                method, path, _ = line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = header.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                body = await reader.readexactly(length) if length else b""
                if well_formed(method, path, headers, body):
                    with received.get_lock():
                        received.value += 1
                    key = (run.value, path)
                    if key in seen:
                        with repeated.get_lock():
                            repeated.value += 1
                    seen.add(key)
                    status = b"201 Created"
                else:
                    with malformed.get_lock():
                        malformed.value += 1
                    status = b"400 Bad Request"
                writer.write(
                    b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\nLocation: /message/1\r\n\r\n"
                )
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(serve, sock=sock)
        async with server:
            while os.getppid() == parent:  # never outlive the benchmark
                await asyncio.sleep(0.5)

    asyncio.run(main())


class PushSink:
    """Accepts pushes on 127.0.0.1, answers 201 and counts: well-formed ones, malformed
    ones, and a device pushed twice within one run."""

    def __init__(self, decrypt: bool) -> None:
        context = multiprocessing.get_context("fork")  # before any database connection
        self.browser_key = ec.generate_private_key(ec.SECP256R1())  # every device's
        self.auth = webpush.b64url_encode(secrets.token_bytes(16))
        self.sock = socket.socket()
        self.sock.bind((HOST, 0))
        self.sock.listen(128)
        self.port = int(self.sock.getsockname()[1])
        self.received = context.Value("q", 0)
        self.malformed = context.Value("q", 0)
        self.repeated = context.Value("q", 0)
        self.run = context.Value("q", 0)
        counters = (self.received, self.malformed, self.repeated, self.run)
        self.process = context.Process(
            target=_push_main,
            args=(self.sock, counters, self.browser_key, self.auth, decrypt, os.getpid()),
            daemon=True,
        )

    def start(self) -> PushSink:
        self.process.start()
        self.sock.close()  # the child has it
        return self

    @property
    def p256dh(self) -> str:
        point = self.browser_key.public_key().public_bytes(
            Encoding.X962, PublicFormat.UncompressedPoint
        )
        return webpush.b64url_encode(point)

    def endpoint(self, user_id: int) -> str:
        return f"http://{HOST}:{self.port}/push/{user_id}"

    def cpu(self) -> float:
        return process_cpu_seconds(self.process.pid or 0)

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(5)

    def use(self) -> None:
        """Point the app at it: http on loopback allowed, a fresh VAPID key."""
        settings.WEBPUSH_ALLOW_HTTP = True
        settings.WEBPUSH_ENDPOINT_HOSTS = [HOST]
        settings.WEBPUSH_VAPID_PRIVATE_KEY = webpush.new_private_key()


# --- Seeding --------------------------------------------------------------------------


def prepare(people: int, sink: PushSink) -> dict[str, list[int]]:
    """2 × `people` people, the first `people` with a device; an outbox row each, not
    due yet. Returns the people of each channel."""
    reset()
    now = timezone.now().replace(microsecond=0)
    slot = now - timedelta(seconds=5)
    started = time.perf_counter()
    prompts = list(
        Prompt.objects.filter(kind=Prompt.Kind.QUESTION, status=Prompt.Status.PUBLISHED)
        .order_by("id")
        .values_list("id", flat=True)
    )
    # bench/nudge_tick.py's bulk inserts through the ORM (its SQL seeding predates the
    # push columns): model defaults for every column, nobody answered.
    seed_orm(2 * people, zone_plans(pick_zones(now), slot), slot, 0, prompts)
    seconds = time.perf_counter() - started
    everyone = list(User.objects.order_by("pk").values_list("pk", "timezone"))
    by_push = [pk for pk, _ in everyone[:people]]
    by_email = [pk for pk, _ in everyone[people:]]
    started = time.perf_counter()
    PushDevice.objects.bulk_create(
        [
            PushDevice(user_id=pk, endpoint=sink.endpoint(pk), p256dh=sink.p256dh, auth=sink.auth)
            for pk in by_push
        ],
        batch_size=5_000,
    )
    later = now + timedelta(days=1)
    rows = []
    for pk, zone in everyone:
        day = slot.astimezone(ZoneInfo(zone)).date()
        rows.append(
            Nudge(
                user_id=pk,
                kind=Kind.QUESTION_READY,
                period=day.isoformat(),
                local_date=day,
                scheduled_for=slot,
                next_attempt_at=later,
                created_at=now,
                context={"partner_answered": False},
            )
        )
    Nudge.objects.bulk_create(rows, batch_size=5_000)
    print(
        f"seeded {2 * people:,} people ({people:,} with a device) in {seconds:.1f} s; "
        f"devices and outbox rows in {time.perf_counter() - started:.1f} s"
    )
    return {"push": by_push, "email": by_email}


def make_due(user_ids: list[int]) -> int:
    """These people's rows pending and due now, every other pending row tomorrow."""
    now = timezone.now()
    with transaction.atomic():
        Nudge.objects.filter(status=Nudge.Status.PENDING).update(
            next_attempt_at=now + timedelta(days=1)
        )
        count = Nudge.objects.filter(user_id__in=user_ids).update(
            status=Nudge.Status.PENDING,
            next_attempt_at=now,
            attempts=0,
            reason="",
            claim_token="",
            lease_until=None,
            sent_at=None,
            sent_via="",
        )
    if POSTGRESQL:  # a clean pending index, as autovacuum keeps it
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE nudges_nudge")
    return count


# --- Measuring ------------------------------------------------------------------------


@dataclass
class Run:
    channel: str
    workers: int
    notifications: int
    wall: float
    reports: list[WorkerReport]
    sink_cpu: float

    @property
    def cpu(self) -> float:
        return sum(report.usage.cpu for report in self.reports)

    @property
    def server(self) -> float:
        return sum(report.usage.server for report in self.reports)

    @property
    def queries(self) -> int:
        return sum(report.queries for report in self.reports)

    @property
    def rate(self) -> float:
        return self.notifications / max(self.wall, 1e-9)

    def per(self, value: float) -> float:
        return value / max(self.notifications, 1)


def deliver(
    channel: str, workers: int, people: dict[str, list[int]], push: PushSink, smtp: Sink, batch: int
) -> Run:
    due = make_due(people[channel])
    other = "email" if channel == "push" else "push"
    with push.run.get_lock():
        push.run.value += 1
    pushes, emails = push.received.value, smtp.received.value
    sink = push if channel == "push" else smtp
    sink_cpu = sink.cpu()
    wall, reports = deliver_parallel(workers, batch)
    run = Run(channel, workers, sum(r.sent for r in reports), wall, reports, sink.cpu() - sink_cpu)
    got = {"push": push.received.value - pushes, "email": smtp.received.value - emails}
    sent = Nudge.objects.filter(user_id__in=people[channel], status=Nudge.Status.SENT)
    via = dict(sent.values_list("sent_via").annotate(n=Count("id")))
    print(
        f"{channel:5}  {workers} worker(s)  {wall:6.1f} s  {run.notifications:,} sent  "
        f"{run.rate:,.0f}/s  cpu {run.cpu:.1f} s ({1000 * run.per(run.cpu):.2f} ms each), "
        f"server {run.server:.1f} s, sink {run.sink_cpu:.1f} s  {run.queries:,} queries "
        f"({run.per(run.queries):.2f} each)  {sum(r.batches for r in reports)} batches  "
        f"received: push {got['push']:,}, email {got['email']:,}"
    )
    assert run.notifications == due == got[channel] == via.get(channel), (run, due, got, via)
    assert got[other] == 0, got
    assert push.malformed.value == 0, push.malformed.value
    assert push.repeated.value == 0, push.repeated.value
    assert not any(r.skipped or r.failed for r in reports), reports
    return run


def load() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def summary(runs: list[Run], people: int, decrypt: bool, before: str) -> None:
    print()
    print(f"{people:,} notifications per run{' (the push stand-in decrypting)' if decrypt else ''}")
    print(f"load average (1 / 5 / 15 min): {before} before, {load()} after")
    print(
        "| channel | workers | time | notifications/s | worker CPU per notification "
        "| server CPU per notification | queries per notification | stand-in CPU |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        print(
            f"| {run.channel} | {run.workers} | {run.wall:.1f} s | {run.rate:,.0f} "
            f"| {1000 * run.per(run.cpu):.2f} ms | {1000 * run.per(run.server):.2f} ms "
            f"| {run.per(run.queries):.2f} | {run.sink_cpu:.1f} s |"
        )


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=5_000, help="people per channel")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="worker processes, per run"
    )
    parser.add_argument(
        "--deliver-batch",
        type=int,
        default=settings.NUDGE_DELIVERY_BATCH,
        help="rows per claim (and per SMTP connection or HTTP session)",
    )
    parser.add_argument(
        "--decrypt", action="store_true", help="the push stand-in decrypts every body"
    )
    return parser.parse_args()


def main() -> None:
    args = arguments()
    args.people -= args.people % 2  # whole couples on each side
    guard()
    before = load()
    # Both stand-ins are forked before any database connection exists.
    push = PushSink(args.decrypt).start()
    smtp = Sink().start()
    try:
        print(f"database: {connection.vendor} ({settings.DATABASES['default']['NAME']})")
        people = prepare(args.people, push)
        push.use()
        smtp.use()
        runs = [
            deliver(channel, workers, people, push, smtp, args.deliver_batch)
            for workers in args.workers
            for channel in CHANNELS
        ]
        summary(runs, args.people, args.decrypt, before)
    finally:
        push.stop()
        smtp.stop()


if __name__ == "__main__":
    main()
