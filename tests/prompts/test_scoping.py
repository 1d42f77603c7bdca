"""Who sees which daily question, and what of the partner's answer, is the database's
`VisibleQuestion` view: a couple's questions for its two partners, the partner's words
sealed until both have answered, and after unpairing only my own words."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from nuzzle.couples import services as couples
from prompts.models import VisibleQuestion
from tests.factories import new_daily_question, new_question_answer, new_question_reaction


def seen(user) -> dict[int, tuple[bool, str | None, bool, str | None, str | None]]:
    return {
        row.question_id: (
            row.current,
            row.my_answer,
            row.partner_answered,
            row.partner_answer,
            row.partner_reaction,
        )
        for row in VisibleQuestion.objects.filter(viewer=user)
    }


def test_each_partner_sees_their_couple_s_questions_and_nobody_else_does(cast):
    ours = new_daily_question(couple=cast.couple)
    theirs = new_daily_question(couple=cast.other_couple)
    new_question_answer(question=ours, author=cast.author, text="mine")
    new_question_answer(question=theirs, author=cast.other, text="other couple's")

    assert seen(cast.author) == {ours.pk: (True, "mine", False, None, None)}
    assert seen(cast.partner) == {ours.pk: (True, None, True, None, None)}
    assert seen(cast.other) == {theirs.pk: (True, "other couple's", False, None, None)}
    assert seen(cast.unpaired) == {}


def test_the_partner_s_answer_and_reaction_are_sealed_until_the_reveal(cast):
    ours = new_daily_question(couple=cast.couple)
    new_question_answer(question=ours, author=cast.author, text="mine")
    new_question_answer(question=ours, author=cast.partner, text="theirs")
    new_question_reaction(question=ours, author=cast.partner)
    assert seen(cast.author)[ours.pk] == (True, "mine", True, None, None)

    ours.revealed_at = timezone.now()
    ours.save(update_fields=["revealed_at"])

    current, mine, answered, partners, reaction = seen(cast.author)[ours.pk]
    assert (current, mine, answered, partners) == (True, "mine", True, "theirs")
    assert reaction


def test_after_unpairing_my_words_stay_mine_and_the_partner_s_are_out_of_reach(cast):
    ours = new_daily_question(couple=cast.couple, revealed_at=timezone.now())
    unanswered = new_daily_question(
        couple=cast.couple, couple_date=ours.couple_date - timedelta(days=1)
    )
    new_question_answer(question=ours, author=cast.author, text="mine")
    new_question_answer(question=ours, author=cast.partner, text="theirs")
    new_question_reaction(question=ours, author=cast.partner)

    couples.couple_end(user=cast.author)

    # Only the question I answered, as an earlier couple's, with my words only.
    assert seen(cast.author) == {ours.pk: (False, "mine", True, None, None)}
    assert unanswered.pk not in seen(cast.partner)
    assert seen(cast.partner) == {ours.pk: (False, "theirs", True, None, None)}
