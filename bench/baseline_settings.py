"""Settings of the benchmark's baseline server (L0 and L1 of bench/web.py): Nuzzle's
own with no middleware at all and only the baseline routes, so what the framework
and the server cost by themselves can be told apart from what Nuzzle adds."""

import runpy
from pathlib import Path

# As in bench/settings.py: the file, not the module (its package starts Celery).
globals().update(
    (name, value)
    for name, value in runpy.run_path(
        str(Path(__file__).resolve().parent.parent / "nuzzle" / "settings.py")
    ).items()
    if name.isupper()
)

MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.baseline_urls"
