"""The tick, step by step with frozen time: one send per local date at the local time,
across DST in three zones; quiet hours; a change of zone; pause; the daily cap; the
quiet-person back-off; late ticks; and "run twice, send once"."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.db import transaction

from nuzzle.couples.services import user_update
from nuzzle.lib.errors import Invalid
from nuzzle.nudges.kinds import Kind
from nuzzle.nudges.models import Nudge, NudgePreferences, NudgeSchedule
from nuzzle.nudges.planning import nudges_tick
from nuzzle.nudges.services import nudge_enqueue, preferences_update, schedule_reset
from tests.factories import new_user
from tests.nudges.helpers import everyone, only_checks
from tests.queries import capture_queries

pytestmark = pytest.mark.django_db


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def person(tz: str, at: datetime, **prefs: object):
    """A person created at `at` with only `question_ready` switched on, unless `kinds`
    switches on others."""
    switched = {kind.value: kind == Kind.QUESTION_READY for kind in Kind}
    switched.update(prefs.pop("kinds", {}))  # type: ignore[call-overload]
    with time_machine.travel(at, tick=False):
        user = new_user(timezone=tz)
        preferences_update(user=user, kinds=switched, now=at, **prefs)  # type: ignore[arg-type]
    return user


def run(
    start: datetime, end: datetime, step: timedelta = timedelta(hours=1), *, active: bool = True
) -> None:
    """Tick every `step` and let each planned nudge be "delivered" at once. People use
    the app daily (so nudges never back off) unless `active` is false."""
    now = start
    while now <= end:
        if active and now.hour == 9:
            NudgePreferences.objects.update(last_active_at=now)
        with time_machine.travel(now, tick=False):
            nudges_tick(now=now)
            Nudge.objects.filter(status=Nudge.Status.PENDING).update(
                status=Nudge.Status.SENT, sent_at=now
            )
        now += step


def sends(user, kind: Kind = Kind.QUESTION_READY) -> list[Nudge]:
    return list(
        Nudge.objects.filter(user=user, kind=kind, status=Nudge.Status.SENT).order_by(
            "scheduled_for"
        )
    )


DST_CHANGES = [
    ("America/New_York", date(2026, 3, 8)),
    ("America/New_York", date(2026, 11, 1)),
    ("Europe/London", date(2026, 3, 29)),
    ("Europe/London", date(2026, 10, 25)),
    ("Australia/Sydney", date(2026, 4, 5)),
    ("Australia/Sydney", date(2026, 10, 4)),
]


@pytest.mark.parametrize(("tz", "change"), DST_CHANGES)
def test_seven_pm_local_goes_once_per_local_date_at_seven_pm_across_a_dst_change(tz, change):
    zone = zoneinfo.ZoneInfo(tz)
    start = datetime.combine(change - timedelta(days=3), time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(change + timedelta(days=3), time(23, 59), tzinfo=zone)
    user = person(tz, start)
    with only_checks(question_ready=everyone):
        run(start, end.astimezone(UTC))
    sent = sends(user)
    local = [nudge.scheduled_for.astimezone(zone) for nudge in sent]
    assert [moment.date() for moment in local] == [
        change + timedelta(days=offset) for offset in range(-3, 4)
    ]
    assert {moment.time() for moment in local} == {time(19, 0)}
    # Hourly ticks land on the hour, so each went out on the dot, never a day late.
    assert all(nudge.sent_at == nudge.scheduled_for for nudge in sent)
    assert len({nudge.period for nudge in sent}) == len(sent)


def test_a_nudge_time_inside_quiet_hours_is_refused():
    user = new_user()
    with pytest.raises(Invalid, match="quiet hours"):
        preferences_update(user=user, nudge_time=time(23, 0))
    assert NudgePreferences.objects.get(user=user).nudge_time == time(19, 0)


def test_quiet_hours_crossing_midnight_hold_an_event_until_the_next_nudge_time():
    start = utc(2026, 11, 20, 12)
    user = person("Europe/London", start, kinds={Kind.PARTNER_ANSWERED.value: True})
    with only_checks(partner_answered=everyone):
        nudge_enqueue(user_id=user.pk, kind=Kind.PARTNER_ANSWERED, now=utc(2026, 11, 20, 23, 10))
        run(utc(2026, 11, 20, 23), utc(2026, 11, 21, 20))
    (sent,) = sends(user, Kind.PARTNER_ANSWERED)
    assert sent.scheduled_for == utc(2026, 11, 21, 19, 0)


def test_events_close_together_share_one_email_and_one_a_day_at_most():
    user = person("UTC", utc(2026, 11, 20, 8), kinds={Kind.PARTNER_ANSWERED.value: True})
    with only_checks(partner_answered=everyone):
        for minute in (0, 5, 10):
            nudge_enqueue(
                user_id=user.pk, kind=Kind.PARTNER_ANSWERED, now=utc(2026, 11, 20, 19, minute)
            )
        run(utc(2026, 11, 20, 19, 0), utc(2026, 11, 20, 19, 30), step=timedelta(minutes=5))
        nudge_enqueue(user_id=user.pk, kind=Kind.PARTNER_ANSWERED, now=utc(2026, 11, 20, 20))
        run(utc(2026, 11, 20, 20), utc(2026, 11, 20, 21), step=timedelta(minutes=5))
    assert [n.scheduled_for for n in sends(user, Kind.PARTNER_ANSWERED)] == [
        utc(2026, 11, 20, 19, 15)
    ]


def test_a_person_moving_east_gets_their_new_local_time():
    start = utc(2026, 11, 20, 12)  # noon in London, 23:00 in Sydney
    user = person("Europe/London", start)
    with time_machine.travel(start, tick=False):
        user_update(user=user, timezone_name="Australia/Sydney")
    row = NudgeSchedule.objects.get(user=user, kind=Kind.QUESTION_READY)
    assert row.next_due_at == utc(2026, 11, 21, 8, 0)  # 19:00 on the 21st in Sydney (UTC+11)


def test_moving_west_never_sends_twice_for_one_local_date():
    start = utc(2026, 11, 20, 7)  # 18:00 in Sydney
    user = person("Australia/Sydney", start)
    with only_checks(question_ready=everyone):
        run(start, utc(2026, 11, 20, 9))  # 19:00 Sydney on the 20th goes out
        with time_machine.travel(utc(2026, 11, 20, 10), tick=False):
            user_update(user=user, timezone_name="Pacific/Honolulu")  # still the 20th there
        run(utc(2026, 11, 20, 10), utc(2026, 11, 22, 10))
    periods = [nudge.period for nudge in sends(user)]
    assert periods == ["2026-11-20", "2026-11-21"]  # the 20th once, though it came round again


def test_a_pause_sends_nothing_until_the_day_after():
    start = utc(2026, 11, 20, 8)
    user = person("UTC", start, paused_until=date(2026, 11, 22))
    with only_checks(question_ready=everyone):
        run(start, utc(2026, 11, 24, 20))
    assert [n.local_date for n in sends(user)] == [date(2026, 11, 23), date(2026, 11, 24)]


def test_only_the_chosen_days():
    start = utc(2026, 11, 16, 8)  # a Monday
    user = person("UTC", start, days=[0, 2, 4])
    with only_checks(question_ready=everyone):
        run(start, utc(2026, 11, 22, 23))
    assert [n.local_date.weekday() for n in sends(user)] == [0, 2, 4]


def test_the_daily_cap_holds_across_kinds_and_the_most_timely_kind_goes_first():
    start = utc(2026, 11, 20, 8)
    user = person(
        "UTC",
        start,
        kinds={Kind.QUESTION_READY.value: True, Kind.CHECKIN_REMINDER.value: True},
    )
    with only_checks(question_ready=everyone, checkin_reminder=everyone):
        run(start, utc(2026, 11, 20, 23))
        assert [n.kind for n in Nudge.objects.filter(user=user)] == [Kind.QUESTION_READY]
        preferences_update(user=user, daily_cap=2, now=utc(2026, 11, 21, 8))
        run(utc(2026, 11, 21, 8), utc(2026, 11, 21, 23))
    kinds_sent = sorted(n.kind for n in Nudge.objects.filter(user=user, local_date="2026-11-21"))
    assert kinds_sent == [Kind.CHECKIN_REMINDER, Kind.QUESTION_READY]


def test_a_weekly_kind_held_by_the_cap_waits_for_another_day_rather_than_nagging():
    start = utc(2026, 11, 16, 8)  # Monday
    user = person(
        "UTC",
        start,
        kinds={Kind.QUESTION_READY.value: True, Kind.LOVEMAP_STALE.value: True},
    )
    with only_checks(question_ready=everyone, lovemap_stale=everyone):
        run(start, utc(2026, 11, 29, 23))
    stale = sends(user, Kind.LOVEMAP_STALE)
    # At most weekly, and on those days it takes the one slot; the question has the rest.
    assert [n.local_date for n in stale] == [date(2026, 11, 16), date(2026, 11, 23)]
    question_days = {n.local_date for n in sends(user)}
    assert len(question_days) == 14 - 2
    assert not question_days & {n.local_date for n in stale}


def test_a_person_who_goes_quiet_gets_one_nudge_a_week_until_they_come_back():
    start = utc(2026, 11, 1, 8)
    user = person("UTC", start)
    NudgePreferences.objects.filter(user=user).update(last_active_at=start - timedelta(days=8))
    with only_checks(question_ready=everyone):
        run(start, utc(2026, 11, 15, 23), active=False)
        assert [n.local_date.day for n in sends(user)] == [1, 8, 15]
        NudgePreferences.objects.filter(user=user).update(last_active_at=utc(2026, 11, 16, 9))
        run(utc(2026, 11, 16, 8), utc(2026, 11, 18, 23), active=False)
    assert [n.local_date.day for n in sends(user)] == [1, 8, 15, 16, 17, 18]


def test_not_eligible_means_no_row_and_the_schedule_moves_on():
    start = utc(2026, 11, 20, 8)
    user = person("UTC", start)
    with only_checks():  # nobody is eligible for anything
        run(start, utc(2026, 11, 21, 23))
    assert not Nudge.objects.filter(user=user).exists()
    row = NudgeSchedule.objects.get(user=user, kind=Kind.QUESTION_READY)
    assert row.next_due_at == utc(2026, 11, 22, 19)


def test_running_the_tick_twice_or_after_a_schedule_reset_plans_once():
    start = utc(2026, 11, 20, 19)
    user = person("UTC", utc(2026, 11, 20, 8))
    with only_checks(question_ready=everyone), time_machine.travel(start, tick=False):
        nudges_tick(now=start)
        nudges_tick(now=start)
        # Even a due time pushed back (a bug, a restore) cannot double the period.
        NudgeSchedule.objects.filter(user=user).update(next_due_at=start)
        nudges_tick(now=start + timedelta(minutes=1))
    assert Nudge.objects.filter(user=user).count() == 1


@pytest.mark.parametrize(
    ("tick_at", "status", "reason"),
    [
        (utc(2026, 11, 20, 20, 0), Nudge.Status.PENDING, ""),  # an hour late: still fine
        (utc(2026, 11, 20, 21, 30), Nudge.Status.SKIPPED, "150 minutes late"),
        (utc(2026, 11, 20, 22, 5), Nudge.Status.SKIPPED, "quiet hours"),
        (utc(2026, 11, 21, 3, 0), Nudge.Status.SKIPPED, "quiet hours"),
    ],
)
def test_a_tick_that_was_down_for_hours_skips_instead_of_sending_at_night(tick_at, status, reason):
    user = person("UTC", utc(2026, 11, 20, 8))
    with only_checks(question_ready=everyone), time_machine.travel(tick_at, tick=False):
        nudges_tick(now=tick_at)
    (nudge,) = Nudge.objects.filter(user=user)
    assert (nudge.status, nudge.local_date) == (status, date(2026, 11, 20))
    assert reason in nudge.reason
    # And the schedule moved on to the next evening, not to "as soon as possible".
    row = NudgeSchedule.objects.get(user=user, kind=Kind.QUESTION_READY)
    assert row.next_due_at.astimezone(UTC).time() == time(19, 0)


def test_an_event_enqueued_in_a_transaction_that_rolls_back_changes_nothing():
    user = person("UTC", utc(2026, 11, 20, 8), kinds={Kind.PARTNER_ANSWERED.value: True})

    def answer_that_fails() -> None:
        with transaction.atomic():
            nudge_enqueue(user_id=user.pk, kind=Kind.PARTNER_ANSWERED, now=utc(2026, 11, 20, 10))
            raise RuntimeError("the answer failed to save")

    with pytest.raises(RuntimeError):
        answer_that_fails()
    row = NudgeSchedule.objects.get(user=user, kind=Kind.PARTNER_ANSWERED)
    assert row.next_due_at is None


def test_an_unsubscribed_kind_is_never_planned():
    user = person("UTC", utc(2026, 11, 20, 8))
    preferences_update(user=user, kinds={Kind.QUESTION_READY.value: False})
    with only_checks(question_ready=everyone):
        run(utc(2026, 11, 20, 18), utc(2026, 11, 21, 20))
    assert not Nudge.objects.filter(user=user).exists()


def test_a_suppressed_address_gets_nothing_until_preferences_are_saved():
    user = person("UTC", utc(2026, 11, 20, 8))
    NudgePreferences.objects.filter(user=user).update(suppressed_at=utc(2026, 11, 19))
    with only_checks(question_ready=everyone):
        run(utc(2026, 11, 20, 18), utc(2026, 11, 20, 20))
        assert not Nudge.objects.filter(user=user).exists()
        preferences_update(user=user, now=utc(2026, 11, 21, 8))
        run(utc(2026, 11, 21, 18), utc(2026, 11, 21, 20))
    assert len(sends(user)) == 1


def test_schedule_reset_keeps_a_weekly_kind_seven_days_from_its_last_send():
    user = person("UTC", utc(2026, 11, 16, 8), kinds={Kind.LOVEMAP_STALE.value: True})
    with only_checks(lovemap_stale=everyone):
        run(utc(2026, 11, 16, 18), utc(2026, 11, 16, 20))
    prefs = NudgePreferences.objects.get(user=user)
    schedule_reset(user=user, prefs=prefs, now=utc(2026, 11, 18, 9))
    row = NudgeSchedule.objects.get(user=user, kind=Kind.LOVEMAP_STALE)
    assert row.next_due_at == utc(2026, 11, 23, 19)


def test_a_pause_longer_than_a_year_is_refused_with_a_clear_error():
    user = new_user()
    with pytest.raises(Invalid, match="a year at most"):
        preferences_update(user=user, paused_until=date(2099, 1, 1))
    assert NudgePreferences.objects.get(user=user).paused_until is None


def test_a_pause_that_ended_before_today_is_refused_with_a_clear_error():
    user = new_user()
    with pytest.raises(Invalid, match="today or a later day"):
        preferences_update(user=user, paused_until=date(2026, 11, 19), now=utc(2026, 11, 20, 12))
    assert NudgePreferences.objects.get(user=user).paused_until is None


def test_small_batches_over_shared_due_times_plan_everyone_once_by_priority():
    # Everyone is due at 19:00 for two kinds: ties in the due index, split across many
    # small batches; each claim starts after the last (keyset), skipping nobody.
    start = utc(2026, 11, 20, 8)
    both = {Kind.QUESTION_READY.value: True, Kind.CHECKIN_REMINDER.value: True}
    people = [person("UTC", start, kinds=both) for _ in range(11)]
    tick_at = utc(2026, 11, 20, 19)
    with only_checks(question_ready=everyone, checkin_reminder=everyone):
        result = nudges_tick(now=tick_at, batch_size=3)
        again = nudges_tick(now=tick_at, batch_size=3)

    assert (result.people, result.planned, again.people) == (11, 11, 0)
    planned = Nudge.objects.filter(user__in=people)
    # The cap of one a day goes to the higher-priority kind for every person.
    assert sorted(planned.values_list("user_id", "kind")) == sorted(
        (p.pk, Kind.QUESTION_READY.value) for p in people
    )
    due = NudgeSchedule.objects.filter(user__in=people, enabled=True, next_due_at__lte=tick_at)
    assert not due.exists()


def test_each_batch_of_the_tick_costs_the_same_few_queries_whatever_its_size():
    # Per batch: the claim, the outbox history, the due rows, the outbox insert and the
    # schedule update (the eligibility checks are the feature apps' and are replaced
    # here; tests/nudges/test_eligibility.py counts theirs). Outside the batches: the
    # final claim that finds nobody (and `SET jit` / `RESET jit` on PostgreSQL).
    start = utc(2026, 11, 20, 8)
    tick_at = utc(2026, 11, 20, 19)
    people = [person("UTC", start) for _ in range(12)]

    def queries(batch_size: int) -> tuple[int, int]:
        NudgeSchedule.objects.filter(user__in=people).update(next_due_at=tick_at)
        Nudge.objects.all().delete()
        with only_checks(question_ready=everyone), time_machine.travel(tick_at, tick=False):
            captured = capture_queries(lambda: nudges_tick(now=tick_at, batch_size=batch_size))
        assert captured.result.planned == len(people)
        # Each batch's transaction is a savepoint inside the test's own.
        statements = [sql for sql in captured.sql if "SAVEPOINT" not in sql.upper()]
        return len(statements), captured.result.batches

    few, few_batches = queries(6)
    many, many_batches = queries(2)
    assert (few_batches, many_batches) == (2, 6)
    assert (many - few) == 5 * (many_batches - few_batches)
