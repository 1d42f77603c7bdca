"""The Web Push channel: one notification per outbox row, to each of the person's
devices.

A message is a small JSON (`title`, `body`, `url`, `tag`) that the service worker
(templates/sw.js) shows. It is rendered from the kind's templates with names and counts
only (`base.clean_context`), encrypted for each device per RFC 8291 (`aes128gcm`) and
signed with the server's VAPID key (RFC 8292) by pywebpush. Headers: `TTL` (a nudge
is only useful on its day), `Urgency` and a `Topic` per kind, so a newer nudge of a
kind replaces an older one the device has not shown yet.

What the push service's answer means for a device, and for the row:

- 2xx: delivered. One device that took it makes the row `sent`.
- 404, 410 (the subscription is gone), 403 (made for another VAPID key), a redirect
  (never followed), or an endpoint no longer allowed: that device is forgotten.
- 429, 5xx, or no connection at all: temporary — the row is retried after the back-off
  when no device took it.
- A timeout after the request went: the service may have taken it. At most once: not
  retried (as with SMTP once DATA has begun).

When every device of the person is gone, the answer says so (`no_device`) and delivery
sends the row by email instead, in the same row.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from pywebpush import WebPusher
from urllib3.exceptions import NewConnectionError

from nuzzle.nudges import webpush
from nuzzle.nudges.channels.base import Addressee, Device, Outcome, message_values
from nuzzle.nudges.kinds import SPECS
from nuzzle.nudges.models import Nudge

logger = logging.getLogger(__name__)

VAPID_LIFETIME = 12 * 3600  # seconds a signature is valid (RFC 8292: at most 24 h)
GONE = (403, 404, 410)


@dataclass(frozen=True)
class PushMessage:
    devices: tuple[Device, ...]
    payload: dict[str, str]
    topic: str
    urgency: str = "normal"


def payload(
    row: Nudge, addressee: Addressee, context: dict[str, Any] | None = None
) -> dict[str, str]:
    """What the service worker shows for one row: names and counts only."""
    values = message_values(row, addressee, context)
    kind = row.kind
    return {
        "title": _line(render_to_string(f"emails/nudge_{kind}.subject.txt", values)),
        "body": _line(render_to_string(f"push/nudge_{kind}.txt", values)),
        "url": reverse(SPECS[kind].deep_link),
        "tag": f"nuzzle-{kind}",
    }


def _line(text: str) -> str:
    return " ".join(text.split())[:200]


class PushChannel:
    name = "push"

    def send_timeout(self, addressee: Addressee | None = None) -> float:
        # One POST per device, each bounded by the timeout.
        devices = len(addressee.devices) if addressee is not None else 1
        return float(settings.WEBPUSH_TIMEOUT) * max(devices, 1)

    def render(self, row: Nudge, addressee: Addressee, context: dict[str, Any]) -> PushMessage:
        if not addressee.devices:
            raise ValueError("no device to push to")
        return PushMessage(addressee.devices, payload(row, addressee, context), topic=row.kind)

    def open(self) -> PushSession:
        return PushSession()


class _NoRedirects:
    """What pywebpush posts through: a pooled session that never follows a redirect
    (a push service does not redirect; following one would POST wherever it said)."""

    def __init__(self, session: requests.Session) -> None:
        self.session = session

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self.session.post(url, allow_redirects=False, **kwargs)


@dataclass(frozen=True)
class DeviceAnswer:
    kind: str  # "delivered" | "gone" | "retry" | "fail"
    reason: str = ""
    code: int | None = None


class PushSession:
    """One pooled HTTP session for a batch; each message goes to each device by itself."""

    def __init__(self) -> None:
        self.http = requests.Session()
        self.http.trust_env = False  # no proxy from the environment: POST only where checked
        self.signed: dict[str, dict[str, str]] = {}  # VAPID headers by audience

    def send(self, message: PushMessage) -> Outcome:
        answers = {device.id: self.deliver(device, message) for device in message.devices}
        gone = tuple(i for i, answer in answers.items() if answer.kind == "gone")
        kinds = [answer.kind for answer in answers.values()]
        codes = [answer.code for answer in answers.values() if answer.code]
        code = codes[0] if codes else None
        if "delivered" in kinds:
            return Outcome("sent", forget=gone)
        if len(gone) == len(answers):
            return Outcome("suppress", "no working device", code, forget=gone, no_device=True)
        reason = next(a.reason for a in answers.values() if a.kind in ("retry", "fail"))
        if "retry" in kinds:
            return Outcome("retry", reason, code, forget=gone)
        return Outcome("fail", reason, code, forget=gone)

    def deliver(self, device: Device, message: PushMessage) -> DeviceAnswer:
        try:
            webpush.check_address(device.endpoint)
        except webpush.Refused as exc:
            return DeviceAnswer("gone", f"endpoint refused: {exc}")
        except OSError:
            return DeviceAnswer("retry", "the push service's name did not resolve")
        data = json.dumps(message.payload, separators=(",", ":")).encode()
        headers = {
            **self._vapid_headers(device.endpoint),
            "Urgency": message.urgency,
            "Topic": message.topic[:32],
        }
        timeout = float(settings.WEBPUSH_TIMEOUT)
        subscription = {
            "endpoint": device.endpoint,
            "keys": {"p256dh": device.p256dh, "auth": device.auth},
        }
        try:
            response = WebPusher(
                subscription,
                requests_session=_NoRedirects(self.http),
            ).send(
                data=data,
                headers=headers,
                ttl=settings.WEBPUSH_TTL_SECONDS,
                timeout=(timeout, timeout),
            )
        except requests.ConnectTimeout:
            return DeviceAnswer("retry", "could not reach the push service (timeout)")
        except requests.ConnectionError as exc:
            if _never_connected(exc):
                return DeviceAnswer("retry", "could not reach the push service")
            return DeviceAnswer(
                "fail", "the connection dropped after sending (it may have arrived)"
            )
        except requests.Timeout:
            return DeviceAnswer("fail", "timed out after sending (it may have arrived)")
        except Exception as exc:  # encryption of a bad key, a broken response...
            return DeviceAnswer("fail", f"push failed ({type(exc).__name__})")
        if isinstance(response, str):  # (only when asked for a curl command)
            return DeviceAnswer("fail", "no request was made")
        status = response.status_code
        response.close()
        if 200 <= status < 300:
            return DeviceAnswer("delivered", code=status)
        if status in GONE:
            return DeviceAnswer("gone", f"the push service answered {status}", status)
        if 300 <= status < 400:
            return DeviceAnswer("gone", f"the push service redirected ({status})", status)
        if status == 429 or status >= 500:
            return DeviceAnswer("retry", f"the push service answered {status}", status)
        return DeviceAnswer("fail", f"the push service refused it ({status})", status)

    def _vapid_headers(self, endpoint: str) -> dict[str, str]:
        """Signed once per push service and session (a batch): a signature is valid for
        hours, and signing is a fair part of a push's CPU."""
        audience = webpush.origin(endpoint)
        if audience not in self.signed:
            claims = {
                "aud": audience,
                "exp": int(time.time()) + VAPID_LIFETIME,
                "sub": settings.WEBPUSH_VAPID_SUBJECT,
            }
            self.signed[audience] = dict(webpush.vapid().sign(claims))
        return self.signed[audience]

    def close(self) -> None:
        self.http.close()


def _never_connected(exc: requests.ConnectionError) -> bool:
    """True when the connection was never made (refused, no route, no such name): the
    request cannot have reached the service, so trying again is safe."""
    cause = exc.args[0] if exc.args else None
    reason = getattr(cause, "reason", cause)
    return isinstance(reason, NewConnectionError)
