"""Writes for daily check-ins and responses."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone

from checkins import statements
from checkins.models import Checkin, CheckinAnswer, CheckinResponse, Reaction, Visibility
from nuzzle.couples.models import Couple, User
from nuzzle.couples.scoping import couple_context
from nuzzle.lib.errors import Conflict, Invalid, NotFound, as_invalid
from nuzzle.lib.timezones import couple_day, local_date
from nuzzle.nudges.services import activity_note
from prompts.selectors import checkin_question_ids_for, checkin_question_ids_of

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnswerInput:
    question_id: int
    text: str


@dataclass(frozen=True)
class SubmitResult:
    checkin: Checkin
    created: bool


def _validate_answers(answers: list[AnswerInput], allowed_ids: list[int]) -> list[AnswerInput]:
    errors: list[str] = []
    seen: set[int] = set()
    kept: list[AnswerInput] = []
    for answer in answers:
        if answer.question_id not in allowed_ids:
            errors.append(f"Question {answer.question_id} is not one of today's questions.")
        elif answer.question_id in seen:
            errors.append(f"Question {answer.question_id} is answered twice.")
        seen.add(answer.question_id)
        if answer.text.strip():
            kept.append(AnswerInput(answer.question_id, answer.text.strip()))
    if errors:
        raise Invalid.from_fields({"answers": errors})
    return kept


@dataclass(frozen=True)
class _Submission:
    """A check-in to write, validated: for the requester's local today, counted toward
    its couple day (docs/days.md)."""

    today: date
    couple: Couple | None
    shared_day: date
    answers: list[AnswerInput]


def _submission(
    user: User,
    mood: int,
    energy: int | None,
    answers: list[AnswerInput],
    visibility: str,
    pool: list[int] | None = None,
) -> _Submission:
    """The submission checked and placed: my today, my couple and its couple day, and
    the answers kept (to today's questions: from `pool`, the check-in questions' pool
    when read already, else read here)."""
    today = local_date(user.timezone)
    context = couple_context(user)
    shared_day = couple_day(today, user.timezone, context.couple.timezone) if context else today
    if pool is None:
        allowed = checkin_question_ids_for(day=shared_day)
    else:
        allowed = checkin_question_ids_of(pool, shared_day)
    kept = _validate_answers(answers, allowed)
    candidate = Checkin(
        local_date=today, couple_date=shared_day, mood=mood, energy=energy, visibility=visibility
    )
    # Field validation only: Django checks each CheckConstraint with a query of its own,
    # and the fields' validators already say the same (mood and energy 1-5, visibility
    # one of two); the constraints stay the database's last word on the write.
    with as_invalid():
        candidate.full_clean(
            exclude=["author", "couple"], validate_unique=False, validate_constraints=False
        )
        for position, answer in enumerate(kept):
            # The question is one of today's (checked above): no query to look it up again.
            CheckinAnswer(
                prompt_id=answer.question_id, text=answer.text, position=position
            ).full_clean(
                exclude=["checkin", "prompt"], validate_unique=False, validate_constraints=False
            )
    return _Submission(
        today=today,
        couple=context.couple if context else None,
        shared_day=shared_day,
        answers=kept,
    )


def _later_conflict(later: date, user: User) -> Conflict:
    return Conflict(
        f"You have already checked in for {later:%A} {later.day} {later:%B}, a later "
        f"day than today in {user.timezone}. Past days can't be changed: your next "
        "check-in opens when a new day begins for you."
    )


def checkin_submit(
    *,
    user: User,
    mood: int,
    energy: int | None = None,
    answers: list[AnswerInput] | None = None,
    visibility: str = Visibility.SHARED,
) -> SubmitResult:
    """Create or update the requester's check-in for *their* local today.

    Idempotent per (author, local date): a double submit or a retry updates the same
    row (the unique constraint makes a concurrent second insert fall back to an update).
    Past days are never editable: only today's row is reachable, and once I have
    checked in for a later date (before a change of zone moved my today back) not even
    that. Empty answers are dropped; nothing is stored unless everything is valid.

    The check-in counts toward the couple day its local day belongs to (docs/days.md),
    fixed when it is first written in its couple: an edit never moves it.
    """
    given = _submission(user, mood, energy, answers or [], visibility)
    today, shared_day, kept = given.today, given.shared_day, given.answers
    with transaction.atomic():
        later = (
            Checkin.objects.mine(user)
            .filter(local_date__gt=today)
            .values_list("local_date", flat=True)
            .first()
        )
        if later is not None:
            raise _later_conflict(later, user)
        checkin, created = Checkin.objects.select_for_update().get_or_create(
            author=user,
            local_date=today,
            defaults={
                "couple": given.couple,
                "couple_date": shared_day,
                "mood": mood,
                "energy": energy,
                "visibility": visibility,
            },
        )
        if not created:
            checkin.mood, checkin.energy, checkin.visibility = mood, energy, visibility
            # A check-in written while unpaired joins the couple formed later that day
            # (and its couple day with it); one written in a couple never moves.
            if checkin.couple_id is None and given.couple is not None:
                checkin.couple = given.couple
                checkin.couple_date = shared_day
            checkin.save(
                update_fields=[
                    "mood",
                    "energy",
                    "visibility",
                    "couple",
                    "couple_date",
                    "updated_at",
                ]
            )
            checkin.answers.all().delete()
        CheckinAnswer.objects.bulk_create(
            CheckinAnswer(checkin=checkin, prompt_id=a.question_id, text=a.text, position=i)
            for i, a in enumerate(kept)
        )
    # Outside the transaction: the check-in row lock is not held while the activity
    # mark (one conditional UPDATE, at most hourly) is written.
    activity_note(user_id=user.pk)
    logger.info(
        "checkin %s: checkin=%s user=%s", "created" if created else "updated", checkin.pk, user.pk
    )
    return SubmitResult(checkin=checkin, created=created)


@dataclass(frozen=True)
class RenderedSubmit:
    payload: str  # the check-in as the API shows it (checkins.apis.CHECKIN_OUTPUT)
    created: bool


def checkin_submit_rendered(
    *,
    user: User,
    mood: int,
    energy: int | None = None,
    answers: list[AnswerInput] | None = None,
    visibility: str = Visibility.SHARED,
) -> RenderedSubmit:
    """`checkin_submit` for the API on PostgreSQL: the same validation, then the write,
    the activity mark and the read-back as one prepared statement
    (`statements.CHECKIN_WRITE`), which answers with the check-in as the API shows
    it. A PostgreSQL test holds the two paths to the same rows and the same reply."""
    # My couple and the questions' pool in one round trip; the context is remembered,
    # so `_submission`'s `couple_context` reads no more.
    _, pool = statements.checkin_context(user=user)
    given = _submission(user, mood, energy, answers or [], visibility, pool)
    written = statements.checkin_write(
        user=user,
        today=given.today,
        couple_id=given.couple.pk if given.couple else None,
        couple_date=given.shared_day,
        mood=mood,
        energy=energy,
        visibility=visibility,
        answers=[(a.question_id, a.text) for a in given.answers],
        now=timezone.now(),
    )
    if written.later is not None:
        raise _later_conflict(written.later, user)
    if written.payload is None:  # for the type checker: a row is written when not later
        raise RuntimeError("the check-in write returned no row")
    logger.info("checkin %s: user=%s", "created" if written.created else "updated", user.pk)
    return RenderedSubmit(payload=written.payload, created=written.created)


def checkin_respond(
    *, user: User, checkin_id: int, reaction: str | None = None, text: str | None = None
) -> CheckinResponse:
    """Turn toward the partner's shared check-in with a reaction and/or a short reply.

    One response per partner per check-in, updated in place. Only the partner in the
    current couple may respond, only to a shared check-in: anything else is a 404
    (another couple's or a private check-in) or a 400 (your own).
    """
    checkin = Checkin.objects.visible_to(user, checkin=checkin_id).first()
    if checkin is None:
        raise NotFound("No such check-in.")
    if checkin.author_id == user.pk:
        raise Invalid("You can't respond to your own check-in.")
    reaction = reaction or ""
    text = (text or "").strip()
    if not reaction and not text:
        raise Invalid("Add a reaction, a reply, or both.")
    # Validate the input on its own before writing anything.
    with as_invalid():
        CheckinResponse(
            reaction=reaction or Reaction.HEART, text=text, checkin_date=checkin.local_date
        ).full_clean(exclude=["checkin", "author"], validate_unique=False)
    with transaction.atomic():
        response, created = CheckinResponse.objects.select_for_update().get_or_create(
            checkin=checkin,
            author=user,
            defaults={"reaction": reaction, "text": text, "checkin_date": checkin.local_date},
        )
        if not created:
            # A later reply keeps an earlier reaction (and vice versa) unless replaced.
            response.reaction = reaction or response.reaction
            response.text = text or response.text
            response.save(update_fields=["reaction", "text", "updated_at"])
    activity_note(user_id=user.pk)
    logger.info("checkin response: checkin=%s user=%s", checkin.pk, user.pk)
    return response
