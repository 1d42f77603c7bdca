"""Reads for love maps, with a fixed number of queries whatever the number of topics
answered. A status (unseen, changed, current) comes from two versions read in SQL
(the current one, the newest one revealed) and is decided here, in `_status`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import (
    Case,
    Count,
    F,
    FilteredRelation,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from lovemaps.models import LovemapEntry, LovemapReveal
from nuzzle.couples.models import Membership, User
from nuzzle.couples.scoping import CoupleContext, couple_context
from nuzzle.lib import sql
from nuzzle.nudges.kinds import Context, Recipient
from prompts.models import Prompt


def _domain_order(field: str) -> Case:
    """Areas in the product's order (docs/product.md: Love maps), not alphabetical."""
    values = Prompt.Domain.values
    return Case(
        *(When(**{field: value}, then=Value(index)) for index, value in enumerate(values)),
        default=Value(len(values)),
    )


def lovemap_topics(*, domain: str = "") -> QuerySet[Prompt]:
    published = Prompt.objects.filter(kind=Prompt.Kind.LOVEMAP, status=Prompt.Status.PUBLISHED)
    if domain:
        published = published.filter(domain=domain)
    return published.order_by(_domain_order("domain"), "id")


# --- My map -------------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerGuess:
    id: int
    guess: str
    rating: str | None


@dataclass(frozen=True)
class MyTopic:
    topic: Prompt
    entry: LovemapEntry
    stale: bool
    guesses: list[PartnerGuess]  # my partner's guesses about this topic, to rate


def my_map(
    *, user: User, now: datetime | None = None, topic_id: int | None = None
) -> list[MyTopic]:
    """My current answers, or just one (2 queries: entries with topics, and my
    partner's guesses)."""
    now = now or timezone.now()
    context = couple_context(user)
    guesses = LovemapReveal.objects.exclude(guess="").order_by("-revealed_at")
    guesses = guesses.filter(couple=context.couple) if context else guesses.none()
    entries = (
        LovemapEntry.objects.filter(author=user, is_current=True)
        .select_related("topic")
        .prefetch_related(Prefetch("reveals", queryset=guesses, to_attr="guessed"))
        .order_by(_domain_order("topic__domain"), "topic_id")
    )
    if topic_id is not None:
        entries = entries.filter(topic_id=topic_id)
    return [
        MyTopic(
            topic=entry.topic,
            entry=entry,
            stale=entry.stale_at <= now,
            guesses=[
                PartnerGuess(id=r.pk, guess=r.guess, rating=r.rating or None) for r in entry.guessed
            ],
        )
        for entry in entries
    ]


# --- My map of you --------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerTopic:
    topic: Prompt
    status: str  # "unseen", "changed" or "current"
    answer: str | None  # only when `current`: the text is shown after revealing
    updated_at: datetime
    guess_id: int | None
    guess: str | None
    rating: str | None


def _partner_entries(user: User) -> QuerySet[LovemapEntry]:
    """My partner's current answers in our couple, each annotated with `seen_version`:
    the newest version of that topic I revealed (None: never). `_status` turns the
    two versions into my status; it is computed here in Python, from one evaluation
    of the subquery per answer (in SQL, each use of a status repeated it)."""
    context = couple_context(user)
    if context is None:
        # Empty, but shaped like the paired case, so callers need no special case.
        return LovemapEntry.objects.none().annotate(
            seen_version=Value(None, output_field=IntegerField())
        )
    return LovemapEntry.objects.filter(
        author=context.partner, is_current=True, couple=context.couple
    ).annotate(seen_version=_seen_version(user, context))


def _seen_version(user: User, context: CoupleContext) -> Subquery:
    """For one of my partner's answers (the outer row): the newest version of its topic
    I revealed in our couple, or NULL."""
    seen = LovemapReveal.objects.filter(
        viewer=user,
        couple=context.couple,
        entry__author=context.partner,
        entry__topic=OuterRef("topic"),
    ).order_by("-entry__version")
    return Subquery(seen.values("entry__version")[:1])


def _status(version: int, seen_version: int | None) -> str:
    """Mine on one of my partner's answers: never revealed, revealed as it is now, or
    revealed in an older version."""
    if seen_version is None:
        return "unseen"
    return "current" if seen_version == version else "changed"


def my_topics(*, user: User, domain: str = "") -> list[tuple[Prompt, MyTopic | None]]:
    """Every published topic (of one area, if given) with my answer or None (3 queries)."""
    answered = {row.topic.pk: row for row in my_map(user=user)}
    return [(topic, answered.get(topic.pk)) for topic in lovemap_topics(domain=domain)]


# What needs attention first: changed, then new to me, then what I know.
STATUS_ORDER = {"changed": 0, "unseen": 1, "current": 2}
DOMAIN_ORDER = {value: index for index, value in enumerate(Prompt.Domain.values)}


def partner_map(*, user: User, domain: str = "") -> list[PartnerTopic]:
    """Every topic my partner answered (in one area, if given), changed first, with my
    status; text only where `current`. One query: the answers with their topics, the
    newest version I revealed, and my reveal (guess, rating) of the current version."""
    entries = _partner_entries(user)
    if domain:
        entries = entries.filter(topic__domain=domain)
    rows = []
    for entry in (
        entries.select_related("topic")
        .alias(mine=FilteredRelation("reveals", condition=Q(reveals__viewer=user)))
        .annotate(mine_id=F("mine__id"), mine_guess=F("mine__guess"), mine_rating=F("mine__rating"))
    ):
        status = _status(entry.version, entry.seen_version)  # type: ignore[attr-defined]
        current = status == "current"
        guess = entry.mine_guess if current else None
        rows.append(
            PartnerTopic(
                topic=entry.topic,
                status=status,
                answer=entry.text if current else None,
                updated_at=entry.created_at,
                guess_id=entry.mine_id if guess else None,
                guess=guess or None,
                rating=(entry.mine_rating or None) if current else None,
            )
        )
    rows.sort(
        key=lambda row: (
            STATUS_ORDER[row.status],
            DOMAIN_ORDER.get(row.topic.domain, len(DOMAIN_ORDER)),
            row.topic.pk,
        )
    )
    return rows


# --- Freshness --------------------------------------------------------------------------


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
    current = Q(author=user, is_current=True)
    seen: Any = Value(None, output_field=IntegerField())
    if context is not None:
        current |= Q(author=context.partner, is_current=True, couple=context.couple)
        # Only the partner's rows need the subquery.
        seen = Case(When(author=context.partner, then=_seen_version(user, context)), default=None)
    mine: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    partner: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for author_id, domain, version, stale_at, seen_version in (
        LovemapEntry.objects.filter(current)
        .annotate(seen_version=seen)
        .values_list("author_id", "topic__domain", "version", "stale_at", "seen_version")
    ):
        if author_id == user.pk:
            mine[domain]["total"] += 1
            mine[domain]["stale"] += stale_at <= now
        else:
            partner[domain][_status(version, seen_version)] += 1
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


# --- Set-based selectors for nudges and the daily question ----------------------------


def people_with_stale_answers(
    *, now: datetime | None = None, user_ids: Collection[int] | None = None
) -> QuerySet[User]:
    """Everyone (or everyone of `user_ids`) with at least one stale current answer,
    annotated with `stale_count` (one query for all people)."""
    now = now or timezone.now()
    people = User.objects.filter(
        is_active=True,
        lovemap_entries__is_current=True,
        lovemap_entries__stale_at__lte=now,
    )
    if user_ids is not None:
        people = people.filter(pk__in=user_ids)
    # Annotated after the filter on the same relation: counts only the stale answers.
    return people.annotate(stale_count=Count("lovemap_entries", distinct=True))


def people_with_unseen_partner_changes(
    *, user_ids: Collection[int] | None = None
) -> QuerySet[Membership]:
    """Active memberships (of everyone, or of `user_ids`) whose person has partner
    answers they have not revealed in their current version (new or changed),
    annotated with `unseen_count`. One query."""
    unseen = (
        LovemapEntry.objects.filter(couple=OuterRef("couple"), is_current=True)
        .exclude(author=OuterRef("user"))
        .exclude(reveals__viewer=OuterRef("user"))
        .values("couple")
        .annotate(n=Count("id"))
        .values("n")
    )
    memberships = Membership.objects.filter(ended_at__isnull=True)
    if user_ids is not None:
        memberships = memberships.filter(user_id__in=user_ids)
    return memberships.annotate(unseen_count=Coalesce(Subquery(unseen[:1]), 0)).filter(
        unseen_count__gt=0
    )


def nudge_lovemap_stale(recipients: Sequence[Recipient], now: datetime) -> dict[int, Context]:
    """Who has answers past their half-life, with how many (registered in
    LovemapsConfig.ready(); one query for the batch)."""
    people = people_with_stale_answers(
        now=now, user_ids={recipient.user_id for recipient in recipients}
    )
    # The stubs cannot see an annotation made in another function.
    rows = people.values_list("pk", "stale_count")  # type: ignore[misc]
    return {user_id: {"stale": count} for user_id, count in rows}


def nudge_lovemap_catchup(recipients: Sequence[Recipient], now: datetime) -> dict[int, Context]:
    """Who has partner answers to catch up on (new, or changed since they looked), with
    how many (registered in LovemapsConfig.ready(); one query for the batch)."""
    memberships = people_with_unseen_partner_changes(
        user_ids={recipient.user_id for recipient in recipients}
    )
    rows = memberships.values_list("user_id", "unseen_count")  # type: ignore[misc]
    return {user_id: {"updates": count} for user_id, count in rows}


def answers_updated_since(
    *, couple_ids: Collection[int], since: datetime
) -> dict[tuple[int, int], list[datetime]]:
    """For the weekly recap: per (couple, author), when each topic last got a new
    version (a new or changed answer, not a "still true") written in that couple, for
    topics changed since `since`. One grouped query; one row per topic at most."""
    rows = (
        LovemapEntry.objects.filter(couple_id__in=couple_ids, created_at__gte=since)
        .values("couple_id", "author_id", "topic_id")
        .annotate(last=Max("created_at"))
        .values_list("couple_id", "author_id", "topic_id", "last")
    )
    updates: dict[tuple[int, int], list[datetime]] = defaultdict(list)
    for couple_id, author_id, _topic_id, last in rows:
        updates[(couple_id, author_id)].append(last)
    return updates


def stalest_domains(couple_ids: Sequence[int]) -> dict[int, str]:
    """For the daily question: per couple, the domain with the most stale answers of
    either partner (one grouped query for the batch)."""
    now = timezone.now()
    counts = (
        # The couple ids as one array parameter on PostgreSQL (thousands per batch).
        LovemapEntry.objects.filter(
            sql.ids_in("couple_id", couple_ids), is_current=True, stale_at__lte=now
        )
        .values("couple_id", "topic__domain")
        .annotate(n=Count("id"))
    )
    best: dict[int, tuple[int, str]] = {}
    for row in counts:
        current = best.get(row["couple_id"])
        if current is None or row["n"] > current[0]:
            best[row["couple_id"]] = (row["n"], row["topic__domain"])
    return {couple_id: domain for couple_id, (_, domain) in best.items()}


# --- Export: everything I wrote (docs/product.md: Your data) -----------------------------


def export_lovemap_entries(*, user: User) -> list[dict[str, Any]]:
    """Every version of every answer I gave about myself, by topic then version, with
    the topic's text (one query)."""
    entries = (
        LovemapEntry.objects.filter(author=user)
        .select_related("topic")
        .order_by(_domain_order("topic__domain"), "topic_id", "version")
    )
    return [
        {
            "topic_id": entry.topic_id,
            "topic": entry.topic.text,
            "domain": entry.topic.domain,
            "domain_label": entry.topic.get_domain_display(),
            "version": entry.version,
            "current": entry.is_current,
            "text": entry.text,
            "created_at": entry.created_at,
            "confirmed_at": entry.confirmed_at,
        }
        for entry in entries
    ]


def export_lovemap_guesses(*, user: User) -> list[dict[str, Any]]:
    """The guesses I wrote about my partners' topics, with the rating each got, oldest
    first (one query). Never the answer I revealed: that is my partner's words. The
    topic is the one copied onto the reveal: the answer may be gone (its author deleted
    their account), and my guess stays mine."""
    reveals = (
        LovemapReveal.objects.filter(viewer=user)
        .exclude(guess="")
        .select_related("topic")
        .order_by("revealed_at", "id")
    )
    return [
        {
            "topic": reveal.topic.text,
            "couple_id": reveal.couple_id,
            "guess": reveal.guess,
            "guessed_at": reveal.revealed_at,
            "rating": reveal.rating or None,
            "rated_at": reveal.rated_at,
        }
        for reveal in reveals
    ]


def export_lovemap_ratings(*, user: User) -> list[dict[str, Any]]:
    """The ratings I gave to guesses about me, oldest first (one query). Never the
    guess itself: that is my partner's words."""
    reveals = (
        LovemapReveal.objects.filter(entry__author=user)
        .exclude(rating="")
        .select_related("entry", "topic")
        .order_by("rated_at", "id")
    )
    return [
        {
            "topic": reveal.topic.text,
            "version": entry.version,
            "couple_id": reveal.couple_id,
            "rating": reveal.rating,
            "rated_at": reveal.rated_at,
        }
        for reveal in reveals
        # Always there (the filter is on the entry's author); said for the type checker.
        if (entry := reveal.entry) is not None
    ]
