"""Settings of the benchmark's main server: Nuzzle's own, unchanged, plus one
bench-only route (`bench.urls`: the L2 baseline). Production URLs gain nothing."""

import runpy
from pathlib import Path

# Nuzzle's settings file, run as a file: importing `nuzzle.settings` would first import
# the `nuzzle` package, whose Celery app reads the settings — these, half-loaded.
globals().update(
    (name, value)
    for name, value in runpy.run_path(
        str(Path(__file__).resolve().parent.parent / "nuzzle" / "settings.py")
    ).items()
    if name.isupper()
)

ROOT_URLCONF = "bench.urls"
