"""Two people pair and unpair in a real browser (Debian Chromium via Playwright).

Each person has their own browser context, so their cookies never mix. On every page
a person sees, axe-core checks accessibility; serious and critical findings fail the test.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from nuzzle.couples.models import User
from tests.browser.journey import OVERFLOWS, PHONE, assert_accessible, create_invite, sign_up

pytestmark = pytest.mark.browser

PASSWORD = "a calm evening walk"


def test_two_people_sign_up_invite_accept_and_both_see_they_are_paired(
    person, site, browser_errors
):
    # Robin signs up; the page has guessed the time zone from the browser.
    robin = person(timezone_id="Europe/Berlin")
    robin.goto("/signup/")
    expect(robin.get_by_label("Time zone")).to_have_value("Europe/Berlin")
    assert_accessible(robin, "sign-up")
    sign_up(robin, name="Robin", email="robin@example.com", password=PASSWORD)
    expect(robin).to_have_url(f"{site.url}/")
    expect(robin.get_by_role("heading", name="Invite your partner")).to_be_visible()

    # Robin creates an invite and has a link and a code to send; home shows them too.
    link, code = create_invite(robin)
    assert link == f"{site.url}/invite/{code}/"
    assert re.fullmatch(r"[A-Z0-9]{4}(-[A-Z0-9]{4}){4}", code)
    robin.goto("/")
    expect(robin.locator("#invite-url")).to_have_value(link)
    expect(robin.get_by_role("button", name="Copy")).to_be_visible()  # shown by nuzzle.js
    assert_accessible(robin, "unpaired home with an invite")

    # Sam, on another device, opens the link, signs up, and comes back to accept.
    sam = person(timezone_id="America/New_York")
    sam.goto(link)
    expect(sam.get_by_role("heading", name="Robin invited you to Nuzzle")).to_be_visible()
    sam.get_by_role("link", name="Create an account to join").click()
    sign_up(sam, name="Sam", email="sam@example.com", password=PASSWORD)
    expect(sam).to_have_url(link)
    assert_accessible(sam, "accept")
    sam.get_by_role("button", name="Accept and pair with Robin").click()

    # Both see they are paired.
    expect(sam).to_have_url(f"{site.url}/")
    expect(sam.get_by_test_id("partner-name")).to_have_text("Robin")
    robin.reload()
    expect(robin.get_by_test_id("partner-name")).to_have_text("Sam")
    assert_accessible(robin, "paired home")
    assert User.objects.get(email="sam@example.com").timezone == "America/New_York"

    # Sam unpairs; it takes effect for Robin at once.
    sam.goto("/couple/")
    sam.get_by_role("link", name="Unpair…").click()
    expect(sam.get_by_role("heading", name="Unpair from Robin?")).to_be_visible()
    assert_accessible(sam, "unpair confirmation")
    sam.get_by_role("button", name="Yes, unpair now").click()
    expect(sam.get_by_role("heading", name="Invite your partner")).to_be_visible()

    robin.reload()
    expect(robin.get_by_role("heading", name="Invite your partner")).to_be_visible()
    expect(robin.get_by_test_id("partner-name")).to_have_count(0)

    # No page was refused a script or style by the CSP, and no script failed.
    assert browser_errors == []


def test_people_without_javascript_can_still_sign_up_invite_and_pair(person, site, browser_errors):
    robin = person(javascript=False)
    robin.goto("/signup/")
    expect(robin.get_by_label("Time zone")).to_have_value("UTC")  # no guess, still valid
    sign_up(robin, name="Robin", email="robin@example.com", password=PASSWORD)
    link, _ = create_invite(robin)
    expect(robin.get_by_role("button", name="Copy")).to_be_hidden()  # it needs a script

    sam = person(javascript=False, viewport=PHONE)
    sam.goto(link)
    sam.get_by_role("link", name="Create an account to join").click()
    sign_up(sam, name="Sam", email="sam@example.com", password=PASSWORD)
    sam.get_by_role("button", name="Accept and pair with Robin").click()
    expect(sam.get_by_test_id("partner-name")).to_have_text("Robin")
    assert sam.evaluate(OVERFLOWS) is False, "the paired home scrolls sideways on a phone"

    robin.goto("/")
    expect(robin.get_by_test_id("partner-name")).to_have_text("Sam")
    assert browser_errors == []
