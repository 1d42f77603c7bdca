"""A real SMTP server on loopback for tests: aiosmtpd, recording what it receives and
answering as told.

    server = SmtpServer().start()
    server.use_in(settings)       # pytest-django's `settings`: Django now sends here
    server.reply_to_rcpt("451 4.3.0 Try again later")           # every recipient
    server.reply_to_rcpt("550 5.1.1 No such user", to="a@x.org")  # one recipient
    server.reply_to_data("554 5.6.0 Rejected")
    server.delays["DATA"] = 2.0   # answer DATA late (after recording the message)
    server.messages[0].message    # an email.message.EmailMessage (policy.default)
    server.connections            # SMTP sessions that greeted us (EHLO or HELO)
    server.stop()

For tests that run a real worker in another process, `email_url` gives an
`EMAIL_URL` for the worker's environment.
"""

from __future__ import annotations

import asyncio
import email
import socket
import threading
import time
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


def free_port(host: str = HOST) -> int:
    """A port nothing listens on right now (also how to point a client at a closed one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class _Handler:
    """aiosmtpd hooks. Runs on the server's event loop thread; the lock guards what
    the test thread reads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    messages: list[Received] = field(default_factory=list)
    connections: int = 0
    rcpt_reply: str | None = None
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    data_reply: str | None = None
    delays: dict[str, float] = field(default_factory=dict)

    async def _pause(self, command: str) -> None:
        delay = self.delays.get(command, 0.0)
        if delay:
            await asyncio.sleep(delay)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        with self.lock:
            self.connections += 1
        session.host_name = hostname
        await self._pause("EHLO")
        return responses

    async def handle_HELO(self, server: Any, session: Any, envelope: Any, hostname: str) -> str:
        with self.lock:
            self.connections += 1
        session.host_name = hostname
        await self._pause("HELO")
        return f"250 {server.hostname}"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        await self._pause("RCPT")
        with self.lock:
            reply = self.rcpt_replies.get(address.lower(), self.rcpt_reply)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            reply = self.data_reply
            if reply is None:
                self.messages.append(
                    Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
                )
        # A late answer comes *after* the message was taken: the client cannot tell
        # whether it went (the at-most-once case).
        await self._pause("DATA")
        return reply or "250 2.0.0 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd's `Controller` on loopback with a recorded-messages list, configurable
    replies, a connection count and start/stop (also a context manager)."""

    def __init__(self, host: str = HOST, port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._handler = _Handler()
        self._controller: Controller | None = None

    # Lifecycle

    def start(self) -> SmtpServer:
        self._controller = Controller(self._handler, hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # What it received

    @property
    def messages(self) -> list[Received]:
        with self._handler.lock:
            return list(self._handler.messages)

    @property
    def connections(self) -> int:
        with self._handler.lock:
            return self._handler.connections

    def received_by(self, address: str) -> list[Received]:
        return [m for m in self.messages if address.lower() in (r.lower() for r in m.rcpt_tos)]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until at least `count` messages arrived (for tests with real workers)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages

    def clear(self) -> None:
        with self._handler.lock:
            self._handler.messages.clear()
            self._handler.connections = 0

    # How it answers

    @property
    def delays(self) -> dict[str, float]:
        """Seconds to wait before answering a command ("EHLO", "RCPT", "DATA", ...)."""
        return self._handler.delays

    def reply_to_rcpt(self, reply: str | None, *, to: str | None = None) -> None:
        """Answer RCPT with `reply` (e.g. "451 4.3.0 Later") for `to`, or for everyone;
        None restores "250 OK"."""
        with self._handler.lock:
            if to is None:
                self._handler.rcpt_reply = reply
            elif reply is None:
                self._handler.rcpt_replies.pop(to.lower(), None)
            else:
                self._handler.rcpt_replies[to.lower()] = reply

    def reply_to_data(self, reply: str | None) -> None:
        """Answer the end of DATA with `reply` (the message is then not recorded);
        None restores "250"."""
        with self._handler.lock:
            self._handler.data_reply = reply

    def behave(self) -> None:
        """Accept everything again, at once."""
        with self._handler.lock:
            self._handler.rcpt_reply = None
            self._handler.rcpt_replies.clear()
            self._handler.data_reply = None
            self._handler.delays.clear()

    # Pointing clients at it

    def django_settings(self) -> dict[str, object]:
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": self.host,
            "EMAIL_PORT": self.port,
            "EMAIL_USE_TLS": False,
            "EMAIL_USE_SSL": False,
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
        }

    def use_in(self, settings: Any) -> None:
        """Point Django at this server (pytest-django's `settings` fixture)."""
        for name, value in self.django_settings().items():
            setattr(settings, name, value)

    @property
    def email_url(self) -> str:
        return f"smtp://{self.host}:{self.port}"
