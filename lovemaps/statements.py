"""The love-map hot path as one prepared statement (nuzzle.lib.prepared): my map of my
partner, built as the API's JSON in PostgreSQL from the `PartnerEntry` view, which
decides the statuses and seals the text. The same rows and order as
`selectors.maps.partner_map` with `apis.PARTNER_TOPIC_OUTPUT` (a test compares them);
on SQLite the API takes that path."""

from __future__ import annotations

from lovemaps.selectors.maps import STATUS_ORDER
from nuzzle.couples.models import User
from nuzzle.lib.prepared import Statement, iso, position
from prompts.models import Prompt

_STATUSES = sorted(STATUS_ORDER, key=STATUS_ORDER.__getitem__)

PARTNER_MAP = Statement(
    name="nuzzle_lovemap_partner",
    types=("bigint",),
    sql=f"""
    SELECT coalesce(json_agg(json_build_object(
        'topic', json_build_object(
            'id', t.id, 'text', t.text, 'domain', t.domain,
            'half_life_days', t.half_life_days),
        'status', e.status,
        'answer', e.text,
        'updated_at', {iso("e.created_at")},
        'guess', CASE WHEN e.guess IS NULL OR e.guess = '' THEN NULL ELSE json_build_object(
            'id', e.reveal_id, 'guess', e.guess, 'rating', nullif(e.rating, '')) END
    ) ORDER BY {position("e.status", _STATUSES)},
               {position("t.domain", Prompt.Domain.values)}, t.id), '[]')::text
    FROM lovemaps_partnerentry e
    JOIN prompts_prompt t ON t.id = e.topic_id
    WHERE e.viewer_id = $1
    """,  # noqa: S608 (built once from constants; the viewer is a parameter)
)


def partner_map_json(*, user: User) -> str:
    """My map of my partner as the API's JSON text (PostgreSQL; one statement)."""
    return str(PARTNER_MAP.one([user.pk])[0])
