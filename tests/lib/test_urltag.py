"""`{% url %}` (nuzzle/lib/urltag.py, a template builtin): the same URLs as Django's tag,
a name without arguments reversed once per script prefix and URL configuration."""

from __future__ import annotations

import pytest
from django.template import engines
from django.urls import NoReverseMatch, clear_script_prefix, reverse, set_script_prefix

from nuzzle.lib import urltag


def render(source: str, **context: object) -> str:
    return engines["django"].from_string(source).render(context)


def test_it_says_what_reverse_says_with_and_without_arguments_and_namespaces():
    assert render("{% url 'history' %}") == reverse("history")
    assert render("{% url 'checkin-respond' 7 %}") == reverse("checkin-respond", args=[7])
    assert render("{% url 'checkin-respond' pk %}", pk=8) == reverse("checkin-respond", args=[8])
    assert render("{% url 'admin:index' %}") == reverse("admin:index")
    assert render("{% url name %}", name="history") == reverse("history")
    assert render("{% url 'history' as h %}[{{ h }}]") == f"[{reverse('history')}]"


def test_a_name_that_does_not_reverse_fails_as_django_says_and_is_not_kept():
    with pytest.raises(NoReverseMatch):
        render("{% url 'no-such-place' %}")
    assert render("{% url 'no-such-place' as x %}[{{ x }}]") == "[]"
    assert not any(key[0] == "no-such-place" for key in urltag._reversed)


def test_it_follows_the_script_prefix():
    assert render("{% url 'history' %}") == "/history/"  # kept for the prefix "/"
    try:
        set_script_prefix("/nuzzle/")
        assert render("{% url 'history' %}") == "/nuzzle/history/"
    finally:
        clear_script_prefix()
    assert render("{% url 'history' %}") == "/history/"


def test_the_page_context_holds_the_user_itself_not_a_lazy_proxy(client, cast):
    from django.utils.functional import SimpleLazyObject

    client.force_login(cast.author)
    response = client.get(reverse("history"))
    assert response.status_code == 200
    user = response.context["user"]
    assert type(user) is not SimpleLazyObject
    assert user.pk == cast.author.pk
