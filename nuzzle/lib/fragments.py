"""`{% fragment "template.html" name=value ... %}`: an include for small templates whose
output depends on their arguments only (an icon, a meter), rendered once per process
and set of arguments and reused afterwards.

A page such as the dashboard includes these a few dozen times; each `{% include %}`
renders the template anew. The fragment's template sees only the arguments given
(not the page's context), which is what makes its output cacheable. With DEBUG on
nothing is kept, so edited templates show at once. Loaded with `{% load fragments %}`
(settings.TEMPLATES' `libraries`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django import template
from django.conf import settings
from django.template.loader import get_template
from django.utils.safestring import SafeString

register = template.Library()


def _render(name: str, arguments: tuple[tuple[str, Any], ...]) -> SafeString:
    # A template's output is escaped already (and a SafeString at run time).
    return SafeString(get_template(name).render(dict(arguments)))


_rendered_once = lru_cache(maxsize=512)(_render)


@register.simple_tag
def fragment(template: str, /, **arguments: Any) -> SafeString:
    key = tuple(sorted(arguments.items()))
    return _render(template, key) if settings.DEBUG else _rendered_once(template, key)
