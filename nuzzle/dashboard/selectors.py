"""Reads for the dashboard: one call gathers everything the page and the API show,
with a fixed number of queries whatever the length of the couple's history."""

from __future__ import annotations

from dataclasses import dataclass

from checkins.selectors import CheckinOverview, checkin_overview
from nuzzle.couples.models import Invite, User
from nuzzle.couples.scoping import CoupleContext, couple_context
from nuzzle.couples.selectors import invite_pending_for


@dataclass(frozen=True)
class Dashboard:
    couple: CoupleContext | None
    checkins: CheckinOverview
    pending_invite: Invite | None  # only looked up when unpaired


def dashboard_get(*, user: User) -> Dashboard:
    context = couple_context(user)
    return Dashboard(
        couple=context,
        checkins=checkin_overview(user=user),
        pending_invite=invite_pending_for(user=user) if context is None else None,
    )
