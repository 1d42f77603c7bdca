"""The couple's shared zone (docs/days.md): the person accepting an invite confirms the
inviter's zone or chooses another, on the page and in the API."""

import pytest
from django.test import Client

from nuzzle.couples import services
from nuzzle.couples.models import Couple
from tests.factories import new_user

pytestmark = pytest.mark.django_db

AUCKLAND, LOS_ANGELES = "Pacific/Auckland", "America/Los_Angeles"


@pytest.fixture
def robin():
    return new_user(display_name="Robin", timezone=AUCKLAND)


@pytest.fixture
def sam():
    return new_user(display_name="Sam", timezone=LOS_ANGELES)


@pytest.fixture
def invite(robin):
    return services.invite_create(user=robin)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


class TestThePage:
    def test_it_asks_which_zone_our_days_follow_offering_both_of_ours_first(self, sam, invite):
        page = logged_in(sam).get(f"/invite/{invite.display_code}/").content.decode()
        assert 'data-testid="zones-differ"' in page
        assert (
            'You\'re in America/Los_Angeles and <span dir="auto">Robin</span> is in '
            "Pacific/Auckland" in page
        )
        group = page[page.index('<optgroup label="Your zones">') :]
        group = group[: group.index("</optgroup>")]
        assert (
            f'<option value="{AUCKLAND}" selected>Pacific/Auckland (Robin&#x27;s)</option>' in group
        )
        assert f'<option value="{LOS_ANGELES}">America/Los Angeles (yours)</option>' in group

    def test_the_inviters_zone_is_kept_when_confirmed(self, sam, invite):
        response = logged_in(sam).post(f"/invite/{invite.display_code}/", {"timezone": AUCKLAND})
        assert response["Location"] == "/"
        assert Couple.objects.get().timezone == AUCKLAND

    def test_the_person_joining_may_choose_their_own_or_another(self, sam, invite):
        logged_in(sam).post(f"/invite/{invite.display_code}/", {"timezone": "Asia/Tokyo"})
        assert Couple.objects.get().timezone == "Asia/Tokyo"

    def test_an_unknown_zone_is_a_clear_error_and_pairs_no_one(self, sam, invite):
        response = logged_in(sam).post(
            f"/invite/{invite.display_code}/", {"timezone": "Mars/Olympus"}
        )
        assert response.status_code == 400
        assert "Select a valid choice" in response.content.decode()
        assert not Couple.objects.exists()

    def test_in_one_zone_there_is_nothing_to_explain(self, robin, invite):
        neighbour = new_user(display_name="Kit", timezone=AUCKLAND)
        page = logged_in(neighbour).get(f"/invite/{invite.display_code}/").content.decode()
        assert 'data-testid="zones-differ"' not in page
        assert "Pacific/Auckland (you both)" in page


class TestTheApi:
    def test_join_takes_the_shared_zone(self, api, sam, invite):
        response = api(sam).post(
            "/api/v1/couple/join", {"code": invite.code, "timezone": LOS_ANGELES}, format="json"
        )
        assert response.status_code == 201
        assert response.json()["timezone"] == LOS_ANGELES

    def test_without_it_the_inviters_zone_is_kept(self, api, sam, invite):
        response = api(sam).post("/api/v1/couple/join", {"code": invite.code}, format="json")
        assert response.json()["timezone"] == AUCKLAND

    def test_an_unknown_zone_is_a_400_before_anything_else(self, api, sam, invite):
        response = api(sam).post(
            "/api/v1/couple/join", {"code": invite.code, "timezone": "Mars/Olympus"}, format="json"
        )
        assert response.status_code == 400
        assert "timezone" in response.json()
        assert not Couple.objects.exists()
