"""The set-based statements of the tick and the sweep: array literals, and inserts,
updates and id filters that behave the same on PostgreSQL (arrays) and SQLite (the
ORM)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from nuzzle.lib.sql import (
    IdIn,
    PipelinedWriter,
    RowAfter,
    insert_rows,
    pg_array,
    update_rows,
    upsert_rows,
)
from nuzzle.nudges.kinds import Kind
from nuzzle.nudges.models import Nudge, NudgeSchedule
from tests.factories import new_user

NOW = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)


def test_an_array_literal_quotes_text_and_keeps_nulls_ints_and_instants():
    assert pg_array([3, 1, 2]) == "{3,1,2}"
    assert pg_array([1, None]) == "{1,NULL}"
    assert pg_array(['say "hi"', "back\\slash", "", None]) == (
        '{"say \\"hi\\"","back\\\\slash","",NULL}'
    )
    assert pg_array([NOW, None, date(2026, 11, 20)]) == (
        '{"2026-11-20T19:00:00+00:00",NULL,"2026-11-20"}'
    )
    assert pg_array([]) == "{}"


def test_an_array_literal_writes_dicts_as_json_each_distinct_one_once():
    contexts = [{"stale": 2}, {"stale": 2}, {}, None, {"tags": ["a"]}]
    assert pg_array(contexts) == (
        '{"{\\"stale\\": 2}","{\\"stale\\": 2}","{}",NULL,"{\\"tags\\": [\\"a\\"]}"}'
    )


def _outbox_columns(users, period: str) -> dict[str, list[object]]:
    count = len(users)
    return {
        "user": [user.pk for user in users],
        "kind": [Kind.QUESTION_READY.value] * count,
        "period": [period] * count,
        "local_date": [date.fromisoformat(period)] * count,
        "scheduled_for": [NOW] * count,
        "status": [Nudge.Status.PENDING.value] * count,
        "reason": ['a "quoted" reason'] * count,
        "next_attempt_at": [NOW] * count,
        "context": [{"partner_answered": True}] * count,
    }


@pytest.mark.django_db
def test_insert_rows_writes_every_column_and_skips_rows_already_there():
    first, second = new_user(), new_user()
    same = {"attempts": 0, "claim_token": "", "created_at": NOW}
    unique = ("user", "kind", "period")
    insert_rows(Nudge, _outbox_columns([first], "2026-11-20"), same=same, unique=unique)

    insert_rows(Nudge, _outbox_columns([first, second], "2026-11-20"), same=same, unique=unique)

    assert Nudge.objects.count() == 2
    row = Nudge.objects.get(user=second)
    assert (row.kind, row.period) == ("question_ready", "2026-11-20")
    assert row.local_date == date(2026, 11, 20)
    assert (row.scheduled_for, row.next_attempt_at, row.created_at) == (NOW, NOW, NOW)
    assert (row.status, row.reason, row.attempts, row.claim_token) == (
        "pending",
        'a "quoted" reason',
        0,
        "",
    )
    assert row.context == {"partner_answered": True}


@pytest.mark.django_db
def test_insert_rows_with_no_rows_does_nothing():
    assert not insert_rows(
        Nudge, {"user": [], "kind": []}, same={}, unique=("user", "kind", "period")
    )
    assert not Nudge.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db
def test_insert_rows_without_unique_skips_any_conflict_and_counts_what_it_inserted():
    first, second = new_user(), new_user()
    same = {"attempts": 0, "claim_token": "", "created_at": NOW}
    assert insert_rows(Nudge, _outbox_columns([first], "2026-11-20"), same=same) == 1

    inserted = insert_rows(Nudge, _outbox_columns([first, second], "2026-11-20"), same=same)

    assert inserted == 1
    assert Nudge.objects.count() == 2


@pytest.mark.django_db
def test_update_rows_sets_each_row_its_own_value_null_included():
    user = new_user()  # its schedule rows come with it
    rows = list(NudgeSchedule.objects.filter(user=user).order_by("pk"))
    values = [NOW + timedelta(hours=index) for index in range(len(rows))]
    values[0] = None

    update_rows(NudgeSchedule, [row.pk for row in rows], field="next_due_at", values=values)

    after = list(NudgeSchedule.objects.filter(user=user).order_by("pk"))
    assert [row.next_due_at for row in after] == values


@pytest.mark.django_db
def test_id_in_filters_by_a_list_of_ids_empty_included():
    users = [new_user() for _ in range(3)]
    wanted = {users[0].pk, users[2].pk}

    schedules = NudgeSchedule.objects.filter(IdIn("user_id", wanted))

    assert set(schedules.values_list("user_id", flat=True)) == wanted
    assert not NudgeSchedule.objects.filter(IdIn("user_id", [])).exists()


@pytest.mark.django_db
def test_row_after_orders_by_every_column_ties_included():
    new_user()
    rows = list(NudgeSchedule.objects.order_by("pk"))
    NudgeSchedule.objects.update(next_due_at=NOW)  # one due time: every row a tie
    middle = rows[len(rows) // 2]

    later = NudgeSchedule.objects.filter(RowAfter(("next_due_at", "id"), (NOW, middle.pk)))
    earlier = NudgeSchedule.objects.filter(
        RowAfter(("next_due_at", "id"), (NOW - timedelta(seconds=1), 0))
    )

    assert sorted(later.values_list("pk", flat=True)) == [r.pk for r in rows if r.pk > middle.pk]
    assert earlier.count() == len(rows)


@pytest.mark.django_db
def test_upsert_rows_inserts_new_rows_and_updates_the_given_fields_of_existing_ones():
    user = new_user()  # its schedule rows come with it: one per kind
    NudgeSchedule.objects.filter(user=user, kind=Kind.WEEKLY_RECAP).delete()
    later = NOW + timedelta(days=1)

    upsert_rows(
        NudgeSchedule,
        {
            "user": [user.pk, user.pk],
            "kind": [Kind.QUESTION_READY.value, Kind.WEEKLY_RECAP.value],
            "enabled": [False, True],
            "next_due_at": [later, None],
        },
        unique=("user", "kind"),
    )

    rows = {
        row.kind: (row.enabled, row.next_due_at)
        for row in NudgeSchedule.objects.filter(
            user=user, kind__in=[Kind.QUESTION_READY, Kind.WEEKLY_RECAP]
        )
    }
    assert rows == {"question_ready": (False, later), "weekly_recap": (True, None)}
    assert NudgeSchedule.objects.filter(user=user).count() == len(Kind)


@pytest.mark.django_db
def test_upsert_rows_refuses_columns_of_different_lengths_or_a_key_that_leaves_nothing_to_set():
    with pytest.raises(ValueError, match="one value per row"):
        upsert_rows(NudgeSchedule, {"user": [1, 2], "kind": ["a"]}, unique=("user", "kind"))
    with pytest.raises(ValueError, match="`unique`"):
        upsert_rows(NudgeSchedule, {"user": [1], "kind": ["a"]}, unique=("user", "kind"))
    upsert_rows(NudgeSchedule, {"user": [], "kind": []}, unique=("user",))  # no rows: nothing


@pytest.mark.django_db
def test_a_pipelined_writer_inside_a_transaction_writes_each_batch_at_once_and_sums_them():
    seen: list[list[int]] = []

    def write(batch: list[int]) -> int:
        seen.append(batch)
        return len(batch)

    with PipelinedWriter(write, thread_name="test-writer") as writer:
        assert not writer.threaded  # a test's transaction: every write belongs to it
        writer.submit([1, 2])
        assert seen == [[1, 2]]  # written in place, before submit returns
        writer.submit([3])
    assert writer.written == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_pipelined_writer_outside_a_transaction_writes_in_its_thread_and_raises_its_error():
    def write(batch: list[int]) -> int:
        if batch == [0]:
            raise RuntimeError("the write failed")
        return len(batch)

    with PipelinedWriter(write, thread_name="test-writer") as writer:
        assert writer.threaded
        writer.submit([1, 2, 3])
        writer.submit([4])
    assert writer.written == 4

    failing = PipelinedWriter(write, thread_name="test-writer")
    failing.submit([0])
    with pytest.raises(RuntimeError, match="the write failed"):
        failing.close()
