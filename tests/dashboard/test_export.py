"""'Export my data' (docs/product.md: Your data; docs/api.md `GET /api/v1/me/export`):
everything I wrote, in every couple I have been in, and none of my partner's words."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from checkins.models import Checkin, CheckinAnswer, CheckinResponse, Visibility
from checkins.services import AnswerInput, checkin_respond, checkin_submit
from lovemaps.models import LovemapReveal
from lovemaps.services import lovemap_answer, lovemap_guess_rate, lovemap_reveal
from nuzzle.couples.models import Couple, User
from nuzzle.couples.selectors import couple_day_today
from nuzzle.couples.services import couple_end, user_delete
from nuzzle.dashboard.export import account_export, account_export_json, account_export_markdown
from nuzzle.lib.timezones import local_date
from nuzzle.nudges.models import Nudge
from prompts.assignment import closes_at_for
from prompts.models import DailyQuestion, Prompt, QuestionAnswer
from prompts.selectors import checkin_questions_for
from prompts.services import (
    daily_question_ensure,
    question_answer,
    question_pass,
    question_react,
)
from tests.conftest import Cast, token_client
from tests.factories import (
    PASSWORD,
    CheckinAnswerFactory,
    CheckinFactory,
    CheckinResponseFactory,
    DailyQuestionFactory,
    NudgeFactory,
    PromptFactory,
    QuestionAnswerFactory,
    as_prompt,
    couple_of,
    new_checkin,
    new_checkin_answer,
    new_daily_question,
    new_lovemap_entry,
    new_lovemap_reveal,
    new_nudge,
    new_user,
)
from tests.queries import capture_queries

# What the author wrote: each must be in the author's export.
AUTHOR_MARKERS = [
    "author-checkin-first-couple-q7",
    "author-private-checkin-zx3",
    "author-checkin-second-couple-k2",
    "author-reply-on-partner-checkin-m4",
    "author-revealed-answer-p9",
    "author-lovemap-version-one-t1",
    "author-lovemap-version-two-t2",
    "author-guess-about-partner-g5",
]
# What the partner wrote: none may be in the author's export, in any form.
PARTNER_MARKERS = [
    "partner-private-checkin-secret-x1",
    "partner-shared-checkin-s8",
    "partner-reply-on-author-checkin-r3",
    "partner-sealed-answer-secret-y2",
    "partner-revealed-answer-v6",
    "partner-lovemap-secret-z3",
    "partner-guess-about-author-w4",
]

CHECKIN_QUESTION = "What is taking up your mental space this week?"
DAILY_QUESTION = "What small thing made you smile lately?"
TOPIC = "Who is your closest friend right now?"


@dataclass
class World:
    cast: Cast
    second_partner: User


def _prompts() -> None:
    PromptFactory(kind=Prompt.Kind.CHECKIN, text=CHECKIN_QUESTION)
    for n in range(3):
        PromptFactory(kind=Prompt.Kind.QUESTION, text=f"{DAILY_QUESTION} ({n})")
    PromptFactory(
        kind=Prompt.Kind.LOVEMAP, text=TOPIC, key="lm-friend", domain="people", half_life_days=30
    )


def _build(cast: Cast) -> World:
    """The author writes in a first couple, unpairs, pairs again and writes more; the
    partner writes private, sealed and revealed things alongside."""
    _prompts()
    author, partner = cast.author, cast.partner
    checkin_question = checkin_questions_for(day=couple_day_today(user=author))[0]
    topic = Prompt.objects.get(key="lm-friend")

    # Check-ins: the author's (shared, today) and an older private one; the partner's
    # private one today and an older shared one the author replied to.
    mine = checkin_submit(
        user=author,
        mood=4,
        energy=2,
        answers=[AnswerInput(checkin_question.pk, AUTHOR_MARKERS[0])],
    ).checkin
    older = new_checkin(
        author=author,
        couple=cast.couple,
        local_date=mine.local_date - timedelta(days=3),
        mood=2,
        visibility=Visibility.PRIVATE,
    )
    new_checkin_answer(checkin=older, prompt=checkin_question, text=AUTHOR_MARKERS[1])
    checkin_submit(
        user=partner,
        mood=1,
        answers=[
            AnswerInput(
                checkin_questions_for(day=couple_day_today(user=partner))[0].pk, PARTNER_MARKERS[0]
            )
        ],
        visibility=Visibility.PRIVATE,
    )
    # The day before the partner's own today (their zone may be a day behind mine).
    partners_shared = new_checkin(
        author=partner,
        couple=cast.couple,
        local_date=local_date(partner.timezone) - timedelta(days=1),
        mood=5,
    )
    new_checkin_answer(checkin=partners_shared, prompt=checkin_question, text=PARTNER_MARKERS[1])
    checkin_respond(
        user=author, checkin_id=partners_shared.pk, reaction="hug", text=AUTHOR_MARKERS[3]
    )
    checkin_respond(user=partner, checkin_id=mine.pk, reaction="heart", text=PARTNER_MARKERS[2])

    # Daily questions: today's is passed, its replacement answered by the partner only
    # (sealed); yesterday's answered by both (revealed), and the author reacted.
    today = daily_question_ensure(user=author)
    assert today is not None
    replacement = question_pass(user=author, question_id=today.pk)
    question_answer(user=partner, question_id=replacement.pk, text=PARTNER_MARKERS[3])
    used = {today.prompt_id, replacement.prompt_id}
    earlier_prompt = Prompt.objects.filter(kind="question").exclude(pk__in=used).get()
    yesterday = cast.couple.created_at.date() - timedelta(days=1)
    earlier = new_daily_question(
        couple=cast.couple,
        prompt=earlier_prompt,
        couple_date=yesterday,
        closes_at=closes_at_for(local_date(cast.couple.timezone) + timedelta(days=2), "UTC"),
    )
    question_answer(user=author, question_id=earlier.pk, text=AUTHOR_MARKERS[4])
    question_answer(user=partner, question_id=earlier.pk, text=PARTNER_MARKERS[4])
    question_react(user=author, question_id=earlier.pk, reaction="heart")

    # Love maps: two versions of the author's answer; the partner's answer, which the
    # author guessed and revealed (the partner rated the guess), and the partner's guess
    # about the author (which the author rated).
    lovemap_answer(user=author, topic_id=topic.pk, text=AUTHOR_MARKERS[5])
    lovemap_answer(user=author, topic_id=topic.pk, text=AUTHOR_MARKERS[6])
    lovemap_answer(user=partner, topic_id=topic.pk, text=PARTNER_MARKERS[5])
    authors_guess = lovemap_reveal(user=author, topic_id=topic.pk, guess=AUTHOR_MARKERS[7])
    lovemap_guess_rate(user=partner, guess_id=authors_guess.pk, rating="close")
    partners_guess = lovemap_reveal(user=partner, topic_id=topic.pk, guess=PARTNER_MARKERS[6])
    lovemap_guess_rate(user=author, guess_id=partners_guess.pk, rating="spot_on")

    new_nudge(
        user=author,
        kind="question_ready",
        period="2031-01-01",
        local_date=mine.local_date,
        scheduled_for=timezone.now(),
        status=Nudge.Status.SENT,
        sent_at=timezone.now(),
    )

    # Unpair, pair again, and write in the new couple.
    couple_end(user=author)
    second_partner = new_user(display_name="Jules")
    second_couple = couple_of(author, second_partner)
    later = new_checkin(
        author=author, couple=second_couple, local_date=mine.local_date + timedelta(days=1), mood=3
    )
    new_checkin_answer(checkin=later, prompt=checkin_question, text=AUTHOR_MARKERS[2])
    return World(cast=cast, second_partner=second_partner)


@pytest.fixture
def world(cast) -> World:
    return _build(cast)


def _texts(user: User) -> tuple[str, str]:
    data = account_export(user=user)
    return account_export_json(data).decode(), account_export_markdown(data)


def test_the_export_holds_everything_i_wrote_in_every_couple(world):
    author = world.cast.author
    data = account_export(user=author)
    assert data["format"] == "nuzzle-export"
    assert data["version"] == 1
    assert data["account"]["email"] == author.email
    assert data["account"]["timezone"] == author.timezone
    assert [c["partner_display_name"] for c in data["couples"]] == ["Sam", "Jules"]
    assert data["couples"][0]["ended_at"] is not None
    assert data["couples"][0]["ended_by_me"] is True
    assert data["couples"][1]["ended_at"] is None

    checkins = data["checkins"]
    assert [c["couple_id"] for c in checkins] == [
        world.cast.couple.pk,
        world.cast.couple.pk,
        Couple.objects.get(ended_at__isnull=True, memberships__user=author).pk,
    ]
    assert checkins[0]["visibility"] == "private"
    assert checkins[1]["mood"] == 4
    assert checkins[1]["energy"] == 2
    assert checkins[1]["answers"] == [{"question": CHECKIN_QUESTION, "text": AUTHOR_MARKERS[0]}]
    assert checkins[2]["answers"][0]["text"] == AUTHOR_MARKERS[2]

    [response] = data["checkin_responses"]
    assert (response["reaction"], response["text"]) == ("hug", AUTHOR_MARKERS[3])

    [answer] = data["question_answers"]
    assert answer["text"] == AUTHOR_MARKERS[4]
    assert answer["question"].startswith(DAILY_QUESTION)
    assert answer["revealed"] is True
    [reaction] = data["question_reactions"]
    assert reaction["reaction"] == "heart"
    [passed] = data["question_passes"]
    assert passed["question"].startswith(DAILY_QUESTION)

    entries = data["lovemap_entries"]
    assert [(e["version"], e["text"], e["current"]) for e in entries] == [
        (1, AUTHOR_MARKERS[5], False),
        (2, AUTHOR_MARKERS[6], True),
    ]
    assert {e["topic"] for e in entries} == {TOPIC}
    [guess] = data["lovemap_guesses"]
    assert (guess["topic"], guess["guess"], guess["rating"]) == (TOPIC, AUTHOR_MARKERS[7], "close")
    [rating] = data["lovemap_ratings_given"]
    assert (rating["topic"], rating["rating"]) == (TOPIC, "spot_on")
    assert "guess" not in rating

    assert data["nudge_preferences"] is None or "nudge_time" in data["nudge_preferences"]
    assert [n["kind"] for n in data["nudges"]] == ["question_ready"]


def test_json_and_markdown_carry_my_words_and_the_prompt_texts(world):
    as_json, as_markdown = _texts(world.cast.author)
    json.loads(as_json)
    for text in (as_json, as_markdown):
        for marker in AUTHOR_MARKERS:
            assert marker in text
        for prompt in (CHECKIN_QUESTION, DAILY_QUESTION, TOPIC):
            assert prompt in text


def test_none_of_my_partners_words_are_in_my_export(world):
    for text in _texts(world.cast.author):
        for marker in PARTNER_MARKERS:
            assert marker not in text


def test_none_of_my_words_are_in_anyone_elses_export(world):
    cast = world.cast
    for person in (cast.partner, world.second_partner, cast.other, cast.unpaired):
        for text in _texts(person):
            for marker in AUTHOR_MARKERS:
                assert marker not in text, f"{marker} in the export of {person}"


def test_the_partners_export_has_their_own_words_but_not_mine(world):
    as_json, as_markdown = _texts(world.cast.partner)
    for text in (as_json, as_markdown):
        for marker in PARTNER_MARKERS:
            assert marker in text
        for marker in AUTHOR_MARKERS:
            assert marker not in text


def test_my_replies_and_guesses_stay_in_my_export_when_my_partner_deletes_their_account(
    world, django_capture_on_commit_callbacks
):
    author, partner = world.cast.author, world.cast.partner
    replied_to = Checkin.objects.get(author=partner, visibility=Visibility.SHARED)
    with django_capture_on_commit_callbacks(execute=True):
        user_delete(user=User.objects.get(pk=partner.pk), password=PASSWORD)

    data = account_export(user=User.objects.get(pk=author.pk))
    [response] = data["checkin_responses"]
    assert response["checkin_id"] is None  # the check-in went with its author
    assert response["checkin_date"] == replied_to.local_date
    assert (response["reaction"], response["text"]) == ("hug", AUTHOR_MARKERS[3])
    [guess] = data["lovemap_guesses"]
    assert (guess["topic"], guess["guess"]) == (TOPIC, AUTHOR_MARKERS[7])
    # The rating was the partner's doing: it went with them, like their guess about me.
    assert (guess["rating"], guess["rated_at"]) == (None, None)
    assert data["lovemap_ratings_given"] == []
    as_json, as_markdown = _texts(author)
    for text in (as_json, as_markdown):
        for marker in AUTHOR_MARKERS:
            assert marker in text
        for marker in PARTNER_MARKERS:
            assert marker not in text
    day = replied_to.local_date
    assert f"{day.day} {day:%B %Y}: reacted" in as_markdown
    # The same through the API and the downloads (a null check-in id is no 500).
    body = token_client(author).get("/api/v1/me/export")
    assert body.status_code == 200
    assert body.json()["checkin_responses"][0]["checkin_id"] is None
    client = Client()
    client.force_login(author)
    for path in ("/account/data/export.json", "/account/data/export.md"):
        download = client.get(path).content.decode()
        assert AUTHOR_MARKERS[3] in download
        assert AUTHOR_MARKERS[7] in download


def test_my_partners_replies_and_guesses_stay_theirs_when_i_delete_my_account(
    world, django_capture_on_commit_callbacks
):
    author, partner = world.cast.author, world.cast.partner
    with django_capture_on_commit_callbacks(execute=True):
        user_delete(user=User.objects.get(pk=author.pk), password=PASSWORD)

    data = account_export(user=User.objects.get(pk=partner.pk))
    [response] = data["checkin_responses"]
    assert (response["checkin_id"], response["text"]) == (None, PARTNER_MARKERS[2])
    [guess] = data["lovemap_guesses"]
    assert (guess["topic"], guess["guess"], guess["rating"]) == (TOPIC, PARTNER_MARKERS[6], None)
    for text in _texts(partner):
        for marker in AUTHOR_MARKERS:
            assert marker not in text
    # Nothing of mine is left anywhere: what remains of those rows is the partner's.
    assert not CheckinResponse.objects.filter(author_id=author.pk).exists()
    assert not LovemapReveal.objects.filter(viewer_id=author.pk).exists()
    assert not LovemapReveal.objects.exclude(rating="").exists()  # my rating went with me


def test_markdown_shows_times_in_my_own_zone(cast):
    cast.author.timezone = "Asia/Kolkata"  # +05:30: 23:00 UTC is 04:30 the next day
    cast.author.date_joined = datetime(2024, 3, 1, 23, 0, tzinfo=UTC)
    cast.author.save()
    markdown = account_export_markdown(account_export(user=cast.author))
    assert "Joined: 2 March 2024, 04:30" in markdown


# --- HTTP ------------------------------------------------------------------------------


def test_the_api_returns_my_export_as_a_dated_attachment_never_cached(world):
    response = token_client(world.cast.author).get("/api/v1/me/export")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Disposition"].startswith('attachment; filename="nuzzle-export-')
    body = response.json()
    assert body["format"] == "nuzzle-export"
    text = json.dumps(body)
    assert all(marker in text for marker in AUTHOR_MARKERS)
    assert not any(marker in text for marker in PARTNER_MARKERS)


@pytest.mark.parametrize(
    ("path", "content_type", "extension"),
    [
        ("/account/data/export.json", "application/json", "json"),
        ("/account/data/export.md", "text/markdown; charset=utf-8", "md"),
    ],
)
def test_the_downloads_are_attachments_never_cached(world, path, content_type, extension):
    client = Client()
    client.force_login(world.cast.author)
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Cache-Control"] == "no-store"
    day = local_date(world.cast.author.timezone).isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="nuzzle-export-{day}.{extension}"'
    )
    text = response.content.decode()
    assert all(marker in text for marker in AUTHOR_MARKERS)
    assert not any(marker in text for marker in PARTNER_MARKERS)


def test_the_data_page_links_both_downloads_and_the_account_page_links_it(cast):
    client = Client()
    client.force_login(cast.author)
    page = client.get("/account/data/")
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    assert b'href="/account/data/export.json"' in page.content
    assert b'href="/account/data/export.md"' in page.content
    assert b'href="/account/data/"' in client.get("/account/").content


@pytest.mark.parametrize(
    "path", ["/account/data/", "/account/data/export.json", "/account/data/export.md"]
)
def test_anonymous_visitors_are_sent_to_log_in(db, path):
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_api_refuses_anonymous_requests(db):
    assert Client().get("/api/v1/me/export").status_code == 401


# --- Queries -----------------------------------------------------------------------------


def _history(author: User, partner: User, couple: Couple, size: int) -> None:
    """`size` items of every kind the export reads, written in bulk."""
    checkin_question = as_prompt(PromptFactory(kind=Prompt.Kind.CHECKIN))
    question_prompt = as_prompt(PromptFactory())
    end = local_date(author.timezone) - timedelta(days=1)
    checkins = Checkin.objects.bulk_create(
        CheckinFactory.build(
            author=person,
            couple=couple,
            local_date=end - timedelta(days=n),
            couple_date=end - timedelta(days=n),
            mood=3,
        )
        for n in range(size)
        for person in (author, partner)
    )
    CheckinAnswer.objects.bulk_create(
        CheckinAnswerFactory.build(checkin=checkin, prompt=checkin_question, text="words")
        for checkin in checkins
    )
    CheckinResponse.objects.bulk_create(
        CheckinResponseFactory.build(
            checkin=checkin,
            checkin_date=checkin.local_date,
            author=author,
            reaction="",
            text="reply",
        )
        for checkin in checkins
        if checkin.author_id == partner.pk
    )
    questions = DailyQuestion.objects.bulk_create(
        DailyQuestionFactory.build(
            couple=couple,
            prompt=question_prompt,
            couple_date=end - timedelta(days=n),
            closes_at=timezone.now(),
            status=DailyQuestion.Status.PASSED if n % 2 else DailyQuestion.Status.CLOSED,
        )
        for n in range(size)
    )
    QuestionAnswer.objects.bulk_create(
        QuestionAnswerFactory.build(question=question, author=author, text="answer")
        for question in questions
    )
    now = timezone.now()
    for _ in range(size):
        topic = as_prompt(PromptFactory(kind=Prompt.Kind.LOVEMAP, domain="joys", half_life_days=30))
        mine = new_lovemap_entry(
            author=author,
            topic=topic,
            couple=couple,
            text="me",
            created_at=now,
            confirmed_at=now,
            stale_at=now,
        )
        theirs = new_lovemap_entry(
            author=partner,
            topic=topic,
            couple=couple,
            text="them",
            created_at=now,
            confirmed_at=now,
            stale_at=now,
        )
        new_lovemap_reveal(
            viewer=author,
            entry=theirs,
            topic=topic,
            couple=couple,
            revealed_at=now,
            guess="g",
            rating="close",
        )
        new_lovemap_reveal(
            viewer=partner,
            entry=mine,
            topic=topic,
            couple=couple,
            revealed_at=now,
            guess="g",
            rating="close",
            rated_at=now,
        )
    Nudge.objects.bulk_create(
        NudgeFactory.build(
            user=author,
            kind="question_ready",
            period=f"p{n}",
            local_date=end,
            scheduled_for=now,
        )
        for n in range(size)
    )


def _export_queries(user: User) -> tuple[int, dict]:
    def export() -> dict:
        data = account_export(user=user)
        account_export_markdown(data)
        return data

    queries = capture_queries(export)
    return len(queries), queries.result


def test_the_export_costs_the_same_queries_for_3_or_300_items(cast):
    small_author, small_partner = new_user(), new_user()
    _history(small_author, small_partner, couple_of(small_author, small_partner), 3)
    _history(cast.author, cast.partner, cast.couple, 300)
    small, small_data = _export_queries(small_author)
    large, large_data = _export_queries(cast.author)
    assert len(small_data["checkins"]) == 3
    assert len(large_data["checkins"]) == 300
    assert len(large_data["lovemap_ratings_given"]) == 300
    assert small == large
