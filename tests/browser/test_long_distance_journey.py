"""Partners a day apart (docs/days.md), in a real browser: Robin in Auckland on a
desktop, Sam in Los Angeles on a phone, at an instant when their calendars show
different dates (03:20 UTC: Monday afternoon in Auckland, Sunday evening in Los
Angeles).

Sam accepts Robin's invite and is asked which zone their days together follow (Robin's
is offered first). Both check in; each sees both check-ins in the two "today" cards and
on the chart, one day both showed up, and today's question under their own date.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from playwright.sync_api import expect
from rest_framework.test import APIClient

from checkins.models import Checkin
from nuzzle.couples.models import User
from nuzzle.lib.timezones import local_date
from prompts.services import prompt_bank_load
from tests.browser.journey import (
    OVERFLOWS,
    PHONE,
    assert_accessible,
    check_in,
    create_invite,
    partner_card,
    sign_up,
)

pytestmark = pytest.mark.browser

PASSWORD = "a calm evening walk"
AUCKLAND, LOS_ANGELES = "Pacific/Auckland", "America/Los_Angeles"


@pytest.fixture(autouse=True)
def _prompt_bank(transactional_db):
    prompt_bank_load()


def next_0320_utc() -> datetime:
    """The next 03:20 UTC: Auckland's afternoon and Los Angeles's evening of the day
    before, all year round (NZST/NZDT and PST/PDT alike)."""
    now = datetime.now(UTC)
    instant = now.replace(hour=3, minute=20, second=0, microsecond=0)
    return instant if instant > now else instant + timedelta(days=1)


def long_date(day) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def test_partners_a_day_apart_see_one_day_together(person, site, browser_errors):
    instant = next_0320_utc()
    robins_day, sams_day = local_date(AUCKLAND, instant), local_date(LOS_ANGELES, instant)
    assert robins_day == sams_day + timedelta(days=1)
    # The server's clock runs from that instant (the live server shares this process).
    with time_machine.travel(instant, tick=True):
        robin = person(timezone_id=AUCKLAND)
        robin.goto("/signup/")
        sign_up(robin, name="Robin", email="robin@example.com", password=PASSWORD)
        link, _ = create_invite(robin)

        # Sam joins from the link, on a phone, and is asked about the shared zone.
        sam = person(timezone_id=LOS_ANGELES, viewport=PHONE)
        sam.goto(link)
        sam.get_by_role("link", name="Create an account to join").click()
        sign_up(sam, name="Sam", email="sam@example.com", password=PASSWORD)
        expect(sam.get_by_test_id("zones-differ")).to_contain_text(LOS_ANGELES)
        zone = sam.get_by_label("Our shared time zone")
        expect(zone).to_have_value(AUCKLAND)  # Robin's, offered first
        assert_accessible(sam, "accept an invite, zones differ, on a phone")
        assert sam.evaluate(OVERFLOWS) is False, "the accept page scrolls sideways"
        sam.get_by_role("button", name="Accept and pair with Robin").click()
        expect(sam.get_by_test_id("partner-name")).to_have_text("Robin")

        robin.goto("/checkin/")
        check_in(robin, mood="Good", answer="Sunny walk by the harbour")
        sam.goto("/checkin/")
        check_in(sam, mood="Okay", answer="Long day, good evening")

        for page, me, partner, my_day in (
            (robin, "Good", "Okay", robins_day),
            (sam, "Okay", "Good", sams_day),
        ):
            page.goto("/")
            expect(page.locator(".hero__meta")).to_contain_text(long_date(my_day))
            expect(page.get_by_test_id("today-mine").get_by_test_id("mood")).to_have_text(me)
            expect(partner_card(page).get_by_test_id("mood")).to_have_text(partner)
            chart = page.get_by_test_id("mood-chart")
            expect(chart.locator(".mood-chart__svg .series--mine .series__marker")).to_have_count(1)
            expect(
                chart.locator(".mood-chart__svg .series--partner .series__marker")
            ).to_have_count(1)
            expect(page.get_by_test_id("showed-up-month")).to_have_text("1")
            # The question card speaks of my own date, as the page does.
            page.goto("/question/")
            expect(page.get_by_role("article").first.locator("time").first).to_have_text(
                long_date(my_day)
            )

        # The API agrees with the pages, for both.
        for email in ("robin@example.com", "sam@example.com"):
            client = APIClient()
            client.force_authenticate(User.objects.get(email=email))
            body = client.get("/api/v1/dashboard").json()
            assert body["days_both_showed_up"] == {"this_month": 1, "all_time": 1}
            assert body["checkins"]["mine"] is not None
            assert body["checkins"]["partner"] is not None
        sam.goto("/")
        assert sam.evaluate(OVERFLOWS) is False, "the dashboard scrolls sideways on a phone"
        assert_accessible(sam, "paired dashboard a day apart, on a phone")

    dates = {c.author.display_name: (c.local_date, c.couple_date) for c in Checkin.objects.all()}
    assert dates == {"Robin": (robins_day, robins_day), "Sam": (sams_day, robins_day)}
    assert browser_errors == []
