"""Receivers that keep nudges in step with accounts (which live in a lower layer)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save
from django.dispatch import receiver

from nuzzle.couples.models import User
from nuzzle.couples.signals import timezone_changed
from nuzzle.nudges import services


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
