"""The nudge emails: both parts for every kind, absolute links that resolve, one-click
unsubscribe headers, and nothing anyone wrote."""

from __future__ import annotations

import email
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import resolve
from django.utils import timezone

from nuzzle.nudges.channels.base import Addressee
from nuzzle.nudges.channels.email import nudge_message
from nuzzle.nudges.kinds import SPECS, Kind
from nuzzle.nudges.models import Nudge, NudgeSchedule
from prompts.services import daily_question_ensure, question_answer
from tests.factories import PromptFactory, new_nudge

pytestmark = pytest.mark.django_db

SITE = "https://nuzzle.example"

# A context for every kind that exercises its counts and flags.
CONTEXTS: dict[str, dict] = {
    Kind.QUESTION_READY: {"partner_answered": True},
    Kind.CHECKIN_REMINDER: {},
    Kind.PARTNER_ANSWERED: {"revealed": False},
    Kind.LOVEMAP_STALE: {"stale": 2},
    Kind.LOVEMAP_CATCHUP: {"updates": 3},
    Kind.WEEKLY_RECAP: {"days_together": 4, "questions_revealed": 2, "lovemap_updates": 1},
}
URL = re.compile(r"https?://[^\s\"'<>]+")
HREF = re.compile(r'href="([^"]*)"')


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


def recipient_for(user, partner_name: str | None = "Sam") -> Addressee:
    return Addressee(
        user_id=user.pk,
        email=user.email,
        display_name=user.display_name,
        timezone=user.timezone,
        partner_name=partner_name,
    )


def outbox_row(user, kind: str, context: dict | None = None) -> Nudge:
    now = timezone.now()
    return new_nudge(
        user=user,
        kind=kind,
        period=now.date().isoformat(),
        local_date=now.date(),
        scheduled_for=now,
        context=CONTEXTS[kind] if context is None else context,
    )


def html_of(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


def resolves_to(url: str) -> str:
    assert url.startswith(f"{SITE}/"), url
    name = resolve(urlsplit(url).path).url_name
    assert name, url
    return name


@pytest.mark.parametrize("kind", Kind.values)
class TestEveryKind:
    def test_it_has_a_one_line_subject_and_both_parts_greeting_the_person(self, cast, kind):
        message = nudge_message(outbox_row(cast.author, kind), recipient_for(cast.author))
        assert message.subject
        assert "\n" not in message.subject
        assert "  " not in message.subject
        assert message.to == [cast.author.email]
        assert message.from_email
        assert "Hi Robin," in message.body
        # The name is isolated (dir="auto"): a right-to-left name reads right to left.
        assert 'Hi <span dir="auto">Robin</span>,' in html_of(message)
        assert html_of(message).lstrip().lower().startswith("<!doctype html>")

    def test_its_button_goes_straight_to_the_right_page(self, cast, kind):
        message = nudge_message(outbox_row(cast.author, kind), recipient_for(cast.author))
        expected = SPECS[kind].deep_link
        assert any(resolves_to(url) == expected for url in URL.findall(message.body))
        assert any(resolves_to(url) == expected for url in HREF.findall(html_of(message)))

    def test_every_link_is_absolute_and_resolves(self, cast, kind):
        message = nudge_message(outbox_row(cast.author, kind), recipient_for(cast.author))
        links = URL.findall(message.body) + HREF.findall(html_of(message))
        assert links
        for link in links:
            resolves_to(link)  # absolute, on SITE_URL, and a real route

    def test_both_parts_link_to_stop_this_kind_stop_all_and_preferences(self, cast, kind):
        message = nudge_message(outbox_row(cast.author, kind), recipient_for(cast.author))
        for part in (message.body, html_of(message)):
            names = [resolves_to(url) for url in URL.findall(part)]
            assert names.count("unsubscribe") == 2
            assert "nudge-preferences" in names
        assert "Stop these emails" in message.body
        assert "Stop all Nuzzle emails" in html_of(message)

    def test_it_carries_one_click_unsubscribe_headers(self, cast, kind):
        nudge = outbox_row(cast.author, kind)
        parsed = email.message_from_bytes(
            nudge_message(nudge, recipient_for(cast.author)).message().as_bytes()
        )
        assert parsed["Message-ID"] == f"<nudge-{nudge.pk}@nuzzle.example>"
        assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert parsed["X-Nuzzle-Kind"] == kind
        unsubscribe = "".join(parsed["List-Unsubscribe"].split())
        assert unsubscribe.startswith(f"<{SITE}/unsubscribe/")
        assert unsubscribe.endswith("/>")
        # The header's link is the same "stop these emails" link as in the body.
        assert unsubscribe[1:-1] in nudge_message(nudge, recipient_for(cast.author)).body

    def test_smuggled_text_in_the_context_never_reaches_the_email(self, cast, kind):
        hostile = {key: "SECRET-MARKER" for key in CONTEXTS[kind]}
        hostile.update({"answer": "SECRET-MARKER", "text": "SECRET-MARKER"})
        nudge = outbox_row(cast.author, kind, context=hostile)
        raw = nudge_message(nudge, recipient_for(cast.author)).message().as_bytes()
        assert b"SECRET-MARKER" not in raw


class TestWhatTheEmailsSay:
    def test_counts_read_naturally(self, cast):
        me = recipient_for(cast.author)
        one = nudge_message(outbox_row(cast.author, Kind.LOVEMAP_STALE, {"stale": 1}), me)
        assert one.subject == "One of your love map answers — still true?"
        assert "One of your love map answers is past its refresh time" in one.body
        Nudge.objects.all().delete()
        two = nudge_message(outbox_row(cast.author, Kind.LOVEMAP_STALE, {"stale": 2}), me)
        assert "2 of your love map answers are past their refresh time" in two.body
        catchup = nudge_message(outbox_row(cast.author, Kind.LOVEMAP_CATCHUP), me)
        assert catchup.subject == "Sam updated 3 things in their love map"

    def test_the_fresh_context_wins_over_the_stored_one(self, cast):
        nudge = outbox_row(cast.author, Kind.LOVEMAP_CATCHUP, {"updates": 3})
        message = nudge_message(nudge, recipient_for(cast.author), {"updates": 5})
        assert message.subject == "Sam updated 5 things in their love map"

    def test_a_quiet_week_is_fine_not_a_failure(self, cast):
        nudge = outbox_row(cast.author, Kind.WEEKLY_RECAP, {})
        message = nudge_message(nudge, recipient_for(cast.author))
        assert "quiet week" in message.body
        assert "quiet week" in html_of(message)
        for word in ("streak", "missed", "don't forget", "overdue"):
            assert word not in message.body.lower()

    def test_without_a_partner_it_says_your_partner(self, cast):
        nudge = outbox_row(cast.unpaired, Kind.PARTNER_ANSWERED)
        message = nudge_message(nudge, recipient_for(cast.unpaired, partner_name=None))
        assert message.subject == "Your partner answered today's question"
        assert "None" not in message.body

    def test_names_are_escaped_in_html_and_plain_in_text(self, cast):
        cast.author.display_name = "Robin <b>"
        nudge = outbox_row(cast.author, Kind.LOVEMAP_CATCHUP)
        message = nudge_message(nudge, recipient_for(cast.author, partner_name="Sam & Co"))
        assert "Hi Robin <b>," in message.body
        assert "Sam & Co updated 3 things" in message.subject
        assert "Robin &lt;b&gt;" in html_of(message)
        assert "<b>," not in html_of(message)
        assert "Sam &amp; Co" in html_of(message)

    def test_the_message_id_is_the_same_for_the_same_row(self, cast, settings):
        settings.SITE_URL = "https://mail.nuzzle.example:8443"
        nudge = outbox_row(cast.author, Kind.CHECKIN_REMINDER)
        first = nudge_message(nudge, recipient_for(cast.author)).message()
        second = nudge_message(nudge, recipient_for(cast.author)).message()
        assert (
            first["Message-ID"] == second["Message-ID"] == f"<nudge-{nudge.pk}@mail.nuzzle.example>"
        )

    def test_the_html_loads_nothing_from_anywhere(self, cast):
        html = html_of(
            nudge_message(outbox_row(cast.author, Kind.WEEKLY_RECAP), recipient_for(cast.author))
        )
        assert "<img" not in html
        assert "<script" not in html
        assert "src=" not in html
        assert "@import" not in html
        assert "max-width:560px" in html


def test_a_sealed_answer_never_appears_even_when_the_partner_has_answered(cast):
    PromptFactory()
    question = daily_question_ensure(user=cast.author)
    assert question is not None
    question_answer(user=cast.partner, question_id=question.pk, text="SEALED-ANSWER-MARKER")
    for kind in (Kind.PARTNER_ANSWERED, Kind.QUESTION_READY):
        nudge = outbox_row(cast.author, kind)
        raw = nudge_message(nudge, recipient_for(cast.author)).message().as_bytes()
        assert b"SEALED-ANSWER-MARKER" not in raw
        assert question.prompt.text.encode() not in raw  # no content at all, only links


def test_the_list_unsubscribe_link_works_as_a_one_click_post(cast):
    nudge = outbox_row(cast.author, Kind.QUESTION_READY)
    parsed = nudge_message(nudge, recipient_for(cast.author)).message()
    link = "".join(parsed["List-Unsubscribe"].split())[1:-1]
    one_click = Client(enforce_csrf_checks=True)
    response = one_click.post(urlsplit(link).path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    row = NudgeSchedule.objects.get(user=cast.author, kind=Kind.QUESTION_READY)
    assert row.enabled is False
    nudge.refresh_from_db()
    assert nudge.status == Nudge.Status.SKIPPED  # a pending email of that kind won't go


def test_the_all_link_in_the_footer_stops_every_kind(cast):
    later = timezone.now() + timedelta(days=1)
    NudgeSchedule.objects.filter(user=cast.author).update(enabled=True, next_due_at=later)
    message = nudge_message(outbox_row(cast.author, Kind.WEEKLY_RECAP), recipient_for(cast.author))
    match = re.search(r"Stop all Nuzzle emails: (\S+)", message.body)
    assert match
    Client().post(urlsplit(match.group(1)).path)
    assert not NudgeSchedule.objects.filter(user=cast.author, enabled=True).exists()
    assert NudgeSchedule.objects.filter(user=cast.partner, enabled=True).exists()
