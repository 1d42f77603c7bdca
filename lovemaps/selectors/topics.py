"""Love-map topics: the published ones, areas in the product's order."""

from __future__ import annotations

from django.db.models import Case, QuerySet, Value, When

from prompts.models import Prompt

# Areas in the product's order (docs/product.md: Love maps), not alphabetical.
DOMAIN_ORDER = {value: index for index, value in enumerate(Prompt.Domain.values)}


def domain_order(field: str) -> Case:
    """Areas in the product's order (docs/product.md: Love maps), not alphabetical, as
    an expression to order rows by (`field` names the area)."""
    values = Prompt.Domain.values
    return Case(
        *(When(**{field: value}, then=Value(index)) for index, value in enumerate(values)),
        default=Value(len(values)),
    )


def lovemap_topics(*, domain: str = "") -> QuerySet[Prompt]:
    """The published love-map topics (of one area, if given), area by area."""
    published = Prompt.objects.filter(kind=Prompt.Kind.LOVEMAP, status=Prompt.Status.PUBLISHED)
    if domain:
        published = published.filter(domain=domain)
    return published.order_by(domain_order("domain"), "id")
