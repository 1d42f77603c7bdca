from __future__ import annotations

from django.urls import reverse

from nuzzle.couples.models import Invite
from nuzzle.lib.http import absolute_url


def invite_absolute_url(invite: Invite) -> str:
    """The link the inviter sends to their partner."""
    return absolute_url(reverse("invite-accept", kwargs={"code": invite.display_code}))
