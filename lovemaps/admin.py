"""Love maps in the Django admin: nothing of theirs is registered (every entry is someone's
words). Only their count feeds the prompt bank's statistics."""

from __future__ import annotations

from lovemaps.models import LovemapEntry
from prompts.admin import usage_register
from prompts.models import Prompt

# A love-map topic's "times asked" in the prompt bank: the people who have answered it
# (one current entry per person and topic; older versions are not counted again).
usage_register(
    kind=Prompt.Kind.LOVEMAP,
    rows=LovemapEntry.objects.filter(is_current=True),
    prompt_field="topic",
)
