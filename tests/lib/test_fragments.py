"""{% fragment %}: an include of an argument-only template, rendered once per process."""

from __future__ import annotations

from django.template import engines
from django.test import override_settings

from nuzzle.lib import fragments


def render(source: str, **context: object) -> str:
    return engines["django"].from_string(source).render(context)


def test_it_renders_what_the_include_renders():
    for value in ["heart", "hug", "proud", "same", "laugh"]:
        included = render('{% include "checkins/_reaction_icon.html" %}', value=value)
        fragment = render(
            '{% load fragments %}{% fragment "checkins/_reaction_icon.html" value=value %}',
            value=value,
        )
        assert fragment == included
        assert f"icon--{value}" in fragment


def test_the_template_sees_only_the_arguments():
    # `value` is in the page's context but not passed: the fragment does not see it.
    page = '{% load fragments %}{% fragment "checkins/_mood_meter.html" %}'
    assert "meter--3" not in render(page, value=3)
    assert "meter--3" in render(
        '{% load fragments %}{% fragment "checkins/_mood_meter.html" value=3 %}'
    )


@override_settings(DEBUG=False)
def test_it_renders_once_per_set_of_arguments():
    fragments._rendered_once.cache_clear()
    page = '{% load fragments %}{% fragment "prompts/_state_icon.html" name=name %}'
    for _ in range(3):
        render(page, name="sealed")
    render(page, name="both")
    info = fragments._rendered_once.cache_info()
    assert (info.misses, info.hits) == (2, 2)


@override_settings(DEBUG=True)
def test_with_debug_on_nothing_is_kept():
    fragments._rendered_once.cache_clear()
    render('{% load fragments %}{% fragment "prompts/_state_icon.html" name="both" %}')
    assert fragments._rendered_once.cache_info().currsize == 0
