"""Reads about nudges: a person's preferences (as plain data), their own nudges, and the
operators' view of the whole pipeline (`backlog`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.db.models import Count, Min, Q, QuerySet

from nuzzle.couples.models import User
from nuzzle.nudges.channels.base import Device
from nuzzle.nudges.decisions import EMAIL, PUSH, channels_for
from nuzzle.nudges.kinds import CATALOGUE
from nuzzle.nudges.models import Channels, Nudge, NudgePreferences, NudgeSchedule, PushDevice
from nuzzle.nudges.schedule import mask_to_days


@dataclass(frozen=True)
class PreferencesView:
    nudge_time: time
    days: list[int]
    quiet_start: time
    quiet_end: time
    paused_until: date | None
    daily_cap: int
    kinds: dict[str, bool]  # every kind, in priority order
    timezone: str
    suppressed_at: datetime | None
    channels_choice: str  # models.Channels
    devices: int  # push devices registered

    @property
    def channels(self) -> dict[str, bool]:
        """The channels I chose; while I have not chosen (automatic), where a nudge goes
        now. (A choice of push with no device still goes by email: `channels_now`.)"""
        if self.channels_choice == Channels.AUTO:
            return self.channels_now
        return {
            EMAIL: self.channels_choice in (Channels.EMAIL, Channels.BOTH),
            PUSH: self.channels_choice in (Channels.PUSH, Channels.BOTH),
        }

    @property
    def channels_now(self) -> dict[str, bool]:
        """Where a nudge would go now: the choice, given whether I have a device."""
        chosen = channels_for(self.channels_choice, self.devices > 0)
        return {EMAIL: EMAIL in chosen, PUSH: PUSH in chosen}

    def pause_on(self, today: date) -> date | None:
        """The pause still in force on `today` (a pause that has run out is none)."""
        if self.paused_until is not None and self.paused_until >= today:
            return self.paused_until
        return None


def preferences_get(*, user: User) -> PreferencesView:
    """A person's nudge preferences with every kind's on/off state (three queries). Reads
    only: a person without a preferences row (created with every account, so only one
    made outside the app) sees the defaults, which saving the page then writes."""
    prefs = NudgePreferences.objects.filter(user=user).first() or NudgePreferences(user=user)
    enabled = dict(NudgeSchedule.objects.filter(user=user).values_list("kind", "enabled"))
    return PreferencesView(
        nudge_time=prefs.nudge_time,
        days=mask_to_days(prefs.days),
        quiet_start=prefs.quiet_start,
        quiet_end=prefs.quiet_end,
        paused_until=prefs.paused_until,
        daily_cap=prefs.daily_cap,
        kinds={
            spec.kind.value: enabled.get(spec.kind.value, spec.default_on) for spec in CATALOGUE
        },
        timezone=user.timezone,
        suppressed_at=prefs.suppressed_at,
        channels_choice=prefs.channels,
        devices=PushDevice.objects.filter(user=user).count(),
    )


@dataclass(frozen=True)
class DeviceView:
    id: int
    name: str
    service: str  # the push service's host, to tell devices apart
    created_at: datetime

    @classmethod
    def of(cls, device: PushDevice) -> DeviceView:
        return cls(
            device.pk, device.name, urlsplit(device.endpoint).hostname or "", device.created_at
        )


def device_list(*, user: User) -> list[DeviceView]:
    """My push devices, oldest first (their keys and endpoints stay on the server)."""
    rows = PushDevice.objects.filter(user=user).order_by("created_at", "id")
    return [DeviceView.of(row) for row in rows.only("id", "name", "endpoint", "created_at")]


def push_targets(*, user_ids: Collection[int]) -> dict[int, tuple[Device, ...]]:
    """Everyone's push devices as a push message needs them (keys included), oldest
    first, in one query. For delivery only: never shown to anyone."""
    found: dict[int, list[Device]] = defaultdict(list)
    rows = (
        PushDevice.objects.filter(user_id__in=user_ids)
        .order_by("created_at", "id")
        .values_list("user_id", "id", "endpoint", "p256dh", "auth")
    )
    for user_id, device_id, endpoint, p256dh, auth in rows:
        found[user_id].append(Device(device_id, endpoint, p256dh, auth))
    return {user_id: tuple(devices) for user_id, devices in found.items()}


def nudge_list(*, user: User) -> QuerySet[Nudge]:
    """My own nudges, newest first. Nobody else's, ever (not even my partner's)."""
    return Nudge.objects.filter(user=user).order_by("-scheduled_for", "-id")


# --- Operators: the backlog ----------------------------------------------------------

BACKLOG_RECENT = timedelta(hours=24)
# The worker-held states, in the order of the `nudge_leased` index's condition, so the
# query's `status IN (...)` is the index's and PostgreSQL uses it.
_LEASED = [Nudge.Status.CLAIMED.value, Nudge.Status.SENDING.value]


@dataclass(frozen=True)
class Backlog:
    """Counts across everyone: no person, no content."""

    now: datetime
    schedules_due: int  # enabled schedule rows with next_due_at <= now (the tick's work)
    oldest_schedule_due_at: datetime | None
    pending_due: int  # outbox rows a delivery run would claim now
    pending_later: int  # waiting for their next attempt (back-off)
    retrying: int  # of all pending rows, those that already failed at least once
    oldest_pending_due_at: datetime | None
    claimed: int
    sending: int
    leases_expired: int  # claimed/sending past their lease: a worker died (the tick recovers)
    recent: dict[str, int]  # terminal status → count, of nudges scheduled in the last 24 h

    @property
    def oldest_pending_age(self) -> timedelta | None:
        """How long the longest-waiting due pending row has been due."""
        if self.oldest_pending_due_at is None:
            return None
        return max(self.now - self.oldest_pending_due_at, timedelta(0))

    @property
    def oldest_schedule_age(self) -> timedelta | None:
        if self.oldest_schedule_due_at is None:
            return None
        return max(self.now - self.oldest_schedule_due_at, timedelta(0))


def backlog(*, now: datetime) -> Backlog:
    """Where the nudge pipeline stands at `now`, for operators (`manage.py nudges_backlog`).

    Four aggregate queries, whatever the number of people. The first three filter exactly
    on the conditions of the partial indexes in `models.py` (`nudge_schedule_due`,
    `nudge_pending_due`, `nudge_leased`), so they read only the rows still in flight.
    The last counts outcomes of the last 24 h by `scheduled_for`; no index covers that
    (none of the hot paths needs one), so it scans the outbox: fine for an occasional
    operator's command, not for a per-request page.
    """
    schedules = NudgeSchedule.objects.filter(
        enabled=True, next_due_at__isnull=False, next_due_at__lte=now
    ).aggregate(due=Count("pk"), oldest=Min("next_due_at"))
    due_now = Q(next_attempt_at__lte=now)
    pending = Nudge.objects.filter(status=Nudge.Status.PENDING).aggregate(
        due=Count("pk", filter=due_now),
        later=Count("pk", filter=~due_now | Q(next_attempt_at__isnull=True)),
        retrying=Count("pk", filter=Q(attempts__gt=0)),
        oldest=Min("next_attempt_at", filter=due_now),
    )
    leased = Nudge.objects.filter(status__in=_LEASED).aggregate(
        claimed=Count("pk", filter=Q(status=Nudge.Status.CLAIMED)),
        sending=Count("pk", filter=Q(status=Nudge.Status.SENDING)),
        expired=Count("pk", filter=Q(lease_until__lt=now)),
    )
    recent = Nudge.objects.filter(
        scheduled_for__gt=now - BACKLOG_RECENT, status__in=Nudge.TERMINAL
    ).aggregate(**{status: Count("pk", filter=Q(status=status)) for status in Nudge.TERMINAL})
    return Backlog(
        now=now,
        schedules_due=schedules["due"],
        oldest_schedule_due_at=schedules["oldest"],
        pending_due=pending["due"],
        pending_later=pending["later"],
        retrying=pending["retrying"],
        oldest_pending_due_at=pending["oldest"],
        claimed=leased["claimed"],
        sending=leased["sending"],
        leases_expired=leased["expired"],
        recent={str(status): recent[status] for status in Nudge.TERMINAL},
    )


# --- Export: my own data (docs/product.md: Your data) ------------------------------------


def export_nudges(*, user: User) -> dict[str, Any]:
    """My nudge preferences, my nudges' metadata and my push devices (four queries, read
    only: unlike
    `preferences_get`, a missing preferences row is reported as null, not created).
    A nudge's `context` is left out: it describes the couple, not what I wrote."""
    prefs = NudgePreferences.objects.filter(user=user).first()
    enabled = dict(NudgeSchedule.objects.filter(user=user).values_list("kind", "enabled"))
    preferences = None
    if prefs is not None:
        preferences = {
            "nudge_time": prefs.nudge_time.strftime("%H:%M"),
            "days": mask_to_days(prefs.days),
            "quiet_start": prefs.quiet_start.strftime("%H:%M"),
            "quiet_end": prefs.quiet_end.strftime("%H:%M"),
            "paused_until": prefs.paused_until,
            "daily_cap": prefs.daily_cap,
            "kinds": {
                spec.kind.value: enabled.get(spec.kind.value, spec.default_on) for spec in CATALOGUE
            },
            "channels": prefs.channels,
        }
    nudges = Nudge.objects.filter(user=user).order_by("scheduled_for", "id")
    return {
        "preferences": preferences,
        "nudges": [
            {
                "kind": nudge.kind,
                "local_date": nudge.local_date,
                "scheduled_for": nudge.scheduled_for,
                "status": nudge.status,
                "sent_at": nudge.sent_at,
                "sent_via": nudge.sent_via,
            }
            for nudge in nudges.only(
                "kind", "local_date", "scheduled_for", "status", "sent_at", "sent_via"
            )
        ],
        # Which devices, not their keys or endpoints (secrets of the browser's push service).
        "push_devices": [
            {"name": device.name, "service": device.service, "created_at": device.created_at}
            for device in device_list(user=user)
        ],
    }
