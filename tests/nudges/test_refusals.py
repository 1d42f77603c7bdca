"""What a person reads when the nudge preferences service refuses a change: in the API,
every message under its key in the service's order; on the page, each on its field; and
when resuming from the page, the reason as a message."""

from datetime import time, timedelta

import pytest
from django.contrib.messages import get_messages

from nuzzle.lib.timezones import local_date
from nuzzle.nudges.models import NudgePreferences
from nuzzle.nudges.services import preferences_for

pytestmark = pytest.mark.django_db

PAGE = "/account/nudges/"
QUIET = "Your nudge time falls inside your quiet hours. Pick a time outside them."
PAST = "Pick today or a later day — or leave it empty."
TOO_LONG = "Pause for a year at most. To stop emails for good, switch the kinds off."


def test_every_refusal_of_the_service_is_named_in_order_in_the_api(api, cast):
    far = local_date(cast.author.timezone) + timedelta(days=800)
    body = {"nudge_time": "23:00", "paused_until": far.isoformat(), "kinds": {"nope": True}}
    response = api(cast.author).patch("/api/v1/me/preferences", body, format="json")
    assert response.status_code == 400
    assert list(response.json().items()) == [
        ("paused_until", [TOO_LONG]),
        ("kinds", ["Unknown kind: nope."]),
        ("nudge_time", [QUIET]),
    ]
    assert preferences_for(cast.author).nudge_time == time(19, 0)


def test_on_the_page_each_refusal_is_on_its_field(client, cast):
    client.force_login(cast.author)
    past = local_date(cast.author.timezone) - timedelta(days=2)
    response = client.post(
        PAGE,
        {
            "nudge_time": "23:30",
            "days": ["0", "1"],
            "quiet_start": "22:00",
            "quiet_end": "08:00",
            "paused_until": past.isoformat(),
            "daily_cap": "1",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"paused_until": [PAST], "nudge_time": [QUIET]}
    page = response.content.decode()
    assert QUIET in page
    assert PAST in page
    assert preferences_for(cast.author).nudge_time == time(19, 0)


def test_resuming_from_the_page_says_why_it_could_not(client, cast):
    preferences_for(cast.author)
    # Stored before quiet hours were checked: resuming saves, so it is refused.
    NudgePreferences.objects.filter(user=cast.author).update(
        nudge_time=time(23, 0), paused_until=local_date(cast.author.timezone)
    )
    client.force_login(cast.author)
    response = client.post(PAGE, {"action": "resume"})
    assert (response.status_code, response["Location"]) == (302, PAGE)
    assert [str(m) for m in get_messages(response.wsgi_request)] == [QUIET]
    assert preferences_for(cast.author).paused_until is not None
