"""Writes about nudges: preferences, schedules, events from feature apps, activity and
unsubscribing. The rules are in `decisions.py`; planning (the tick) in `planning.py`,
sending in `delivery/`."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from nuzzle.couples.models import User
from nuzzle.lib.emails import render_email
from nuzzle.lib.errors import Invalid, as_invalid
from nuzzle.lib.http import absolute_url
from nuzzle.lib.timezones import local_date
from nuzzle.nudges import selectors, webpush
from nuzzle.nudges.channels.push import PushMessage, PushSession
from nuzzle.nudges.decisions import choice_for, first_due
from nuzzle.nudges.kinds import CATALOGUE, SPECS, Cadence, Kind
from nuzzle.nudges.models import Channels, Nudge, NudgePreferences, NudgeSchedule, PushDevice
from nuzzle.nudges.policy import event_delay
from nuzzle.nudges.schedule import days_to_mask, event_moves, time_in_quiet_hours

logger = logging.getLogger(__name__)

ACTIVITY_GRANULARITY = timedelta(hours=1)  # last_active_at is written at most this often
MAX_PAUSE = timedelta(days=366)  # a pause ends at most this far ahead
_UNSET = object()


def preferences_for(user: User) -> NudgePreferences:
    """A person's preferences, created with defaults (and their schedule) if missing."""
    prefs = NudgePreferences.objects.filter(user=user).first()
    if prefs is None:
        prefs = nudges_setup(user=user)
    return prefs


@transaction.atomic
def nudges_setup(*, user: User, now: datetime | None = None) -> NudgePreferences:
    """Default preferences and one schedule row per kind for a new person. Idempotent."""
    prefs, _ = NudgePreferences.objects.get_or_create(user=user)
    schedule_reset(user=user, prefs=prefs, now=now)
    return prefs


def schedule_reset(
    *,
    user: User,
    prefs: NudgePreferences,
    now: datetime | None = None,
    enabled: dict[str, bool] | None = None,
) -> None:
    """Recompute every schedule row of a person from their preferences and zone (after
    a change of either). Weekly kinds keep their seven-day spacing from the last send;
    an event already waiting is re-timed, not dropped."""
    now = now or timezone.now()
    rules = prefs.rules(user.timezone)
    existing = {row.kind: row for row in NudgeSchedule.objects.filter(user=user)}
    weekly = [spec.kind for spec in CATALOGUE if spec.cadence is Cadence.WEEKLY]
    last_sent = dict(
        Nudge.objects.filter(user=user, kind__in=weekly, status__in=Nudge.COUNTED)
        .values("kind")
        .annotate(last=Max("scheduled_for"))
        .values_list("kind", "last")
    )
    rows = []
    for spec in CATALOGUE:
        row = existing.get(spec.kind)
        on = row.enabled if row is not None else spec.default_on
        if enabled is not None and spec.kind in enabled:
            on = enabled[spec.kind]
        pending_event = row is not None and row.next_due_at is not None
        due = first_due(
            spec.cadence,
            rules,
            now,
            last_sent=last_sent.get(spec.kind),
            pending_event=pending_event,
            event_delay=event_delay(),
        )
        rows.append(NudgeSchedule(user=user, kind=spec.kind, enabled=on, next_due_at=due))
    NudgeSchedule.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["user", "kind"],
        update_fields=["enabled", "next_due_at"],
    )


@transaction.atomic
def preferences_update(
    *,
    user: User,
    nudge_time: time | None = None,
    days: list[int] | None = None,
    quiet_start: time | None = None,
    quiet_end: time | None = None,
    paused_until: date | None | object = _UNSET,
    daily_cap: int | None = None,
    kinds: dict[str, bool] | None = None,
    channels: str | None = None,
    now: datetime | None = None,
) -> NudgePreferences:
    """Change when and which nudges come. Saving also lifts a suppression caused by a
    bounced address (the person has seen the warning and wants mail again). Every
    refusal is reported at once, as one Invalid with each message by field."""
    prefs = NudgePreferences.objects.select_for_update().filter(user=user).first()
    if prefs is None:
        prefs = nudges_setup(user=user, now=now)
    errors: dict[str | None, list[str]] = {}
    if nudge_time is not None:
        prefs.nudge_time = nudge_time
    if days is not None:
        if any(not 0 <= day <= 6 for day in days):
            errors["days"] = ["Days are numbers from 0 (Monday) to 6 (Sunday)."]
        else:
            prefs.days = days_to_mask(days)
    if quiet_start is not None:
        prefs.quiet_start = quiet_start
    if quiet_end is not None:
        prefs.quiet_end = quiet_end
    if paused_until is not _UNSET:
        prefs.paused_until = paused_until  # type: ignore[assignment]
        error = _pause_error(prefs.paused_until, local_date(user.timezone, now))
        if error:
            errors["paused_until"] = [error]
    if daily_cap is not None:
        prefs.daily_cap = daily_cap
    if channels is not None:
        prefs.channels = channels
    unknown = sorted(set(kinds or {}) - set(SPECS))
    if unknown:
        errors["kinds"] = [f"Unknown kind: {', '.join(unknown)}."]
    if time_in_quiet_hours(prefs.rules(user.timezone), prefs.nudge_time):
        errors["nudge_time"] = [
            "Your nudge time falls inside your quiet hours. Pick a time outside them."
        ]
    try:
        with as_invalid():
            prefs.full_clean(exclude=["user"])
    except Invalid as exc:
        for name, messages in exc.by_field().items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise Invalid.from_fields(errors)
    prefs.suppressed_at = None
    prefs.suppressed_reason = ""
    prefs.save()
    schedule_reset(user=user, prefs=prefs, now=now, enabled=kinds)
    logger.info("nudge preferences updated: user=%s", user.pk)
    return prefs


def channels_choice(
    *, user: User, chosen: dict[str, bool] | None, automatic: bool | None
) -> str | None:
    """The choice to store for channels given as flags and/or `automatic` (the API's
    shape); None: leave it as it is. Flags merge into my current choice."""
    if automatic:
        # Back to automatic; flags beside it (as a GET returns them) change nothing.
        return Channels.AUTO
    current = selectors.preferences_get(user=user).channels
    if chosen is None:
        # false alone keeps where nudges go today, as my own choice from now on
        return None if automatic is None else choice_for(**current)
    choice = choice_for(**{**current, **chosen})
    if choice is None:
        raise Invalid(
            "Choose at least one: email or push. To stop nudges, switch their kinds off "
            "or pause them.",
            field="channels",
        )
    return choice


def _pause_error(paused_until: date | None, today: date) -> str:
    """A pause ends on a local day from today to a year ahead (the page and the API
    both come through here)."""
    if paused_until is None:
        return ""
    if paused_until < today:
        return "Pick today or a later day — or leave it empty."
    if paused_until > today + MAX_PAUSE:
        return "Pause for a year at most. To stop emails for good, switch the kinds off."
    return ""


def nudge_enqueue(*, user_id: int, kind: Kind, now: datetime | None = None) -> None:
    """Something happened that `user_id` may want to hear about (e.g. their partner
    answered). Only moves a schedule row in the caller's transaction — no broker, no
    email — so it commits or rolls back with the event, and a Redis outage cannot lose
    it. Events close together share one email; at most one a day goes out."""
    now = now or timezone.now()
    spec = SPECS[kind]
    if spec.cadence is not Cadence.EVENT:
        raise ValueError(f"{kind} is scheduled, not triggered by events")
    row = (
        NudgeSchedule.objects.select_related("user__nudge_preferences")
        .filter(user_id=user_id, kind=kind, enabled=True)
        .first()
    )
    if row is None:
        return
    prefs = row.user.nudge_preferences
    moved = event_moves(prefs.rules(row.user.timezone), row.next_due_at, now, event_delay())
    if moved is not None:
        NudgeSchedule.objects.filter(pk=row.pk).update(next_due_at=moved)


def activity_note(*, user_id: int, now: datetime | None = None) -> None:
    """The person used Nuzzle: keeps nudges from backing off. At most one write an hour."""
    now = now or timezone.now()
    NudgePreferences.objects.filter(
        user_id=user_id, last_active_at__lt=now - ACTIVITY_GRANULARITY
    ).update(last_active_at=now)


def nudges_unsubscribe(*, user_id: int, kind: str | None) -> None:
    """Stop one kind (or, with None, every kind) for a person. Idempotent; pending
    nudges of those kinds are skipped rather than sent."""
    rows = NudgeSchedule.objects.filter(user_id=user_id)
    nudges = Nudge.objects.filter(user_id=user_id, status=Nudge.Status.PENDING)
    if kind is not None:
        rows = rows.filter(kind=kind)
        nudges = nudges.filter(kind=kind)
    with transaction.atomic():
        rows.update(enabled=False)
        nudges.update(status=Nudge.Status.SKIPPED, reason="unsubscribed", next_attempt_at=None)
    logger.info("nudges unsubscribed: user=%s kind=%s", user_id, kind or "all")


def person_suppress(*, user_id: int, reason: str, now: datetime | None = None) -> None:
    """The mail server refused this person's address for good: stop all nudges to it."""
    NudgePreferences.objects.filter(user_id=user_id, suppressed_at__isnull=True).update(
        suppressed_at=now or timezone.now(), suppressed_reason=reason[:200]
    )
    logger.warning("nudges suppressed for user=%s", user_id)


def couple_ended_notice_send(*, partner_id: int, ended_by_name: str) -> bool:
    """The transactional "<name> ended your couple" email: names and a link, never
    anything either of them wrote; no unsubscribe headers (it is not a nudge). Not sent
    to an address the mail server already refused for good. True when handed to SMTP."""
    partner = User.objects.filter(pk=partner_id, is_active=True).first()
    if partner is None:
        return False
    if NudgePreferences.objects.filter(user=partner, suppressed_at__isnull=False).exists():
        logger.info("couple-ended notice not sent (suppressed): user=%s", partner_id)
        return False
    context = {
        "name": partner.display_name,
        "ender": ended_by_name or "Your partner",
        "email": partner.email,
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "action_url": absolute_url(reverse("home")),
    }
    try:
        message = render_email(
            "couple_ended", context, to=[partner.email], headers={"X-Nuzzle-Kind": "couple_ended"}
        )
        message.send()
    except Exception as exc:  # never fail (or retry) the unpair over a notice
        # The type only: SMTP errors can quote the address.
        logger.warning(
            "couple-ended notice not sent: user=%s error=%s", partner_id, type(exc).__name__
        )
        return False
    logger.info("couple-ended notice sent: user=%s", partner_id)
    return True


# Push devices.

# The device a browser session registered (removed when that session signs out).
SESSION_DEVICE_KEY = "nudges_push_device"


def device_register(
    *, user: User, endpoint: object, p256dh: object, auth: object, name: object = ""
) -> tuple[PushDevice, bool]:
    """Keep a browser's push subscription for this person; (device, created). The same
    endpoint again is the same device (its keys and name refreshed). An endpoint another
    person registered moves to this one: the browser belongs to whoever is signed in
    there now, and must not notify the previous person's nudges to them."""
    errors: dict[str | None, list[str]] = {}
    url = keys = None
    try:
        url = webpush.check_endpoint(endpoint)
    except webpush.Refused as exc:
        errors["endpoint"] = [f"The endpoint {exc}."]
    try:
        keys = webpush.check_keys(p256dh, auth)
    except webpush.Refused as exc:
        errors["keys"] = [f"The subscription's keys are not usable: {exc}."]
    label = "" if name is None else name
    if not isinstance(label, str) or len(label) > 60:
        errors["name"] = ["A device name is text of at most 60 characters."]
        label = ""
    if errors or url is None or keys is None:
        raise Invalid.from_fields(errors)
    (key, secret), label = keys, " ".join(label.split())
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # one register at a time
        device = PushDevice.objects.select_for_update().filter(endpoint=url).first()
        if device is not None and device.user_id == user.pk:
            device.p256dh, device.auth = key, secret
            device.name = label or device.name
            device.save(update_fields=["p256dh", "auth", "name"])
            return device, False
        if device is not None:
            device.delete()
            logger.info("push device moved to another person: user=%s", user.pk)
        if PushDevice.objects.filter(user=user).count() >= webpush.MAX_DEVICES:
            raise Invalid(
                f"You already have {webpush.MAX_DEVICES} devices with notifications on. "
                "Remove one you no longer use first.",
                field="endpoint",
            )
        device = PushDevice.objects.create(
            user=user, endpoint=url, p256dh=key, auth=secret, name=label
        )
    logger.info("push device registered: user=%s device=%s", user.pk, device.pk)
    return device, True


def device_remove(*, user: User, device_id: int) -> bool:
    """Remove one of my devices; False when there is none of mine with that id."""
    deleted, _ = PushDevice.objects.filter(user=user, pk=device_id).delete()
    if deleted:
        logger.info("push device removed: user=%s device=%s", user.pk, device_id)
    return bool(deleted)


def devices_remove_all(*, user_id: int) -> int:
    """Every device of a person (signed out everywhere)."""
    deleted, _ = PushDevice.objects.filter(user_id=user_id).delete()
    return deleted


def devices_forget(*, device_ids: Iterable[int], reason: str) -> None:
    """Subscriptions the push service says are gone (404/410) or that may no longer be
    used: never tried again."""
    ids = list(device_ids)
    PushDevice.objects.filter(pk__in=ids).delete()
    logger.info("push devices forgotten: ids=%s reason=%s", ids, reason[:80])


@dataclass(frozen=True)
class PushTest:
    delivered: int  # devices that took the test notification
    forgotten: int  # devices the push service said are gone (removed)
    failed: int  # devices that could not be reached just now


def devices_test(*, user: User) -> PushTest:
    """Send a test notification to each of my devices, now (a person checking that
    notifications work where they expect them). Gone devices are removed."""
    devices = selectors.push_targets(user_ids={user.pk}).get(user.pk, ())
    message = PushMessage(
        devices=devices,
        payload={
            "title": "Notifications are on",
            "body": f"This is how {settings.SITE_NAME} will nudge you here.",
            "url": reverse("nudge-preferences"),
            "tag": "nuzzle-test",
        },
        topic="test",
    )
    session = PushSession()
    try:
        answers = [session.deliver(device, message) for device in devices]
    finally:
        session.close()
    gone = [d.id for d, a in zip(devices, answers, strict=True) if a.kind == "gone"]
    if gone:
        devices_forget(device_ids=gone, reason="gone when testing")
    delivered = sum(answer.kind == "delivered" for answer in answers)
    logger.info("push test: user=%s delivered=%s gone=%s", user.pk, delivered, len(gone))
    return PushTest(delivered, len(gone), len(devices) - delivered - len(gone))
