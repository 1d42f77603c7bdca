"""Love-map freshness: per area, how many of my answers are stale and how current I am
on my partner's map (the overview page, the dashboard and the API)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from lovemaps.models import LovemapEntry
from lovemaps.selectors.maps import newest_revealed_version, reveal_status
from nuzzle.couples.models import User
from nuzzle.couples.scoping import couple_context
from prompts.models import Prompt


@dataclass(frozen=True)
class DomainFreshness:
    domain: str
    label: str
    mine_stale: int
    mine_total: int
    partner_current: int
    partner_changed: int
    partner_unseen: int


@dataclass(frozen=True)
class Freshness:
    mine_stale: int
    mine_total: int
    partner_current: int
    partner_changed: int
    partner_unseen: int
    domains: list[DomainFreshness]

    @property
    def stalest_domain(self) -> DomainFreshness | None:
        """Where knowledge is most out of date (stale + changed + unseen), if anywhere."""
        scored = [(d.mine_stale + d.partner_changed + d.partner_unseen, d) for d in self.domains]
        best = max(scored, key=lambda pair: pair[0], default=(0, None))
        return best[1] if best[0] else None


def freshness(*, user: User, now: datetime | None = None) -> Freshness:
    """Per domain: how many of my answers are stale, and how current I am on my
    partner's map. One query: both our current answers (a few dozen rows each: domain,
    versions, staleness), counted here."""
    now = now or timezone.now()
    context = couple_context(user)
    both = LovemapEntry.objects.mine(user) | LovemapEntry.objects.from_partner(user)
    seen: Any = Value(None, output_field=IntegerField())
    if context is not None:
        # Only the partner's rows need the subquery.
        seen = Case(
            When(author=context.partner, then=newest_revealed_version(user, context)), default=None
        )
    mine: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    partner: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for author_id, domain, version, stale_at, seen_version in (
        both.filter(is_current=True)
        .annotate(seen_version=seen)
        .values_list("author_id", "topic__domain", "version", "stale_at", "seen_version")
    ):
        if author_id == user.pk:
            mine[domain]["total"] += 1
            mine[domain]["stale"] += stale_at <= now
        else:
            partner[domain][reveal_status(version, seen_version)] += 1
    domains = [
        DomainFreshness(
            domain=value,
            label=label,
            mine_stale=mine.get(value, {}).get("stale", 0),
            mine_total=mine.get(value, {}).get("total", 0),
            partner_current=partner.get(value, {}).get("current", 0),
            partner_changed=partner.get(value, {}).get("changed", 0),
            partner_unseen=partner.get(value, {}).get("unseen", 0),
        )
        for value, label in Prompt.Domain.choices
    ]
    return Freshness(
        mine_stale=sum(d.mine_stale for d in domains),
        mine_total=sum(d.mine_total for d in domains),
        partner_current=sum(d.partner_current for d in domains),
        partner_changed=sum(d.partner_changed for d in domains),
        partner_unseen=sum(d.partner_unseen for d in domains),
        domains=domains,
    )
