"""A Web Push service on loopback for tests: it plays the browser vendor's push service
(RFC 8030) and checks what a real one would, and more, so a test fails when the app
gets the protocol wrong rather than when a phone stays silent.

    with PushServiceStandIn() as push:
        push.expect_public_key(key)            # as GET /api/v1/push/key gives it
        subscription = push.subscribe()        # what a browser hands the app
        subscription.as_json()                 # {"endpoint": ..., "keys": {...}}
        push.respond(subscription, 410)        # the user unsubscribed: always 410
        push.respond(subscription, 503, times=1, headers={"Retry-After": "30"})
        push.respond(subscription, 201, times=1, delay=2.0)   # answer late, once
        push.wait_for(1)                       # a worker in another process sends
        push.received[0].problems              # every way the request was wrong
        push.delivered(subscription)           # the JSON payloads it accepted

Each POST is decrypted with the subscription's keys (RFC 8291, aes128gcm) and its
VAPID header (RFC 8292) verified: signature, key, `aud`, `exp` and `sub`. Anything
wrong goes into `Received.problems` and the answer is what a real service would give:
401 without VAPID, 403 with bad VAPID, 413 over 4096 bytes, 400 for bad headers or a
body the browser could not decrypt; otherwise 201 Created. A programmed answer
(`respond`) wins over all of these, but the problems are still recorded.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import http_ece  # type: ignore[import-untyped, unused-ignore]
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

HOST = "127.0.0.1"
URGENCIES = ("very-low", "low", "normal", "high")  # RFC 8030 §5.3
TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")  # RFC 8030 §5.4
MAX_BODY = 4096  # RFC 8030 §7.2: the least a push service must accept
VAPID_LIFETIME = 24 * 60 * 60  # RFC 8292 §2: `exp` at most 24 hours ahead


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict: characters outside the base64url alphabet are an error, not skipped."""
    padded = text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4)
    return base64.b64decode(padded, altchars=b"-_", validate=True)


def uncompressed(public_key: ec.EllipticCurvePublicKey) -> bytes:
    return public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


@dataclass(frozen=True)
class Subscription:
    """What `PushManager.subscribe()` gives a browser; the stand-in keeps the private
    key, as the browser would, to decrypt what is pushed."""

    endpoint: str
    p256dh: str
    auth: str
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)

    @property
    def token(self) -> str:
        return self.endpoint.rsplit("/", 1)[-1]

    @property
    def auth_secret(self) -> bytes:
        return b64url_decode(self.auth)

    def as_json(self) -> dict[str, Any]:
        """`PushSubscription.toJSON()`: what the app's API receives."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


def make_subscription(endpoint: str) -> Subscription:
    """Fresh browser keys for `endpoint`, as `PushManager.subscribe()` makes them."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    return Subscription(
        endpoint=endpoint,
        p256dh=b64url_encode(uncompressed(private_key.public_key())),
        auth=b64url_encode(secrets.token_bytes(16)),
        private_key=private_key,
    )


def new_subscription(endpoint: str) -> dict[str, Any]:
    """A subscription's JSON (what the API receives) for an endpoint no stand-in serves."""
    return make_subscription(endpoint).as_json()


@dataclass(frozen=True)
class Received:
    """One request to the stand-in, and how it was answered."""

    method: str
    token: str
    status: int
    headers: dict[str, str]  # names in lower case
    ttl: int | None
    urgency: str | None
    topic: str | None
    payload: dict[str, Any] | None  # decrypted JSON
    vapid_ok: bool
    vapid_claims: dict[str, Any]
    problems: list[str]

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class _Answer:
    status: int
    headers: dict[str, str]
    delay: float
    times: int | None  # None: every time from now on


# The checks: each returns what it found and its problems (empty when all is well).


def check_vapid(
    authorization: str | None, *, audience: str, expected_key: bytes | None, now: float
) -> tuple[dict[str, Any], list[str]]:
    """RFC 8292: `vapid t=<ES256 JWT>, k=<public key>`. Returns the JWT's claims
    (whether or not the signature holds, for the test to look at) and the problems."""
    if not authorization:
        return {}, ["no Authorization header: VAPID required (RFC 8292 §3)"]
    scheme, _, rest = authorization.strip().partition(" ")
    if scheme.lower() != "vapid":
        return {}, [f"Authorization scheme {scheme!r}, not 'vapid' (RFC 8292 §3)"]
    params = {}
    for part in rest.split(","):
        name, _, value = part.partition("=")
        params[name.strip().lower()] = value.strip()
    token, key = params.get("t", ""), params.get("k", "")
    if not token or not key:
        return {}, [f"VAPID needs t= and k=, got {sorted(params)}"]

    problems = []
    try:
        raw_key = b64url_decode(key)
        public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw_key)
    except ValueError:
        return {}, ["k= is not a base64url uncompressed P-256 point"]
    if expected_key is not None and raw_key != expected_key:
        problems.append("k= is not the application server key the subscription was made with")

    parts = token.split(".")
    if len(parts) != 3:
        return {}, [*problems, "t= is not a JWT (three dot-separated parts)"]
    header, claims = _json_object(parts[0]), _json_object(parts[1])
    if header is None or claims is None:
        return claims or {}, [*problems, "t= has a header or claims that are not JSON objects"]
    if header.get("alg") != "ES256":
        problems.append(f"JWT alg {header.get('alg')!r}, not ES256")
    if not _signed_by(public_key, f"{parts[0]}.{parts[1]}".encode("ascii"), parts[2]):
        problems.append("JWT signature does not verify against k=")

    if claims.get("aud") != audience:
        problems.append(f"aud {claims.get('aud')!r}, not the endpoint's origin {audience!r}")
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        problems.append(f"exp {exp!r} is not a number")
    elif exp <= now:
        problems.append(f"exp is {now - exp:.0f} s in the past")
    elif exp > now + VAPID_LIFETIME:
        problems.append(f"exp is {exp - now:.0f} s ahead, more than 24 h (RFC 8292 §2)")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.startswith(("mailto:", "https:")):
        problems.append(f"sub {sub!r} is neither a mailto: nor an https: URI")
    return claims, problems


def _json_object(part: str) -> dict[str, Any] | None:
    try:
        value = json.loads(b64url_decode(part))
    except ValueError:  # bad base64 (binascii.Error), bad UTF-8 or bad JSON
        return None
    return value if isinstance(value, dict) else None


def _signed_by(public_key: ec.EllipticCurvePublicKey, signed: bytes, signature: str) -> bool:
    """JWS ES256 signatures are r || s, 32 bytes each (RFC 7518 §3.4), not DER."""
    try:
        raw = b64url_decode(signature)
    except ValueError:
        return False
    if len(raw) != 64:
        return False
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public_key.verify(der, signed, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def check_headers(headers: Mapping[str, str]) -> tuple[int | None, list[str]]:
    """TTL (required), Urgency and Topic (RFC 8030 §5.2–5.4). Returns the TTL."""
    problems = []
    ttl = None
    if "ttl" not in headers:
        problems.append("no TTL header (RFC 8030 §5.2 requires one)")
    elif headers["ttl"].strip().isdigit():
        ttl = int(headers["ttl"])
    else:
        problems.append(f"TTL {headers['ttl']!r} is not a whole number of seconds")
    if "urgency" in headers and headers["urgency"] not in URGENCIES:
        problems.append(f"Urgency {headers['urgency']!r} is not one of {URGENCIES}")
    if "topic" in headers and not TOPIC.fullmatch(headers["topic"]):
        problems.append(f"Topic {headers['topic']!r}: at most 32 base64url characters")
    return ttl, problems


def open_payload(
    body: bytes, content_encoding: str | None, subscription: Subscription
) -> tuple[dict[str, Any] | None, list[str]]:
    """Decrypt as the browser would (RFC 8291) and read the JSON the app sends."""
    if not body:
        return None, []  # a push without payload is allowed (RFC 8030 §5)
    if content_encoding != "aes128gcm":
        return None, [f"Content-Encoding {content_encoding!r}, not aes128gcm (RFC 8291 §4)"]
    problems = []
    if len(body) >= 21:
        # RFC 8188 header: salt (16), record size (4), key id length (1), key id.
        record_size, id_length = int.from_bytes(body[16:20], "big"), body[20]
        if id_length != 65:
            problems.append(f"key id of {id_length} bytes, not the sender's 65-byte key")
        if len(body) - 21 - id_length > record_size:
            problems.append("more than one record (RFC 8291 §4 allows one)")
    try:
        plaintext = http_ece.decrypt(
            body,
            private_key=subscription.private_key,
            auth_secret=subscription.auth_secret,
            version="aes128gcm",
        )
    except Exception as error:  # ECEException, or ValueError from a bad key id
        return None, [*problems, f"cannot decrypt the body: {error}"]
    try:
        payload = json.loads(plaintext)
    except ValueError:
        return None, [*problems, "the decrypted body is not JSON"]
    if not isinstance(payload, dict):
        return None, [*problems, "the decrypted body is not a JSON object"]
    return payload, problems


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a handler still waiting out a delay does not hold up exit

    def __init__(self, standin: PushServiceStandIn) -> None:
        super().__init__((HOST, 0), _Handler)
        self.standin = standin

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the client hung up (a timeout test); anything else shows as a failed test


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        self.server.standin._handle(self)

    # A client that follows a redirect with a GET, or uses a wrong method, is recorded
    # (and told 405) rather than answered 501 unseen.
    do_GET = do_PUT = do_DELETE = do_PATCH = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


class PushServiceStandIn:
    """A `ThreadingHTTPServer` on loopback with subscriptions, programmable answers and
    a record of every request (also a context manager)."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.host = HOST
        self.base_url = ""  # http://127.0.0.1:PORT once started: VAPID's `aud`
        self._clock = clock  # for `exp`; the test's clock unless told otherwise
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._closing = threading.Event()
        self._subscriptions: dict[str, Subscription] = {}
        self._queued: dict[str, deque[_Answer]] = {}
        self._standing: dict[str, _Answer] = {}
        self._received: list[Received] = []
        self._expected_key: bytes | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle

    def start(self) -> PushServiceStandIn:
        self._closing.clear()
        self._server = _Server(self)
        self.base_url = f"http://{self.host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closing.set()  # cut delays short
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> PushServiceStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # Setting up

    def subscribe(self) -> Subscription:
        """A new subscription with fresh keys, as a browser would make."""
        if not self.base_url:
            raise RuntimeError("start the push service stand-in first")
        token = secrets.token_urlsafe(24)
        subscription = make_subscription(f"{self.base_url}/push/{token}")
        with self._lock:
            self._subscriptions[token] = subscription
        return subscription

    def expect_public_key(self, key: str) -> None:
        """The application server key (base64url) that subscriptions were made with:
        VAPID's `k=` must be this one (RFC 8292 §4)."""
        raw = b64url_decode(key)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)  # or ValueError
        with self._lock:
            self._expected_key = raw

    def respond(
        self,
        subscription: Subscription,
        status: int,
        *,
        times: int | None = None,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next `times` requests for this endpoint with `status` (after
        `delay` seconds), in the order programmed; `times=None` sets the answer for
        every request after those, replacing any earlier standing answer."""
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for always)")
        answer = _Answer(status, dict(headers or {}), delay, times)
        with self._lock:
            if times is None:
                self._standing[subscription.token] = answer
            else:
                self._queued.setdefault(subscription.token, deque()).append(answer)

    def behave(self, subscription: Subscription | None = None) -> None:
        """Forget programmed answers (for one subscription, or all): answer as checked."""
        with self._lock:
            for answers in (self._queued, self._standing):
                if subscription is None:
                    answers.clear()
                else:
                    answers.pop(subscription.token, None)

    # What it received

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def delivered(self, subscription: Subscription) -> list[dict[str, Any]]:
        """The payloads accepted (2xx) for this subscription: what the phone shows."""
        return [
            r.payload
            for r in self.received
            if r.token == subscription.token and r.accepted and r.payload is not None
        ]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until at least `count` requests arrived (for tests with real workers)."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self._received) >= count, timeout)
            return list(self._received)

    # Serving (on the server's handler threads)

    def _next_answer(self, token: str) -> _Answer | None:
        queue = self._queued.get(token)
        if not queue:
            return self._standing.get(token)
        answer = queue[0]
        assert answer.times is not None
        answer.times -= 1
        if answer.times == 0:
            queue.popleft()
        return answer

    def _handle(self, request: _Handler) -> None:
        path = urlsplit(request.path).path
        token = path.removeprefix("/push/") if path.startswith("/push/") else ""
        headers = {name.lower(): value for name, value in request.headers.items()}
        try:
            body = request.rfile.read(int(headers.get("content-length") or 0))
        except ValueError:
            body = b""
        with self._lock:
            subscription = self._subscriptions.get(token)
            answer = self._next_answer(token) if subscription else None
            expected_key = self._expected_key

        claims, vapid_problems = check_vapid(
            headers.get("authorization"),
            audience=self.base_url,
            expected_key=expected_key,
            now=self._clock(),
        )
        ttl, header_problems = check_headers(headers)
        payload: dict[str, Any] | None = None
        payload_problems: list[str] = []
        if subscription is not None:
            payload, payload_problems = open_payload(
                body, headers.get("content-encoding"), subscription
            )
        if len(body) > MAX_BODY:
            payload_problems.append(f"body of {len(body)} bytes, over {MAX_BODY}")

        if subscription is None:
            status, problems = 404, [f"no subscription at {path}"]
        elif request.command != "POST":
            status, problems = 405, [f"{request.command}: push messages are POSTed"]
        elif vapid_problems:
            status, problems = (403 if "authorization" in headers else 401), []
        elif len(body) > MAX_BODY:
            status, problems = 413, []
        elif header_problems or payload_problems:
            status, problems = 400, []
        else:
            status, problems = 201, []
        problems += vapid_problems + header_problems + payload_problems
        if answer is not None:
            status = answer.status

        with self._arrived:
            self._received.append(
                Received(
                    method=request.command,
                    token=token,
                    status=status,
                    headers=headers,
                    ttl=ttl,
                    urgency=headers.get("urgency"),
                    topic=headers.get("topic"),
                    payload=payload,
                    vapid_ok=not vapid_problems,
                    vapid_claims=claims,
                    problems=problems,
                )
            )
            self._arrived.notify_all()
        # Late answers come after the message was taken, as with a slow real service.
        if answer is not None and answer.delay:
            self._closing.wait(answer.delay)
        self._reply(request, status, answer, problems)

    def _reply(
        self, request: _Handler, status: int, answer: _Answer | None, problems: list[str]
    ) -> None:
        extra = dict(answer.headers) if answer is not None else {}
        if status == 201:  # RFC 8030 §5: a Location for the push message resource
            extra.setdefault("Location", f"{self.base_url}/message/{secrets.token_urlsafe(8)}")
        text = "" if answer is not None or status < 300 else "\n".join(problems)
        content = text.encode()
        try:
            request.send_response(status)
            for name, value in extra.items():
                request.send_header(name, value)
            request.send_header("Content-Type", "text/plain; charset=utf-8")
            request.send_header("Content-Length", str(len(content)))
            request.end_headers()
            request.wfile.write(content)
        except ConnectionError:
            pass  # the client gave up waiting
