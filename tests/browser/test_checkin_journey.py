"""Two partners check in and turn toward each other in a real browser (Debian Chromium via
Playwright), with htmx and without JavaScript.

A checks in (Good, one answer, shared), B checks in (Okay) on a phone, sees A's check-in on
"Us today" and responds with a reaction and a short reply; both then see the response. axe-core
checks the dashboard, the check-in page and the history: serious and critical findings fail.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from checkins.models import Checkin, CheckinResponse
from nuzzle.couples.models import User
from prompts.services import prompt_bank_load
from tests.browser.journey import (
    OVERFLOWS,
    PHONE,
    assert_accessible,
    check_in,
    log_in,
    pair_two_people,
    partner_card,
    react,
    reply,
)
from tests.factories import couple_of, new_user

# Partners here live one couple day whatever the hour (see conftest.one_couple_day).
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("one_couple_day")]

PASSWORD = "a calm evening walk"
MARKER = "lighthouse-marmalade-4127"  # A's answer: unique, so finding it proves where it went
REPLY = "Proud of you. Tea later?"


@pytest.fixture(autouse=True)
def _prompt_bank(transactional_db):
    """The bundled check-in questions (the live server's database starts empty)."""
    prompt_bank_load()


def test_partners_check_in_and_turn_toward_each_other(person, site, browser_errors):
    alex, blake = pair_two_people(person, password=PASSWORD)

    # Before anyone checks in, Alex's partner side waits gently.
    alex.goto("/")
    expect(partner_card(alex)).to_contain_text("Nothing from Blake yet today")

    # Alex checks in. htmx swaps the form in place: "Saved", focus on the news, same URL.
    alex.goto("/checkin/")
    assert_accessible(alex, "check-in")
    alex.emulate_media(color_scheme="dark", reduced_motion="reduce")  # no mid-transition colours
    assert_accessible(alex, "check-in, dark")
    alex.emulate_media(color_scheme="light")
    check_in(alex, mood="Good", answer=MARKER)
    saved = alex.get_by_test_id("saved")
    expect(saved).to_contain_text("Saved")
    expect(saved).to_be_focused()
    expect(alex).to_have_url(f"{site.url}/checkin/")
    expect(alex.get_by_role("button", name="Update my check-in")).to_be_visible()
    expect(alex.get_by_role("radio", name="Good", exact=True)).to_be_checked()

    # Blake checks in on a phone; the page fits the screen.
    blake.goto("/checkin/")
    assert blake.evaluate(OVERFLOWS) is False, "the check-in page scrolls sideways on a phone"
    check_in(blake, mood="Okay")
    expect(blake.get_by_test_id("saved")).to_be_visible()

    # Blake sees Alex's check-in on "Us today" and turns toward it: a hug, then a reply.
    blake.goto("/")
    alex_card = partner_card(blake)
    expect(alex_card.get_by_test_id("mood")).to_have_text("Good")
    expect(alex_card).to_contain_text(MARKER)
    react(blake, "Sending a hug")
    expect(alex_card.get_by_role("status")).to_have_text("Sent to Alex.")
    reply(blake, REPLY)
    response = alex_card.get_by_test_id("response")
    expect(response).to_have_count(1)  # one response, updated in place
    expect(response).to_contain_text("Sending a hug")
    expect(response).to_contain_text(REPLY)
    expect(alex_card.get_by_role("button", name="Sending a hug (chosen)")).to_be_visible()
    assert blake.evaluate(OVERFLOWS) is False, "the dashboard scrolls sideways on a phone"
    assert_accessible(blake, "paired dashboard on a phone")

    # Alex comes back: the response is on Alex's own check-in, Blake's mood beside it.
    alex.goto("/")
    mine = alex.get_by_test_id("today-mine")
    expect(mine.get_by_test_id("mood")).to_have_text("Good")
    expect(mine.get_by_test_id("response")).to_contain_text("Sending a hug")
    expect(mine.get_by_test_id("response")).to_contain_text(REPLY)
    expect(partner_card(alex).get_by_test_id("mood")).to_have_text("Okay")
    chart = alex.get_by_test_id("mood-chart")
    expect(chart.get_by_role("img", name="Mood over the last 30 days")).to_be_visible()
    expect(chart.locator(".mood-chart__svg .series--mine .series__marker")).to_have_count(1)
    expect(chart.locator(".mood-chart__svg .series--partner .series__marker")).to_have_count(1)
    expect(alex.get_by_test_id("showed-up-month")).to_have_text("1")
    assert_accessible(alex, "paired dashboard with both check-ins")
    alex.emulate_media(color_scheme="dark", reduced_motion="reduce")  # no mid-transition colours
    assert_accessible(alex, "paired dashboard with both check-ins, dark")
    alex.emulate_media(color_scheme="light")

    # Blake reloads and sees it too; the history has both days' check-ins.
    blake.reload()
    expect(partner_card(blake).get_by_test_id("response")).to_contain_text(REPLY)
    alex.goto("/history/")
    timeline = alex.get_by_test_id("timeline")
    expect(timeline).to_contain_text(MARKER)
    expect(timeline.get_by_test_id("response")).to_contain_text(REPLY)
    # As laid out (a flex summary once swallowed the space before the marked-up name).
    assert timeline.locator("summary").first.inner_text() == "Turn toward Blake"
    assert_accessible(alex, "history")

    stored = CheckinResponse.objects.get()
    assert (stored.reaction, stored.text, stored.author.email) == (
        "hug",
        REPLY,
        "blake@example.com",
    )
    assert browser_errors == []


def test_without_javascript_checking_in_and_responding_still_work(person, site, browser_errors):
    alex = new_user(email="alex@example.com", display_name="Alex", timezone="Europe/London")
    blake = new_user(email="blake@example.com", display_name="Blake", timezone="Asia/Kolkata")
    couple_of(alex, blake)
    password = "a calm evening 42"  # tests.factories.PASSWORD

    a = person(javascript=False)
    log_in(a, email="alex@example.com", password=password)
    a.goto("/checkin/")
    check_in(a, mood="Good", energy="Lively", answer=MARKER)
    expect(a).to_have_url(f"{site.url}/")  # posted, then redirected home
    expect(a.get_by_text("Checked in. Thank you")).to_be_visible()
    expect(a.get_by_test_id("today-mine").get_by_test_id("mood")).to_have_text("Good")

    b = person(javascript=False, viewport=PHONE)
    log_in(b, email="blake@example.com", password=password)
    b.goto("/checkin/")
    check_in(b, mood="Okay", private=False)
    react(b, "Sending a hug")
    expect(b).to_have_url(re.compile(r"/#checkin-\d+$"))  # back to the card, not the top
    reply(b, REPLY)
    expect(partner_card(b).get_by_test_id("response")).to_contain_text("Sending a hug")
    assert b.evaluate(OVERFLOWS) is False, "the dashboard scrolls sideways on a phone"

    a.reload()
    response = a.get_by_test_id("today-mine").get_by_test_id("response")
    expect(response).to_contain_text("Sending a hug")
    expect(response).to_contain_text(REPLY)

    # Editing today's check-in without JavaScript: the form shows what was saved.
    a.goto("/checkin/")
    expect(a.get_by_role("radio", name="Good", exact=True)).to_be_checked()
    expect(a.get_by_role("radio", name="Lively", exact=True)).to_be_checked()
    check_in(a, mood="Great", answer=MARKER, private=True)
    assert Checkin.objects.get(author=User.objects.get(email="alex@example.com")).visibility == (
        "private"
    )
    b.goto("/")
    expect(partner_card(b)).to_contain_text("Nothing from Alex yet today")
    assert browser_errors == []
