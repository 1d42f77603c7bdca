"""End to end on one machine: the real tick (with the feature apps' real eligibility
checks) plans, delivery sends to a real SMTP server on loopback, and the email that
arrives is read the way a person would read it: both parts, links that open the right
pages, the unsubscribe headers — and a one-click POST that stops that kind."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.test import Client

from nuzzle.nudges.delivery import nudges_deliver
from nuzzle.nudges.kinds import Kind
from nuzzle.nudges.models import Nudge, NudgeSchedule
from nuzzle.nudges.planning import nudges_tick
from nuzzle.nudges.services import preferences_for, schedule_reset
from prompts.services import daily_question_ensure
from tests.conftest import AUTHOR_ZONE
from tests.days import local_time
from tests.factories import PromptFactory
from tests.nudges.smtp import SmtpServer

pytestmark = pytest.mark.django_db

# 19:00 for the cast's author (in Auckland), the default nudge time.
EVENING = local_time("2026-11-20", AUTHOR_ZONE, 19)
LINK = re.compile(r"https?://[^\s\"'<>]+")


@pytest.fixture
def smtp(settings) -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    server.use_in(settings)
    settings.SITE_URL = "http://testserver"
    try:
        yield server
    finally:
        server.stop()


def local_path(url: str) -> str:
    parts = urlsplit(url)
    assert parts.netloc == "testserver", url  # every link points at this site
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_a_received_nudge_has_both_parts_working_links_and_one_click_unsubscribe(
    cast, smtp, time_machine
):
    time_machine.move_to(EVENING - timedelta(hours=12), tick=False)
    PromptFactory()
    question = daily_question_ensure(user=cast.author)
    assert question is not None
    # The cast was made at the real "now": plan from this morning instead. Only the
    # question nudge, for the author (the partner lives in Los Angeles).
    schedule_reset(user=cast.author, prefs=preferences_for(cast.author))
    NudgeSchedule.objects.exclude(user=cast.author, kind=Kind.QUESTION_READY).update(enabled=False)

    time_machine.move_to(EVENING, tick=False)
    nudges_tick(now=EVENING)
    assert nudges_deliver(now=EVENING).sent == 1

    (received,) = smtp.received_by(cast.author.email)
    message = received.message
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Robin" in text
    assert "Robin" in html
    assert question.prompt.text not in text + html  # the question is read on the site

    browser = Client()
    browser.force_login(cast.author)
    links = set(LINK.findall(text)) | {link.replace("&amp;", "&") for link in LINK.findall(html)}
    assert any(urlsplit(link).path == "/question/" for link in links)
    for link in links:
        assert browser.get(local_path(link)).status_code == 200, link

    header = " ".join(str(message["List-Unsubscribe"]).split())
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    (unsubscribe_url,) = re.findall(r"<([^>]+)>", header)
    one_click = Client(enforce_csrf_checks=True)  # a mail client: no cookies, no token
    response = one_click.post(
        local_path(unsubscribe_url),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert not NudgeSchedule.objects.get(user=cast.author, kind=Kind.QUESTION_READY).enabled

    next_evening = EVENING + timedelta(days=1)
    time_machine.move_to(next_evening, tick=False)
    daily_question_ensure(user=cast.author)
    nudges_tick(now=next_evening)
    assert Nudge.objects.filter(user=cast.author).count() == 1  # only yesterday's
