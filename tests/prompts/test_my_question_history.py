"""My answers stay mine after unpairing (docs/product.md, Unpair: "my answers to daily
questions stay in my question history"): the question history, `/questions/` and
`GET /api/v1/questions`, keeps my own answers from every couple I was in, with their
questions and days, whether I am unpaired now or in a later couple — and never a word
of an ex-partner's, neither their answers nor their reactions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from nuzzle.couples.models import Couple, User
from nuzzle.couples.scoping import forget_couple_context
from nuzzle.couples.services import couple_end, invite_accept, invite_create
from prompts.assignment import closes_at_for
from prompts.models import DailyQuestion, Prompt
from prompts.services import question_answer, question_react
from tests.conftest import token_client
from tests.factories import PromptFactory, as_prompt, new_daily_question, new_user
from tests.queries import count_queries

pytestmark = pytest.mark.django_db

# 03:00 UTC: Thursday 14 May is the couple day of everyone here (Robin's afternoon in
# Auckland, Sam's Wednesday evening in Los Angeles, Cleo's early morning in London).
NOW = datetime(2026, 5, 14, 3, 0, tzinfo=UTC)


def fresh(user: User) -> User:
    forget_couple_context(user)
    return User.objects.get(pk=user.pk)


def asked(couple: Couple, day: date, text: str) -> DailyQuestion:
    """A question for `couple` on `day`, still open now."""
    prompt = as_prompt(PromptFactory(kind=Prompt.Kind.QUESTION, text=text))
    return new_daily_question(
        couple=couple,
        prompt=prompt,
        couple_date=day,
        closes_at=closes_at_for(date(2026, 5, 14), couple.timezone),
    )


@dataclass
class Before:
    both: DailyQuestion  # both answered: revealed, and both reacted
    only_mine: DailyQuestion  # only Robin answered: sealed
    only_theirs: DailyQuestion  # only Sam answered: sealed, nothing of Robin's in it


@pytest.fixture
def before(cast) -> Before:
    """Three questions of Robin and Sam's couple, then Robin unpairs."""
    robin, sam = cast.author, cast.partner
    with time_machine.travel(NOW, tick=False):
        both = asked(cast.couple, date(2026, 5, 12), "Q-BOTH: what made you laugh?")
        only_mine = asked(cast.couple, date(2026, 5, 13), "Q-MINE: a place you miss?")
        only_theirs = asked(cast.couple, date(2026, 5, 14), "Q-THEIRS: a small luxury?")
        question_answer(user=robin, question_id=both.pk, text="ROBIN-ANSWER-both")
        question_answer(user=sam, question_id=both.pk, text="SAM-ANSWER-both")
        question_react(user=robin, question_id=both.pk, reaction="hug")
        question_react(user=sam, question_id=both.pk, reaction="laugh")
        question_answer(user=robin, question_id=only_mine.pk, text="ROBIN-ANSWER-mine")
        question_answer(user=sam, question_id=only_theirs.pk, text="SAM-ANSWER-theirs")
        couple_end(user=fresh(robin))
    return Before(both=both, only_mine=only_mine, only_theirs=only_theirs)


def history_page(user: User) -> str:
    client = Client()
    client.force_login(user)
    response = client.get("/questions/")
    assert response.status_code == 200
    return response.content.decode()


def history_api(user: User) -> list[dict]:
    response = token_client(user).get("/api/v1/questions")
    assert response.status_code == 200
    return response.json()["results"]


def test_unpaired_my_answers_stay_in_my_history_with_their_questions_and_days(cast, before):
    with time_machine.travel(NOW, tick=False):
        page = history_page(cast.author)
        results = history_api(cast.author)

    for text in ("Q-BOTH", "ROBIN-ANSWER-both", "Q-MINE", "ROBIN-ANSWER-mine"):
        assert text in page
    assert "Tuesday 12 May 2026" in page
    assert "Wednesday 13 May 2026" in page
    assert page.count('data-testid="earlier-couple"') == 2
    # Nothing of Sam's: no answer, no reaction, not even the question only Sam answered;
    # and nothing to act on (the couple is over).
    for text in ("SAM-ANSWER", "Q-THEIRS", 'data-testid="partner-reaction"', "/react/"):
        assert text not in page
    assert [r["id"] for r in results] == [before.only_mine.pk, before.both.pk]
    mine, both = results
    assert mine["date"] == "2026-05-13"
    assert mine["prompt"]["text"].startswith("Q-MINE")
    assert (mine["my_answer"], mine["state"], mine["closed"]) == (
        "ROBIN-ANSWER-mine",
        "waiting",
        True,
    )
    assert (both["my_answer"], both["state"], both["my_reaction"]) == (
        "ROBIN-ANSWER-both",
        "revealed",
        "hug",
    )
    for result in results:
        assert result["earlier_couple"] is True
        assert result["partner_answer"] is None
        assert result["partner_reaction"] is None
    assert "SAM-ANSWER" not in str(results)


def test_my_ex_partner_keeps_their_own_answers_and_sees_none_of_mine(cast, before):
    with time_machine.travel(NOW, tick=False):
        page = history_page(cast.partner)
        results = history_api(cast.partner)
    assert [r["id"] for r in results] == [before.only_theirs.pk, before.both.pk]
    for text in ("SAM-ANSWER-theirs", "SAM-ANSWER-both", "Q-THEIRS", "Q-BOTH"):
        assert text in page
    for text in ("ROBIN-ANSWER", "Q-MINE"):
        assert text not in page
        assert text not in str(results)


@pytest.mark.parametrize("new_partner", ["cleo", "sam again"])
def test_in_a_later_couple_my_history_has_our_questions_and_my_earlier_answers(
    cast, before, new_partner
):
    """Pairing again, even with the same person, starts a new couple: its questions
    show as ours; the earlier couple's keep only my own words."""
    robin = fresh(cast.author)
    partner = new_user(display_name="Cleo") if new_partner == "cleo" else fresh(cast.partner)
    with time_machine.travel(NOW, tick=False):
        couple = invite_accept(user=partner, code=invite_create(user=robin).code)
        ours = asked(couple, date(2026, 5, 14), "Q-OURS: what are you reading?")
        question_answer(user=fresh(robin), question_id=ours.pk, text="ROBIN-ANSWER-ours")
        question_answer(user=fresh(partner), question_id=ours.pk, text="NEW-ANSWER-ours")
        page = history_page(robin)
        results = history_api(robin)
        partners_results = history_api(partner)
        today = token_client(robin).get("/api/v1/questions/today").json()
        question_page = Client()
        question_page.force_login(robin)
        question_html = question_page.get("/question/").content.decode()

    assert [r["id"] for r in results] == [ours.pk, before.only_mine.pk, before.both.pk]
    assert [r["earlier_couple"] for r in results] == [False, True, True]
    assert results[0]["partner_answer"] == "NEW-ANSWER-ours"  # ours, revealed
    for text in ("NEW-ANSWER-ours", "ROBIN-ANSWER-ours", "ROBIN-ANSWER-both", "ROBIN-ANSWER-mine"):
        assert text in page
    for text in ("SAM-ANSWER", "Q-THEIRS"):
        assert text not in page
        assert text not in str(results)
    assert page.count('data-testid="earlier-couple"') == 2
    # The new partner's history is the new couple's only: none of Robin's earlier words
    # (and Sam, paired anew, sees Sam's own earlier answers, never Robin's).
    assert "ROBIN-ANSWER-mine" not in str(partners_results)
    assert "ROBIN-ANSWER-both" not in str(partners_results)
    assert [r["id"] for r in partners_results if not r["earlier_couple"]] == [ours.pk]
    # Today's question and the open ones on the question page are the new couple's only.
    assert today["id"] == ours.pk
    assert "Q-MINE" not in question_html


def test_someone_who_was_never_in_that_couple_sees_none_of_it(cast, before):
    with time_machine.travel(NOW, tick=False):
        for person in (cast.other, cast.unpaired):
            page = history_page(person)
            results = history_api(person)
            for text in ("ROBIN-ANSWER", "SAM-ANSWER", "Q-BOTH", "Q-MINE", "Q-THEIRS"):
                assert text not in page
                assert text not in str(results)


# --- Queries -------------------------------------------------------------------------


def warm_count(fetch) -> int:
    fetch()  # warm-up: the session or token refresh writes once
    return count_queries(fetch)


def pages(user: User) -> dict[str, int]:
    client = Client()
    client.force_login(user)
    api = token_client(user)
    return {
        "/questions/": warm_count(lambda: client.get("/questions/")),
        "/api/v1/questions": warm_count(lambda: api.get("/api/v1/questions")),
    }


def answered_questions(robin: User, sam: User, couple: Couple, count: int) -> None:
    """`count` questions of `couple` both answered and reacted to (revealed)."""
    for n in range(count):
        question = asked(couple, date(2026, 5, 13) - timedelta(days=n), f"Q-{n}")
        question_answer(user=fresh(robin), question_id=question.pk, text=f"robin {n}")
        question_answer(user=fresh(sam), question_id=question.pk, text=f"sam {n}")
        question_react(user=fresh(robin), question_id=question.pk, reaction="hug")


def test_the_history_costs_the_same_queries_for_3_or_30_questions_paired_or_not():
    counts = {}
    with time_machine.travel(NOW, tick=False):
        for size in (3, 30):
            robin, sam, cleo = new_user(), new_user(), new_user()
            first = invite_accept(user=sam, code=invite_create(user=robin).code)
            answered_questions(robin, sam, first, size)
            couple_end(user=fresh(robin))
            unpaired = pages(fresh(robin))
            second = invite_accept(user=cleo, code=invite_create(user=fresh(robin)).code)
            answered_questions(robin, cleo, second, size)
            counts[size] = (unpaired, pages(fresh(robin)))
    assert counts[3] == counts[30]
    unpaired, paired = counts[3]
    # Authentication, the count and the questions with the answers and reactions I may
    # see, from the view (the API's token check is one query, the session's two), and
    # my couple, to place its days in my calendar: the page reads it for its header
    # either way, the API only when a question of my current couple is listed.
    assert paired == {"/questions/": 5, "/api/v1/questions": 4}
    assert unpaired == {"/questions/": 5, "/api/v1/questions": 3}
