from datetime import date, timedelta

import pytest

from prompts.models import Prompt
from prompts.selectors import checkin_questions_for
from prompts.services import prompt_bank_load

pytestmark = pytest.mark.django_db


def test_loading_the_bank_twice_updates_and_never_duplicates():
    first = prompt_bank_load()
    count = Prompt.objects.count()
    assert first.created == count > 0
    second = prompt_bank_load()
    assert (second.created, second.updated, second.unchanged) == (0, 0, count)
    assert Prompt.objects.count() == count


def test_reloading_restores_edited_text_but_keeps_a_curators_retirement():
    prompt_bank_load()
    prompt = Prompt.objects.get(key="checkin-grateful")
    original = prompt.text
    Prompt.objects.filter(pk=prompt.pk).update(text="changed", status=Prompt.Status.RETIRED)
    result = prompt_bank_load()
    prompt.refresh_from_db()
    assert result.updated == 1
    assert prompt.text == original
    assert prompt.status == Prompt.Status.RETIRED


def test_three_checkin_questions_a_day_rotating_and_stable_within_a_day():
    prompt_bank_load()
    monday = date(2026, 11, 23)
    today = checkin_questions_for(day=monday)
    assert len(today) == 3
    assert len({q.pk for q in today}) == 3
    assert checkin_questions_for(day=monday) == today
    assert checkin_questions_for(day=monday + timedelta(days=1)) != today
    assert all(q.kind == Prompt.Kind.CHECKIN for q in today)


def test_retired_questions_are_not_offered():
    prompt_bank_load()
    Prompt.objects.filter(kind=Prompt.Kind.CHECKIN).exclude(key="checkin-grateful").update(
        status=Prompt.Status.RETIRED
    )
    assert [q.key for q in checkin_questions_for(day=date(2026, 1, 1))] == ["checkin-grateful"]
