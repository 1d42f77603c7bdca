"""Run Nuzzle under gunicorn on loopback for a benchmark, as production runs it
(DEBUG off, collected and compressed static files, persistent database connections),
and stop it afterwards, whatever happens.

    with Gunicorn(workers=4, env={"DATABASE_URL": ...}) as server:
        server.url("/healthz")
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"

# Production-like settings for a loopback server: no TLS on loopback, so no secure
# cookies or https redirect; limits that a load test from one address would trip are
# raised (the rate limits themselves are tested in the suite, not measured here).
BENCH_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "bench-only-secret-key-never-used-in-production-0123456789",
    "HTTPS": "0",
    "ALLOWED_HOSTS": HOST,
    "SITE_URL": f"http://{HOST}",
    "LOG_LEVEL": "WARNING",
    "THROTTLE_AUTH": "100000/min",
    "THROTTLE_AUTH_EMAIL": "100000/min",
    "THROTTLE_SIGNUP": "100000/min",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _static_fingerprint() -> str:
    digest = hashlib.sha256((ROOT / "constraints.txt").read_bytes())
    for path in sorted((ROOT / "static").rglob("*")):
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.relative_to(ROOT)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


class Gunicorn:
    """A gunicorn process bound to 127.0.0.1 on a free port, configured by
    `gunicorn.conf.py` (the production file). Another app (bench/peer.py) sets
    `python` (its virtualenv's), `cwd` and the path that answers once it is ready."""

    python: Path | str = sys.executable
    cwd: Path = ROOT
    ready_path = "/healthz"
    ready_timeout = 30.0

    def __init__(
        self,
        *,
        app: str = "nuzzle.wsgi:application",
        workers: int = 4,
        worker_class: str = "sync",
        threads: int = 1,
        env: dict[str, str] | None = None,
        log: Path | None = None,
    ) -> None:
        self.app = app
        self.workers = workers
        self.worker_class = worker_class
        self.threads = threads
        self.env = {**os.environ, **BENCH_ENV, **(env or {})}
        self.log = log or ROOT / "var" / "bench-gunicorn.log"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def collectstatic(self, *, force: bool = False) -> None:
        """Collect (hash and compress) static files as the Docker build does; skipped
        when neither our files nor the pinned dependencies changed since last time,
        because compressing every bundled asset takes half a minute of CPU."""
        stamp = ROOT / "var" / "static" / ".bench-collected"
        fingerprint = _static_fingerprint()
        if not force and stamp.exists() and stamp.read_text() == fingerprint:
            return
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            cwd=ROOT,
            env=self.env,
            check=True,
        )
        stamp.write_text(fingerprint)

    def start(self) -> Gunicorn:
        self.log.parent.mkdir(exist_ok=True)
        command = [
            str(self.python),
            "-m",
            "gunicorn",
            self.app,
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            self.worker_class,
            "--threads",
            str(self.threads),
            "--log-level",
            "warning",
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        timeout = self.ready_timeout
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}); see {self.log}")
            try:
                with urllib.request.urlopen(self.url(self.ready_path), timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"gunicorn did not answer {self.ready_path} within {timeout:.0f} s; see {self.log}"
        )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # graceful: workers finish their request
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
