"""Signals that let higher layers react to account changes without couples importing
them (docs/architecture.md: imports only point down)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after a person's time zone changed, with `user`. Nudges recompute due times.
timezone_changed = Signal()

# Sent inside the transaction that ended a couple, whoever ended it and however (unpair,
# or the deletion of one partner's account), with `couple_id`, `ended_by_id`,
# `ended_by_name` (captured now: after a deletion the account is gone) and `partner_id`
# (the one who did not end it). Receivers that reach the outside world (email) must do
# so after commit, so nothing is announced that was rolled back.
couple_ended = Signal()

# Sent after a person's password changed (in the app or by a reset), with `user`: they
# are signed out everywhere else. Nudges turn off the push devices those sessions had.
password_changed = Signal()
