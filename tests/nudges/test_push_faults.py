"""Nudges by Web Push under faults, against real processes on loopback: the test
PostgreSQL database, a private Redis, real Celery workers and beats and the SMTP server
(the fixtures and helpers of tests/nudges/test_faults.py), and the push service
stand-in (tests/pushservice.py) in this process. The stand-in decrypts every push with
the subscription's keys and verifies its VAPID signature against the public half of a
key made for the test, which the children sign with (WEBPUSH_VAPID_PRIVATE_KEY).

Everyone here has one device and the default channel choice (`auto`), so their nudges
go by push and never by email: the SMTP server must receive nothing. "Exactly once" is
read at the stand-in: one request per subscription, accepted, decrypted, VAPID valid,
and no request for anyone else.

Timeouts and the lease. Before a push row goes, delivery keeps LEASE_TIMEOUTS (3) ×
(WEBPUSH_TIMEOUT × devices + EMAIL_TIMEOUT) of its claim's lease in hand (push may fall
back to email in the same row; `delivery.batch.Batch._send_all`). WEBPUSH_TIMEOUT=3
and EMAIL_TIMEOUT=1 keep 12 s; a lease of 16 s leaves each claim 4 s of sending, gives
the killed-worker test 3 s to kill while the stand-in holds back its answer (it kills
as soon as the request arrives; on a busy machine 1.5 s was too little to be sure) and
brings a dead worker's rows back within 16 s.

The last test holds the system check on the lease to what delivery keeps in hand: a
lease the check accepts lets a push row go.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from nuzzle.celery import app as celery_app
from nuzzle.couples.models import User
from nuzzle.nudges import webpush
from nuzzle.nudges.checks import lease_outlasts_sends
from nuzzle.nudges.delivery import nudges_deliver
from nuzzle.nudges.kinds import Kind
from nuzzle.nudges.models import Nudge
from nuzzle.nudges.services import device_register
from tests.factories import PromptFactory
from tests.nudges.processes import CeleryProcess, eventually
from tests.nudges.test_faults import (
    SENDING_TICK,
    Cluster,
    cluster,
    couple_with_question,
    logs_on_failure,
    only,
    pending,
    redis_at,
    statuses,
    ticks_done,
    wait_for_ticks,
    zone_at,
)
from tests.pushservice import PushServiceStandIn, Received, Subscription

__all__ = ["cluster"]  # the fixture, imported to be used here

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WEBPUSH_TIMEOUT = 3  # seconds
EMAIL_TIMEOUT = 1  # seconds; never used here, but delivery keeps it in hand
LEASE = 16  # NUDGE_LEASE_SECONDS: > 3 × (WEBPUSH_TIMEOUT + EMAIL_TIMEOUT)
INTERRUPTED = "interrupted while sending; not retried (at most once)"
DELIVER_DONE = re.compile(r"Task nudges\.tasks\.deliver\[[^]]+\] succeeded")
TASK_RECEIVED = re.compile(r"Task nudges\.tasks\.\w+\[[^]]+\] received")
TASK_ENDED = re.compile(r"Task nudges\.tasks\.\w+\[[^]]+\] (?:succeeded|raised|retry)")
TICK_FAILED = re.compile(r"Task nudges\.tasks\.tick\[[^]]+\] raised unexpected: (.*)")
WORKER_READY = " ready."  # "worker-a@host ready." once it consumes
Phone = tuple[User, Subscription]


# --- The push service and the children's settings -----------------------------------


@pytest.fixture
def vapid_key(settings: Any) -> Iterator[str]:
    """A VAPID key made for this test, used here (to register devices, and for the key
    the stand-in expects) and handed to every child."""
    key = webpush.new_private_key()
    settings.WEBPUSH_VAPID_PRIVATE_KEY = key
    settings.WEBPUSH_ALLOW_HTTP = True
    settings.WEBPUSH_ENDPOINT_HOSTS = ["127.0.0.1"]
    yield key
    webpush._vapid.cache_clear()


@pytest.fixture
def push(vapid_key: str) -> Iterator[PushServiceStandIn]:
    """The stand-in, expecting the public key browsers subscribe with."""
    with PushServiceStandIn() as service:
        service.expect_public_key(webpush.public_key())
        yield service


def start(cluster: Cluster, role: str, name: str, key: str, **env: object) -> CeleryProcess:
    """A child that pushes to the stand-in on loopback, signing with `key`."""
    settings = {
        "WEBPUSH_ALLOW_HTTP": "1",
        "WEBPUSH_ENDPOINT_HOSTS": "127.0.0.1",
        "WEBPUSH_TIMEOUT": WEBPUSH_TIMEOUT,
        "WEBPUSH_VAPID_PRIVATE_KEY": key,
        "EMAIL_TIMEOUT": EMAIL_TIMEOUT,
        "NUDGE_LEASE_SECONDS": LEASE,
        **env,
    }
    return cluster.start(role, name, **settings)


def publish(url: str, *tasks: str) -> None:
    """Send these tasks (no arguments) to the broker at `url`, back to back."""
    with redis_at(url):
        for task in tasks:
            celery_app.send_task(task)


def delivers_done(worker: CeleryProcess) -> int:
    return len(DELIVER_DONE.findall(worker.output()))


def idle(workers: list[CeleryProcess]) -> bool:
    """Every task the workers took has ended."""
    logs = [worker.output() for worker in workers]
    return sum(len(TASK_RECEIVED.findall(log)) - len(TASK_ENDED.findall(log)) for log in logs) == 0


# --- Data -----------------------------------------------------------------------------


def phones(couples: int, push: PushServiceStandIn) -> list[Phone]:
    """People in `couples` couples (today's question ready, only question_ready on,
    not due), each with one browser subscribed at the stand-in and registered."""
    zone = zone_at(14)
    made: list[Phone] = []
    for _ in range(couples):
        first, second, _ = couple_with_question(zone)
        for person in (first, second):
            subscription = push.subscribe()
            device_register(
                user=person,
                endpoint=subscription.endpoint,
                p256dh=subscription.p256dh,
                auth=subscription.auth,
            )
            made.append((person, subscription))
    only([person for person, _ in made], Kind.QUESTION_READY)
    return made


def requests_to(push: PushServiceStandIn, subscription: Subscription) -> list[Received]:
    return [request for request in push.received if request.token == subscription.token]


def assert_pushed_once(cluster: Cluster, push: PushServiceStandIn, phones: list[Phone]) -> None:
    """Each phone took exactly one notification, decrypted and signed right; no request
    went anywhere else; each row is `sent` by push; no email went at all."""
    tokens = {subscription.token for _, subscription in phones}
    assert {request.token for request in push.received} == tokens
    for request in push.received:
        assert request.method == "POST"
        assert request.vapid_ok, request.problems
        assert request.problems == []
        assert request.payload is not None
        assert request.payload["tag"] == "nuzzle-question_ready"
    accepted = Counter(request.token for request in push.received if request.accepted)
    assert accepted == dict.fromkeys(tokens, 1)
    rows = Nudge.objects.filter(user__in=[person for person, _ in phones])
    assert sorted(rows.values_list("user_id", "status", "sent_via")) == sorted(
        (person.pk, Nudge.Status.SENT, "push") for person, _ in phones
    )
    assert cluster.smtp.messages == []


def all_sent(people: list[User]) -> bool:
    rows = Nudge.objects.filter(user__in=people)
    return rows.count() == len(people) and not rows.exclude(status=Nudge.Status.SENT)


# --- The scenarios --------------------------------------------------------------------


@logs_on_failure
def test_ticks_and_deliveries_racing_in_two_workers_push_each_nudge_exactly_once(
    cluster: Cluster, push: PushServiceStandIn, vapid_key: str
) -> None:
    """Two ticks and two deliveries at once, in two workers, claiming two rows at a time
    while the stand-in takes 0.2 s over each answer (so the workers' sends overlap),
    then all of it again: the claims and the at-most-once gate let each of 8 phones
    have one notification."""
    people = phones(4, push)
    for person, subscription in people:
        pending(person)
        push.respond(subscription, 201, delay=0.2)
    workers = [
        start(cluster, "worker", name, vapid_key, NUDGE_DELIVERY_BATCH=2)
        for name in ("worker-a", "worker-b")
    ]
    eventually(lambda: all(worker.count(WORKER_READY) for worker in workers), timeout=30)

    both = ("nudges.tasks.tick", "nudges.tasks.deliver") * 2
    publish(cluster.redis.url, *both)
    eventually(lambda: all_sent([person for person, _ in people]), timeout=30)
    # The same again once everything went: a rerun finds nothing to send.
    delivered = sum(delivers_done(worker) for worker in workers)
    publish(cluster.redis.url, *both)
    eventually(
        lambda: sum(ticks_done(worker) for worker in workers) >= 4
        and sum(delivers_done(worker) for worker in workers) >= delivered + 2
        and idle(workers),
        timeout=30,
    )

    assert_pushed_once(cluster, push, people)
    claims = [worker.count("nudge delivery: claimed") for worker in workers]
    assert all(claims), f"the two workers did not both deliver: claims {claims}"


@logs_on_failure
def test_two_beats_and_two_workers_plan_and_push_each_due_nudge_exactly_once(
    cluster: Cluster, push: PushServiceStandIn, vapid_key: str
) -> None:
    """The email fault test's race, by push: due schedule rows planned by ticks racing in
    two workers, fed by two beats, then delivered two rows a claim by both: one outbox
    row and one notification per phone."""
    people = phones(4, push)
    due = timezone.now() - timedelta(seconds=30)
    only([person for person, _ in people], Kind.QUESTION_READY, due_at=due)
    workers = [
        start(cluster, "worker", name, vapid_key, NUDGE_DELIVERY_BATCH=2)
        for name in ("worker-a", "worker-b")
    ]
    beats = [start(cluster, "beat", name, vapid_key) for name in ("beat-a", "beat-b")]

    def planned_and_sent() -> bool:
        for worker in workers:  # a tick that fails fails every time: say so at once
            failed = TICK_FAILED.search(worker.output())
            if failed:
                raise AssertionError(f"{worker.name}: a tick failed: {failed.group(1)}")
        return all_sent([person for person, _ in people])

    eventually(planned_and_sent, timeout=30)
    ticks = [beat.count(SENDING_TICK) for beat in beats]
    eventually(
        lambda: all(
            beat.count(SENDING_TICK) >= n + 3 for beat, n in zip(beats, ticks, strict=True)
        ),
        timeout=20,
    )

    assert_pushed_once(cluster, push, people)


@logs_on_failure
def test_a_worker_killed_while_pushing_never_pushes_a_nudge_twice(
    cluster: Cluster, push: PushServiceStandIn, vapid_key: str
) -> None:
    """The stand-in takes the first push and holds back its answer; the worker is killed
    while it waits. At most once: that row ends failed when its lease runs out and is
    never pushed again; the rows the dead worker had only claimed go to the next one."""
    people = phones(2, push)
    rows = [pending(person) for person, _ in people]  # sent in this order
    caught_person, caught = people[0]
    push.respond(caught, 201, times=1, delay=30.0)

    first_worker = start(cluster, "worker", "worker-a", vapid_key)
    start(cluster, "beat", "beat", vapid_key)
    [request] = push.wait_for(1, timeout=30)
    first_worker.kill()  # SIGKILL inside the POST: the answer never reaches it
    assert request.token == caught.token
    caught_row = Nudge.objects.get(user=caught_person)
    assert caught_row.status == Nudge.Status.SENDING  # it was caught in the act
    push.behave()
    second_worker = start(cluster, "worker", "worker-b", vapid_key)

    eventually(lambda: set(statuses(rows).values()) <= set(Nudge.TERMINAL), timeout=30)
    wait_for_ticks(second_worker, 2)

    caught_row.refresh_from_db()
    assert (caught_row.status, caught_row.reason) == (Nudge.Status.FAILED, INTERRUPTED)
    assert caught_row.sent_via == ""
    assert [r.status for r in requests_to(push, caught)] == [201]  # it reached the service
    others = people[1:]
    for _, subscription in others:
        assert len(requests_to(push, subscription)) == 1
        assert len(push.delivered(subscription)) == 1
    assert all(r.vapid_ok and r.payload is not None for r in push.received)
    assert sorted(
        Nudge.objects.filter(user__in=[p for p, _ in others]).values_list("status", "sent_via")
    ) == [(Nudge.Status.SENT, "push")] * len(others)
    assert len(push.received) == len(people)
    assert cluster.smtp.messages == []


@logs_on_failure
def test_a_push_service_answering_503_is_retried_and_the_nudge_arrives_once(
    cluster: Cluster, push: PushServiceStandIn, vapid_key: str
) -> None:
    """503 (with Retry-After) on the first push: nothing was delivered, so the row goes
    back to pending with back-off and is pushed again once, successfully; the partner's,
    answered 201 at once, goes once on the first try."""
    (busy, busy_phone), (calm, calm_phone) = phones(1, push)
    busy_row, calm_row = pending(busy), pending(calm)
    push.respond(busy_phone, 503, times=1, headers={"Retry-After": "1"})

    worker = start(cluster, "worker", "worker", vapid_key, NUDGE_RETRY_BACKOFF_SECONDS="1,1,1,1")
    start(cluster, "beat", "beat", vapid_key)
    eventually(
        lambda: statuses([busy_row, calm_row])
        == {busy_row.pk: Nudge.Status.SENT, calm_row.pk: Nudge.Status.SENT},
        timeout=30,
    )
    wait_for_ticks(worker, 2)

    assert [r.status for r in requests_to(push, busy_phone)] == [503, 201]
    assert [r.status for r in requests_to(push, calm_phone)] == [201]
    assert all(r.vapid_ok and r.problems == [] for r in push.received)
    assert len(push.delivered(busy_phone)) == len(push.delivered(calm_phone)) == 1
    busy_row.refresh_from_db()
    calm_row.refresh_from_db()
    assert (busy_row.attempts, busy_row.sent_via, busy_row.reason) == (1, "push", "")
    assert (calm_row.attempts, calm_row.sent_via) == (0, "push")
    assert cluster.smtp.messages == []


# --- Configuration ---------------------------------------------------------------------


def test_a_lease_the_system_check_accepts_lets_a_push_nudge_go(
    push: PushServiceStandIn, settings: Any
) -> None:
    """The email fault tests' EMAIL_TIMEOUT and lease with a short push timeout: either
    the system check refuses the settings, or a push row goes (no process needed)."""
    settings.EMAIL_TIMEOUT, settings.WEBPUSH_TIMEOUT, settings.NUDGE_LEASE_SECONDS = 3, 1.0, 11
    PromptFactory.create_batch(5)  # the question bank today's question comes from
    [(person, subscription), _] = phones(1, push)
    row = pending(person)

    errors = lease_outlasts_sends()
    started = time.monotonic()
    result = nudges_deliver(time_budget_seconds=1.0)
    spent = time.monotonic() - started

    row.refresh_from_db()
    assert errors or (row.status, result.sent) == (Nudge.Status.SENT, 1), (
        f"the check passed, yet after {spent:.1f} s of delivery the row is {row.status} "
        f"and the push service got {len(requests_to(push, subscription))} requests"
    )
