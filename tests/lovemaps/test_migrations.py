"""The migration that lets a love-map reveal (and the guess on it) outlive the answer
it was about copies the answer's topic onto every existing reveal, and going back
drops only the reveals that could not exist before it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.apps.registry import Apps
from django.utils import timezone

from lovemaps.models import LovemapReveal
from prompts.models import Prompt
from tests import migrations
from tests.factories import PromptFactory, as_prompt, couple_of, new_user

pytestmark = pytest.mark.django_db(transaction=True)

APP, MIGRATION = "lovemaps", "_reveal_outlives_entry"


def migrate(*, before: bool, migration: str = MIGRATION) -> Apps:
    return migrations.migrate(APP, migration, before=before)


@pytest.fixture
def old_models() -> Iterator[Apps]:
    with migrations.just_before(APP, MIGRATION) as models:
        yield models


def test_existing_reveals_get_their_entries_topics_and_the_way_back_works(old_models):
    robin, sam = new_user(), new_user()
    couple = couple_of(robin, sam)
    topics = [
        as_prompt(PromptFactory(kind=Prompt.Kind.LOVEMAP, domain="joys", half_life_days=30))
        for _ in range(2)
    ]
    Entry = old_models.get_model("lovemaps", "LovemapEntry")
    Reveal = old_models.get_model("lovemaps", "LovemapReveal")
    now = timezone.now()
    for topic in topics:
        entry = Entry.objects.create(
            author_id=sam.pk,
            topic_id=topic.pk,
            couple_id=couple.pk,
            text="Sam's",
            created_at=now,
            confirmed_at=now,
            stale_at=now,
        )
        Reveal.objects.create(
            viewer_id=robin.pk, entry=entry, couple_id=couple.pk, revealed_at=now, guess="mine"
        )

    migrate(before=False)
    stored = LovemapReveal.objects.select_related("entry").order_by("topic_id")
    assert [(r.topic_id, r.entry.topic_id) for r in stored] == [(t.pk, t.pk) for t in topics]

    # Detached (the answer's author deleted their account): it cannot go back.
    LovemapReveal.objects.filter(topic=topics[0]).update(entry=None)
    migrate(before=True)
    assert list(Reveal.objects.values_list("entry__topic_id", flat=True)) == [topics[1].pk]
