"""What a check-in costs to write (docs/performance.md, "What was tuned"): validation
needs no queries of its own, and the answer does not re-read the row it has just
written."""

from __future__ import annotations

import pytest

from checkins.services import checkin_respond, checkin_submit
from tests.checkins.helpers import todays_question_ids
from tests.queries import capture_queries

pytestmark = pytest.mark.django_db

TODAY = "/api/v1/checkins/today"


def queries_for(client, body):
    queries = capture_queries(lambda: client.put(TODAY, body, format="json"))
    assert queries.result.status_code in (200, 201), queries.result.content
    return queries.sql


def test_three_answers_cost_no_more_queries_than_none(cast, api):
    client = api(cast.author)
    client.get("/api/v1/me")  # the token's first use
    ids = todays_question_ids(cast.author)
    bare = queries_for(client, {"mood": 3})
    full = queries_for(
        client,
        {"mood": 4, "energy": 2, "answers": [{"question_id": q, "text": "yes"} for q in ids]},
    )
    assert len(full) == len(bare)
    # No CHECK-constraint or foreign-key probes (Django runs one query for each).
    probes = [
        sql
        for sql in full
        if '"_check"' in sql or sql.startswith('SELECT 1 AS "a" FROM "prompts_prompt"')
    ]
    assert not probes


def test_the_answer_shows_what_was_stored_with_the_partners_response(cast, api):
    ids = todays_question_ids(cast.author)
    mine = checkin_submit(user=cast.author, mood=2).checkin
    checkin_respond(user=cast.partner, checkin_id=mine.pk, reaction="hug", text="Here")
    body = (
        api(cast.author)
        .put(
            TODAY,
            {
                "mood": 5,
                "answers": [{"question_id": ids[1], "text": "Better"}],
                "visibility": "private",
            },
            format="json",
        )
        .json()
    )
    assert (body["id"], body["mood"], body["visibility"]) == (mine.pk, 5, "private")
    assert [(a["question_id"], a["text"]) for a in body["answers"]] == [(ids[1], "Better")]
    assert [(r["author"], r["reaction"], r["text"]) for r in body["responses"]] == [
        ("partner", "hug", "Here")
    ]


@pytest.mark.parametrize(
    "body",
    [{"mood": 0}, {"mood": 6}, {"mood": 3, "energy": 9}, {"mood": 3, "visibility": "secret"}],
)
def test_out_of_range_values_are_still_refused_before_anything_is_stored(cast, api, body):
    from checkins.models import Checkin

    assert api(cast.author).put(TODAY, body, format="json").status_code == 400
    assert not Checkin.objects.exists()
