from datetime import timedelta

import pytest
import time_machine

from lovemaps.models import LovemapEntry
from lovemaps.selectors.batch import (
    people_with_stale_answers,
    people_with_unseen_partner_changes,
    stalest_domains,
)
from lovemaps.selectors.freshness import freshness
from lovemaps.selectors.maps import my_map, partner_map
from lovemaps.services import lovemap_answer, lovemap_confirm, lovemap_guess_rate, lovemap_reveal
from nuzzle.couples.models import User
from nuzzle.couples.services import couple_end, invite_accept, invite_create
from nuzzle.lib.errors import Invalid, NotFound

pytestmark = pytest.mark.django_db


def fresh(user):
    return User.objects.get(pk=user.pk)


def status_of(viewer, topic):
    return next(r.status for r in partner_map(user=fresh(viewer)) if r.topic.pk == topic.pk)


def test_an_answer_turns_stale_exactly_when_its_half_life_passes(cast, topics):
    topic = topics[0]
    with time_machine.travel("2026-03-01 09:00:00Z", tick=False):
        entry = lovemap_answer(user=cast.author, topic_id=topic.pk, text="Sleeping well")
    half_life = timedelta(days=topic.half_life_days)
    assert entry.stale_at == entry.confirmed_at + half_life
    just_before = entry.confirmed_at + half_life - timedelta(seconds=1)
    assert not my_map(user=cast.author, now=just_before)[0].stale
    assert my_map(user=cast.author, now=entry.confirmed_at + half_life)[0].stale
    assert freshness(user=cast.author, now=entry.confirmed_at + half_life).mine_stale == 1


def test_still_true_re_confirms_without_a_new_version(cast, topics):
    with time_machine.travel("2026-03-01 09:00:00Z", tick=False):
        lovemap_answer(user=cast.author, topic_id=topics[0].pk, text="Sleeping well")
    with time_machine.travel("2027-03-01 09:00:00Z", tick=False):
        entry = lovemap_confirm(user=cast.author, topic_id=topics[0].pk)
        assert not my_map(user=cast.author)[0].stale
    assert entry.version == 1
    assert LovemapEntry.objects.count() == 1


def test_editing_makes_a_new_version_and_the_same_text_only_confirms(cast, topics):
    lovemap_answer(user=cast.author, topic_id=topics[0].pk, text="One")
    lovemap_answer(user=cast.author, topic_id=topics[0].pk, text="One")
    second = lovemap_answer(user=cast.author, topic_id=topics[0].pk, text="Two")
    assert second.version == 2
    assert LovemapEntry.objects.filter(is_current=True).count() == 1
    assert LovemapEntry.objects.count() == 2


def test_unseen_then_current_then_changed_then_current_again(cast, topics):
    topic = topics[0]
    lovemap_answer(user=cast.author, topic_id=topic.pk, text="Hiking")
    assert status_of(cast.partner, topic) == "unseen"
    row = next(r for r in partner_map(user=fresh(cast.partner)) if r.topic.pk == topic.pk)
    assert row.answer is None  # the text only after revealing
    lovemap_reveal(user=fresh(cast.partner), topic_id=topic.pk, guess="Running?")
    assert status_of(cast.partner, topic) == "current"
    lovemap_answer(user=fresh(cast.author), topic_id=topic.pk, text="Climbing now")
    assert status_of(cast.partner, topic) == "changed"
    changed = next(r for r in partner_map(user=fresh(cast.partner)) if r.topic.pk == topic.pk)
    assert changed.answer is None
    lovemap_confirm(user=fresh(cast.author), topic_id=topic.pk)  # "still true" isn't a change
    assert status_of(cast.partner, topic) == "changed"
    lovemap_reveal(user=fresh(cast.partner), topic_id=topic.pk)
    assert status_of(cast.partner, topic) == "current"


def test_only_the_person_guessed_about_can_rate_the_guess(cast, topics):
    lovemap_answer(user=cast.author, topic_id=topics[0].pk, text="Tea")
    reveal = lovemap_reveal(user=fresh(cast.partner), topic_id=topics[0].pk, guess="Coffee")
    for person in (cast.partner, cast.other, cast.unpaired):
        with pytest.raises(NotFound):
            lovemap_guess_rate(user=fresh(person), guess_id=reveal.pk, rating="close")
    with pytest.raises(Invalid):
        lovemap_guess_rate(user=fresh(cast.author), guess_id=reveal.pk, rating="meh")
    rated = lovemap_guess_rate(user=fresh(cast.author), guess_id=reveal.pk, rating="not_quite")
    assert rated.rating == "not_quite"
    assert my_map(user=fresh(cast.author))[0].guesses[0].rating == "not_quite"


def test_another_couples_map_is_not_found_and_invisible(cast, topics):
    lovemap_answer(user=cast.author, topic_id=topics[0].pk, text="Private to us")
    for person in (cast.other, cast.unpaired):
        with pytest.raises(NotFound):
            lovemap_reveal(user=fresh(person), topic_id=topics[0].pk)
        assert partner_map(user=fresh(person)) == []


def test_a_new_partner_never_sees_words_written_in_an_earlier_couple(cast, topics):
    lovemap_answer(user=cast.author, topic_id=topics[0].pk, text="Written with Sam")
    couple_end(user=cast.author)
    invite_accept(user=cast.unpaired, code=invite_create(user=fresh(cast.author)).code)
    assert partner_map(user=fresh(cast.unpaired)) == []
    with pytest.raises(NotFound):
        lovemap_reveal(user=fresh(cast.unpaired), topic_id=topics[0].pk)
    lovemap_confirm(user=fresh(cast.author), topic_id=topics[0].pk)  # "this is me now"
    assert [r.status for r in partner_map(user=fresh(cast.unpaired))] == ["unseen"]


def test_bad_answers_and_guesses_store_nothing(cast, topics):
    for text in ("x" * 1001, "bell\x07"):
        with pytest.raises(Invalid):
            lovemap_answer(user=cast.author, topic_id=topics[0].pk, text=text)
    assert not LovemapEntry.objects.exists()
    lovemap_answer(user=cast.author, topic_id=topics[0].pk, text="ok")
    with pytest.raises(Invalid):
        lovemap_reveal(user=fresh(cast.partner), topic_id=topics[0].pk, guess="y" * 1001)
    with pytest.raises(NotFound):
        lovemap_answer(user=cast.author, topic_id=999_999, text="no such topic")


def test_set_based_selectors_for_the_nudges(cast, topics):
    with time_machine.travel("2025-01-01 09:00:00Z", tick=False):
        lovemap_answer(user=cast.author, topic_id=topics[0].pk, text="Old news")
    lovemap_answer(user=cast.author, topic_id=topics[1].pk, text="Fresh news")
    stale = {u.pk: u.stale_count for u in people_with_stale_answers()}
    assert stale == {cast.author.pk: 1}
    unseen = {m.user_id: m.unseen_count for m in people_with_unseen_partner_changes()}
    assert unseen == {cast.partner.pk: 2}
    lovemap_reveal(user=fresh(cast.partner), topic_id=topics[1].pk)
    unseen = {m.user_id: m.unseen_count for m in people_with_unseen_partner_changes()}
    assert unseen == {cast.partner.pk: 1}


def test_the_daily_question_leans_toward_the_stalest_domain(cast, topics):
    from prompts import assignment
    from prompts.selection import CoupleHistory

    stresses = [t for t in topics if t.domain == "stresses"][:2]
    with time_machine.travel("2024-01-01 09:00:00Z", tick=False):
        for topic in stresses:
            lovemap_answer(user=cast.author, topic_id=topic.pk, text="long ago")
    assert stalest_domains([cast.couple.pk]) == {cast.couple.pk: "stresses"}
    assert stalest_domains in assignment.stalest_domain_providers()  # registered by the app
    history: CoupleHistory = assignment.couple_histories([cast.couple.pk])[cast.couple.pk]
    assert history.stalest_domain == "stresses"
