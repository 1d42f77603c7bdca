"""Gunicorn's configuration for Nuzzle's web process: the Dockerfile's CMD and
docker-compose.yml start gunicorn with it, and the web benchmark (bench/web.py) uses
the same worker settings, so what is measured is what runs.

Every value can be overridden from the environment (or gunicorn's command line).
"""

from __future__ import annotations

import os

# Threaded workers (gthread): two processes per core, two threads each. Nuzzle's
# requests are short and mostly CPU (Python, templates) with a few indexed queries, so
# processes are what scale on CPU, and the second thread of each lets a worker run
# Python while its other request waits on the database. Threads also keep HTTP
# connections alive and hold a slow client without blocking the process, which sync
# workers cannot. Measured on 2 cores with bench/web.py (bench/README.md): 4 × 2
# threads served the L2 baseline ~2.5× and the dashboard API ~1.5× the requests/s of
# 3-6 sync workers, on the same machine in the same hour.
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "2"))

# Load the application once in the master, then fork: workers start in milliseconds
# (a recycled worker costs no Django start-up) and share the imported code's memory.
# Database connections are opened lazily, in each worker, never in the master.
preload_app = True

# Recycle each worker after about this many requests (jittered so they don't all
# restart together): a bound on any slow leak.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10

# Heartbeat files on tmpfs, not the container's overlay filesystem.
if os.path.isdir("/dev/shm"):  # noqa: S108 (gunicorn's own heartbeat files, not data)
    worker_tmp_dir = "/dev/shm"  # noqa: S108

# Access log on stdout (docker logs); GUNICORN_ACCESS_LOG="" turns it off.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
