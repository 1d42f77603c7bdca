"""Helpers for check-in tests: today's question ids and bulk history."""

from __future__ import annotations

from datetime import date, timedelta

from checkins.models import Checkin, CheckinAnswer, CheckinResponse, Visibility
from nuzzle.couples.models import Couple, User
from nuzzle.couples.selectors import couple_day_today
from nuzzle.lib.timezones import couple_day, local_date
from prompts.selectors import checkin_questions_for


def todays_question_ids(user: User) -> list[int]:
    return [q.pk for q in checkin_questions_for(day=couple_day_today(user=user))]


def make_history(
    *, author: User, partner: User, couple: Couple, days: int, until: date | None = None
) -> None:
    """`days` days of check-ins for both partners (bulk: fast even for 1,000 days),
    each with three answers, and a response from the partner on each of the author's.

    Plain model constructors, not the factories' `build()`: 1,000 days make some 9,000
    rows, which factory_boy takes more than ten times as long to build."""
    end = until or local_date(author.timezone) - timedelta(days=1)
    questions = checkin_questions_for(day=end)
    rows = [
        Checkin(
            author=person,
            couple=couple,
            local_date=end - timedelta(days=offset),
            couple_date=couple_day(end - timedelta(days=offset), person.timezone, couple.timezone),
            mood=1 + (offset + index) % 5,
            energy=3,
            visibility=Visibility.SHARED,
        )
        for offset in range(days)
        for index, person in enumerate((author, partner))
    ]
    Checkin.objects.bulk_create(rows, batch_size=1000)
    created = Checkin.objects.filter(couple=couple, local_date__lte=end)
    CheckinAnswer.objects.bulk_create(
        (
            CheckinAnswer(checkin=checkin, prompt=question, position=i, text=f"answer {i}")
            for checkin in created
            for i, question in enumerate(questions)
        ),
        batch_size=1000,
    )
    CheckinResponse.objects.bulk_create(
        (
            CheckinResponse(
                checkin=checkin,
                checkin_date=checkin.local_date,
                author=partner,
                reaction="heart",
            )
            for checkin in created.filter(author=author)
        ),
        batch_size=1000,
    )
