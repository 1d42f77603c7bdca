"""Reads for check-ins. Every read starts from `Checkin.objects.visible_to(user)`:
mine (any couple) plus what my partner shared in our current couple."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, Generic, Protocol, TypeVar

from django.db.models import Count, Prefetch, QuerySet, prefetch_related_objects

from checkins.models import (
    Checkin,
    CheckinAnswer,
    CheckinQuerySet,
    CheckinResponse,
    ShowedUpMonth,
    Visibility,
    VisibleResponse,
)
from nuzzle.couples.models import User
from nuzzle.couples.scoping import CoupleContext, couple_context
from nuzzle.lib.sql import IdIn
from nuzzle.lib.timezones import couple_day, local_date, local_day_for
from nuzzle.nudges.kinds import Context, Recipient


def visible_responses(user: User) -> QuerySet[CheckinResponse]:
    """Responses I may see, as the database's `VisibleResponse` view says: my own, and
    my current partner's on a check-in of our current couple. An ex-partner's replies
    on my old check-ins are theirs, not mine: after unpairing they are no longer shown."""
    seen = VisibleResponse.objects.filter(viewer=user).values("response")
    return (
        CheckinResponse.objects.filter(pk__in=seen)
        .select_related("author")
        .order_by("created_at", "id")
    )


def _details(user: User) -> list[Prefetch]:
    """Answers (with their questions) and the responses I may see (with their authors)."""
    return [
        Prefetch("answers", queryset=CheckinAnswer.objects.select_related("prompt")),
        Prefetch("responses", queryset=visible_responses(user)),
    ]


def with_details(queryset: CheckinQuerySet, user: User) -> CheckinQuerySet:
    """Answers (with their questions) and visible responses (with their authors) in
    two extra queries, whatever the number of check-ins."""
    return queryset.select_related("author").prefetch_related(*_details(user))


def _visible_between(
    user: User, date_from: date | None = None, date_to: date | None = None
) -> CheckinQuerySet:
    """The check-ins `checkin_list` reads, without their answers and responses: mine
    (any couple, any visibility) and my partner's shared ones in our current couple,
    with a local date from `date_from` to `date_to` (either bound optional), newest
    couple day first (then newest local date, newest written)."""
    dates: dict[str, date] = {}
    if date_from is not None:
        dates["local_date__gte"] = date_from
    if date_to is not None:
        dates["local_date__lte"] = date_to
    queryset = Checkin.objects.visible_to(user, **dates)
    # By couple day: partners' check-ins of one couple day sit together (docs/days.md).
    return queryset.order_by("-couple_date", "-local_date", "-created_at", "-id")


def checkin_list(
    *, user: User, date_from: date | None = None, date_to: date | None = None
) -> CheckinQuerySet:
    """Mine and my partner's shared check-ins in `_visible_between`'s range and order,
    with their authors, their answers and the responses I may see (two more queries,
    whatever the number). Not grouped by day: `checkin_days` groups them, mine first
    within a day."""
    return with_details(_visible_between(user, date_from, date_to), user)


def checkins_with_details(*, user: User, ids: Collection[int]) -> list[Checkin]:
    """Check-ins by id (ids a who-sees-what view gave `user`: another's are not
    returned), with their authors, answers and the responses `user` may see (three
    queries)."""
    return list(with_details(Checkin.objects.visible_to(user, checkin__in=ids), user))


def checkin_details(*, user: User, checkin: Checkin) -> Checkin:
    """The check-in the requester has just written, with its answers and the responses
    they may see (two queries; the row itself is not read again)."""
    if checkin.author_id != user.pk:
        raise ValueError("checkin_details is for the requester's own check-in")
    checkin.author = user
    prefetch_related_objects([checkin], *_details(user))
    return checkin


class SeenCheckin(Protocol):
    """What the day rules read of a check-in: a `Checkin`, or one the database has
    already rendered for the API (`checkins.statements.RenderedCheckin`). Typed `Any`:
    a model's fields are descriptors to the type checker."""

    pk: Any
    author_id: Any
    couple_id: Any
    local_date: Any
    couple_date: Any
    mood: Any
    created_at: Any


C = TypeVar("C", bound=SeenCheckin)


@dataclass(frozen=True)
class Today(Generic[C]):
    """The two "today" cards (docs/days.md): my check-in for my own local today, and my
    partner's shared check-in for the same couple day, whatever their local date."""

    date: datetime.date  # my local date
    couple_date: datetime.date  # the couple day my today belongs to
    mine: C | None
    partner_date: datetime.date | None  # my partner's local date of that couple day
    partner: C | None
    # My partner has already shared a check-in for a later couple day: their day moved
    # on before mine (it shows here once mine does).
    partner_ahead: bool = False


# A partner's local date lies within two days of a couple day (zones are at most 26
# hours apart), so a window this much wider than mine holds every check-in to pair.
_PAIRING_MARGIN = timedelta(days=2)


def _today_of(user: User, checkins: Sequence[C]) -> Today[C]:
    """The cards from a window of visible check-ins, newest first. Once I have checked
    in, my today's couple day is the one my check-in counts toward (it never moves,
    even if a zone changed since), so both cards always show the same couple day and
    a day with both is always a day we both showed up."""
    context = couple_context(user)
    my_date = local_date(user.timezone)
    me = user.pk  # a model's pk is a property: read once, not once per check-in
    mine = next((c for c in checkins if c.author_id == me and c.local_date == my_date), None)
    if context is None:
        return Today(date=my_date, couple_date=my_date, mine=mine, partner_date=None, partner=None)
    couple, partner_user = context.couple, context.partner
    couple_id, partner_id = couple.pk, partner_user.pk
    if mine is not None and mine.couple_id == couple_id:
        shared_day = mine.couple_date
    else:
        shared_day = couple_day(my_date, user.timezone, couple.timezone)
    theirs = [c for c in checkins if c.author_id == partner_id and c.couple_id == couple_id]
    partner = next((c for c in theirs if c.couple_date == shared_day), None)
    ahead = any(c.couple_date > shared_day for c in theirs)
    return Today(
        date=my_date,
        couple_date=shared_day,
        partner_ahead=ahead,
        mine=mine,
        partner_date=(
            partner.local_date
            if partner is not None
            else local_day_for(shared_day, partner_user.timezone, couple.timezone)
        ),
        partner=partner,
    )


def checkin_today(*, user: User) -> Today[Checkin]:
    """My check-in for my today and my partner's shared one for the same couple day."""
    my_date = local_date(user.timezone)
    window = checkin_list(
        user=user, date_from=my_date - _PAIRING_MARGIN, date_to=my_date + _PAIRING_MARGIN
    )
    return _today_of(user, list(window))


@dataclass(frozen=True)
class MoodDay:
    date: date
    mine: int | None
    partner: int | None


@dataclass(frozen=True)
class ShowedUp:
    this_month: int
    all_time: int


@dataclass(frozen=True)
class RecentDay(Generic[C]):
    """Check-ins of one couple day, under the date that day has in my own calendar."""

    date: date
    checkins: list[C]  # mine first


@dataclass(frozen=True)
class CheckinOverview(Generic[C]):
    """What the dashboard needs from check-ins, read with a fixed number of queries."""

    today: Today[C]
    moods: list[MoodDay]  # oldest first, ending on my today
    recent: list[C]  # before today, newest first
    recent_days: list[RecentDay[C]]  # the same, grouped by couple day, newest first
    showed_up: ShowedUp | None  # None when unpaired


MOOD_DAYS = 30
RECENT_LIMIT = 6


def days_both_showed_up(*, user: User, today: date | None = None) -> ShowedUp | None:
    """Couple days on which both partners shared a check-in in this couple: this month
    (the month of `today`, my couple day, by default the one I am living now) and all
    time (one query). A count that only grows: a check-in's couple day is fixed when
    written, and missing a day never resets it. Private check-ins count nowhere the
    partner can see. `_days_both_shared` is the rule; the tallies are kept by the
    database under the same rule (checkins migration 0004), and a test recomputes them."""
    context = couple_context(user)
    if context is None:
        return None
    if today is None:
        today = couple_day(local_date(user.timezone), user.timezone, context.couple.timezone)
    # The database keeps a tally per couple-month (`ShowedUpMonth`): a couple's few
    # rows, not a grouping of its whole history.
    months = ShowedUpMonth.objects.filter(couple=context.couple).values_list("month", "days")
    this_month = today.replace(day=1)
    tally = dict(months)
    return ShowedUp(this_month=tally.get(this_month, 0), all_time=sum(tally.values()))


def _days_both_shared(checkins: QuerySet[Checkin], *by: str) -> QuerySet[Checkin, Any]:
    """The one rule for "both showed up": couple days (grouped also `by` the given
    fields) on which two people shared a check-in. Only shared ones count: a private
    check-in must not show through in anything the partner sees."""
    return (
        checkins.filter(visibility=Visibility.SHARED)
        .values(*by, "couple_date")
        .annotate(people=Count("author", distinct=True))
        .filter(people=2)
    )


def days_both_showed_up_between(
    *, couple_ids: Collection[int], date_from: date, date_to: date
) -> dict[int, set[date]]:
    """For many couples at once (the weekly recap): the couple days in a range on which
    both partners shared a check-in in that couple (one grouped query)."""
    rows = _days_both_shared(
        Checkin.objects.filter(
            couple_id__in=couple_ids, couple_date__gte=date_from, couple_date__lte=date_to
        ),
        "couple_id",
    ).values_list("couple_id", "couple_date")
    days: dict[int, set[date]] = defaultdict(set)
    for couple_id, day in rows:
        days[couple_id].add(day)
    return days


def _my_calendar(
    user: User, context: CoupleContext | None, today: Today | None = None
) -> Callable[[Checkin], date]:
    """Where a check-in sits in my own calendar: one of my current couple by its couple
    day (so a day both showed up is one column of the chart and one group of the
    history), any other (mine, from before) by its local date. With `today`, my last
    days are matched to their couple days first, today's being the one my cards show."""
    if context is None:
        return lambda checkin: checkin.local_date
    couple = context.couple
    couple_id = couple.pk
    columns: dict[date, date] = {}
    if today is not None:
        columns = {
            couple_day(day, user.timezone, couple.timezone): day
            for day in (today.date - timedelta(days=n) for n in range(MOOD_DAYS + 1, 0, -1))
        }
        columns[today.couple_date] = today.date

    def placed(checkin: Checkin) -> date:
        if checkin.couple_id != couple_id:
            return checkin.local_date
        found = columns.get(checkin.couple_date)
        if found is None:
            found = local_day_for(checkin.couple_date, user.timezone, couple.timezone)
        return found

    return placed


def checkin_days(*, user: User, checkins: Sequence[Checkin]) -> list[RecentDay]:
    """Check-ins (newest couple day first, as `checkin_list` orders them) grouped by
    the day each sits on in my own calendar, mine first within a day. No query."""
    placed = _my_calendar(user, couple_context(user))
    days: list[RecentDay] = []
    for checkin in checkins:
        day = placed(checkin)
        if not days or days[-1].date != day:
            days.append(RecentDay(date=day, checkins=[]))
        days[-1].checkins.append(checkin)
    for group in days:
        group.checkins.sort(key=lambda c: c.author_id != user.pk)
    return days


def overview_window(user: User) -> tuple[date, date]:
    """The local dates whose check-ins `overview_of` needs: the chart's 30 days and the
    margins that pair partners' days (a couple of days either side)."""
    my_date = local_date(user.timezone)
    return my_date - timedelta(days=MOOD_DAYS) - _PAIRING_MARGIN, my_date + _PAIRING_MARGIN


def overview_of(user: User, window: Sequence[Any], showed_up: ShowedUp | None) -> CheckinOverview:
    """Today, the last 30 days of moods and recent history from a window of visible
    check-ins (`overview_window`, newest couple day first), with no query: the pure
    part of `checkin_overview`, also used on check-ins the database has rendered
    (nuzzle/dashboard/statements.py). Items need `pk`, `author_id`, `couple_id`,
    `local_date`, `couple_date`, `mood` and `created_at`.

    A partner's check-in for a couple day after my today (their day has moved on
    before mine) waits until mine does."""
    my_date = local_date(user.timezone)
    me = user.pk  # a model's pk is a property: read once, not once per check-in
    today = _today_of(user, list(window))
    context = couple_context(user)
    placed = _my_calendar(user, context, today)
    days = {checkin.pk: placed(checkin) for checkin in window}
    by_day: dict[date, dict[str, int]] = {}
    # Oldest first: when two of one person's check-ins share a column (a move across
    # zones), the newer one is drawn.
    for checkin in reversed(window):
        who = "mine" if checkin.author_id == me else "partner"
        by_day.setdefault(days[checkin.pk], {})[who] = checkin.mood
    moods = [
        MoodDay(
            date=day,
            mine=by_day.get(day, {}).get("mine"),
            partner=by_day.get(day, {}).get("partner") if context else None,
        )
        for day in (my_date - timedelta(days=offset) for offset in range(MOOD_DAYS - 1, -1, -1))
    ]
    shown_today = {c.pk for c in (today.mine, today.partner) if c is not None}
    earlier = sorted(
        (c for c in window if c.pk not in shown_today and days[c.pk] <= my_date),
        key=lambda c: (days[c.pk], c.author_id == me, c.created_at, c.pk),
        reverse=True,
    )[:RECENT_LIMIT]
    recent_days: list[RecentDay] = []
    for checkin in earlier:
        if not recent_days or recent_days[-1].date != days[checkin.pk]:
            recent_days.append(RecentDay(date=days[checkin.pk], checkins=[]))
        recent_days[-1].checkins.append(checkin)
    return CheckinOverview(
        today=today,
        moods=moods,
        recent=earlier,
        recent_days=recent_days,
        showed_up=showed_up,
    )


def checkin_overview(*, user: User) -> CheckinOverview[Checkin]:
    """Today, the last 30 days of moods and recent history (`overview_of`) from one
    windowed read, the details (answers, responses) of the few check-ins shown from two
    more, and the showed-up counts from one.

    Only the check-ins on show (today's two and the recent ones) get their details:
    the window holds up to 60, and building answers and responses for all of them
    was most of the dashboard's time."""
    window = list(_visible_between(user, *overview_window(user)))
    context = couple_context(user)
    # Every check-in here is mine or my current partner's: no need to read the authors.
    people = {user.pk: user, **({context.partner.pk: context.partner} if context else {})}
    for checkin in window:
        checkin.author = people[checkin.author_id]
    overview = overview_of(user, window, None)
    shown = [c for c in (overview.today.mine, overview.today.partner) if c is not None]
    prefetch_related_objects([*shown, *overview.recent], *_details(user))
    return replace(
        overview, showed_up=days_both_showed_up(user=user, today=overview.today.couple_date)
    )


# --- Nudges ------------------------------------------------------------------------------


def nudge_checkin_reminder(
    recipients: Sequence[Recipient], now: datetime.datetime
) -> dict[int, Context]:
    """Who has not checked in on their own local today (registered in
    CheckinsConfig.ready(); one query for the batch, on the (author, local_date) key)."""
    done = set(
        Checkin.objects.filter(
            IdIn("author_id", {recipient.user_id for recipient in recipients}),
            local_date__in={recipient.local_date for recipient in recipients},
        ).values_list("author_id", "local_date")
    )
    return {
        recipient.user_id: {}
        for recipient in recipients
        if (recipient.user_id, recipient.local_date) not in done
    }


# --- Export: everything I wrote (docs/product.md: Your data) -----------------------------


def export_checkins(*, user: User) -> list[dict[str, Any]]:
    """Every check-in I wrote, in any couple and of any visibility, oldest first, with
    my answers and their questions' text (two queries, however long the history).
    Responses on my check-ins are my partners' words and are not included."""
    checkins = (
        Checkin.objects.mine(user)
        .prefetch_related(
            Prefetch("answers", queryset=CheckinAnswer.objects.select_related("prompt"))
        )
        .order_by("local_date", "id")
    )
    return [
        {
            "id": checkin.pk,
            "local_date": checkin.local_date,
            "couple_date": checkin.couple_date,
            "couple_id": checkin.couple_id,
            "mood": checkin.mood,
            "mood_label": checkin.get_mood_display(),
            "energy": checkin.energy,
            "energy_label": checkin.get_energy_display() if checkin.energy else None,
            "visibility": checkin.visibility,
            "created_at": checkin.created_at,
            "updated_at": checkin.updated_at,
            "answers": [
                {"question": answer.prompt.text, "text": answer.text}
                for answer in checkin.answers.all()
            ],
        }
        for checkin in checkins
    ]


def export_checkin_responses(*, user: User) -> list[dict[str, Any]]:
    """The reactions and replies I wrote on my partners' check-ins, oldest first (one
    query). Only the date of the check-in is given (copied onto the response), never
    its content; the check-in itself is not read, and may be gone (`checkin_id` null)
    when its author deleted their account: my reply stays mine."""
    responses = CheckinResponse.objects.filter(author=user).order_by("created_at", "id")
    return [
        {
            "checkin_id": response.checkin_id,
            "checkin_date": response.checkin_date,
            "reaction": response.reaction,
            "text": response.text,
            "created_at": response.created_at,
            "updated_at": response.updated_at,
        }
        for response in responses
    ]
