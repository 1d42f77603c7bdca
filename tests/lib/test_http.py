"""`next` after a form (nuzzle.lib.http.safe_next): a local path, or nothing.

`redirect()` reads a string without `/` or `.` as a URL name, so a `next` such as
`foo` was a 500 after the form had already been saved, and `next=logout` was sent to
the log-out route. Now `next` is used only when it is a path on this site (one leading
`/`, not `//` or `/\\`), and every caller falls back to its own page otherwise.
"""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from lovemaps.models import LovemapEntry
from nuzzle.lib.http import is_local_path, safe_next
from prompts.models import Prompt
from prompts.services import prompt_bank_load

pytestmark = pytest.mark.django_db

NOT_LOCAL = [
    "foo",
    "logout",
    "home",
    "admin:index",
    "lovemap-mine",
    "./x",
    "../x",
    "//evil.example/",
    "/\\evil.example/",
    "https://evil.example/",
    "javascript:alert(1)",
    " /home",
    "/x\r\nSet-Cookie: a=b",
    "/x\x00",
    "",
]


@pytest.mark.parametrize("target", NOT_LOCAL)
def test_anything_but_a_local_path_falls_back_to_the_default(target):
    request = RequestFactory().post("/", {"next": target})
    assert is_local_path(target) is False
    assert safe_next(request, "lovemap-mine") == "/lovemap/mine/"


@pytest.mark.parametrize("target", ["/", "/lovemap/mine/", "/question/?tab=history#top"])
def test_a_local_path_is_kept(target):
    assert safe_next(RequestFactory().get("/", {"next": target}), "home") == target


@pytest.fixture
def topic() -> Prompt:
    prompt_bank_load()
    return Prompt.objects.filter(kind=Prompt.Kind.LOVEMAP, status="published").order_by("id")[0]


@pytest.mark.parametrize("target", ["foo", "logout", "home", "//evil.example/"])
def test_a_love_map_answer_with_a_bad_next_is_saved_and_goes_back_to_my_map(
    client, cast, topic, target
):
    client.force_login(cast.author)
    response = client.post(f"/lovemap/mine/{topic.pk}/", {"answer": "Gardening", "next": target})
    assert response.status_code == 302
    assert response["Location"] == "/lovemap/mine/"
    assert LovemapEntry.objects.get(author=cast.author, topic=topic).text == "Gardening"


def test_a_love_map_answer_with_a_local_next_goes_there(client, cast, topic):
    client.force_login(cast.author)
    response = client.post(
        f"/lovemap/mine/{topic.pk}/", {"answer": "Gardening", "next": "/lovemap/"}
    )
    assert response["Location"] == "/lovemap/"


@pytest.mark.parametrize("target", ["foo", "logout"])
def test_signing_up_or_in_with_a_url_name_as_next_goes_home(client, cast, target):
    from tests.factories import PASSWORD

    response = client.post(
        f"/login/?next={target}", {"username": cast.author.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    client.logout()
    response = client.post(
        f"/signup/?next={target}",
        {
            "display_name": "Robin",
            "email": "new.person@example.com",
            "password": PASSWORD,
            "timezone": "Europe/Berlin",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_an_anonymous_invite_acceptance_sends_the_path_back_encoded(client):
    response = client.post("/invite/ABCD&next=x/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=%2Finvite%2FABCD%26next%3Dx%2F"


def test_creating_an_invite_with_a_url_name_as_next_stays_on_the_invite_page(client, cast):
    client.force_login(cast.unpaired)
    response = client.post("/invite/", {"next": "logout"})
    assert response.status_code == 302
    assert response["Location"] == "/invite/"
    assert cast.unpaired.invites_sent.count() == 1
