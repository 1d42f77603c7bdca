"""Delivery against a real SMTP server on loopback (aiosmtpd): both parts and the
unsubscribe headers arrive; one connection per batch; 4xx retries with back-off and
then fails for good; 5xx suppresses; a refused connection retries; the re-check skips
what became late, quiet or unneeded; and every way a worker can die or race sends at
most once."""

from __future__ import annotations

import functools
import smtplib
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connections

from nuzzle.celery import app as celery_app
from nuzzle.couples.models import User
from nuzzle.nudges import delivery, kinds, tasks
from nuzzle.nudges.channels import email as email_channel
from nuzzle.nudges.channels.smtp import classify
from nuzzle.nudges.delivery import leases_recover, nudges_deliver
from nuzzle.nudges.kinds import Kind, Recipient
from nuzzle.nudges.models import Nudge, NudgePreferences, NudgeSchedule
from nuzzle.nudges.policy import retry_policy
from tests.factories import couple_of, new_user
from tests.nudges import helpers
from tests.nudges.helpers import fresh
from tests.nudges.smtp import SmtpServer, free_port
from tests.queries import capture_queries

pytestmark = pytest.mark.django_db

# 19:00 in London (BST): the default nudge time, outside the default quiet hours.
NOW = datetime(2026, 6, 10, 18, 0, tzinfo=UTC)
outbox = functools.partial(helpers.outbox, at=NOW)


class Checks:
    """Eligibility checks for the kinds under test: everyone is eligible except the
    people in `no`; every question asked is recorded."""

    def __init__(self) -> None:
        self.no: set[int] = set()
        self.asked: list[tuple[str, list[int]]] = []

    def check(self, kind: str) -> kinds.EligibilityCheck:
        def answer(recipients: Sequence[Recipient], now: datetime) -> dict[int, kinds.Context]:
            self.asked.append((kind, [r.user_id for r in recipients]))
            return {
                r.user_id: {"partner_answered": True, "revealed": False}
                for r in recipients
                if r.user_id not in self.no
            }

        return answer


@pytest.fixture
def checks() -> Iterator[Checks]:
    saved = dict(kinds._checks)
    registry = Checks()
    kinds._checks.clear()
    for kind in (Kind.QUESTION_READY, Kind.PARTNER_ANSWERED):
        kinds.register(kind, registry.check(kind.value))
    try:
        yield registry
    finally:
        kinds._checks.clear()
        kinds._checks.update(saved)


@pytest.fixture
def smtp(settings) -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    server.use_in(settings)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


# --- What arrives -----------------------------------------------------------------


def test_a_due_nudge_arrives_with_a_text_and_an_html_part_and_one_click_unsubscribe(
    smtp, checks, clock
):
    robin = new_user(display_name="Robin")
    couple_of(robin, new_user(display_name="Sam"))
    nudge = outbox(robin)

    result = nudges_deliver()

    assert (result.sent, result.retried, result.skipped) == (1, 0, 0)
    nudge = fresh(nudge)
    assert nudge.status == Nudge.Status.SENT
    assert nudge.sent_at == NOW
    assert (nudge.claim_token, nudge.lease_until) == ("", None)
    assert nudge.context == {"partner_answered": True, "revealed": False}
    (received,) = smtp.messages
    assert received.rcpt_tos == [robin.email]
    message = received.message
    assert message["To"] == robin.email
    assert "Sam" in message["Subject"]
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert text.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    assert "Hi Robin" in text.get_content()
    assert "Sam has already answered" in text.get_content()
    assert "/question/" in text.get_content()
    assert "/question/" in html.get_content()
    assert message["Message-ID"].startswith(f"<nudge-{nudge.pk}@")
    unsubscribe = str(message["List-Unsubscribe"]).strip()  # may be folded onto a new line
    assert unsubscribe.startswith("<http")
    assert unsubscribe.endswith(">")
    assert "/unsubscribe/" in unsubscribe
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_batch_of_several_nudges_goes_over_one_smtp_connection(smtp, checks, clock):
    people = [new_user() for _ in range(4)]
    for person in people:
        outbox(person)

    result = nudges_deliver()

    assert result.sent == 4
    assert smtp.connections == 1
    assert sorted(r for m in smtp.messages for r in m.rcpt_tos) == sorted(p.email for p in people)


def test_batches_are_claimed_until_nothing_is_due(smtp, checks, clock):
    for _ in range(5):
        outbox(new_user())

    result = nudges_deliver(batch_size=2)

    assert result.sent == 5
    assert smtp.connections == 3  # one per batch: 2 + 2 + 1
    assert not Nudge.objects.exclude(status=Nudge.Status.SENT).exists()


def test_recipients_are_loaded_in_a_fixed_number_of_queries(smtp, checks, clock):
    def queries_for(count: int) -> int:
        for _ in range(count):
            person = new_user()
            couple_of(person, new_user())
            outbox(person)
        captured = capture_queries(nudges_deliver)
        assert captured.result.sent == count
        return len(captured)

    small, large = queries_for(2), queries_for(6)
    # Only the per-row writes grow with the batch: per email, its gate (`sending`) and
    # its `sent` mark.
    assert large - small == 2 * 4


def test_a_future_or_already_handled_row_is_left_alone(smtp, checks, clock):
    person = new_user()
    later = outbox(person, next_attempt_at=NOW + timedelta(minutes=1))
    done = outbox(person, Kind.PARTNER_ANSWERED, status=Nudge.Status.SENT)

    assert nudges_deliver().sent == 0
    assert smtp.messages == []
    assert fresh(later).status == Nudge.Status.PENDING
    assert fresh(done).status == Nudge.Status.SENT


# --- Temporary errors -------------------------------------------------------------


def test_a_4xx_puts_the_row_back_with_back_off_and_a_later_run_sends_it(smtp, checks, clock):
    nudge = outbox(new_user())
    smtp.reply_to_rcpt("451 4.3.0 Try again later")

    result = nudges_deliver()

    assert (result.sent, result.retried) == (0, 1)
    nudge = fresh(nudge)
    assert nudge.status == Nudge.Status.PENDING
    assert nudge.attempts == 1
    assert nudge.next_attempt_at == NOW + retry_policy().waits[0]
    assert "451" in nudge.reason
    assert smtp.messages == []

    smtp.behave()
    assert nudges_deliver().sent == 0  # not due again yet
    clock.shift(retry_policy().waits[0])
    assert nudges_deliver().sent == 1
    nudge = fresh(nudge)
    assert nudge.status == Nudge.Status.SENT
    assert nudge.attempts == 1
    assert len(smtp.messages) == 1


def test_a_4xx_after_data_is_retried_too(smtp, checks, clock):
    nudge = outbox(new_user())
    smtp.reply_to_data("452 4.3.1 Insufficient system storage")

    assert nudges_deliver().retried == 1
    assert fresh(nudge).status == Nudge.Status.PENDING
    assert fresh(nudge).attempts == 1


def test_repeated_4xx_ends_failed_after_the_last_attempt(smtp, checks, clock):
    nudge = outbox(new_user())
    smtp.reply_to_rcpt("421 4.7.0 Too busy")

    for attempt in range(1, retry_policy().max_attempts + 1):
        nudges_deliver()
        nudge = fresh(nudge)
        assert nudge.attempts == attempt
        if attempt < retry_policy().max_attempts:
            assert nudge.status == Nudge.Status.PENDING
            assert nudge.next_attempt_at is not None
            clock.move_to(nudge.next_attempt_at, tick=False)

    assert nudge.status == Nudge.Status.FAILED
    assert nudge.reason.startswith(f"gave up after {retry_policy().max_attempts} tries")
    assert nudge.next_attempt_at is None
    clock.shift(timedelta(hours=1))
    assert nudges_deliver().sent == 0
    assert smtp.messages == []


def test_a_4xx_for_one_recipient_does_not_hold_up_the_others(smtp, checks, clock):
    busy, fine = new_user(), new_user()
    busy_nudge, fine_nudge = outbox(busy), outbox(fine)
    smtp.reply_to_rcpt("450 4.2.1 Mailbox busy", to=busy.email)

    result = nudges_deliver()

    assert (result.sent, result.retried) == (1, 1)
    assert fresh(busy_nudge).status == Nudge.Status.PENDING
    assert fresh(fine_nudge).status == Nudge.Status.SENT
    assert [m.rcpt_tos for m in smtp.messages] == [[fine.email]]


def test_a_refused_connection_puts_every_claimed_row_back_with_back_off(settings, checks, clock):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens
    nudges = [outbox(new_user()) for _ in range(3)]

    result = nudges_deliver()

    assert (result.sent, result.retried, result.failed) == (0, 3, 0)
    for nudge in map(fresh, nudges):
        assert nudge.status == Nudge.Status.PENDING
        assert nudge.attempts == 1
        assert nudge.next_attempt_at == NOW + retry_policy().waits[0]
        assert nudge.reason == "could not connect to the mail server (ConnectionRefusedError)"
        assert nudge.claim_token == ""


def test_a_timeout_before_the_message_went_is_retried(smtp, checks, clock, settings):
    settings.EMAIL_TIMEOUT = 1
    nudge = outbox(new_user())
    smtp.delays["RCPT"] = 2.0

    assert nudges_deliver().retried == 1
    nudge = fresh(nudge)
    assert nudge.status == Nudge.Status.PENDING
    # smtplib reports a read that timed out (EMAIL_TIMEOUT) as a disconnect.
    assert nudge.reason == "temporary connection error (SMTPServerDisconnected)"
    assert smtp.messages == []


def test_a_timeout_after_the_message_went_is_never_retried(smtp, checks, clock, settings):
    # The server took the message but answered too late: we cannot know it went, so
    # at most once means we do not try again.
    settings.EMAIL_TIMEOUT = 1
    nudge = outbox(new_user())
    smtp.delays["DATA"] = 2.0

    assert nudges_deliver().failed == 1
    nudge = fresh(nudge)
    assert nudge.status == Nudge.Status.FAILED
    assert "at most once" in nudge.reason
    smtp.behave()
    clock.shift(timedelta(minutes=30))
    assert nudges_deliver().sent == 0
    assert len(smtp.messages) == 1


# --- Permanent errors -------------------------------------------------------------


def test_a_5xx_for_the_address_suppresses_the_row_and_the_person(smtp, checks, clock):
    gone, fine = new_user(), new_user()
    first = outbox(gone)
    second = outbox(gone, Kind.PARTNER_ANSWERED)
    other = outbox(fine)
    smtp.reply_to_rcpt("550 5.1.1 No such user here", to=gone.email)

    result = nudges_deliver()

    assert (result.sent, result.suppressed, result.skipped) == (1, 1, 1)
    first, second = fresh(first), fresh(second)
    assert first.status == Nudge.Status.SUPPRESSED
    assert "550 5.1.1" in first.reason
    assert second.status == Nudge.Status.SKIPPED
    prefs = NudgePreferences.objects.get(user=gone)
    assert prefs.suppressed_at == NOW
    assert "550" in prefs.suppressed_reason
    assert fresh(other).status == Nudge.Status.SENT
    assert smtp.received_by(gone.email) == []

    # Nothing more goes to that address, even if the server would now take it.
    smtp.behave()
    tomorrow = NOW + timedelta(days=1)
    later = outbox(gone, at=tomorrow)
    clock.move_to(tomorrow, tick=False)
    assert nudges_deliver().skipped == 1
    assert fresh(later).status == Nudge.Status.SKIPPED
    assert "suppressed" in fresh(later).reason
    assert smtp.received_by(gone.email) == []


def test_a_policy_5xx_suppresses_the_row_but_not_the_person(smtp, checks, clock):
    person = new_user()
    nudge = outbox(person)
    smtp.reply_to_data("554 5.7.1 Message rejected as spam")

    assert nudges_deliver().suppressed == 1
    assert fresh(nudge).status == Nudge.Status.SUPPRESSED
    assert "554 5.7.1" in fresh(nudge).reason
    assert NudgePreferences.objects.get(user=person).suppressed_at is None


@pytest.mark.parametrize(
    ("exc", "outcome", "suppress_person"),
    [
        (smtplib.SMTPRecipientsRefused({"a@x.org": (550, b"5.1.1 Unknown")}), "suppress", True),
        (smtplib.SMTPRecipientsRefused({"a@x.org": (551, b"User not local")}), "suppress", True),
        (
            smtplib.SMTPRecipientsRefused({"a@x.org": (550, b"5.7.1 Relay denied")}),
            "suppress",
            False,
        ),
        (smtplib.SMTPRecipientsRefused({"a@x.org": (552, b"5.2.2 Full")}), "suppress", False),
        (smtplib.SMTPRecipientsRefused({"a@x.org": (451, b"4.3.0 Later")}), "retry", False),
        (smtplib.SMTPDataError(553, b"5.1.3 Bad address syntax"), "suppress", True),
        (smtplib.SMTPDataError(554, b"Transaction failed"), "suppress", False),
        (smtplib.SMTPSenderRefused(553, b"5.1.8 Bad sender", "n@x.org"), "suppress", False),
        (smtplib.SMTPDataError(421, b"Shutting down"), "retry", False),
        (smtplib.SMTPServerDisconnected("gone"), "retry", False),
        (TimeoutError("timed out"), "retry", False),
        (ConnectionResetError(), "retry", False),
        (ValueError("a bug"), "fail", False),
    ],
)
def test_each_smtp_error_has_one_meaning(exc, outcome, suppress_person):
    result = classify(exc, data_started=False)
    assert (result.kind, result.suppress_person) == (outcome, suppress_person)


def test_only_a_non_answer_during_data_is_ambiguous():
    assert classify(smtplib.SMTPServerDisconnected(), data_started=True).kind == "fail"
    assert classify(TimeoutError(), data_started=True).kind == "fail"
    # A reply code is an answer: the server said it did not take the message.
    assert classify(smtplib.SMTPDataError(451, b"Later"), data_started=True).kind == "retry"


# --- The re-check at delivery -----------------------------------------------------


def test_a_nudge_that_would_land_in_quiet_hours_is_skipped(smtp, checks, time_machine):
    person = new_user()  # quiet hours 22:00–08:00 London
    planned = datetime(2026, 6, 10, 20, 50, tzinfo=UTC)  # 21:50 local
    nudge = outbox(person, at=planned)
    time_machine.move_to(planned + timedelta(minutes=15), tick=False)  # 22:05 local

    assert nudges_deliver().skipped == 1
    nudge = fresh(nudge)
    assert nudge.status == Nudge.Status.SKIPPED
    assert "quiet hours" in nudge.reason
    assert smtp.messages == []


def test_a_nudge_past_its_send_window_is_skipped_not_sent_late(smtp, checks, clock):
    nudge = outbox(new_user(), at=NOW - timedelta(hours=3), next_attempt_at=NOW)

    assert nudges_deliver().skipped == 1
    nudge = fresh(nudge)
    assert nudge.status == Nudge.Status.SKIPPED
    assert nudge.reason == "not sent: 180 minutes late"
    assert smtp.messages == []


def test_someone_no_longer_eligible_is_skipped_and_each_kind_is_asked_once(smtp, checks, clock):
    answered, waiting = new_user(), new_user()
    gone = outbox(answered)
    due = outbox(waiting)
    outbox(waiting, Kind.PARTNER_ANSWERED)
    checks.no.add(answered.pk)

    result = nudges_deliver()

    assert (result.sent, result.skipped) == (2, 1)
    assert fresh(gone).status == Nudge.Status.SKIPPED
    assert "no longer needed" in fresh(gone).reason
    assert fresh(due).status == Nudge.Status.SENT
    assert sorted(checks.asked) == sorted(
        [
            (Kind.QUESTION_READY.value, [answered.pk, waiting.pk]),
            (Kind.PARTNER_ANSWERED.value, [waiting.pk]),
        ]
    )
    assert [m.rcpt_tos for m in smtp.messages] == [[waiting.email], [waiting.email]]


def test_a_kind_without_a_registered_check_is_skipped(smtp, checks, clock):
    nudge = outbox(new_user(), Kind.LOVEMAP_STALE)

    assert nudges_deliver().skipped == 1
    assert fresh(nudge).status == Nudge.Status.SKIPPED


def test_a_switched_off_kind_an_inactive_account_and_a_pause_are_skipped(smtp, checks, clock):
    switched, inactive, paused = new_user(), new_user(), new_user()
    NudgeSchedule.objects.filter(user=switched, kind=Kind.QUESTION_READY).update(enabled=False)
    User.objects.filter(pk=inactive.pk).update(is_active=False)
    NudgePreferences.objects.filter(user=paused).update(paused_until=NOW.date())
    rows = {who.pk: outbox(who) for who in (switched, inactive, paused)}

    assert nudges_deliver().skipped == 3
    reasons = {pk: fresh(row).reason for pk, row in rows.items()}
    assert "switched off" in reasons[switched.pk]
    assert "inactive" in reasons[inactive.pk]
    assert "paused" in reasons[paused.pk]
    assert smtp.messages == []
    assert checks.asked == []  # nobody left to ask about


def test_a_broken_eligibility_check_fails_its_own_rows_only(smtp, checks, clock):
    person = new_user()
    broken = outbox(person, Kind.PARTNER_ANSWERED)
    fine = outbox(person)

    def explode(recipients, now):
        raise ValueError("a bug in a feature app")

    kinds.register(Kind.PARTNER_ANSWERED, explode)
    result = nudges_deliver()

    assert (result.sent, result.failed) == (1, 1)
    assert fresh(broken).status == Nudge.Status.FAILED
    assert fresh(broken).reason == "eligibility check failed"
    assert fresh(fine).status == Nudge.Status.SENT


def test_an_email_that_cannot_be_rendered_fails_without_stopping_the_batch(
    smtp, checks, clock, monkeypatch
):
    bad, good = outbox(new_user()), outbox(new_user())
    render = email_channel.nudge_message

    def flaky(nudge, recipient, context):
        if nudge.pk == bad.pk:
            raise LookupError("template missing")
        return render(nudge, recipient, context)

    monkeypatch.setattr(email_channel, "nudge_message", flaky)
    result = nudges_deliver()

    assert (result.sent, result.failed) == (1, 1)
    assert fresh(bad).status == Nudge.Status.FAILED
    assert fresh(good).status == Nudge.Status.SENT
    assert len(smtp.messages) == 1


# --- At most once -----------------------------------------------------------------


def test_two_workers_one_after_the_other_send_once(smtp, checks, clock):
    nudge = outbox(new_user())

    first, second = nudges_deliver(), nudges_deliver()

    assert (first.sent, second.sent) == (1, 0)
    assert len(smtp.messages) == 1
    assert fresh(nudge).status == Nudge.Status.SENT


def test_a_row_taken_back_while_the_batch_ran_is_not_sent(smtp, checks, clock):
    # The worker's lease expired and the row went to someone else between the claim and
    # the send: the compare-and-set on the claim token refuses it.
    nudge = outbox(new_user())

    def steal(recipients, now):
        Nudge.objects.filter(pk=nudge.pk).update(claim_token="someone-else")
        return {r.user_id: {} for r in recipients}

    kinds.register(Kind.QUESTION_READY, steal)
    result = nudges_deliver()

    assert (result.sent, result.failed, result.skipped) == (0, 0, 0)
    assert smtp.messages == []
    nudge = fresh(nudge)
    assert (nudge.status, nudge.claim_token) == (Nudge.Status.CLAIMED, "someone-else")


def _while_rendering(row: Nudge, action, monkeypatch) -> None:
    """Run `action` when delivery renders `row`'s email: after the email before it was
    recorded, before `row`'s own gate."""
    render = email_channel.nudge_message

    def hooked(nudge, recipient, context):
        if nudge.pk == row.pk:
            action()
        return render(nudge, recipient, context)

    monkeypatch.setattr(email_channel, "nudge_message", hooked)


def test_each_email_is_gated_before_it_goes_and_recorded_sent_after(smtp, checks, clock):
    rows = [outbox(new_user()) for _ in range(3)]

    captured = capture_queries(nudges_deliver)
    assert captured.result.sent == 3

    writes = [sql for sql in captured.sql if sql.startswith('UPDATE "nudges_nudge"')]
    # The claim, then per email its gate and its `sent` mark, in that order.
    assert len(writes) == 1 + 3 * 2
    assert all("sending" in write for write in writes[1::2])
    assert all("sent" in write for write in writes[2::2])
    for row in rows:
        row = fresh(row)
        assert (row.status, row.sent_at, row.claim_token, row.lease_until) == (
            Nudge.Status.SENT,
            NOW,
            "",
            None,
        )
        assert row.context == {"partner_answered": True, "revealed": False}


def test_an_email_whose_lease_was_recovered_after_it_went_stays_failed_the_next_still_goes(
    smtp, checks, clock, monkeypatch, caplog
):
    first, second = outbox(new_user()), outbox(new_user())
    recovered = {"status": Nudge.Status.FAILED, "claim_token": "", "lease_until": None}
    send = email_channel.SmtpSession.send

    def lease_recovered_while_sending(session, message):
        outcome = send(session, message)  # the server took it, then the tick took it back
        if message.extra_headers["Message-ID"].startswith(f"<nudge-{first.pk}@"):
            Nudge.objects.filter(pk=first.pk).update(**recovered)
        return outcome

    monkeypatch.setattr(email_channel.SmtpSession, "send", lease_recovered_while_sending)

    assert nudges_deliver().sent == 2

    assert fresh(first).status == Nudge.Status.FAILED  # at most once: never sent again
    assert fresh(second).status == Nudge.Status.SENT
    assert len(smtp.messages) == 2
    assert f"nudge {first.pk}: sent, but its lease had been recovered" in caplog.text


def test_a_row_taken_back_after_the_email_before_it_went_still_records_that_email(
    smtp, checks, clock, monkeypatch
):
    first, second = outbox(new_user()), outbox(new_user())
    steal = lambda: Nudge.objects.filter(pk=second.pk).update(claim_token="someone-else")  # noqa: E731
    _while_rendering(second, steal, monkeypatch)

    assert nudges_deliver().sent == 1

    assert fresh(first).status == Nudge.Status.SENT
    second = fresh(second)
    assert (second.status, second.claim_token) == (Nudge.Status.CLAIMED, "someone-else")
    assert len(smtp.messages) == 1


def test_a_row_left_sending_by_a_dead_worker_is_never_sent_again(smtp, checks, clock):
    nudge = outbox(
        new_user(),
        status=Nudge.Status.SENDING,
        claim_token="dead-worker",
        lease_until=NOW - timedelta(seconds=1),
    )

    assert nudges_deliver().sent == 0
    assert leases_recover(now=NOW) == (0, 1)
    nudge = fresh(nudge)
    assert nudge.status == Nudge.Status.FAILED
    assert "at most once" in nudge.reason
    assert nudges_deliver().sent == 0
    assert smtp.messages == []


def test_a_row_left_claimed_by_a_dead_worker_is_sent_once(smtp, checks, clock):
    nudge = outbox(
        new_user(),
        status=Nudge.Status.CLAIMED,
        claim_token="dead-worker",
        lease_until=NOW - timedelta(seconds=1),
    )

    assert nudges_deliver().sent == 0  # still leased as far as delivery knows
    assert leases_recover(now=NOW) == (1, 0)
    assert nudges_deliver().sent == 1
    assert nudges_deliver().sent == 0
    assert leases_recover(now=NOW + timedelta(hours=1)) == (0, 0)
    assert len(smtp.messages) == 1
    assert fresh(nudge).status == Nudge.Status.SENT


def test_a_live_claim_is_not_touched_by_lease_recovery(smtp, checks, clock):
    nudge = outbox(
        new_user(),
        status=Nudge.Status.CLAIMED,
        claim_token="busy-worker",
        lease_until=NOW + timedelta(minutes=5),
    )
    assert leases_recover(now=NOW) == (0, 0)
    assert nudges_deliver().sent == 0
    assert fresh(nudge).status == Nudge.Status.CLAIMED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_workers_running_at_the_same_time_send_each_nudge_once(smtp, checks, clock):
    people = [new_user() for _ in range(24)]
    for person in people:
        outbox(person)
    results = []  # DeliveryResult per worker
    errors = []
    start = threading.Barrier(4)

    def worker() -> None:
        try:
            start.wait()
            results.append(nudges_deliver(batch_size=3))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(results) == 4
    assert sum(r.sent for r in results) == 24
    recipients = [r for m in smtp.messages for r in m.rcpt_tos]
    assert sorted(recipients) == sorted(p.email for p in people)
    assert Nudge.objects.filter(status=Nudge.Status.SENT).count() == 24


# --- Tasks and beat ---------------------------------------------------------------


def test_pending_due_count_stops_at_its_limit(checks, clock):
    for _ in range(3):
        outbox(new_user())
    outbox(new_user(), next_attempt_at=NOW + timedelta(minutes=5))

    assert delivery.pending_due_count(now=NOW, limit=10) == 3
    assert delivery.pending_due_count(now=NOW, limit=2) == 2


@pytest.mark.parametrize(("due", "expected"), [(0, 0), (1, 1), (2, 1), (3, 2), (9, 2)])
def test_the_tick_starts_as_many_deliveries_as_the_due_rows_need(
    due, expected, settings, clock, monkeypatch, django_capture_on_commit_callbacks
):
    settings.NUDGE_DELIVERY_BATCH, settings.NUDGE_DELIVERY_PARALLEL = 2, 2
    for _ in range(due):
        outbox(new_user())
    started = []
    monkeypatch.setattr(tasks.deliver, "delay_on_commit", lambda: started.append(None))

    with django_capture_on_commit_callbacks(execute=True):
        tasks.tick()

    assert len(started) == expected


def test_the_deliver_task_sends(smtp, checks, clock):
    outbox(new_user())
    tasks.deliver.apply()
    assert len(smtp.messages) == 1


def test_beat_runs_the_nudge_tick_and_the_question_sweep_every_interval(settings):
    schedule = celery_app.conf.beat_schedule
    interval = timedelta(seconds=settings.BEAT_INTERVAL_SECONDS)
    assert schedule["nudges-tick"]["task"] == "nudges.tasks.tick"
    assert schedule["nudges-tick"]["schedule"] == interval
    assert schedule["prompts-daily-question-sweep"]["schedule"] == interval
    assert "couples-housekeeping" in schedule
    assert tasks.tick.name == "nudges.tasks.tick"
    assert tasks.deliver.name == "nudges.tasks.deliver"
