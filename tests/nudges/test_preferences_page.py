"""The email-preferences page: reads through the selector, saves through the service,
shows the service's errors on their fields, and lists my own recent nudges."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from nuzzle.lib.timezones import local_date
from nuzzle.nudges import selectors, services
from nuzzle.nudges.kinds import CATALOGUE, Kind
from nuzzle.nudges.models import Nudge
from tests.days import local_time
from tests.factories import new_nudge
from tests.queries import assert_queries_do_not_grow, capture_queries

pytestmark = pytest.mark.django_db

PAGE = "/account/nudges/"


def form_data(**overrides) -> dict:
    data: dict = {
        "nudge_time": "19:00",
        "days": ["0", "1", "2", "3", "4", "5", "6"],
        "quiet_start": "22:00",
        "quiet_end": "08:00",
        "paused_until": "",
        "daily_cap": "1",
    }
    data.update({f"kind_{spec.kind.value}": "on" for spec in CATALOGUE if spec.default_on})
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def make_nudge(user, kind: str, period: str, scheduled_for: datetime, **fields) -> Nudge:
    return new_nudge(
        user=user,
        kind=kind,
        period=period,
        local_date=scheduled_for.date(),
        scheduled_for=scheduled_for,
        **fields,
    )


@pytest.fixture
def robin(cast, client):
    client.force_login(cast.author)
    return client


class TestShowing:
    def test_it_needs_a_login(self, client):
        response = client.get(PAGE)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")

    def test_it_shows_the_time_zone_and_where_to_change_it(self, robin, cast):
        page = robin.get(PAGE).content.decode()
        assert f"Times are in <strong>{cast.author.timezone}</strong>" in page
        assert 'href="/account/">change it on your account page</a>' in page

    def test_days_start_on_monday_and_every_kind_is_described(self, robin):
        page = robin.get(PAGE).content.decode()
        positions = [page.index(f">{day}<") for day in ("Monday", "Tuesday", "Sunday")]
        assert positions == sorted(positions)
        for spec in CATALOGUE:
            assert f'name="kind_{spec.kind.value}"' in page
            assert spec.description.replace("'", "&#x27;") in page

    def test_it_shows_the_saved_values(self, robin, cast):
        services.preferences_update(
            user=cast.author, nudge_time=time(8, 30), days=[5, 6], daily_cap=2
        )
        form = robin.get(PAGE).context["form"]
        assert form["nudge_time"].value() == time(8, 30)
        assert form["days"].value() == [5, 6]
        assert form["daily_cap"].value() == 2
        assert form["kind_checkin_reminder"].value() is False
        assert form["kind_question_ready"].value() is True

    def test_the_account_page_links_here(self, robin):
        assert b'href="/account/nudges/"' in robin.get("/account/").content


class TestSaving:
    def test_saving_changes_preferences_and_kinds_then_redirects(self, robin, cast):
        response = robin.post(
            PAGE,
            form_data(
                nudge_time="08:30",
                days=["0", "2", "4"],
                quiet_start="23:00",
                quiet_end="07:00",
                daily_cap="3",
                kind_weekly_recap=None,  # unticked
                kind_checkin_reminder="on",
            ),
        )
        assert response.status_code == 302
        assert response["Location"] == PAGE
        prefs = selectors.preferences_get(user=cast.author)
        assert prefs.nudge_time == time(8, 30)
        assert prefs.days == [0, 2, 4]
        assert (prefs.quiet_start, prefs.quiet_end) == (time(23, 0), time(7, 0))
        assert prefs.daily_cap == 3
        assert prefs.kinds[Kind.WEEKLY_RECAP] is False
        assert prefs.kinds[Kind.CHECKIN_REMINDER] is True
        assert b"Saved." in robin.get(PAGE).content

    def test_a_nudge_time_inside_quiet_hours_is_shown_on_its_field(self, robin, cast):
        response = robin.post(PAGE, form_data(nudge_time="23:30"))
        assert response.status_code == 200
        assert "quiet hours" in str(response.context["form"].errors["nudge_time"])
        assert b'class="field field--error"' in response.content
        assert selectors.preferences_get(user=cast.author).nudge_time == time(19, 0)

    def test_bad_input_is_reported_not_stored(self, robin, cast):
        response = robin.post(PAGE, form_data(daily_cap="9", nudge_time="7pm", days=["8"]))
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert {"daily_cap", "nudge_time", "days"} <= set(errors)
        assert selectors.preferences_get(user=cast.author).daily_cap == 1

    def test_no_days_ticked_is_allowed_and_means_no_nudges(self, robin, cast):
        assert robin.post(PAGE, form_data(days=None)).status_code == 302
        assert selectors.preferences_get(user=cast.author).days == []

    def test_a_pause_can_be_set_shown_and_ended(self, robin, cast):
        until = local_date("Europe/London") + timedelta(days=5)
        assert robin.post(PAGE, form_data(paused_until=until.isoformat())).status_code == 302
        page = robin.get(PAGE).content.decode()
        assert "Nudges are paused until" in page
        assert 'name="action" value="resume"' in page
        response = robin.post(PAGE, {"action": "resume"})
        assert response.status_code == 302
        assert selectors.preferences_get(user=cast.author).paused_until is None
        assert b"Nudges are back on." in robin.get(PAGE).content

    def test_a_pause_in_the_past_is_refused(self, robin, cast):
        yesterday = local_date("Europe/London") - timedelta(days=1)
        response = robin.post(PAGE, form_data(paused_until=yesterday.isoformat()))
        assert response.status_code == 200
        assert "paused_until" in response.context["form"].errors

    def test_clearing_the_pause_date_also_resumes(self, robin, cast):
        until = local_date("Europe/London") + timedelta(days=2)
        services.preferences_update(user=cast.author, paused_until=until)
        robin.post(PAGE, form_data(paused_until=""))
        assert selectors.preferences_get(user=cast.author).paused_until is None

    def test_a_bounced_address_is_explained_and_saving_resumes(self, robin, cast):
        services.person_suppress(user_id=cast.author.pk, reason="550 no such mailbox")
        page = robin.get(PAGE).content.decode()
        assert 'data-testid="suppressed"' in page
        assert "couldn't be delivered" in page
        robin.post(PAGE, form_data())
        assert selectors.preferences_get(user=cast.author).suppressed_at is None
        assert b'data-testid="suppressed"' not in robin.get(PAGE).content


class TestRecentNudges:
    def test_my_recent_nudges_show_in_my_zone_and_nobody_elses(self, robin, cast):
        summer = local_time("2024-07-01", cast.author.timezone, 19)
        make_nudge(cast.author, Kind.LOVEMAP_STALE, "2024-W27", summer, status="sent")
        make_nudge(cast.partner, Kind.WEEKLY_RECAP, "2024-W27", summer + timedelta(minutes=7))
        page = robin.get(PAGE).content.decode()
        assert page.count('class="nudge-list__item"') == 1
        assert "Love map answers to refresh" in page
        assert "Mon 1 Jul, 19:00" in page
        assert ">Sent<" in page
        assert "19:07" not in page

    def test_only_the_last_ten_are_listed_with_a_fixed_number_of_queries(self, robin, cast):
        start = datetime(2024, 1, 1, 19, 0, tzinfo=UTC)

        def grow():
            for day in range(1, 30):
                make_nudge(cast.author, Kind.QUESTION_READY, f"p{day}", start + timedelta(days=day))

        make_nudge(cast.author, Kind.QUESTION_READY, "p0", start)
        _, many = assert_queries_do_not_grow(lambda: capture_queries(lambda: robin.get(PAGE)), grow)
        page = many.result.content.decode()
        assert page.count('class="nudge-list__item"') == 10
        assert "Tue 30 Jan" in page  # the newest first

    def test_with_none_yet_it_says_so(self, robin):
        assert b"None yet." in robin.get(PAGE).content
