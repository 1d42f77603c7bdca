"""Love-map writes under real concurrency: threads with their own PostgreSQL
connections, as two requests (a double submit, two tabs) would be."""

from __future__ import annotations

import pytest

from lovemaps import services
from lovemaps.models import LovemapEntry
from nuzzle.couples.models import User
from prompts.models import Prompt
from prompts.services import prompt_bank_load
from tests.concurrency import race
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def topic() -> Prompt:
    prompt_bank_load()
    return Prompt.objects.filter(kind=Prompt.Kind.LOVEMAP, status="published").earliest("id")


def answer(user: User, topic: Prompt, text: str):
    return lambda: services.lovemap_answer(
        user=User.objects.get(pk=user.pk), topic_id=topic.pk, text=text
    )


@pytest.mark.parametrize("attempt", range(3))
def test_a_double_submitted_first_answer_stores_one_version(attempt, topic):
    person = UserFactory()

    outcomes = race([answer(person, topic, "Lisbon in spring")] * 2)

    assert outcomes == ["ok", "ok"]
    [entry] = LovemapEntry.objects.filter(author=person, topic=topic)
    assert (entry.version, entry.is_current, entry.text) == (1, True, "Lisbon in spring")


@pytest.mark.parametrize("attempt", range(3))
def test_two_different_edits_at_once_make_two_versions_and_one_current(attempt, topic):
    person = UserFactory()
    services.lovemap_answer(user=person, topic_id=topic.pk, text="Lisbon")

    outcomes = race([answer(person, topic, "Porto"), answer(person, topic, "Kyoto")])

    assert outcomes == ["ok", "ok"]
    versions = LovemapEntry.objects.filter(author=person, topic=topic).order_by("version")
    assert [entry.version for entry in versions] == [1, 2, 3]
    assert [entry.is_current for entry in versions] == [False, False, True]
    assert {versions[1].text, versions[2].text} == {"Porto", "Kyoto"}


@pytest.mark.parametrize("attempt", range(3))
def test_still_true_racing_an_edit_confirms_the_newest_answer(attempt, topic):
    person = UserFactory()
    services.lovemap_answer(user=person, topic_id=topic.pk, text="Lisbon")

    outcomes = race(
        [
            answer(person, topic, "Porto"),
            lambda: services.lovemap_confirm(
                user=User.objects.get(pk=person.pk), topic_id=topic.pk
            ),
        ]
    )

    assert outcomes == ["ok", "ok"]
    current = LovemapEntry.objects.get(author=person, topic=topic, is_current=True)
    assert current.text == "Porto"
