"""Set-based love-map reads over many people or couples at once, one query per batch:
who is due a love-map nudge, what changed for the weekly recap, and the stalest area
the daily question leans toward."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime

from django.db.models import Count, Max, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from lovemaps.models import LovemapEntry, PartnerEntry
from nuzzle.couples.models import Membership, User
from nuzzle.lib import sql
from nuzzle.nudges.kinds import Context, Recipient


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
    answers they have not revealed in their current version (new or changed: not
    "current" in the `PartnerEntry` view, as their map of their partner shows them),
    annotated with `unseen_count`. One query."""
    unseen = (
        PartnerEntry.objects.filter(viewer=OuterRef("user"))
        .exclude(status="current")
        .values("viewer")
        .annotate(n=Count("entry"))
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
