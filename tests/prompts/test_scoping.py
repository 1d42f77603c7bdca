"""Answers and reactions to the daily question are couple-scoped like every other
piece of couple content: their couple is the question's."""

from __future__ import annotations

from nuzzle.couples import services as couples
from prompts.models import QuestionAnswer, QuestionReaction
from tests.factories import new_daily_question, new_question_answer, new_question_reaction


def test_answers_are_scoped_through_their_question_s_couple(cast):
    ours = new_daily_question(couple=cast.couple)
    theirs = new_daily_question(couple=cast.other_couple)
    mine = new_question_answer(question=ours, author=cast.author)
    partners = new_question_answer(question=ours, author=cast.partner)
    new_question_answer(question=theirs, author=cast.other)

    assert list(QuestionAnswer.objects.mine(cast.author)) == [mine]
    assert list(QuestionAnswer.objects.from_partner(cast.author)) == [partners]
    readable = QuestionAnswer.objects.mine_or_in_current_couple(cast.author)
    assert set(readable) == {mine, partners}
    assert not QuestionAnswer.objects.from_partner(cast.unpaired).exists()


def test_after_unpairing_my_words_stay_mine_and_the_partner_s_are_out_of_reach(cast):
    ours = new_daily_question(couple=cast.couple)
    mine = new_question_answer(question=ours, author=cast.author)
    new_question_answer(question=ours, author=cast.partner)
    reaction = new_question_reaction(question=ours, author=cast.author)

    couples.couple_end(user=cast.author)

    assert list(QuestionAnswer.objects.mine_or_in_current_couple(cast.author)) == [mine]
    assert not QuestionAnswer.objects.from_partner(cast.author).exists()
    assert list(QuestionReaction.objects.mine(cast.author)) == [reaction]
