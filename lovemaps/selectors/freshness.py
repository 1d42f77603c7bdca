"""Love-map freshness: per area, how many of my answers are stale and how current I am
on my partner's map (the overview page, the dashboard and the API)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, Value, When
from django.utils import timezone

from lovemaps.models import LovemapEntry, PartnerEntry
from nuzzle.couples.models import User
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
    partner's map (my status on each of their answers, from the `PartnerEntry` view).
    One query: both our current answers (a few dozen rows each), counted here."""
    now = now or timezone.now()
    my_answers = (
        LovemapEntry.objects.mine(user)
        .filter(is_current=True)
        .annotate(
            whose=Value("mine"),
            state=Case(When(stale_at__lte=now, then=Value("stale")), default=Value("fresh")),
        )
        .values_list("whose", "topic__domain", "state")
    )
    partners = (
        PartnerEntry.objects.filter(viewer=user)
        .annotate(whose=Value("partner"))
        .values_list("whose", "topic__domain", "status")
    )
    return freshness_of(
        (whose, domain, state, 1) for whose, domain, state in my_answers.union(partners, all=True)
    )


def freshness_of(counts: Iterable[tuple[str, str, str, int]]) -> Freshness:
    """Freshness from counted answers, no query: `(whose, domain, state, how many)`,
    whose "mine" (state "stale" or "fresh") or "partner" (state: my status on their
    answer, as the `PartnerEntry` view says). Also fed by the dashboard's statement."""
    mine: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    partner: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for whose, domain, state, count in counts:
        if whose == "mine":
            mine[domain]["total"] += count
            mine[domain]["stale"] += count if state == "stale" else 0
        else:
            partner[domain][state] += count
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
