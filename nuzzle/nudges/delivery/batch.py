"""One claimed batch: re-check each row, then send what may still go through a channel.

The re-check happens as the rows are about to go, in a fixed number of queries: the
person is still active and not suppressed, the kind is still on, nudges are not paused,
it is not too late or inside quiet hours (`decisions.too_late`), and the owning app's
eligibility check still says yes (one call per kind: someone who answered meanwhile is
not reminded). Otherwise the row ends `skipped`, with a reason.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from django.db import DatabaseError

from nuzzle.couples.selectors import active_pairs
from nuzzle.nudges import kinds, selectors, services
from nuzzle.nudges.channels.base import Addressee, Channel, ChannelUnavailable, Outcome, Session
from nuzzle.nudges.decisions import (
    EMAIL,
    PUSH,
    channels_for,
    fallback_channel,
    late_reason,
    row_outcome,
    too_late,
)
from nuzzle.nudges.delivery.claims import Claim
from nuzzle.nudges.kinds import SPECS
from nuzzle.nudges.models import Nudge, NudgePreferences, NudgeSchedule
from nuzzle.nudges.policy import LEASE_TIMEOUTS, retry_policy, send_window
from nuzzle.nudges.schedule import Rules, is_send_day, local_day

logger = logging.getLogger(__name__)


@dataclass
class _Ready:
    row: Nudge
    addressee: Addressee
    rules: Rules
    context: kinds.Context
    channels: tuple[str, ...]  # in the order they are tried


@dataclass
class Batch:
    claim: Claim
    clock: Callable[[], datetime]
    channels: dict[str, Channel]
    sessions: dict[str, Session] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)  # channel → why, this batch
    refused: set[int] = field(default_factory=set)  # people whose address was refused
    forgotten: set[int] = field(default_factory=set)  # push devices gone in this batch

    def run(self) -> None:
        try:
            ready = self._recheck(self.claim.rows)
            self._send_all(ready)
        finally:
            self._disconnect()

    # Who may still get their nudge.

    def _recheck(self, rows: Sequence[Nudge]) -> list[_Ready]:
        now, window = self.clock(), send_window()
        user_ids = {row.user_id for row in rows}
        switched_off = set(
            NudgeSchedule.objects.filter(user_id__in=user_ids, enabled=False).values_list(
                "user_id", "kind"
            )
        )
        skips: dict[str, list[Nudge]] = defaultdict(list)
        candidates: dict[str, list[tuple[Nudge, Rules]]] = defaultdict(list)
        for row in rows:
            rules = _sendable(row, switched_off, now, window)
            if isinstance(rules, str):
                skips[rules].append(row)
            else:
                candidates[row.kind].append((row, rules))
        ready: list[_Ready] = []
        asked = {row.user_id for p in candidates.values() for row, _ in p}
        partners = active_pairs(user_ids=asked)
        devices = selectors.push_targets(user_ids=asked)
        for kind, pairs in candidates.items():
            contexts = self._ask(kind, pairs, now)
            if contexts is None:
                continue
            for row, rules in pairs:
                context = contexts.get(row.user_id)
                if context is None:
                    skips["not sent: no longer needed when it was due to go"].append(row)
                    continue
                user = row.user
                addressee = Addressee(
                    user_id=user.pk,
                    email=user.email,
                    display_name=user.display_name,
                    timezone=user.timezone,
                    partner_name=partners[user.pk].partner_name if user.pk in partners else None,
                    devices=devices.get(user.pk, ()),
                )
                choice = user.nudge_preferences.channels
                targets = channels_for(choice, bool(addressee.devices))
                ready.append(_Ready(row, addressee, rules, context, targets))
        for reason, skipped in skips.items():
            self.claim.end(skipped, Nudge.Status.SKIPPED, reason)
        order = {row.pk: index for index, row in enumerate(rows)}
        return sorted(ready, key=lambda item: order[item.row.pk])

    def _ask(
        self, kind: str, pairs: Sequence[tuple[Nudge, Rules]], now: datetime
    ) -> dict[int, kinds.Context] | None:
        """The kind's eligibility check, once for everyone in the batch. A broken check
        fails its own rows only; a database error propagates (the task retries)."""
        asked = {row.user_id: kinds.Recipient(row.user_id, local_day(r, now)) for row, r in pairs}
        try:
            return kinds.eligible(kind, list(asked.values()), now)
        except DatabaseError:
            raise
        except Exception as exc:
            logger.error(
                "nudge delivery: %s eligibility check failed (%s)", kind, type(exc).__name__
            )
            self.claim.end(
                [row for row, _ in pairs], Nudge.Status.FAILED, "eligibility check failed"
            )
            return None

    # Sending.

    def _send_all(self, ready: list[_Ready]) -> None:
        window = send_window()
        for index, item in enumerate(ready):
            row, now = item.row, self.clock()
            targets = self._targets(item)
            # Every channel of the row may take its whole timeout, and push may fall
            # back to email: keep that much lease in hand, a few times over.
            timeouts = sum(
                self.channels[name].send_timeout(item.addressee)
                for name in {*targets, EMAIL} & set(self.channels)
            )
            if now >= self.claim.lease_until - timedelta(seconds=LEASE_TIMEOUTS * timeouts):
                # Not enough lease left to send safely: let another run take the rest.
                self.claim.release([i.row for i in ready[index:]])
                return
            if not targets:
                self.claim.end([row], Nudge.Status.SKIPPED, "not sent: the address was refused")
                continue
            if too_late(item.rules, row.scheduled_for, now, window):
                reason = late_reason(item.rules, row.scheduled_for, now)
                self.claim.end([row], Nudge.Status.SKIPPED, reason)
                continue
            self._send(item, targets, now)

    def _targets(self, item: _Ready) -> tuple[str, ...]:
        """The row's channels as the batch stands now: push only while the person still
        has a device (an earlier row may have found the last one gone: then email, as
        the row itself would have fallen back), email only while their address stands."""
        targets = item.channels
        devices = item.addressee.devices
        if PUSH in targets and all(device.id in self.forgotten for device in devices):
            fallback = fallback_channel(targets)
            targets = tuple(name for name in targets if name != PUSH)
            targets += (fallback,) if fallback else ()
        return tuple(name for name in targets if self._usable(name, item.row))

    def _usable(self, name: str, row: Nudge) -> bool:
        """The channel is there, and (email) the person's address was not refused."""
        return name in self.channels and not (name == EMAIL and row.user_id in self.refused)

    def _send(self, item: _Ready, targets: tuple[str, ...], now: datetime) -> None:
        """One row through its channels: each prepared first (message and session), then
        the at-most-once gate, then each channel once."""
        row = item.row
        prepared: dict[str, tuple[Session, object]] = {}
        problems: list[Outcome] = []
        for name in targets:
            ready = self._prepare(item, name)
            if isinstance(ready, Outcome):
                problems.append(ready)
            else:
                prepared[name] = ready
        if not prepared:
            # Nothing can go: a message that cannot be rendered fails the row (it would
            # fail again); a channel that cannot be reached now is tried again later.
            failed = [problem for problem in problems if problem.kind == "fail"]
            if failed:
                self.claim.end([row], Nudge.Status.FAILED, failed[0].reason)
            else:
                self._retry([row], problems[0].reason)
            return
        if not self.claim.begin_sending(row, now):
            logger.warning("nudge %s: claim lost before sending; left alone", row.pk)
            return
        outcomes: list[tuple[str, Outcome]] = []
        queue = list(prepared)
        while queue:
            name = queue.pop(0)
            session, message = prepared[name]
            outcome = session.send(message)
            self._note(row, name, outcome)
            outcomes.append((name, outcome))
            fallback = fallback_channel(tuple(prepared)) if outcome.no_device else None
            if fallback is not None and self._usable(fallback, row):
                ready = self._prepare(item, fallback)
                if isinstance(ready, Outcome):
                    # Tried again later, with email alone (the devices are gone by then).
                    outcomes.append((fallback, Outcome("retry", ready.reason)))
                else:
                    prepared[fallback] = ready
                    queue.append(fallback)
        self._record(item, outcomes)

    def _prepare(self, item: _Ready, name: str) -> tuple[Session, object] | Outcome:
        """The session and message for one channel; or, when there is none, what that
        means for the row (`fail`: it cannot be rendered; `retry`: no session now)."""
        channel = self.channels[name]
        addressee = item.addressee
        if self.forgotten and addressee.devices:
            kept = tuple(d for d in addressee.devices if d.id not in self.forgotten)
            addressee = replace(addressee, devices=kept)
        try:
            message = channel.render(item.row, addressee, item.context)
        except Exception as exc:  # a template bug (or no device left) must not stall the batch
            logger.error(
                "nudge %s (%s): rendering the %s failed (%s)",
                item.row.pk,
                item.row.kind,
                name,
                type(exc).__name__,
            )
            return Outcome("fail", f"could not render the {name}")
        session = self._connect(name)
        if isinstance(session, str):
            return Outcome("retry", session)
        return session, message

    def _note(self, row: Nudge, name: str, outcome: Outcome) -> None:
        """Log one channel's answer and act on what it says about the channel itself."""
        logger.log(
            logging.INFO if outcome.kind == "sent" else logging.WARNING,
            "nudge %s (%s) user=%s: %s %s%s",
            row.pk,
            row.kind,
            row.user_id,
            name,
            outcome.kind,
            f" code={outcome.code}" if outcome.code else "",
        )
        if outcome.reconnect:
            self._disconnect(name)
        if outcome.forget:
            self.forgotten.update(outcome.forget)
            services.devices_forget(device_ids=outcome.forget, reason=outcome.reason)

    def _record(self, item: _Ready, outcomes: list[tuple[str, Outcome]]) -> None:
        row = item.row
        answer = row_outcome([outcome.kind for _, outcome in outcomes])
        # `row_outcome` answers with a kind one of the channels gave: its first reason.
        first = next(outcome for _, outcome in outcomes if outcome.kind == answer)
        if answer == "sent":
            via = ",".join(name for name, outcome in outcomes if outcome.kind == "sent")
            self.claim.sent(row, item.context, self.clock(), via)
        elif answer == "retry":
            self._retry([row], first.reason)
        elif answer == "suppress":
            self.claim.end([row], Nudge.Status.SUPPRESSED, first.reason)
            refusal = next((o for _, o in outcomes if o.suppress_person), None)
            if refusal is not None:
                self.refused.add(row.user_id)
                services.person_suppress(
                    user_id=row.user_id,
                    reason=f"the mail server refused the address (SMTP {refusal.code})",
                    now=self.clock(),
                )
        else:
            self.claim.end([row], Nudge.Status.FAILED, first.reason)

    def _retry(self, rows: Sequence[Nudge], reason: str) -> None:
        self.claim.retry(rows, reason, self.clock(), retry_policy())

    # Sessions: one per channel and batch, reopened after an outcome that may have broken
    # it; a channel that cannot be reached is not tried again in this batch.

    def _connect(self, name: str) -> Session | str:
        """The channel's open session, opened if need be; or why it could not be."""
        if name in self.unavailable:
            return self.unavailable[name]
        if name not in self.sessions:
            try:
                self.sessions[name] = self.channels[name].open()
            except ChannelUnavailable as exc:
                self.unavailable[name] = str(exc)
                return str(exc)
        return self.sessions[name]

    def _disconnect(self, name: str | None = None) -> None:
        for key in [name] if name is not None else list(self.sessions):
            session = self.sessions.pop(key, None)
            if session is not None:
                session.close()


def _sendable(
    row: Nudge, switched_off: set[tuple[int, str]], now: datetime, window: timedelta
) -> Rules | str:
    """The person's rules if this row may still go now, else why not."""
    user = row.user
    try:
        prefs = user.nudge_preferences
    except NudgePreferences.DoesNotExist:
        return "not sent: no nudge preferences"
    if not user.is_active:
        return "not sent: the account is inactive"
    if prefs.suppressed_at is not None:
        return "not sent: mail to this address is suppressed"
    if row.kind not in SPECS or (row.user_id, row.kind) in switched_off:
        return "not sent: this kind of nudge was switched off"
    rules = prefs.rules(user.timezone)
    if not is_send_day(rules, local_day(rules, row.scheduled_for)):
        return "not sent: nudges are paused or this is no longer a nudge day"
    if too_late(rules, row.scheduled_for, now, window):
        return late_reason(rules, row.scheduled_for, now)
    return rules
