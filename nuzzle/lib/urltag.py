"""`{% url %}` as Django's, with the URL of a view that takes no arguments reversed once
per process and reused.

Reversing costs some 20 microseconds, and a page names the same few places (the
navigation, its quick actions) a couple of dozen times. The URL of an un-namespaced
name without arguments depends only on the URL configuration and the script prefix, so
those are the key. Anything else (arguments, a namespace, where `current_app`
matters) is Django's own tag at work. Installed as a template builtin
(settings.TEMPLATES), so every template's `{% url %}` is this one.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape

register = template.Library()

_reversed: dict[tuple[str, str, Any], str] = {}


class OnceURLNode(URLNode):
    def render(self, context: Any) -> str:
        if self.args or self.kwargs:
            return str(super().render(context))
        name = self.view_name.resolve(context)
        if not isinstance(name, str) or ":" in name:
            return str(super().render(context))
        key = (name, get_script_prefix(), get_urlconf())
        url = _reversed.get(key)
        if url is None:
            try:
                url = _reversed[key] = reverse(name)
            except NoReverseMatch:  # Django's tag says so (or, with `as`, sets "")
                return str(super().render(context))
        if self.asvar:
            context[self.asvar] = url
            return ""
        return str(conditional_escape(url)) if context.autoescape else url


@register.tag
def url(parser: Any, token: Any) -> OnceURLNode:
    node = django_url(parser, token)
    return OnceURLNode(node.view_name, node.args, node.kwargs, node.asvar)
