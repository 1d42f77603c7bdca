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
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import DatabaseError

from nuzzle.couples.selectors import active_pairs
from nuzzle.nudges import kinds, services
from nuzzle.nudges.channels.base import Addressee, Channel, ChannelUnavailable, Outcome, Session
from nuzzle.nudges.decisions import late_reason, too_late
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


@dataclass
class Batch:
    claim: Claim
    clock: Callable[[], datetime]
    channel: Channel
    session: Session | None = None
    refused: set[int] = field(default_factory=set)  # people whose address was refused

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
        partners = active_pairs(user_ids={row.user_id for p in candidates.values() for row, _ in p})
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
                )
                ready.append(_Ready(row, addressee, rules, context))
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
        margin = timedelta(seconds=LEASE_TIMEOUTS * self.channel.send_timeout())
        window = send_window()
        for index, item in enumerate(ready):
            row, now = item.row, self.clock()
            if now >= self.claim.lease_until - margin:
                # Not enough lease left to send safely: let another run take the rest.
                self.claim.release([i.row for i in ready[index:]])
                return
            if row.user_id in self.refused:
                self.claim.end([row], Nudge.Status.SKIPPED, "not sent: the address was refused")
                continue
            if too_late(item.rules, row.scheduled_for, now, window):
                reason = late_reason(item.rules, row.scheduled_for, now)
                self.claim.end([row], Nudge.Status.SKIPPED, reason)
                continue
            try:
                message = self.channel.render(row, item.addressee, item.context)
            except Exception as exc:  # a template bug must not stall the whole batch
                logger.error(
                    "nudge %s (%s): rendering failed (%s)", row.pk, row.kind, type(exc).__name__
                )
                self.claim.end(
                    [row], Nudge.Status.FAILED, f"could not render the {self.channel.name}"
                )
                continue
            session = self._connect()
            if isinstance(session, str):
                self._retry([i.row for i in ready[index:]], session)
                return
            if not self.claim.begin_sending(row, now):
                logger.warning("nudge %s: claim lost before sending; left alone", row.pk)
                continue
            self._record(item, session.send(message))

    def _record(self, item: _Ready, outcome: Outcome) -> None:
        row = item.row
        logger.log(
            logging.INFO if outcome.kind == "sent" else logging.WARNING,
            "nudge %s (%s) user=%s: %s%s",
            row.pk,
            row.kind,
            row.user_id,
            outcome.kind,
            f" code={outcome.code}" if outcome.code else "",
        )
        if outcome.reconnect:
            self._disconnect()
        if outcome.kind == "sent":
            self.claim.sent(row, item.context, self.clock())
        elif outcome.kind == "retry":
            self._retry([row], outcome.reason)
        elif outcome.kind == "suppress":
            self.claim.end([row], Nudge.Status.SUPPRESSED, outcome.reason)
            if outcome.suppress_person:
                self.refused.add(row.user_id)
                services.person_suppress(
                    user_id=row.user_id,
                    reason=f"the mail server refused the address (SMTP {outcome.code})",
                    now=self.clock(),
                )
        else:
            self.claim.end([row], Nudge.Status.FAILED, outcome.reason)

    def _retry(self, rows: Sequence[Nudge], reason: str) -> None:
        self.claim.retry(rows, reason, self.clock(), retry_policy())

    # The session: one per batch, reopened after an outcome that may have broken it.

    def _connect(self) -> Session | str:
        """The open session, opened if need be; or why it could not be."""
        if self.session is None:
            try:
                self.session = self.channel.open()
            except ChannelUnavailable as exc:
                return str(exc)
        return self.session

    def _disconnect(self) -> None:
        session, self.session = self.session, None
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
