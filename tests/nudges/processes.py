"""Real processes for the fault tests: a private Redis server and Celery worker / beat
processes, all on loopback, started and stopped by the tests themselves.

The Redis here is the tests' own (a free port, no persistence), so stopping it to
simulate an outage never disturbs the machine's Redis or another test worker."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection

from tests import clock

CELERY = str(Path(sys.executable).parent / "celery")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def eventually(check: Callable[[], object], *, timeout: float = 30, every: float = 0.2) -> object:
    """Poll `check` until it returns something truthy; fail with its last value."""
    deadline = time.monotonic() + timeout
    value = check()
    while not value:
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout}s: {value!r}")
        time.sleep(every)
        value = check()
    return value


def redis_binary() -> str | None:
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )


class RedisServer:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = redis_binary()
        assert binary, "redis-server is not installed"
        self.process = subprocess.Popen(
            [
                binary,
                *("--port", str(self.port), "--bind", "127.0.0.1", "--save", ""),
                *("--appendonly", "no", "--dir", str(self.workdir)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        eventually(self.ping, timeout=10, every=0.05)

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def database_url() -> str:
    """The test database this process uses, as a URL the child processes can read."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class CeleryProcess:
    """`celery -A nuzzle worker|beat` in its own process group, logging to a file."""

    def __init__(self, role: str, name: str, env: dict[str, str], workdir: Path) -> None:
        self.role, self.name, self.env, self.workdir = role, name, env, workdir
        self.log = workdir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if self.role == "worker":
            args = ["worker", "--concurrency", "1", "--without-mingle", "--without-gossip"]
            args += ["--without-heartbeat", "--hostname", f"{self.name}@%h"]
        else:
            args = ["beat", "--schedule", str(self.workdir / f"{self.name}-schedule")]
            args += ["--pidfile", str(self.workdir / f"{self.name}.pid")]
        command = [CELERY, "-A", "nuzzle", *args, "--loglevel", "INFO"]
        env = dict(self.env)
        offset = clock.pinned_offset()
        if offset is not None:  # the suite's clock is pinned: the worker's must be too
            command = [sys.executable, "-m", "tests.clock", *command]
            env[clock.OFFSET_ENV] = repr(offset)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: a kill takes its children too
            )

    def kill(self) -> None:
        """SIGKILL the whole group: no warm shutdown, no acknowledgements."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):  # the whole group already gone
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        self.request_stop()
        self.wait_stopped()

    def request_stop(self) -> None:
        """SIGTERM the group (a warm shutdown) without waiting: stopping several
        processes takes as long as the slowest, not the sum."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)

    def wait_stopped(self, timeout: float = 15) -> None:
        """Wait for a stop requested earlier; SIGKILL the group after `timeout`."""
        if self.process is None:
            return
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self.process = None

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def count(self, text: str) -> int:
        """How many times `text` occurs in the log so far (e.g. a task's "succeeded")."""
        return self.output().count(text)

    def tail(self, lines: int = 40) -> str:
        """The end of the log, for a failing test's report."""
        return "\n".join(self.output().splitlines()[-lines:])
