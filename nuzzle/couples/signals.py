"""Signals that let higher layers react to account changes without couples importing
them (ARCHITECTURE.md: imports only point down)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after a person's time zone changed, with `user`. Nudges recompute due times.
timezone_changed = Signal()
