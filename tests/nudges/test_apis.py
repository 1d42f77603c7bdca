"""The nudges part of docs/api.md: `GET/PATCH /api/v1/me/preferences` and `GET /api/v1/nudges`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from nuzzle.nudges.kinds import CATALOGUE
from nuzzle.nudges.models import Nudge, NudgePreferences, NudgeSchedule
from nuzzle.nudges.services import person_suppress
from tests.factories import new_nudge
from tests.queries import assert_queries_do_not_grow, capture_queries

pytestmark = pytest.mark.django_db

PREFERENCES = "/api/v1/me/preferences"
NUDGES = "/api/v1/nudges"
KINDS = [spec.kind.value for spec in CATALOGUE]


def patch(client: APIClient, body: object):
    return client.patch(PREFERENCES, body, format="json")


def stored(user) -> tuple:
    """Everything a PATCH may change, as stored."""
    prefs = NudgePreferences.objects.get(user=user)
    enabled = dict(NudgeSchedule.objects.filter(user=user).values_list("kind", "enabled"))
    return (
        prefs.nudge_time,
        prefs.days,
        prefs.quiet_start,
        prefs.quiet_end,
        prefs.paused_until,
        prefs.daily_cap,
        enabled,
    )


class TestPreferencesRead:
    def test_it_returns_the_defaults_with_every_kind(self, cast, api):
        response = api(cast.author).get(PREFERENCES)
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store"
        assert response.json() == {
            "nudge_time": "19:00",
            "days": [0, 1, 2, 3, 4, 5, 6],
            "quiet_start": "22:00",
            "quiet_end": "08:00",
            "paused_until": None,
            "kinds": {spec.kind.value: spec.default_on for spec in CATALOGUE},
            "daily_cap": 1,
            "timezone": cast.author.timezone,
            "suppressed": False,
            # No device yet: nudges come by email until one is turned on.
            "channels": {"email": True, "push": False},
            "channels_now": {"email": True, "push": False},
            "channels_automatic": True,
        }
        assert response.json()["kinds"]["checkin_reminder"] is False  # opt-in

    def test_anonymous_people_get_401(self, api):
        assert api().get(PREFERENCES).status_code == 401
        assert api().patch(PREFERENCES, {"daily_cap": 2}, format="json").status_code == 401
        assert api().get(NUDGES).status_code == 401


class TestPreferencesUpdate:
    @pytest.fixture(autouse=True)
    def _today(self):
        # Pauses are limited to a year ahead; the dates below are written for this day.
        with time_machine.travel(datetime(2026, 11, 21, 12, tzinfo=UTC), tick=False):
            yield

    def test_a_full_patch_round_trips(self, cast, api):
        client = api(cast.author)
        body = {
            "nudge_time": "07:45",
            "days": [4, 0, 2],
            "quiet_start": "23:30",
            "quiet_end": "06:15",
            "paused_until": "2027-03-01",
            "kinds": {kind: kind != "weekly_recap" for kind in KINDS},
            "daily_cap": 5,
        }
        response = patch(client, body)
        assert response.status_code == 200
        expected = {
            **body,
            "days": [0, 2, 4],
            "timezone": cast.author.timezone,
            "suppressed": False,
            "channels": {"email": True, "push": False},
            "channels_now": {"email": True, "push": False},
            "channels_automatic": True,
        }
        assert response.json() == expected
        assert client.get(PREFERENCES).json() == expected
        assert stored(cast.author) == (
            time(7, 45),
            0b10101,
            time(23, 30),
            time(6, 15),
            date(2027, 3, 1),
            5,
            {kind: kind != "weekly_recap" for kind in KINDS},
        )

    def test_fields_not_sent_stay_as_they_were(self, cast, api):
        client = api(cast.author)
        patch(client, {"daily_cap": 3, "paused_until": "2027-01-10"})
        response = patch(client, {"nudge_time": "20:15"})
        assert response.status_code == 200
        assert response.json()["daily_cap"] == 3
        assert response.json()["paused_until"] == "2027-01-10"
        assert response.json()["nudge_time"] == "20:15"

    def test_a_subset_of_kinds_changes_only_those(self, cast, api):
        client = api(cast.author)
        first = patch(client, {"kinds": {"checkin_reminder": True}})
        assert first.status_code == 200
        second = patch(client, {"kinds": {"question_ready": False}})
        kinds = second.json()["kinds"]
        assert set(kinds) == set(KINDS)
        assert kinds["checkin_reminder"] is True  # from the first PATCH
        assert kinds["question_ready"] is False
        assert kinds["weekly_recap"] is True  # untouched default
        assert not NudgeSchedule.objects.get(user=cast.author, kind="question_ready").enabled

    def test_paused_until_null_resumes_and_omitting_it_keeps_the_pause(self, cast, api):
        client = api(cast.author)
        assert patch(client, {"paused_until": "2027-05-04"}).json()["paused_until"] == "2027-05-04"
        assert patch(client, {"daily_cap": 2}).json()["paused_until"] == "2027-05-04"
        resumed = patch(client, {"paused_until": None})
        assert resumed.status_code == 200
        assert resumed.json()["paused_until"] is None
        assert NudgePreferences.objects.get(user=cast.author).paused_until is None

    def test_no_days_at_all_is_allowed(self, cast, api):
        response = patch(api(cast.author), {"days": []})
        assert response.status_code == 200
        assert response.json()["days"] == []
        assert NudgePreferences.objects.get(user=cast.author).days == 0

    def test_equal_quiet_start_and_end_mean_no_quiet_hours(self, cast, api):
        body = {"nudge_time": "23:00", "quiet_start": "00:00", "quiet_end": "00:00"}
        response = patch(api(cast.author), body)
        assert response.status_code == 200
        assert response.json()["nudge_time"] == "23:00"

    def test_an_empty_patch_changes_nothing(self, cast, api):
        before = stored(cast.author)
        response = patch(api(cast.author), {})
        assert response.status_code == 200
        assert stored(cast.author) == before

    def test_saving_lifts_a_suppression_but_an_empty_patch_does_not(self, cast, api):
        client = api(cast.author)
        person_suppress(user_id=cast.author.pk, reason="550 no such mailbox")
        assert client.get(PREFERENCES).json()["suppressed"] is True
        assert patch(client, {}).json()["suppressed"] is True
        assert patch(client, {"daily_cap": 1}).json()["suppressed"] is False

    def test_it_changes_only_my_own_preferences(self, cast, api):
        partners = stored(cast.partner)
        patch(api(cast.author), {"daily_cap": 4, "kinds": {"weekly_recap": False}})
        assert stored(cast.partner) == partners
        assert api(cast.partner).get(PREFERENCES).json()["daily_cap"] == 1


class TestPreferencesValidation:
    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"nudge_time": "7:30"}, "nudge_time"),
            ({"nudge_time": "24:00"}, "nudge_time"),
            ({"nudge_time": "19:60"}, "nudge_time"),
            ({"nudge_time": "19:00:00"}, "nudge_time"),
            ({"nudge_time": "19:00\n"}, "nudge_time"),
            ({"nudge_time": "\uff11\uff19:\uff10\uff10"}, "nudge_time"),  # full-width digits
            ({"nudge_time": 1900}, "nudge_time"),
            ({"nudge_time": None}, "nudge_time"),
            ({"quiet_start": "10pm"}, "quiet_start"),
            ({"quiet_end": ""}, "quiet_end"),
            ({"days": [7]}, "days"),
            ({"days": [-1]}, "days"),
            ({"days": [1, 1]}, "days"),
            ({"days": ["1"]}, "days"),
            ({"days": [True]}, "days"),
            ({"days": [1.0]}, "days"),
            ({"days": "0123456"}, "days"),
            ({"days": None}, "days"),
            ({"daily_cap": 0}, "daily_cap"),
            ({"daily_cap": 6}, "daily_cap"),
            ({"daily_cap": "2"}, "daily_cap"),
            ({"daily_cap": 2.0}, "daily_cap"),
            ({"daily_cap": True}, "daily_cap"),
            ({"daily_cap": None}, "daily_cap"),
            ({"kinds": {"nagging": True}}, "kinds"),
            ({"kinds": {"question_ready": 1}}, "kinds"),
            ({"kinds": {"question_ready": "false"}}, "kinds"),
            ({"kinds": ["question_ready"]}, "kinds"),
            ({"paused_until": "2031-02-30"}, "paused_until"),
            ({"paused_until": "2031-2-3"}, "paused_until"),
            ({"paused_until": "2031-02-03T00:00:00Z"}, "paused_until"),
            ({"paused_until": "9999-12-31"}, "paused_until"),
            ({"paused_until": "1999-12-31"}, "paused_until"),
            ({"paused_until": 20310203}, "paused_until"),
        ],
    )
    def test_bad_fields_get_400_keyed_by_field_and_store_nothing(self, cast, api, body, field):
        before = stored(cast.author)
        response = patch(api(cast.author), body)
        assert response.status_code == 400
        assert field in response.json()
        assert stored(cast.author) == before

    @pytest.mark.parametrize(
        "body",
        [
            {"nudge_time": "23:00"},  # inside the default 22:00–08:00
            {"nudge_time": "07:59"},
            {"quiet_start": "18:00", "quiet_end": "20:00"},  # around the default 19:00
            {"nudge_time": "12:00", "quiet_start": "09:00", "quiet_end": "17:00"},
        ],
    )
    def test_a_nudge_time_inside_quiet_hours_is_refused(self, cast, api, body):
        before = stored(cast.author)
        response = patch(api(cast.author), body)
        assert response.status_code == 400
        assert "quiet hours" in response.json()["nudge_time"][0]
        assert stored(cast.author) == before

    def test_quiet_hours_end_is_exclusive(self, cast, api):
        assert patch(api(cast.author), {"nudge_time": "08:00"}).status_code == 200

    def test_a_patch_with_only_bad_fields_reports_each_of_them(self, cast, api):
        response = patch(api(cast.author), {"days": [9], "daily_cap": 0, "nudge_time": "x"})
        assert response.status_code == 400
        assert set(response.json()) == {"days", "daily_cap", "nudge_time"}

    def test_one_bad_field_spoils_the_whole_patch(self, cast, api):
        before = stored(cast.author)
        response = patch(api(cast.author), {"daily_cap": 3, "kinds": {"nope": False}})
        assert response.status_code == 400
        assert response.json() == {"kinds": ["Unknown kind: nope."]}
        assert stored(cast.author) == before

    def test_form_encoded_bodies_get_415(self, cast, api):
        response = api(cast.author).patch(PREFERENCES, {"daily_cap": 2}, format="multipart")
        assert response.status_code == 415

    def test_malformed_json_gets_400(self, cast, api):
        response = api(cast.author).generic(
            "PATCH", PREFERENCES, "{not json", content_type="application/json"
        )
        assert response.status_code == 400

    def test_a_json_array_body_gets_400(self, cast, api):
        assert patch(api(cast.author), [1, 2]).status_code == 400

    def test_other_methods_get_405(self, cast, api):
        client = api(cast.author)
        assert client.put(PREFERENCES, {}, format="json").status_code == 405
        assert client.post(PREFERENCES, {}, format="json").status_code == 405
        assert client.delete(PREFERENCES).status_code == 405


# --- My nudges ----------------------------------------------------------------------


def nudge(user, *, kind="question_ready", day=date(2030, 1, 1), **fields) -> Nudge:
    scheduled = fields.pop("scheduled_for", datetime(2030, 1, 1, 19, tzinfo=UTC))
    return new_nudge(
        user=user,
        kind=kind,
        period=day.isoformat(),
        local_date=day,
        scheduled_for=scheduled,
        **fields,
    )


class TestNudgeList:
    def test_it_lists_only_my_own_nudges_newest_first(self, cast, api):
        sent_at = datetime(2030, 1, 1, 19, 0, 4, tzinfo=UTC)
        old = nudge(cast.author, status=Nudge.Status.SENT, sent_at=sent_at)
        new = nudge(
            cast.author,
            kind="lovemap_stale",
            day=date(2030, 1, 2),
            scheduled_for=datetime(2030, 1, 2, 19, tzinfo=UTC),
            status=Nudge.Status.SKIPPED,
            reason="not sent: 45 minutes late",
            context={"stale": 2},
        )
        nudge(cast.partner, status=Nudge.Status.SENT, sent_at=sent_at)
        nudge(cast.partner, kind="partner_answered", day=date(2030, 1, 2))
        nudge(cast.other, status=Nudge.Status.FAILED)

        response = api(cast.author).get(NUDGES)
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store"
        assert response.json() == {
            "count": 2,
            "next": None,
            "previous": None,
            "results": [
                {
                    "id": new.pk,
                    "kind": "lovemap_stale",
                    "scheduled_for": "2030-01-02T19:00:00Z",
                    "sent_at": None,
                    "status": "skipped",
                    "reason": "not sent: 45 minutes late",
                },
                {
                    "id": old.pk,
                    "kind": "question_ready",
                    "scheduled_for": "2030-01-01T19:00:00Z",
                    "sent_at": "2030-01-01T19:00:04Z",
                    "status": "sent",
                    "reason": "",
                },
            ],
        }

    def test_my_partner_sees_only_theirs(self, cast, api):
        nudge(cast.author)
        theirs = nudge(cast.partner, kind="partner_answered")
        results = api(cast.partner).get(NUDGES).json()["results"]
        assert [row["id"] for row in results] == [theirs.pk]

    def test_someone_with_no_nudges_gets_an_empty_page(self, cast, api):
        nudge(cast.author)
        assert api(cast.unpaired).get(NUDGES).json() == {
            "count": 0,
            "next": None,
            "previous": None,
            "results": [],
        }

    def test_times_are_utc_even_for_a_browser_session_in_another_zone(self, cast):
        nudge(cast.partner)  # Sam lives in America/New_York
        client = APIClient()
        client.force_login(cast.partner)
        row = client.get(NUDGES).json()["results"][0]
        assert row["scheduled_for"] == "2030-01-01T19:00:00Z"

    def test_it_pages(self, cast, api):
        for offset in range(5):
            day = date(2030, 1, 1) + timedelta(days=offset)
            nudge(
                cast.author,
                day=day,
                scheduled_for=datetime(day.year, day.month, day.day, 19, tzinfo=UTC),
            )
        client = api(cast.author)
        first = client.get(NUDGES, {"page_size": 2}).json()
        assert first["count"] == 5
        assert [r["scheduled_for"][:10] for r in first["results"]] == ["2030-01-05", "2030-01-04"]
        last = client.get(NUDGES, {"page_size": 2, "page": 3}).json()
        assert [r["scheduled_for"][:10] for r in last["results"]] == ["2030-01-01"]
        assert last["next"] is None

    @pytest.mark.parametrize(
        "query",
        [{"page": 0}, {"page": "x"}, {"page_size": 101}, {"page_size": ""}, {"size": 2}],
    )
    def test_bad_page_parameters_get_400(self, cast, api, query):
        assert api(cast.author).get(NUDGES, query).status_code == 400

    def test_a_page_past_the_end_gets_404(self, cast, api):
        assert api(cast.author).get(NUDGES, {"page": 2}).status_code == 404

    def test_its_queries_do_not_grow_with_the_history(self, cast, api):
        client = api(cast.author)

        def measure():
            queries = capture_queries(lambda: client.get(NUDGES))
            assert queries.result.status_code == 200
            return queries

        def grow():
            for offset in range(1, 25):
                day = date(2030, 1, 1) + timedelta(days=offset)
                nudge(cast.author, day=day)

        nudge(cast.author)
        assert_queries_do_not_grow(measure, grow)
