"""Nudges as Web Push notifications, against the local push service stand-in
(tests/pushservice.py), which decrypts each push (RFC 8291) and verifies its VAPID
signature (RFC 8292) against the key `GET /api/v1/push/key` hands browsers.

Where a nudge goes (a device and the default choice: push only; `both`; `email`; push
with no device: email), what it says (names and counts, never anyone's words), what
each answer of the push service means for the device and the row (gone → forgotten and
email instead in the same row; busy → retried once, later; a redirect → never
followed; too slow → never sent twice), that the server never POSTs to a listed name
that resolves to loopback, and that quiet hours, pauses, switched-off kinds and the
daily cap hold for push exactly as for email. Clock frozen throughout."""

from __future__ import annotations

import base64
import functools
import json
import secrets
import socket
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from nuzzle.couples.models import User
from nuzzle.nudges import webpush
from nuzzle.nudges.channels import push as push_channel
from nuzzle.nudges.delivery import nudges_deliver
from nuzzle.nudges.kinds import SPECS, Context, Kind, Recipient
from nuzzle.nudges.models import Nudge, NudgePreferences, NudgeSchedule, PushDevice
from nuzzle.nudges.planning import nudges_tick
from nuzzle.nudges.policy import retry_policy
from nuzzle.nudges.services import device_register, preferences_update
from prompts.services import daily_question_ensure, question_answer
from tests.factories import PromptFactory, couple_of, new_user
from tests.nudges import helpers
from tests.nudges.helpers import everyone, fresh, only_checks
from tests.pushservice import PushServiceStandIn, Received, Subscription, make_subscription

pytestmark = pytest.mark.django_db

# 19:00 in London (BST): the default nudge time, outside the default quiet hours.
NOW = datetime(2026, 6, 10, 18, 0, tzinfo=UTC)
outbox = functools.partial(helpers.outbox, at=NOW)
MORNING = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)  # 09:00 London, the same local day
# Seconds: WEBPUSH_TIMEOUT in the one test about a slow service, so a late answer costs
# under a second. Everywhere else it stays generous: on a busy machine an ordinary
# answer can take longer than this, and would read as a timeout.
TIMEOUT = 0.4
PAYLOAD_KEYS = {"title", "body", "url", "tag"}


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def partner_answered(recipients: Sequence[Recipient], now: datetime) -> dict[int, Context]:
    """Everyone is eligible, and their partner has answered (not yet revealed)."""
    return {r.user_id: {"partner_answered": True, "revealed": False} for r in recipients}


@pytest.fixture
def checks() -> Iterator[None]:
    """Everyone is eligible for the two question kinds."""
    with only_checks(question_ready=partner_answered, partner_answered=partner_answered):
        yield


@pytest.fixture
def emails(settings) -> list[Any]:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    return mail.outbox


@pytest.fixture
def own_key(settings, tmp_path) -> Iterator[None]:
    """A fresh server key per test (in tmp_path), so nothing depends on var/."""
    settings.WEBPUSH_VAPID_PRIVATE_KEY = ""
    settings.WEBPUSH_VAPID_KEY_FILE = tmp_path / "webpush-vapid.pem"
    webpush._vapid.cache_clear()
    yield
    webpush._vapid.cache_clear()


@pytest.fixture
def push(settings, own_key, emails) -> Iterator[PushServiceStandIn]:
    """The stand-in on loopback, expecting the server's own VAPID key as browsers get it."""
    settings.WEBPUSH_ALLOW_HTTP = True
    settings.WEBPUSH_ENDPOINT_HOSTS = ["127.0.0.1"]
    settings.WEBPUSH_TIMEOUT = 10.0
    with PushServiceStandIn() as service:
        response = APIClient().get("/api/v1/push/key")
        assert response.status_code == 200
        service.expect_public_key(response.json()["public_key"])
        yield service


def device_for(user: User, service: PushServiceStandIn) -> tuple[Subscription, PushDevice]:
    """A browser of `user` subscribed at the stand-in, registered as the API would."""
    subscription = service.subscribe()
    device, created = device_register(
        user=user,
        endpoint=subscription.endpoint,
        p256dh=subscription.p256dh,
        auth=subscription.auth,
        name="Phone",
    )
    assert created
    return subscription, device


def mail_to(user: User) -> list[Any]:
    return [message for message in mail.outbox if message.to == [user.email]]


def assert_well_formed(received: Received, kind: Kind, settings: Any) -> None:
    """What a real push service and the service worker need, and nothing more."""
    assert received.method == "POST"
    assert received.vapid_ok, received.problems
    assert received.problems == []
    assert received.ttl == settings.WEBPUSH_TTL_SECONDS
    assert received.urgency == "normal"
    assert received.topic == kind.value
    assert received.payload is not None
    assert set(received.payload) == PAYLOAD_KEYS
    assert received.payload["url"] == reverse(SPECS[kind].deep_link)
    assert received.payload["tag"] == f"nuzzle-{kind.value}"
    assert all(isinstance(value, str) and value for value in received.payload.values())


# --- Where a nudge goes -----------------------------------------------------------


def test_a_person_with_a_device_gets_one_push_and_no_email_by_default(
    push, checks, clock, settings
):
    robin = new_user(display_name="Robin")
    couple_of(robin, new_user(display_name="Sam"))
    subscription, device = device_for(robin, push)
    nudge = outbox(robin)

    result = nudges_deliver()

    assert (result.sent, result.retried, result.failed, result.skipped) == (1, 0, 0, 0)
    (received,) = push.received
    assert received.token == subscription.token
    assert received.status == 201
    assert_well_formed(received, Kind.QUESTION_READY, settings)
    assert received.payload == {
        "title": "Today's question for you and Sam is here",
        "body": "Sam has answered; theirs stays sealed until you write yours.",
        "url": reverse("question"),
        "tag": "nuzzle-question_ready",
    }
    assert mail.outbox == []
    nudge = fresh(nudge)
    assert nudge.status == Nudge.Status.SENT
    assert nudge.sent_via == "push"
    assert nudge.sent_at == NOW
    assert PushDevice.objects.filter(pk=device.pk).exists()

    # Delivery run again (a second worker, a redelivered task) sends nothing more.
    assert nudges_deliver().sent == 0
    clock.shift(timedelta(minutes=30))
    assert nudges_deliver().sent == 0
    assert len(push.received) == 1
    assert mail.outbox == []


def test_the_tick_plans_once_and_delivery_pushes_once_however_often_each_runs(
    push, clock, settings
):
    clock.move_to(MORNING, tick=False)
    robin = new_user(display_name="Robin")
    couple_of(robin, new_user(display_name="Sam"))
    subscription, _ = device_for(robin, push)
    kinds = {kind.value: kind == Kind.QUESTION_READY for kind in Kind}
    preferences_update(user=robin, kinds=kinds, now=MORNING)
    clock.move_to(NOW, tick=False)

    with only_checks(question_ready=everyone):
        for _ in range(2):
            nudges_tick(now=NOW)
            nudges_deliver()
        clock.shift(timedelta(minutes=5))
        nudges_tick()
        nudges_deliver()

    (nudge,) = Nudge.objects.filter(user=robin)
    assert (nudge.kind, nudge.status, nudge.sent_via) == (Kind.QUESTION_READY, "sent", "push")
    (payload,) = push.delivered(subscription)
    assert payload["url"] == reverse("question")
    assert_well_formed(push.received[0], Kind.QUESTION_READY, settings)
    assert len(push.received) == 1
    assert mail_to(robin) == []
    assert len(mail.outbox) == 1  # Sam, with no device, by email: once as well


def test_both_channels_send_one_push_and_one_email_in_one_row(push, checks, clock, settings):
    robin = new_user()
    subscription, _ = device_for(robin, push)
    assert push.delivered(subscription) == []
    preferences_update(user=robin, channels="both")
    nudge = outbox(robin, Kind.PARTNER_ANSWERED)

    assert nudges_deliver().sent == 1

    (received,) = push.received
    assert_well_formed(received, Kind.PARTNER_ANSWERED, settings)
    assert len(mail_to(robin)) == 1
    assert len(mail.outbox) == 1
    nudge = fresh(nudge)
    assert (nudge.status, nudge.sent_via) == (Nudge.Status.SENT, "push,email")
    assert nudges_deliver().sent == 0
    assert (len(push.received), len(mail.outbox)) == (1, 1)


def test_email_chosen_sends_no_push_even_with_a_device(push, checks, clock):
    robin = new_user()
    device_for(robin, push)
    preferences_update(user=robin, channels="email")
    nudge = outbox(robin)

    assert nudges_deliver().sent == 1

    assert push.received == []
    assert len(mail_to(robin)) == 1
    assert fresh(nudge).sent_via == "email"


@pytest.mark.parametrize("choice", ["push", "auto"])
def test_push_with_no_device_comes_by_email(push, checks, clock, choice):
    robin = new_user()
    preferences_update(user=robin, channels=choice)
    nudge = outbox(robin)

    assert nudges_deliver().sent == 1

    assert push.received == []
    assert len(mail_to(robin)) == 1
    assert fresh(nudge).sent_via == "email"


def test_every_device_gets_the_push_and_the_row_is_sent_once(push, checks, clock, settings):
    robin = new_user()
    phone, _ = device_for(robin, push)
    laptop, _ = device_for(robin, push)
    nudge = outbox(robin)

    assert nudges_deliver().sent == 1

    assert len(push.delivered(phone)) == 1
    assert len(push.delivered(laptop)) == 1
    assert push.delivered(phone) == push.delivered(laptop)
    for received in push.received:
        assert_well_formed(received, Kind.QUESTION_READY, settings)
    assert fresh(nudge).sent_via == "push"
    assert mail.outbox == []


def test_each_person_gets_only_their_own_push(push, checks, clock):
    robin, kit = new_user(), new_user()
    robins, _ = device_for(robin, push)
    kits, _ = device_for(kit, push)
    outbox(robin)

    assert nudges_deliver().sent == 1

    assert len(push.delivered(robins)) == 1
    assert push.delivered(kits) == []


# --- What the push service's answer means -----------------------------------------


@pytest.mark.parametrize("status", [403, 404, 410])
def test_a_gone_subscription_is_forgotten_and_the_nudge_comes_by_email_in_the_same_row(
    push, checks, clock, status
):
    robin = new_user()
    subscription, device = device_for(robin, push)
    push.respond(subscription, status)
    nudge = outbox(robin)

    result = nudges_deliver()

    assert (result.sent, result.retried, result.failed) == (1, 0, 0)
    assert len(push.received) == 1
    assert not PushDevice.objects.filter(pk=device.pk).exists()
    assert len(mail_to(robin)) == 1
    nudge = fresh(nudge)
    assert (nudge.status, nudge.sent_via, nudge.attempts) == (Nudge.Status.SENT, "email", 0)
    # The next nudge goes straight to email: no device is left to try.
    assert nudges_deliver().sent == 0
    assert len(push.received) == 1


@pytest.mark.parametrize("choice", ["auto", "push"])
def test_a_second_nudge_in_the_batch_after_the_last_device_went_comes_by_email_too(
    push, checks, clock, choice
):
    robin = new_user()
    preferences_update(user=robin, daily_cap=2, channels=choice)
    subscription, device = device_for(robin, push)
    push.respond(subscription, 410)
    first = outbox(robin, Kind.QUESTION_READY)
    second = outbox(robin, Kind.PARTNER_ANSWERED)

    nudges_deliver()

    assert len(push.received) == 1  # the device is gone after the first
    assert not PushDevice.objects.filter(pk=device.pk).exists()
    assert (fresh(first).status, fresh(first).sent_via) == (Nudge.Status.SENT, "email")
    assert (fresh(second).status, fresh(second).sent_via) == (Nudge.Status.SENT, "email")
    assert len(mail_to(robin)) == 2


def test_a_second_nudge_in_a_later_batch_after_the_last_device_went_comes_by_email(
    push, checks, clock
):
    robin = new_user()
    preferences_update(user=robin, daily_cap=2)
    subscription, _ = device_for(robin, push)
    push.respond(subscription, 410)
    first = outbox(robin, Kind.QUESTION_READY)
    second = outbox(robin, Kind.PARTNER_ANSWERED)

    assert nudges_deliver(batch_size=1).sent == 2

    assert len(push.received) == 1
    assert [fresh(first).sent_via, fresh(second).sent_via] == ["email", "email"]
    assert len(mail_to(robin)) == 2


def test_both_with_a_gone_subscription_sends_one_email_not_two(push, checks, clock):
    robin = new_user()
    subscription, device = device_for(robin, push)
    push.respond(subscription, 410)
    preferences_update(user=robin, channels="both")
    nudge = outbox(robin)

    assert nudges_deliver().sent == 1

    assert len(mail_to(robin)) == 1
    assert not PushDevice.objects.filter(pk=device.pk).exists()
    assert fresh(nudge).sent_via == "email"


def test_one_gone_device_among_working_ones_is_forgotten_without_any_email(push, checks, clock):
    robin = new_user()
    old, _ = device_for(robin, push)
    new, new_device = device_for(robin, push)
    push.respond(old, 410)
    nudge = outbox(robin)

    assert nudges_deliver().sent == 1

    assert len(push.delivered(new)) == 1
    assert push.delivered(old) == []
    assert list(PushDevice.objects.filter(user=robin)) == [new_device]
    assert mail.outbox == []
    assert fresh(nudge).sent_via == "push"


@pytest.mark.parametrize(
    "status",
    [
        200,
        201,
        202,
        204,
    ],
)
def test_any_2xx_from_the_push_service_means_delivered(push, checks, clock, status):
    robin = new_user()
    subscription, _ = device_for(robin, push)
    push.respond(subscription, status)
    nudge = outbox(robin)

    assert nudges_deliver().sent == 1

    nudge = fresh(nudge)
    assert (nudge.status, nudge.sent_via) == (Nudge.Status.SENT, "push")
    assert len(push.received) == 1
    assert mail.outbox == []


@pytest.mark.parametrize("status", [400, 413])
def test_a_push_the_service_refuses_fails_the_row_and_keeps_the_device(push, checks, clock, status):
    robin = new_user()
    subscription, device = device_for(robin, push)
    push.respond(subscription, status)
    nudge = outbox(robin)

    assert nudges_deliver().failed == 1

    nudge = fresh(nudge)
    assert nudge.status == Nudge.Status.FAILED
    assert str(status) in nudge.reason
    assert PushDevice.objects.filter(pk=device.pk).exists()
    clock.shift(timedelta(hours=1))
    assert nudges_deliver().sent == 0
    assert len(push.received) == 1


@pytest.mark.parametrize("status", [429, 500, 503])
def test_a_busy_push_service_puts_the_row_back_and_a_later_run_pushes_it_once(
    push, checks, clock, status
):
    robin = new_user()
    subscription, device = device_for(robin, push)
    push.respond(subscription, status, times=1, headers={"Retry-After": "30"})
    nudge = outbox(robin)

    result = nudges_deliver()

    assert (result.sent, result.retried) == (0, 1)
    nudge = fresh(nudge)
    assert nudge.status == Nudge.Status.PENDING
    assert nudge.attempts == 1
    assert nudge.next_attempt_at == NOW + retry_policy().waits[0]
    assert str(status) in nudge.reason
    assert PushDevice.objects.filter(pk=device.pk).exists()
    assert mail.outbox == []  # busy is not gone: no email instead

    assert nudges_deliver().sent == 0  # not due again yet
    assert len(push.received) == 1
    clock.shift(retry_policy().waits[0])
    assert nudges_deliver().sent == 1

    nudge = fresh(nudge)
    assert (nudge.status, nudge.sent_via, nudge.attempts) == (Nudge.Status.SENT, "push", 1)
    assert len(push.delivered(subscription)) == 1
    assert len(push.received) == 2
    assert mail.outbox == []
    clock.shift(timedelta(minutes=30))
    assert nudges_deliver().sent == 0
    assert len(push.received) == 2


def test_a_row_one_device_took_is_not_retried_for_a_busy_one(push, checks, clock):
    robin = new_user()
    busy, _ = device_for(robin, push)
    fine, _ = device_for(robin, push)
    push.respond(busy, 503)
    nudge = outbox(robin)

    assert nudges_deliver().sent == 1
    clock.shift(timedelta(hours=1))
    assert nudges_deliver().sent == 0

    assert len(push.delivered(fine)) == 1
    assert len([r for r in push.received if r.token == busy.token]) == 1
    assert fresh(nudge).status == Nudge.Status.SENT


def test_both_with_a_busy_push_service_is_sent_by_email_and_never_retried(push, checks, clock):
    robin = new_user()
    subscription, _ = device_for(robin, push)
    push.respond(subscription, 503)
    preferences_update(user=robin, channels="both")
    nudge = outbox(robin)

    assert nudges_deliver().sent == 1
    clock.shift(timedelta(hours=1))
    assert nudges_deliver().sent == 0

    assert len(mail_to(robin)) == 1
    assert len(push.received) == 1
    assert fresh(nudge).sent_via == "email"


def test_a_push_service_that_keeps_failing_ends_the_row_failed_after_the_last_try(
    push, checks, clock
):
    robin = new_user()
    subscription, _ = device_for(robin, push)
    push.respond(subscription, 503)
    nudge = outbox(robin)
    tries = retry_policy().max_attempts

    for attempt in range(1, tries + 1):
        nudges_deliver()
        nudge = fresh(nudge)
        assert nudge.attempts == attempt
        if attempt < tries:
            assert nudge.next_attempt_at is not None
            clock.move_to(nudge.next_attempt_at, tick=False)

    assert nudge.status == Nudge.Status.FAILED
    assert nudge.reason.startswith(f"gave up after {tries} tries")
    assert nudge.next_attempt_at is None
    assert len(push.received) == tries
    assert mail.outbox == []  # busy every time is not gone: no email instead
    clock.shift(timedelta(hours=2))
    assert nudges_deliver().sent == 0
    assert len(push.received) == tries


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_never_followed_and_the_device_is_forgotten(push, checks, clock, status):
    robin = new_user()
    subscription, device = device_for(robin, push)
    elsewhere = push.subscribe()  # another endpoint the redirect points at
    push.respond(subscription, status, headers={"Location": elsewhere.endpoint})
    nudge = outbox(robin)

    assert nudges_deliver().sent == 1

    assert [r.token for r in push.received] == [subscription.token]
    assert not PushDevice.objects.filter(pk=device.pk).exists()
    assert len(mail_to(robin)) == 1  # no device left: email instead, in the same row
    assert fresh(nudge).sent_via == "email"


def test_a_push_service_too_slow_to_answer_fails_the_row_and_it_is_never_sent_twice(
    push, checks, clock, settings
):
    settings.WEBPUSH_TIMEOUT = TIMEOUT
    robin = new_user()
    subscription, device = device_for(robin, push)
    # It takes the message, then answers after the timeout: it may well have arrived.
    push.respond(subscription, 201, times=1, delay=TIMEOUT * 2)
    nudge = outbox(robin)

    result = nudges_deliver()

    assert (result.sent, result.retried, result.failed) == (0, 0, 1)
    nudge = fresh(nudge)
    assert nudge.status == Nudge.Status.FAILED
    assert "may have arrived" in nudge.reason
    assert PushDevice.objects.filter(pk=device.pk).exists()
    assert mail.outbox == []
    clock.shift(timedelta(minutes=30))
    assert nudges_deliver().sent == 0
    assert len(push.received) == 1


def test_a_push_service_that_cannot_be_reached_is_retried(push, checks, clock, settings):
    robin = new_user()
    _, device = device_for(robin, push)
    push.stop()  # nothing listens on its port any more
    nudge = outbox(robin)

    assert nudges_deliver().retried == 1

    nudge = fresh(nudge)
    assert (nudge.status, nudge.attempts) == (Nudge.Status.PENDING, 1)
    assert PushDevice.objects.filter(pk=device.pk).exists()
    assert mail.outbox == []


# --- Where the server will POST ---------------------------------------------------


def test_a_listed_name_that_resolves_to_loopback_is_never_posted_to(
    push, checks, clock, settings, monkeypatch
):
    settings.WEBPUSH_ALLOW_HTTP = False
    settings.WEBPUSH_ENDPOINT_HOSTS = ["push.example.net"]
    robin = new_user()
    browser = make_subscription(f"https://push.example.net/push/{secrets.token_urlsafe(16)}")
    device, _ = device_register(
        user=robin, endpoint=browser.endpoint, p256dh=browser.p256dh, auth=browser.auth
    )
    real_getaddrinfo = socket.getaddrinfo

    def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "push.example.net":  # a listed name pointed at this very machine
            return real_getaddrinfo("127.0.0.1", port, *args, **kwargs)
        return real_getaddrinfo(host, port, *args, **kwargs)

    posted: list[str] = []

    def record(self: Any, request: Any, **kwargs: Any) -> Any:
        posted.append(request.url)
        raise requests.ConnectionError("this test lets no request out")

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", record)
    nudge = outbox(robin)

    assert nudges_deliver().sent == 1

    assert posted == []
    assert push.received == []
    assert not PushDevice.objects.filter(pk=device.pk).exists()
    assert len(mail_to(robin)) == 1
    assert fresh(nudge).sent_via == "email"


def test_an_endpoint_on_a_host_no_longer_listed_is_forgotten_unposted(
    push, checks, clock, settings
):
    robin = new_user()
    _, device = device_for(robin, push)
    settings.WEBPUSH_ENDPOINT_HOSTS = ["push.example.net"]  # the operator took it off
    nudge = outbox(robin)

    assert nudges_deliver().sent == 1

    assert push.received == []
    assert not PushDevice.objects.filter(pk=device.pk).exists()
    assert fresh(nudge).sent_via == "email"


def test_keys_sent_with_base64_padding_still_encrypt_for_the_browser(push, checks, clock):
    robin = new_user()
    subscription = push.subscribe()
    device_register(
        user=robin,
        endpoint=subscription.endpoint,
        p256dh=subscription.p256dh + "=" * (-len(subscription.p256dh) % 4),
        auth=subscription.auth + "==",
    )
    outbox(robin)

    assert nudges_deliver().sent == 1

    (received,) = push.received
    assert received.problems == []
    assert len(push.delivered(subscription)) == 1


def vapid_claims(endpoint: str) -> dict[str, Any]:
    session = push_channel.PushSession()
    try:
        authorization = session._vapid_headers(endpoint)["Authorization"]
    finally:
        session.close()
    token = authorization.split("t=", 1)[1].split(",", 1)[0]
    claims = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4))))


def test_the_vapid_claims_name_the_endpoint_s_origin_and_expire_within_a_day(
    own_key, settings, clock
):
    settings.WEBPUSH_VAPID_SUBJECT = "mailto:ops@example.com"
    claims = vapid_claims("https://fcm.googleapis.com/fcm/send/abc")
    assert claims["aud"] == "https://fcm.googleapis.com"
    assert claims["sub"] == "mailto:ops@example.com"
    assert NOW.timestamp() < claims["exp"] <= NOW.timestamp() + 24 * 3600


@pytest.mark.parametrize(
    "endpoint",
    ["https://fcm.googleapis.com:443/fcm/send/abc", "https://FCM.GoogleAPIs.com/fcm/send/abc"],
)
def test_the_vapid_audience_is_the_origin_however_the_endpoint_spells_it(own_key, clock, endpoint):
    assert vapid_claims(endpoint)["aud"] == "https://fcm.googleapis.com"


# --- The same rules as email ------------------------------------------------------


def test_a_push_that_would_land_in_quiet_hours_is_skipped(push, checks, time_machine):
    robin = new_user()  # quiet hours 22:00–08:00 London
    device_for(robin, push)
    planned = datetime(2026, 6, 10, 20, 50, tzinfo=UTC)  # 21:50 local
    nudge = outbox(robin, at=planned)
    time_machine.move_to(planned + timedelta(minutes=15), tick=False)  # 22:05 local

    assert nudges_deliver().skipped == 1

    nudge = fresh(nudge)
    assert nudge.status == Nudge.Status.SKIPPED
    assert "quiet hours" in nudge.reason
    assert push.received == []
    assert mail.outbox == []


def test_a_switched_off_kind_and_a_pause_stop_pushes_too(push, checks, clock):
    switched, paused = new_user(), new_user()
    NudgeSchedule.objects.filter(user=switched, kind=Kind.QUESTION_READY).update(enabled=False)
    NudgePreferences.objects.filter(user=paused).update(paused_until=NOW.date())
    rows = {who.pk: outbox(who) for who in (switched, paused)}
    for who in (switched, paused):
        device_for(who, push)

    assert nudges_deliver().skipped == 2

    assert "switched off" in fresh(rows[switched.pk]).reason
    assert "paused" in fresh(rows[paused.pk]).reason
    assert push.received == []
    assert mail.outbox == []


def test_someone_no_longer_eligible_gets_no_push(push, clock):
    robin = new_user()
    device_for(robin, push)
    nudge = outbox(robin)

    with only_checks(question_ready=lambda recipients, now: {}):
        assert nudges_deliver().skipped == 1

    assert "no longer needed" in fresh(nudge).reason
    assert push.received == []


def test_the_daily_cap_holds_for_push_as_for_email(push, clock):
    clock.move_to(MORNING, tick=False)
    robin = new_user()
    subscription, _ = device_for(robin, push)
    kinds = {kind.value: kind in (Kind.QUESTION_READY, Kind.CHECKIN_REMINDER) for kind in Kind}
    preferences_update(user=robin, kinds=kinds, daily_cap=1, now=MORNING)
    clock.move_to(NOW, tick=False)

    with only_checks(question_ready=everyone, checkin_reminder=everyone):
        nudges_tick(now=NOW)
        nudges_deliver()
        clock.shift(timedelta(hours=1))
        nudges_tick()
        nudges_deliver()

    sent = Nudge.objects.filter(user=robin, status=Nudge.Status.SENT)
    assert [(n.kind, n.sent_via) for n in sent] == [(Kind.QUESTION_READY, "push")]
    assert len(push.delivered(subscription)) == 1
    assert mail.outbox == []


def test_a_pause_planned_by_the_tick_sends_no_push(push, clock):
    clock.move_to(MORNING, tick=False)
    robin = new_user()
    device_for(robin, push)
    kinds = {kind.value: kind == Kind.QUESTION_READY for kind in Kind}
    preferences_update(user=robin, kinds=kinds, paused_until=NOW.date(), now=MORNING)
    clock.move_to(NOW, tick=False)

    with only_checks(question_ready=everyone):
        nudges_tick(now=NOW)
        nudges_deliver()

    assert not Nudge.objects.filter(user=robin, status=Nudge.Status.SENT).exists()
    assert push.received == []


# --- Names and counts only --------------------------------------------------------


def test_pushes_about_answers_never_carry_the_answer(push, time_machine, settings):
    """Real eligibility checks: Sam answers today's question with a unique marker; Robin
    is pushed that Sam answered (an event) and that the question is waiting (at 19:00).
    Not one decrypted payload contains the marker."""
    marker = f"mk-{secrets.token_hex(8)}"
    time_machine.move_to(MORNING, tick=False)
    robin = new_user(display_name="Robin")
    sam = new_user(display_name="Sam")
    couple_of(robin, sam)
    for _ in range(3):
        PromptFactory()
    preferences_update(user=robin, daily_cap=2, now=MORNING)
    subscription, _ = device_for(robin, push)
    question = daily_question_ensure(user=sam)
    assert question is not None
    question_answer(user=sam, question_id=question.pk, text=f"{marker} and a long walk")

    for at in (MORNING + timedelta(minutes=30), NOW, NOW + timedelta(minutes=5)):
        time_machine.move_to(at, tick=False)
        nudges_tick(now=at)
        nudges_deliver(now=at)

    pushed = push.delivered(subscription)
    kinds_pushed = {received.topic for received in push.received}
    assert kinds_pushed == {Kind.PARTNER_ANSWERED.value, Kind.QUESTION_READY.value}
    assert len(pushed) == 2
    for received in push.received:
        assert received.topic is not None
        assert_well_formed(received, Kind(received.topic), settings)
    assert any("Sam" in json.dumps(payload) for payload in pushed)  # names are fine
    for received in push.received:
        assert marker not in json.dumps(received.payload)
        assert marker not in json.dumps(received.headers)
    for nudge in Nudge.objects.filter(user=robin):
        assert marker not in json.dumps(nudge.context)
