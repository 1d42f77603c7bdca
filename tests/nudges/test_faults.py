"""Nudges under faults, against real processes on loopback (docs/reliability.md: Faults):
the test PostgreSQL database, a private Redis (cache and broker), real Celery workers
and beats (`celery -A nuzzle worker|beat`) and an aiosmtpd server in this process.

The children run the real eligibility checks (prompts' question_ready and
partner_answered), so every test builds real couples with today's question. Nothing
can freeze time in another process, so each person gets a fixed-offset zone
(`Etc/GMT-3` is UTC+3) in which it is now the local hour the test needs, and due times
are set on the schedule rows directly. Kinds a test is not about are switched off.

Beat ticks every second here (BEAT_INTERVAL_SECONDS=1). Delivery sends only while at
least 3 × EMAIL_TIMEOUT of a claim's lease is left (`delivery.batch.Batch._send_all`), so
the lease must be longer than that: EMAIL_TIMEOUT=3 and a lease of 11 s leave each
claim 2 s of sending, give the killed-worker test 3 s to kill while the server holds
back its answer to DATA, and bring a dead worker's rows back within 11 s.
"""

from __future__ import annotations

import functools
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as wall_time
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from nuzzle.celery import app as celery_app
from nuzzle.couples.models import User
from nuzzle.nudges.kinds import Kind
from nuzzle.nudges.models import Nudge, NudgePreferences, NudgeSchedule
from nuzzle.nudges.services import nudge_enqueue
from prompts.models import DailyQuestion
from prompts.services import daily_question_ensure
from tests.factories import PromptFactory, couple_of, new_nudge, new_question_answer, new_user
from tests.nudges.processes import (
    CeleryProcess,
    RedisServer,
    database_url,
    eventually,
    redis_binary,
)
from tests.nudges.smtp import Received, SmtpServer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TICK = 1.0  # the children's BEAT_INTERVAL_SECONDS
EMAIL_TIMEOUT = 3  # seconds; delivery keeps 3 × this of its lease in reserve
LEASE = 11  # NUDGE_LEASE_SECONDS: > 3 × EMAIL_TIMEOUT, or no claim ever sends
TICK_DONE = re.compile(r"Task nudges\.tasks\.tick\[[^]]+\] succeeded")  # a worker's log
SENDING_TICK = "Sending due task nudges-tick"  # in a beat's log
MESSAGE_ID = re.compile(r"<nudge-(\d+)@")


# --- Real processes ----------------------------------------------------------------


@dataclass
class Cluster:
    """The private Redis, the SMTP server and every Celery process a test started."""

    workdir: Path
    redis: RedisServer
    smtp: SmtpServer
    processes: list[CeleryProcess] = field(default_factory=list)

    def env(self, **extra: object) -> dict[str, str]:
        """A child's whole environment: nothing from ours but the basics, so the
        machine's REDIS_URL, EMAIL_URL or NUDGE_* settings never leak in."""
        basics = ("PATH", "HOME", "LANG", "TMPDIR")
        env = {name: os.environ[name] for name in basics if name in os.environ}
        env.update(
            DJANGO_SETTINGS_MODULE="nuzzle.settings",
            DATABASE_URL=database_url(),
            REDIS_URL=self.redis.url,
            EMAIL_URL=self.smtp.email_url,
            EMAIL_TIMEOUT=str(EMAIL_TIMEOUT),
            BEAT_INTERVAL_SECONDS=str(TICK),
            NUDGE_LEASE_SECONDS=str(LEASE),
            CONN_MAX_AGE="0",
            DEBUG="1",
            PYTHONUNBUFFERED="1",
        )
        env.update({name: str(value) for name, value in extra.items()})
        return env

    def start(self, role: str, name: str, **env: object) -> CeleryProcess:
        process = CeleryProcess(role, name, self.env(**env), self.workdir)
        process.start()
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            process.request_stop()
        for process in self.processes:
            process.wait_stopped()

    def logs(self, lines: int = 60) -> str:
        return "\n".join(
            f"----- {process.name} ({process.role}), last {lines} lines -----\n"
            f"{process.tail(lines)}"
            for process in self.processes
        )


def ticks_done(worker: CeleryProcess) -> int:
    return len(TICK_DONE.findall(worker.output()))


def wait_for_ticks(worker: CeleryProcess, more: int = 1, timeout: float = 30) -> None:
    """Until `worker` has finished `more` ticks from now (the first: it is up and
    connected; later ones: time has passed with the worker really at work)."""
    target = ticks_done(worker) + more
    eventually(lambda: ticks_done(worker) >= target, timeout=timeout)


@pytest.fixture
def cluster(transactional_db: None, tmp_path: Path) -> Iterator[Cluster]:
    """Depends on `transactional_db`, so it is torn down first: every child is stopped
    (and its connections closed) before the test database is flushed."""
    if redis_binary() is None:
        if os.environ.get("NUZZLE_REQUIRE_POSTGRES") == "1":
            pytest.fail("the fault tests need redis-server (NUZZLE_REQUIRE_POSTGRES=1)")
        pytest.skip("the fault tests need redis-server")
    PromptFactory.create_batch(5)  # the question bank the couples' questions come from
    redis, smtp = RedisServer(tmp_path), SmtpServer()
    running = Cluster(tmp_path, redis, smtp)
    try:
        redis.start()
        smtp.start()
        yield running
    finally:
        try:
            running.stop()
        finally:
            redis.stop()
            smtp.stop()


def logs_on_failure(test: Callable[..., None]) -> Callable[..., None]:
    """On failure, print the tail of every child's log (pytest shows it with the
    failure; the fixture's teardown output would not be)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            test(*args, **kwargs)
        except BaseException:
            for value in kwargs.values():
                if isinstance(value, Cluster):
                    print(value.logs())
            raise

    return run


# --- Data ---------------------------------------------------------------------------


def zone_at(hour: int) -> str:
    """A fixed-offset zone in which the local time now is `hour`:MM (MM as in UTC).
    Etc/GMT names have the sign reversed: Etc/GMT-3 is UTC+3."""
    now = timezone.now()
    offset = (hour - now.hour) % 24
    if offset > 14:  # offsets run from UTC-12 to UTC+14
        offset -= 24
    name = f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"
    assert now.astimezone(ZoneInfo(name)).hour == hour
    return name


def couple_with_question(zone: str) -> tuple[User, User, DailyQuestion]:
    """Two partners living in `zone`, with their question for today assigned."""
    first, second = new_user(timezone=zone), new_user(timezone=zone)
    couple_of(first, second, tz=zone)
    question = daily_question_ensure(user=first)
    assert question is not None
    return first, second, question


def answered(question: DailyQuestion, author: User) -> None:
    """An answer as data only (no nudge enqueued): a test decides what is enqueued."""
    new_question_answer(question=question, author=author, text="A walk by the sea.")


def only(users: list[User], kind: Kind | None = None, *, due_at: datetime | None = None) -> None:
    """Switch every kind off for `users` but `kind`, due at `due_at` (None: not due)."""
    NudgeSchedule.objects.filter(user__in=users).update(enabled=False)
    if kind is not None:
        NudgeSchedule.objects.filter(user__in=users, kind=kind).update(
            enabled=True, next_due_at=due_at
        )


def pending(user: User, kind: Kind = Kind.QUESTION_READY) -> Nudge:
    """An outbox row due now, as a tick would have written it."""
    now = timezone.now()
    day = now.astimezone(ZoneInfo(user.timezone)).date()
    return new_nudge(
        user=user,
        kind=kind,
        period=day.isoformat(),
        local_date=day,
        scheduled_for=now,
        status=Nudge.Status.PENDING,
        next_attempt_at=now,
        created_at=now,
        context={"partner_answered": False},
    )


def token_client(user: User) -> APIClient:
    _, token = AuthToken.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


# --- What arrived -------------------------------------------------------------------


def per_recipient(messages: list[Received]) -> Counter[str]:
    return Counter(address for message in messages for address in message.rcpt_tos)


def per_outbox_row(messages: list[Received]) -> Counter[int]:
    """Received messages per outbox row, read from the Message-ID (derived from it)."""
    ids: Counter[int] = Counter()
    for message in messages:
        found = MESSAGE_ID.match(str(message.message["Message-ID"]))
        assert found, message.message["Message-ID"]
        ids[int(found.group(1))] += 1
    return ids


def statuses(rows: list[Nudge]) -> dict[int, str]:
    return dict(Nudge.objects.filter(pk__in=[row.pk for row in rows]).values_list("pk", "status"))


# --- Redis down in this process too ------------------------------------------------


BROKER_KEY = "CELERY_BROKER_URL"
_UNSET = object()


def _reset_celery_connections() -> None:
    """Forget the broker connections and producers Celery pooled (what it does after a
    fork), so the next publish connects to the configured broker."""
    celery_app._pool = None  # type: ignore[attr-defined]
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@contextmanager
def redis_at(url: str) -> Iterator[None]:
    """Point this process's cache and Celery broker at `url` (a stopped Redis)."""
    current = django_settings.CACHES["default"]
    options = (
        current["OPTIONS"]
        if current["BACKEND"] == "django_redis.cache.RedisCache"
        else {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1}
    )
    caches = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "nuzzle-faults",
            "OPTIONS": options,
        }
    }
    # The app reads its settings with the CELERY namespace, so `conf.broker_url` is
    # looked up as CELERY_BROKER_URL first: assigning `conf.broker_url` changes nothing.
    conf = celery_app.conf
    saved = conf.changes.get(BROKER_KEY, _UNSET)
    conf[BROKER_KEY] = url
    _reset_celery_connections()
    assert conf.broker_url == url
    try:
        with override_settings(CACHES=caches, DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS=False):
            yield
    finally:
        if saved is _UNSET:
            del conf[BROKER_KEY]
        else:
            conf[BROKER_KEY] = saved
        _reset_celery_connections()


# --- The scenarios ------------------------------------------------------------------


@logs_on_failure
def test_two_beats_and_two_workers_send_each_person_exactly_one_question_ready_email(
    cluster: Cluster,
) -> None:
    """Ticks race in two workers, fed by two beats: the (person, kind, period) key and
    the claims let each of 12 people have one message, one Message-ID, one row."""
    zone = zone_at(14)
    people: list[User] = []
    for _ in range(6):
        first, second, _ = couple_with_question(zone)
        people += [first, second]
    only(people, Kind.QUESTION_READY, due_at=timezone.now() - timedelta(seconds=30))

    cluster.start("worker", "worker-a")
    cluster.start("worker", "worker-b")
    beats = [cluster.start("beat", "beat-a"), cluster.start("beat", "beat-b")]

    def all_sent() -> bool:
        rows = Nudge.objects.filter(user__in=people)
        return rows.count() == len(people) and not rows.exclude(status=Nudge.Status.SENT)

    eventually(all_sent, timeout=45)
    # Both beats keep ticking into both workers for a few more intervals.
    ticks = [beat.count(SENDING_TICK) for beat in beats]
    eventually(
        lambda: all(
            beat.count(SENDING_TICK) >= n + 3 for beat, n in zip(beats, ticks, strict=True)
        ),
        timeout=20,
    )

    messages = cluster.smtp.messages
    rows = list(Nudge.objects.filter(user__in=people))
    assert per_recipient(messages) == {person.email: 1 for person in people}
    assert per_outbox_row(messages) == {row.pk: 1 for row in rows}
    assert {row.kind for row in rows} == {Kind.QUESTION_READY}
    assert all(message.message["X-Nuzzle-Kind"] == "question_ready" for message in messages)


@logs_on_failure
def test_a_partner_answering_while_redis_is_down_succeeds_and_is_told_once_redis_is_back(
    cluster: Cluster, settings: Any
) -> None:
    """The answer only moves a schedule row in PostgreSQL (no broker, the cache shrugs),
    so it succeeds with Redis gone, and the nudge goes out once Redis is back."""
    answerer, recipient, question = couple_with_question(zone_at(14))
    only([answerer])
    only([recipient], Kind.PARTNER_ANSWERED)
    # Her nudge time has passed today, and events are not batched: due at once.
    NudgePreferences.objects.filter(user=recipient).update(nudge_time=wall_time(9, 0))
    settings.NUDGE_EVENT_DELAY_MINUTES = 0
    client = token_client(answerer)

    worker = cluster.start("worker", "worker")
    cluster.start("beat", "beat")
    wait_for_ticks(worker)
    cluster.redis.stop()

    with redis_at(cluster.redis.url):
        cache.set("probe", 1)
        assert cache.get("probe") is None  # the cache is really down, and shrugs
        response = client.post(
            f"/api/v1/questions/{question.pk}/answer", {"text": "Dancing in the kitchen."}
        )
    assert response.status_code == 201, response.content
    schedule = NudgeSchedule.objects.get(user=recipient, kind=Kind.PARTNER_ANSWERED)
    assert schedule.next_due_at is not None
    assert schedule.next_due_at <= timezone.now()

    time.sleep(3 * TICK)  # beat and worker are cut off: nothing can go out
    assert cluster.smtp.messages == []
    assert not Nudge.objects.filter(status=Nudge.Status.SENT).exists()

    cluster.redis.start()  # same port, empty: whatever was queued is gone
    eventually(lambda: cluster.smtp.messages, timeout=45)
    wait_for_ticks(worker, 3)

    messages = cluster.smtp.messages
    assert per_recipient(messages) == {recipient.email: 1}
    email = messages[0].message
    assert email["X-Nuzzle-Kind"] == "partner_answered"
    assert "answered today's question" in str(email["Subject"])
    row = Nudge.objects.get()
    assert (row.user_id, row.kind, row.status) == (
        recipient.pk,
        Kind.PARTNER_ANSWERED,
        Nudge.Status.SENT,
    )


@logs_on_failure
def test_a_worker_killed_mid_delivery_never_sends_a_nudge_twice(cluster: Cluster) -> None:
    """At most once: the row the dead worker was sending ends failed when its lease
    expires (never resent); the rows it had only claimed go to the next worker."""
    zone = zone_at(14)
    people: list[User] = []
    for _ in range(2):
        first, second, _ = couple_with_question(zone)
        people += [first, second]
    only(people, Kind.QUESTION_READY)  # on, but not due: only these rows go
    rows = [pending(person) for person in people]
    # The server takes each message, then answers DATA only after 10 s.
    cluster.smtp.delays["DATA"] = 10.0

    first_worker = cluster.start("worker", "worker-a")
    cluster.start("beat", "beat")

    def caught_sending() -> list[Nudge]:
        if not cluster.smtp.messages:
            return []
        return list(Nudge.objects.filter(status=Nudge.Status.SENDING))

    caught = cast(list[Nudge], eventually(caught_sending, timeout=30, every=0.02))[0]
    first_worker.kill()  # SIGKILL mid-DATA: the reply never reaches it
    cluster.smtp.behave()
    cluster.start("worker", "worker-b")

    eventually(lambda: set(statuses(rows).values()) <= set(Nudge.TERMINAL), timeout=45, every=0.2)
    time.sleep(2 * TICK)

    final = statuses(rows)
    assert final.pop(caught.pk) in (Nudge.Status.FAILED.value, Nudge.Status.SENT.value)
    assert set(final.values()) == {Nudge.Status.SENT}
    received = per_outbox_row(cluster.smtp.messages)
    assert max(received.values()) == 1  # no Message-ID twice
    assert received == {row.pk: 1 for row in rows}  # the caught one had reached the server
    caught.refresh_from_db()
    if caught.status == Nudge.Status.FAILED:
        assert caught.reason == "interrupted while sending; not retried (at most once)"


@logs_on_failure
def test_smtp_4xx_is_retried_until_accepted_and_5xx_suppresses_the_person(
    cluster: Cluster,
) -> None:
    """451 on RCPT: back to pending with back-off, sent once the server recovers.
    550 5.1.1: the row is suppressed and so is the person; nothing reaches them."""
    later, gone, _ = couple_with_question(zone_at(14))
    only([later, gone], Kind.QUESTION_READY)
    later_row, gone_row = pending(later), pending(gone)
    cluster.smtp.reply_to_rcpt("451 4.3.0 Try again later", to=later.email)
    cluster.smtp.reply_to_rcpt("550 5.1.1 No such user", to=gone.email)

    cluster.start("worker", "worker", NUDGE_RETRY_BACKOFF_SECONDS="1,1,1,1")
    cluster.start("beat", "beat")

    def refused_once() -> bool:
        later_row.refresh_from_db()
        return later_row.attempts >= 1

    eventually(refused_once, timeout=30, every=0.05)
    cluster.smtp.reply_to_rcpt(None, to=later.email)  # the server recovers
    eventually(
        lambda: statuses([later_row, gone_row])
        == {later_row.pk: Nudge.Status.SENT, gone_row.pk: Nudge.Status.SUPPRESSED},
        timeout=30,
    )
    time.sleep(2 * TICK)

    later_row.refresh_from_db()
    gone_row.refresh_from_db()
    assert later_row.status == Nudge.Status.SENT
    assert later_row.attempts >= 1
    assert len(cluster.smtp.received_by(later.email)) == 1
    assert gone_row.status == Nudge.Status.SUPPRESSED
    assert "5.1.1" in gone_row.reason
    prefs = NudgePreferences.objects.get(user=gone)
    assert prefs.suppressed_at is not None
    assert cluster.smtp.received_by(gone.email) == []


@logs_on_failure
def test_nudges_left_due_for_hours_are_skipped_with_a_reason_never_sent_late_or_at_night(
    cluster: Cluster,
) -> None:
    """What beat missed while it was down is recorded as skipped, with why, and the
    schedule moves on: no burst of late mail, and nothing at night."""
    now = timezone.now()
    # Mid-afternoon: the 10:xx slot was today, outside quiet hours, but 5 hours ago.
    afternoon, afternoon_partner, _ = couple_with_question(zone_at(15))
    # 22:xx: quiet hours (from 22:00) have begun since the 19:xx slot, same local day.
    night, night_partner, _ = couple_with_question(zone_at(22))
    only([afternoon_partner, night_partner])
    only([afternoon], Kind.QUESTION_READY, due_at=now - timedelta(hours=5))
    only([night], Kind.QUESTION_READY, due_at=now - timedelta(hours=3))

    worker = cluster.start("worker", "worker")
    cluster.start("beat", "beat")
    eventually(lambda: Nudge.objects.filter(status=Nudge.Status.SKIPPED).count() == 2)
    wait_for_ticks(worker, 2)

    late = Nudge.objects.get(user=afternoon)
    quiet = Nudge.objects.get(user=night)
    assert late.status == quiet.status == Nudge.Status.SKIPPED
    minutes = re.fullmatch(r"not sent: (\d+) minutes late", late.reason)
    assert minutes, late.reason
    assert 300 <= int(minutes.group(1)) < 310
    assert quiet.reason == "not sent: it was already quiet hours when it could go out"
    assert Nudge.objects.count() == 2
    assert cluster.smtp.messages == []
    for person in (afternoon, night):
        schedule = NudgeSchedule.objects.get(user=person, kind=Kind.QUESTION_READY)
        assert schedule.next_due_at is not None
        assert schedule.next_due_at > timezone.now()


@logs_on_failure
def test_an_enqueue_rolled_back_sends_nothing_and_one_committed_while_the_worker_runs_goes_once(
    cluster: Cluster, settings: Any
) -> None:
    """Enqueueing is part of the caller's transaction: held open across ticks it is
    invisible to the worker, rolled back it never happened; committed (an event and
    an outbox row) while the worker runs, each goes exactly once."""
    settings.NUDGE_EVENT_DELAY_MINUTES = 0
    zone = zone_at(14)
    told_never, partner_a, question_a = couple_with_question(zone)
    told_once, partner_b, question_b = couple_with_question(zone)
    ready_never, partner_c, _ = couple_with_question(zone)
    ready_once, partner_d, _ = couple_with_question(zone)
    answered(question_a, partner_a)
    answered(question_b, partner_b)
    only([partner_a, partner_b, partner_c, partner_d])
    only([told_never, told_once], Kind.PARTNER_ANSWERED)
    only([ready_never, ready_once], Kind.QUESTION_READY)
    NudgePreferences.objects.filter(user__in=[told_never, told_once]).update(
        nudge_time=wall_time(9, 0)
    )

    worker = cluster.start("worker", "worker")
    cluster.start("beat", "beat")
    wait_for_ticks(worker)

    with transaction.atomic():
        nudge_enqueue(user_id=told_never.pk, kind=Kind.PARTNER_ANSWERED)
        pending(ready_never)
        # Uncommitted across several ticks: invisible to the worker.
        wait_for_ticks(worker, 2)
        transaction.set_rollback(True)
    with transaction.atomic():
        nudge_enqueue(user_id=told_once.pk, kind=Kind.PARTNER_ANSWERED)
        pending(ready_once)

    eventually(lambda: len(cluster.smtp.messages) >= 2, timeout=30)
    wait_for_ticks(worker, 3)

    assert per_recipient(cluster.smtp.messages) == {told_once.email: 1, ready_once.email: 1}
    kinds = {m.rcpt_tos[0]: m.message["X-Nuzzle-Kind"] for m in cluster.smtp.messages}
    assert kinds == {told_once.email: "partner_answered", ready_once.email: "question_ready"}
    assert not Nudge.objects.filter(user__in=[told_never, ready_never]).exists()
    assert (
        NudgeSchedule.objects.get(user=told_never, kind=Kind.PARTNER_ANSWERED).next_due_at is None
    )
