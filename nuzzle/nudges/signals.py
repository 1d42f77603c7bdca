"""Receivers that keep nudges in step with accounts (which live in a lower layer)."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from nuzzle.couples.models import User
from nuzzle.couples.signals import couple_ended, password_changed, timezone_changed
from nuzzle.nudges import services

logger = logging.getLogger(__name__)


@receiver(post_save, sender=User, dispatch_uid="nudges-setup-new-user")
def _new_person(sender: type[User], instance: User, created: bool, raw: bool, **_: Any) -> None:
    """Every account gets default preferences and schedule rows as it is created (in the
    same transaction, so there is never a person the tick cannot see)."""
    if created and not raw:
        services.nudges_setup(user=instance)


@receiver(timezone_changed, dispatch_uid="nudges-timezone-changed")
def _moved(sender: Any, user: User, **_: Any) -> None:
    """New zone, new local times: every due time is recomputed."""
    services.schedule_reset(user=user, prefs=services.preferences_for(user))


@receiver(user_logged_in, dispatch_uid="nudges-activity-on-login")
def _logged_in(sender: Any, user: User, **_: Any) -> None:
    services.activity_note(user_id=user.pk)


@receiver(user_logged_out, dispatch_uid="nudges-device-off-on-logout")
def _logged_out(sender: Any, request: Any, user: User | None, **_: Any) -> None:
    """Signing out of a browser turns off the notifications that browser turned on: the
    next person to use it must not see this one's nudges. (Before the session is
    flushed, which is when Django sends this.)"""
    session = getattr(request, "session", None)
    device_id = session.get(services.SESSION_DEVICE_KEY) if session is not None else None
    if user is not None and isinstance(device_id, int):
        services.device_remove(user=user, device_id=device_id)


@receiver(password_changed, dispatch_uid="nudges-devices-off-on-new-password")
def _new_password(sender: Any, user: User, **_: Any) -> None:
    """A new password signs a person out everywhere else; the devices those sessions
    turned on stop getting their nudges too (they can turn them on again)."""
    removed = services.devices_remove_all(user_id=user.pk)
    if removed:
        logger.info("push devices removed after a new password: user=%s count=%s", user.pk, removed)


@receiver(couple_ended, dispatch_uid="nudges-couple-ended-notice")
def _couple_ended(sender: Any, partner_id: int, ended_by_name: str, **_: Any) -> None:
    """Tell the partner, once the ending is committed, that their couple ended.

    Sent here, in the process that ended the couple, rather than through a Celery task:
    after an account deletion the name to show exists only in this process (captured
    before the delete), and a task takes ids only — nothing personal sits in the broker.
    So no broker is involved at all, and a broker outage cannot fail the request. The
    cost is one SMTP hand-off on an action people take rarely (as with password-reset
    mail), bounded by EMAIL_TIMEOUT; any failure is logged (ids only) and swallowed.

    The partner's queued nudges about the partner (partner_answered, lovemap_catchup)
    need nothing here: delivery re-checks eligibility at send time, and with no couple
    the checks say no, so those rows end `skipped`."""
    transaction.on_commit(
        lambda: services.couple_ended_notice_send(
            partner_id=partner_id, ended_by_name=ended_by_name
        )
    )
