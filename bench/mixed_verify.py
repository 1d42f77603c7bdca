"""After the mixed load: read the database (Django ORM, in the benchmark process) and
check that the stored state of every object the load wrote is its last acknowledged
write, that no acknowledged write is missing and no refused one is stored, and that
every partner text a response carried was one the requester was allowed to see.

Import after `bench.common.setup()`. Failures go to the ledger; returns one summary
line per check.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from bench.mixed_ledger import CheckinWrite, KeyState, Ledger
from checkins.models import Checkin, CheckinResponse
from lovemaps.models import LovemapEntry, LovemapReveal
from prompts.models import DailyQuestion, QuestionAnswer, QuestionReaction


def _matches(state: KeyState, actual: Any) -> bool:
    """The stored value is the last acknowledged write, or one whose answer was lost
    after it (those may or may not have been applied)."""
    return actual == state.last or actual in state.unknown


def _created_once(state: KeyState) -> bool:
    # Exactly one acknowledgement said "created" (unless a write had no answer: the
    # creating one may be among those).
    return state.created == 1 or (state.uncertain and state.created == 0)


def verify(ledger: Ledger) -> list[str]:
    return [
        _checkins(ledger),
        _answers(ledger),
        _question_reactions(ledger),
        _responses(ledger),
        _lovemap(ledger),
        _reveals_and_ratings(ledger),
        _seen(ledger),
    ]


def _checkins(ledger: Ledger) -> str:
    keys = {k: s for k, s in ledger.checkins.items() if s.acked or s.unknown}
    users = {user for user, _ in keys}
    dates = {day for _, day in keys}
    rows = (
        Checkin.objects.filter(author_id__in=users, local_date__in=dates)
        .prefetch_related("answers")
        .order_by()
    )
    stored = {
        (c.author_id, c.local_date.isoformat()): CheckinWrite(
            mood=c.mood,
            energy=c.energy,
            visibility=c.visibility,
            answers={a.prompt_id: a.text for a in c.answers.all()},
        )
        for c in rows
    }
    writes = 0
    for (user, day), state in keys.items():
        writes += len(state.acked)
        actual = stored.get((user, day))
        if not state.acked:
            continue
        if actual is None:
            ledger.fail(f"LOST WRITE: check-in of user {user} for {day}: acknowledged, not stored")
        elif not _matches(state, actual):
            ledger.fail(
                f"LOST WRITE: check-in of user {user} for {day}: stored {actual}, "
                f"last acknowledged {state.last}"
            )
        if not _created_once(state):
            ledger.fail(f"check-in of user {user} for {day}: {state.created} responses said 201")
    return f"check-ins: {len(keys)} (person, day), {writes} acknowledged writes"


def _answers(ledger: Ledger) -> str:
    questions = {q for q, _ in ledger.answers}
    stored = {
        (a.question_id, a.author_id): a.text
        for a in QuestionAnswer.objects.filter(question_id__in=questions)
    }
    writes = 0
    for (question, user), state in ledger.answers.items():
        writes += len(state.acked)
        if not state.acked:
            continue
        actual = stored.get((question, user))
        if actual is None or not _matches(state, actual):
            ledger.fail(
                f"LOST WRITE: answer of user {user} to question {question}: stored "
                f"{actual!r}, last acknowledged {state.last!r}"
            )
        if not _created_once(state):
            ledger.fail(f"answer of user {user} to question {question}: {state.created} said 201")
    # The reveal happened exactly when the second answer arrived, never before.
    counts: dict[int, int] = defaultdict(int)
    for question, _ in stored:
        counts[question] += 1
    bad = [
        q.pk
        for q in DailyQuestion.objects.filter(pk__in=questions)
        if (q.revealed_at is not None) != (counts[q.pk] == 2)
    ]
    for question in bad:
        ledger.fail(
            f"question {question}: revealed_at does not match its {counts[question]} answers"
        )
    revealed = sum(1 for n in counts.values() if n == 2)
    return (
        f"question answers: {len(ledger.answers)} (question, person), {writes} acknowledged "
        f"writes, {len(questions)} questions ({revealed} revealed)"
    )


def _question_reactions(ledger: Ledger) -> str:
    questions = {q for q, _ in ledger.question_reactions}
    stored = {
        (r.question_id, r.author_id): r.reaction
        for r in QuestionReaction.objects.filter(question_id__in=questions)
    }
    for key, state in ledger.question_reactions.items():
        if state.acked and not _matches(state, stored.get(key)):
            ledger.fail(
                f"LOST WRITE: reaction {key}: stored {stored.get(key)!r}, "
                f"last acknowledged {state.last!r}"
            )
    writes = sum(len(s.acked) for s in ledger.question_reactions.values())
    return f"question reactions: {len(ledger.question_reactions)}, {writes} acknowledged writes"


def _fold(writes: list[tuple[str, str]]) -> tuple[str, str]:
    """A response is updated in place: a later reply keeps an earlier reaction and
    vice versa, unless replaced."""
    reaction, text = "", ""
    for new_reaction, new_text in writes:
        reaction, text = new_reaction or reaction, new_text or text
    return reaction, text


def _responses(ledger: Ledger) -> str:
    checkins = {c for c, _ in ledger.responses}
    stored = {
        (r.checkin_id, r.author_id): (r.reaction, r.text)
        for r in CheckinResponse.objects.filter(checkin_id__in=checkins)
    }
    for key, state in ledger.responses.items():
        if not state.acked:
            continue
        actual = stored.get(key)
        expected = _fold(state.acked)
        if actual is None or (actual != expected and not state.uncertain):
            ledger.fail(
                f"LOST WRITE: response of user {key[1]} to check-in {key[0]}: stored "
                f"{actual}, expected {expected}"
            )
    writes = sum(len(s.acked) for s in ledger.responses.values())
    return f"check-in responses: {len(ledger.responses)}, {writes} acknowledged writes"


def _lovemap(ledger: Ledger) -> str:
    users = {user for user, _ in ledger.lovemap}
    versions: dict[tuple[int, int], list[LovemapEntry]] = defaultdict(list)
    for entry in LovemapEntry.objects.filter(author_id__in=users).order_by("version"):
        versions[(entry.author_id, entry.topic_id)].append(entry)
    writes = 0
    for key, state in ledger.lovemap.items():
        writes += len(state.acked)
        if not state.acked:
            continue
        rows = versions.get(key, [])
        texts = [e.text for e in rows]
        current = [e.text for e in rows if e.is_current]
        where = f"love-map answer of user {key[0]} to topic {key[1]}"
        if state.uncertain:
            missing = [t for t in state.acked if t not in texts]
            if missing:
                ledger.fail(f"LOST WRITE: {where}: versions {missing} acknowledged, not stored")
        elif texts != state.acked:
            # Every changed answer is a new version: the versions are the writes.
            ledger.fail(f"LOST WRITE: {where}: stored versions {texts}, acknowledged {state.acked}")
        if len(current) != 1 or not _matches(state, current[0]):
            ledger.fail(f"{where}: current version {current}, last acknowledged {state.last!r}")
    return f"love-map answers: {len(ledger.lovemap)} (person, topic), {writes} versions written"


def _reveals_and_ratings(ledger: Ledger) -> str:
    ids = set(ledger.reveals) | set(ledger.ratings)
    stored = {r.pk: r for r in LovemapReveal.objects.filter(pk__in=ids)}
    for pk, (viewer, guess) in ledger.reveals.items():
        row = stored.get(pk)
        if row is None or row.viewer_id != viewer or row.guess != guess:
            ledger.fail(f"LOST WRITE: guess {pk} of user {viewer}: stored {row and row.guess!r}")
    for pk, state in ledger.ratings.items():
        row = stored.get(pk)
        if state.acked and (row is None or not _matches(state, row.rating)):
            ledger.fail(
                f"LOST WRITE: rating of guess {pk}: stored {row and row.rating!r}, "
                f"last acknowledged {state.last!r}"
            )
    writes = sum(len(s.acked) for s in ledger.ratings.values())
    return f"love-map guesses: {len(ledger.reveals)} acknowledged, {writes} ratings"


def _seen(ledger: Ledger) -> str:
    """A partner's question answer may reach me only once both answered (it is then
    frozen: the stored answer); a partner's love-map answer only in a version I
    revealed."""
    questions = {ledger.texts[s.serial].question_id for s in ledger.seen_answers}
    revealed = set(
        DailyQuestion.objects.filter(pk__in=questions, revealed_at__isnull=False).values_list(
            "pk", flat=True
        )
    )
    stored = {
        (a.question_id, a.author_id): a.text
        for a in QuestionAnswer.objects.filter(question_id__in=questions)
    }
    for seen in ledger.seen_answers:
        text = ledger.texts[seen.serial]
        if text.question_id not in revealed or stored.get((text.question_id, text.author)) != (
            text.text
        ):
            ledger.leaks += 1
            ledger.fail(
                f"SEALED LEAK: {seen.where} as user {seen.viewer} showed the partner's answer "
                f"{text.text!r} to question {text.question_id} (revealed: "
                f"{text.question_id in revealed}, stored answer: "
                f"{stored.get((text.question_id, text.author))!r})"
            )
    authors = {ledger.texts[s.serial].author for s in ledger.seen_lovemap}
    entries = {
        (e.author_id, e.text): e.pk for e in LovemapEntry.objects.filter(author_id__in=authors)
    }
    viewers = {s.viewer for s in ledger.seen_lovemap}
    reveals = set(
        LovemapReveal.objects.filter(viewer_id__in=viewers).values_list("viewer_id", "entry_id")
    )
    for seen in ledger.seen_lovemap:
        text = ledger.texts[seen.serial]
        entry = entries.get((text.author, text.text))
        if entry is None or (seen.viewer, entry) not in reveals:
            ledger.leaks += 1
            ledger.fail(
                f"UNREVEALED LEAK: {seen.where} as user {seen.viewer} showed the partner's "
                f"love-map answer {text.text!r}, a version they never revealed"
            )
    return (
        f"partner texts seen: {len(ledger.seen_answers)} question answers (each must be "
        f"revealed), {len(ledger.seen_lovemap)} love-map answers (each must be revealed)"
    )
