"""The push service stand-in (tests/pushservice.py) is only worth its green if it can
go red: pushes made with pywebpush and py_vapid, as the app makes them, arrive
decrypted and verified; each way of getting the protocol wrong is caught; programmed
answers come in order. No database: these run in well under a second."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid02  # type: ignore[import-untyped, unused-ignore]
from pywebpush import WebPusher  # type: ignore[import-untyped, unused-ignore]

from tests.pushservice import PushServiceStandIn, Subscription, b64url_decode, b64url_encode

NUDGE = {"kind": "question_ready", "title": "Today's question is ready", "url": "/today"}
SUB = "mailto:ops@example.com"
SHORT = 2.0  # seconds: every request here stays on loopback


@pytest.fixture
def push() -> Iterator[PushServiceStandIn]:
    with PushServiceStandIn() as service:
        yield service


@pytest.fixture
def vapid() -> Any:
    """The app's VAPID key, whose public half the stand-in expects."""
    return vapid_key()


def vapid_key() -> Any:
    key = Vapid02()
    key.generate_keys()
    return key


def public_key(key: Any) -> str:
    """The application server key as `GET /api/v1/push/key` gives it."""
    return b64url_encode(key.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))


def claims(push: PushServiceStandIn, **changes: Any) -> dict[str, Any]:
    return {"sub": SUB, "aud": push.base_url, "exp": int(time.time()) + 3600, **changes}


def send(
    subscription: Subscription,
    key: Any,
    signed: dict[str, Any],
    *,
    payload: dict[str, Any] = NUDGE,
    headers: dict[str, str] | None = None,
    timeout: float = SHORT,
) -> requests.Response:
    """A push as the app sends one: pywebpush encrypts, py_vapid signs."""
    response = WebPusher(subscription.as_json()).send(
        json.dumps(payload),
        {**key.sign(signed), "Urgency": "high", "Topic": "question-ready", **(headers or {})},
        ttl=3600,
        timeout=timeout,
    )
    assert isinstance(response, requests.Response)
    return response


def test_a_signed_encrypted_push_is_delivered(push, vapid):
    push.expect_public_key(public_key(vapid))
    subscription = push.subscribe()

    response = send(subscription, vapid, claims(push))

    assert response.status_code == 201
    assert response.headers["Location"].startswith(f"{push.base_url}/message/")
    [received] = push.received
    assert received.problems == []
    assert received.vapid_ok
    assert received.vapid_claims["sub"] == SUB
    assert received.vapid_claims["aud"] == push.base_url
    assert (received.ttl, received.urgency, received.topic) == (3600, "high", "question-ready")
    assert received.headers["content-encoding"] == "aes128gcm"
    assert received.payload == NUDGE
    assert push.delivered(subscription) == [NUDGE]


def test_subscriptions_look_like_a_browsers():
    with PushServiceStandIn() as push:
        one, two = push.subscribe(), push.subscribe()
    keys = one.as_json()["keys"]
    assert one.as_json()["endpoint"] == one.endpoint
    assert one.endpoint.startswith(f"{push.base_url}/push/")
    assert one.endpoint != two.endpoint
    assert len(b64url_decode(keys["p256dh"])) == 65
    assert b64url_decode(keys["p256dh"])[0] == 4  # uncompressed point
    assert len(b64url_decode(keys["auth"])) == 16
    assert "=" not in keys["p256dh"] + keys["auth"]


def test_a_push_signed_with_another_key_is_refused(push, vapid):
    push.expect_public_key(public_key(vapid))
    subscription = push.subscribe()

    response = send(subscription, vapid_key(), claims(push))

    assert response.status_code == 403
    [received] = push.received
    assert not received.vapid_ok
    assert any("application server key" in problem for problem in received.problems)
    assert received.payload == NUDGE  # it decrypted; it is still not delivered
    assert push.delivered(subscription) == []


def test_a_signature_that_does_not_match_its_key_is_refused(push, vapid):
    """k= names the expected key but another key signed: the signature is checked,
    not just the key compared."""
    push.expect_public_key(public_key(vapid))
    subscription = push.subscribe()
    impostor = vapid_key()
    forged = impostor.sign(claims(push))["Authorization"].replace(
        public_key(impostor), public_key(vapid)
    )

    response = send(subscription, impostor, claims(push), headers={"Authorization": forged})

    assert response.status_code == 403
    [received] = push.received
    assert not received.vapid_ok
    assert received.problems == ["JWT signature does not verify against k="]


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"aud": "https://fcm.googleapis.com"}, "aud"),
        ({"exp": int(time.time()) - 60}, "in the past"),
        ({"exp": int(time.time()) + 2 * 24 * 3600}, "more than 24 h"),
        ({"sub": "ops@example.com"}, "sub"),
    ],
    ids=["wrong-aud", "expired", "too-far-ahead", "sub-not-a-uri"],
)
def test_bad_claims_are_refused(push, vapid, changes, complaint):
    subscription = push.subscribe()
    signed = claims(push, **changes)
    key = Vapid02(vapid.private_key, conf={"no-strict": True})  # lets a bad `sub` through

    response = send(subscription, key, signed)

    assert response.status_code == 403
    [received] = push.received
    assert not received.vapid_ok
    assert len(received.problems) == 1
    assert complaint in received.problems[0]
    assert push.delivered(subscription) == []


def test_a_push_without_vapid_is_unauthorized(push):
    subscription = push.subscribe()

    response = WebPusher(subscription.as_json()).send(json.dumps(NUDGE), {}, ttl=60, timeout=SHORT)

    assert response.status_code == 401
    assert not push.received[0].vapid_ok


def test_a_tampered_body_is_not_delivered(push, vapid):
    subscription = push.subscribe()
    body = WebPusher(subscription.as_json()).encode(json.dumps(NUDGE).encode())["body"]
    tampered = body[:-1] + bytes([body[-1] ^ 1])

    response = requests.post(
        subscription.endpoint,
        data=tampered,
        headers={**vapid.sign(claims(push)), "Content-Encoding": "aes128gcm", "TTL": "60"},
        timeout=SHORT,
    )

    assert response.status_code == 400
    [received] = push.received
    assert received.vapid_ok
    assert received.payload is None
    assert any("cannot decrypt" in problem for problem in received.problems)
    assert push.delivered(subscription) == []


@pytest.mark.parametrize(
    ("headers", "complaint"),
    [
        ({"TTL": None}, "no TTL"),
        ({"TTL": "soon"}, "TTL"),
        ({"Urgency": "urgent"}, "Urgency"),
        ({"Topic": "question ready"}, "Topic"),
        ({"Topic": "q" * 33}, "Topic"),
        ({"Content-Encoding": "aesgcm"}, "aes128gcm"),
    ],
    ids=["no-ttl", "ttl-not-a-number", "unknown-urgency", "topic-space", "topic-long", "aesgcm"],
)
def test_bad_headers_are_refused(push, vapid, headers, complaint):
    subscription = push.subscribe()
    body = WebPusher(subscription.as_json()).encode(json.dumps(NUDGE).encode())["body"]
    sent = {**vapid.sign(claims(push)), "Content-Encoding": "aes128gcm", "TTL": "60", **headers}

    response = requests.post(
        subscription.endpoint,
        data=body,
        headers={name: value for name, value in sent.items() if value is not None},
        timeout=SHORT,
    )

    assert response.status_code == 400
    [received] = push.received
    assert received.vapid_ok
    assert len(received.problems) == 1
    assert complaint in received.problems[0]


def test_programmed_answers_come_in_order(push, vapid):
    subscription = push.subscribe()
    push.respond(subscription, 503, times=1, headers={"Retry-After": "120"})
    push.respond(subscription, 429, times=1)

    statuses = [send(subscription, vapid, claims(push)) for _ in range(3)]

    assert [r.status_code for r in statuses] == [503, 429, 201]
    assert statuses[0].headers["Retry-After"] == "120"
    assert [r.problems for r in push.received] == [[], [], []]  # answered as told
    assert push.delivered(subscription) == [NUDGE]


def test_a_standing_answer_holds_until_told_otherwise(push, vapid):
    subscription, other = push.subscribe(), push.subscribe()
    push.respond(subscription, 410)  # the user unsubscribed

    assert [send(subscription, vapid, claims(push)).status_code for _ in range(2)] == [410, 410]
    assert send(other, vapid, claims(push)).status_code == 201
    push.behave(subscription)
    assert send(subscription, vapid, claims(push)).status_code == 201
    assert push.delivered(subscription) == [NUDGE]


def test_an_unknown_endpoint_is_not_found(push, vapid):
    subscription = push.subscribe()
    gone = dataclasses.replace(subscription, endpoint=f"{push.base_url}/push/no-such-token")

    response = send(gone, vapid, claims(push))

    assert response.status_code == 404
    assert push.received[0].token == "no-such-token"
    assert push.delivered(subscription) == []


def test_a_late_answer_times_a_client_out(push, vapid):
    subscription = push.subscribe()
    push.respond(subscription, 201, times=1, delay=5.0)

    with pytest.raises(requests.exceptions.ReadTimeout):
        send(subscription, vapid, claims(push), timeout=0.2)

    # The message was taken before the answer was late: the sender cannot know.
    assert push.delivered(subscription) == [NUDGE]


def test_a_redirect_is_followed_with_a_get(push, vapid):
    """WebPusher.send leaves requests' allow_redirects on: after a 301 the client
    comes back with a GET and no body, which the stand-in records and refuses."""
    subscription, moved = push.subscribe(), push.subscribe()
    push.respond(subscription, 301, times=1, headers={"Location": moved.endpoint})

    response = send(subscription, vapid, claims(push))

    assert response.status_code == 405
    assert [r.method for r in push.received] == ["POST", "GET"]
    assert push.delivered(moved) == []


def test_wait_for_sees_a_push_from_another_thread(push, vapid):
    subscription = push.subscribe()
    assert push.wait_for(1, timeout=0.05) == []

    sender = threading.Thread(target=send, args=(subscription, vapid, claims(push)))
    sender.start()
    received = push.wait_for(1, timeout=SHORT)
    sender.join()

    assert [r.payload for r in received] == [NUDGE]
