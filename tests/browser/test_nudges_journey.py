"""Choosing nudges and unsubscribing, in a real browser (Debian Chromium via Playwright),
with and without JavaScript.

A person opens their email preferences from the account page, gets a clear error for a
nudge time inside quiet hours, fixes it, switches the check-in reminder on and pauses for a
week; then follows the one-click unsubscribe link from an email on a device where they are
not signed in: the page asks first, and only the button stops that kind. axe-core checks
every page: serious and critical findings fail.
"""

from __future__ import annotations

from datetime import time

import pytest
from playwright.sync_api import Page, expect

from nuzzle.nudges import tokens
from nuzzle.nudges.kinds import Kind
from nuzzle.nudges.models import NudgePreferences, NudgeSchedule
from tests.browser.journey import OVERFLOWS, PHONE, assert_accessible, log_in
from tests.factories import new_user

pytestmark = pytest.mark.browser

PASSWORD = "a calm evening walk"


def enabled(user, kind: Kind) -> bool:
    return NudgeSchedule.objects.get(user=user, kind=kind).enabled


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-js"])
def test_a_person_chooses_their_nudges(person, browser_errors, transactional_db, javascript):
    robin = new_user(display_name="Robin", password=PASSWORD, timezone="Europe/London")
    page: Page = person(javascript=javascript)
    log_in(page, email=robin.email, password=PASSWORD)

    page.goto("/account/")
    page.get_by_role("link", name="Nudge preferences").click()
    expect(page.get_by_role("heading", name="Nudges", exact=True)).to_be_visible()
    if javascript:  # axe runs as a script in the page
        assert_accessible(page, "email preferences")

    page.get_by_label("Nudge time").fill("23:15")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("inside your quiet hours")).to_be_visible()
    if javascript:
        assert_accessible(page, "email preferences, with an error")
    assert NudgePreferences.objects.get(user=robin).nudge_time == time(19, 0)

    page.get_by_label("Nudge time").fill("20:30")
    page.get_by_label(Kind.CHECKIN_REMINDER.label).check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    prefs = NudgePreferences.objects.get(user=robin)
    assert prefs.nudge_time == time(20, 30)
    assert enabled(robin, Kind.CHECKIN_REMINDER)

    if javascript:
        page.set_viewport_size(PHONE)
        assert not page.evaluate(OVERFLOWS), "the preferences page scrolls sideways on a phone"
    assert browser_errors == []


def test_one_click_unsubscribe_asks_first_then_stops_only_that_kind(
    person, browser_errors, transactional_db
):
    robin = new_user(display_name="Robin", password=PASSWORD)
    link = f"/unsubscribe/{tokens.unsubscribe_token(robin.pk, Kind.QUESTION_READY.value)}/"
    page: Page = person(viewport=PHONE)  # a phone, not signed in: straight from the email

    page.goto(link)
    expect(page.get_by_role("heading", name="Stop")).to_contain_text(Kind.QUESTION_READY.label)
    assert_accessible(page, "unsubscribe")
    assert enabled(robin, Kind.QUESTION_READY)  # opening the link changed nothing

    page.get_by_role("button", name="Stop these emails").click()
    page.wait_for_load_state()
    assert_accessible(page, "unsubscribed")
    assert not enabled(robin, Kind.QUESTION_READY)
    assert enabled(robin, Kind.PARTNER_ANSWERED)
    assert not page.evaluate(OVERFLOWS)
    assert browser_errors == []
