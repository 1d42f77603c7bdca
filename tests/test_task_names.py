"""Celery task names follow one pattern, `<app label>.tasks.<function>`, and every beat
entry names a task that exists."""

from __future__ import annotations

from nuzzle.celery import app


def ours() -> dict[str, object]:
    app.loader.import_default_modules()
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def test_every_task_is_named_after_its_app_and_function():
    tasks = ours()
    assert tasks, "no tasks registered"
    for name, task in tasks.items():
        module = task.__module__
        label = module.split(".")[-2]
        assert name == f"{label}.tasks.{task.__name__}", module


def test_every_beat_entry_runs_a_registered_task():
    tasks = ours()
    assert {entry["task"] for entry in app.conf.beat_schedule.values()} <= tasks.keys()
