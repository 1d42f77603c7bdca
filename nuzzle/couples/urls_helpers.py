from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from nuzzle.couples.models import Invite


def invite_absolute_url(invite: Invite) -> str:
    """The link the inviter sends to their partner."""
    return settings.SITE_URL + reverse("invite-accept", kwargs={"code": invite.display_code})
