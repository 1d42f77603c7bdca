"""Preferences, schedule rows and the outbox.

- `NudgePreferences`: one row per person (created with the account).
- `NudgeSchedule`: one row per person and kind. `next_due_at` (UTC, computed from the
  person's IANA zone) is when the beat tick should next look at it. The tick only ever
  reads the partial index on it.
- `Nudge`: the outbox. Every send, skip or failure is one row, and the unique key
  (person, kind, period) is what makes a second tick, a second beat, a retried task or
  a restarted worker unable to send the same nudge twice.
"""

from __future__ import annotations

from datetime import time
from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from nuzzle.nudges.kinds import Kind
from nuzzle.nudges.schedule import ALL_DAYS, Rules

MAX_DAILY_CAP = 5


class Channels(models.TextChoices):
    """Where a person's nudges go (`decisions.channels_for` turns it into channels)."""

    AUTO = "auto", "Automatic: notifications on my devices when there is one, else email"
    EMAIL = "email", "Email only"
    PUSH = "push", "Notifications only"
    BOTH = "both", "Notifications and email"


class NudgePreferences(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="nudge_preferences",
    )
    nudge_time = models.TimeField(default=time(19, 0), help_text="Your local time.")
    days = models.PositiveSmallIntegerField(
        default=ALL_DAYS, help_text="Bit n set = weekday n (Monday = 0) is a nudge day."
    )
    quiet_start = models.TimeField(default=time(22, 0))
    quiet_end = models.TimeField(default=time(8, 0))
    paused_until = models.DateField(null=True, blank=True, help_text="No nudges up to this day.")
    daily_cap = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_DAILY_CAP)]
    )
    # Written at most hourly (login, visits, writes); after 7 quiet days nudges drop to
    # weekly. Never shown to anyone, the partner included.
    last_active_at = models.DateTimeField(default=timezone.now)
    # Set when the mail server refused the address for good; all nudges stop until the
    # person saves their preferences (or changes their email) again.
    suppressed_at = models.DateTimeField(null=True, blank=True)
    suppressed_reason = models.CharField(max_length=200, blank=True)
    # Database defaults too: rows are also written in raw SQL (planning, migrations).
    channels = models.CharField(
        max_length=8, choices=Channels.choices, default=Channels.AUTO, db_default=Channels.AUTO
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "nudge preferences"
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(days__gte=0) & Q(days__lte=ALL_DAYS), name="nudge_days_mask"
            ),
            models.CheckConstraint(
                condition=Q(daily_cap__gte=1) & Q(daily_cap__lte=MAX_DAILY_CAP),
                name="nudge_daily_cap_range",
            ),
        ]

    def __str__(self) -> str:
        return f"nudge preferences of user {self.user_id}"

    def rules(self, timezone_name: str) -> Rules:
        return Rules(
            timezone=timezone_name,
            nudge_time=self.nudge_time,
            days=self.days,
            quiet_start=self.quiet_start,
            quiet_end=self.quiet_end,
            paused_until=self.paused_until,
        )


class NudgeSchedule(models.Model):
    # No index of its own: the unique (user, kind) index serves every look-up by person,
    # and each tick rewrites a row per due person, so each extra index costs every tick.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="nudge_schedules",
        db_index=False,
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    enabled = models.BooleanField(default=True)
    next_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "kind"], name="nudge_schedule_once_per_kind"),
        ]
        indexes: ClassVar = [
            # The tick's one question: which enabled rows are due? Disabled rows and
            # event kinds with nothing pending are not in the index at all. The id
            # orders ties (a zone's people share a due time) so that each claim can
            # start right after the last one's rows (keyset), not from the front.
            models.Index(
                fields=["next_due_at", "id"],
                name="nudge_schedule_due",
                condition=Q(enabled=True, next_due_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} schedule of user {self.user_id}"


class Nudge(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CLAIMED = "claimed", "Claimed by a worker"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Skipped"
        SUPPRESSED = "suppressed", "Suppressed"
        FAILED = "failed", "Failed"

    # Rows in these states take a place under the daily cap.
    COUNTED: ClassVar[tuple[str, ...]] = (
        Status.PENDING,
        Status.CLAIMED,
        Status.SENDING,
        Status.SENT,
    )
    TERMINAL: ClassVar[tuple[str, ...]] = (
        Status.SENT,
        Status.SKIPPED,
        Status.SUPPRESSED,
        Status.FAILED,
    )

    # No index of its own: the unique (user, kind, period) and (user, -scheduled_for)
    # indexes serve every look-up by person, and each tick inserts a row per nudge.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="nudges", db_index=False
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    period = models.CharField(max_length=10)
    local_date = models.DateField(help_text="The person's local date at the scheduled time.")
    scheduled_for = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A worker's claim: rows it took, until when. An expired claim on a row never handed
    # to SMTP goes back to pending; on a row being sent it ends as failed (at most once).
    claim_token = models.CharField(max_length=32, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The channels that took the message, in the order they were tried ("push,email").
    # A database default: the tick inserts outbox rows in raw SQL, naming its columns.
    sent_via = models.CharField(max_length=32, blank=True, default="", db_default="")
    created_at = models.DateTimeField(default=timezone.now)
    # Counts and flags for the email (e.g. {"stale": 2}); never anyone's words.
    context = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["user", "kind", "period"], name="nudge_once_per_period"
            ),
        ]
        indexes: ClassVar = [
            # Delivery claims due pending rows; the index holds only those. The id makes
            # its ORDER BY (next_attempt_at, id) an index walk: every row of one tick
            # shares one next_attempt_at, and without it each claim sorted them all.
            models.Index(
                fields=["next_attempt_at", "id"],
                name="nudge_pending_due",
                condition=Q(status="pending"),
            ),
            # Lease recovery looks only at rows a worker holds.
            models.Index(
                fields=["lease_until"],
                name="nudge_leased",
                condition=Q(status__in=["claimed", "sending"]),
            ),
            # A person's recent nudges: the tick's history (the daily cap and the
            # back-off read the last nine days) and the list, newest first.
            models.Index(fields=["user", "-scheduled_for"], name="nudge_user_recent"),
        ]

    def __str__(self) -> str:
        return f"nudge {self.pk} ({self.kind}, user {self.user_id}, {self.status})"


class PushDevice(models.Model):
    """A browser's push subscription (RFC 8030): where to POST a person's notifications
    and the keys that encrypt them (RFC 8291). The endpoint is a capability URL handed
    out by the browser's push service; it is unique, and it belongs to whoever
    registered it last in that browser."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_devices"
    )
    endpoint = models.CharField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=100)  # the browser's public key, base64url
    auth = models.CharField(max_length=40)  # the shared authentication secret, base64url
    name = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("created_at", "id")

    def __str__(self) -> str:
        return f"push device {self.pk} of user {self.user_id}"
