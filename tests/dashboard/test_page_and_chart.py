"""The dashboard's mood chart and check-in cards, as built for speed (docs/performance.md,
"What was tuned"): the same markup, from fewer template operations."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine

from checkins.selectors import MoodDay
from checkins.services import checkin_respond, checkin_submit
from nuzzle.dashboard.charts import draw, mood_chart, mood_chart_html

pytestmark = pytest.mark.django_db


def days(*moods: tuple[int | None, int | None]) -> list[MoodDay]:
    start = date(2026, 11, 1)
    return [
        MoodDay(date=start + timedelta(days=i), mine=mine, partner=partner)
        for i, (mine, partner) in enumerate(moods)
    ]


def test_markers_carry_each_point_with_its_title_and_the_partner_hole():
    chart = mood_chart(days((4, None), (None, 2)), my_name="You", partner_name="Sam <3")
    mine, partner = chart.series
    assert str(mine.markers) == (
        '<path d="M86.0,58.0h0" class="series__under"/>'
        '<path d="M86.0,58.0h0" class="series__marker"><title>You, 1 Nov: Good</title></path>'
    )
    assert str(partner.markers) == (
        '<path d="M628.0,146.0h0" class="series__under"/>'
        '<path d="M628.0,146.0h0" class="series__marker">'
        "<title>Sam &lt;3, 2 Nov: Low</title></path>"
        '<path d="M628.0,146.0h0" class="series__hole"/>'
    )


def test_the_table_lists_days_with_a_check_in_newest_first():
    chart = mood_chart(days((4, None), (None, None), (1, 5)), my_name="You", partner_name="Sam")
    assert [(row.day, row.mine, row.partner) for row in chart.rows] == [
        ("Tue 3 Nov", "Struggling", "Great"),
        ("Sun 1 Nov", "Good", "—"),
    ]
    assert chart.paired
    assert not mood_chart(days((3, None)), my_name="You", partner_name=None).paired


def test_the_drawn_chart_escapes_every_name_and_shows_the_table_once_there_is_a_mood():
    chart = draw(mood_chart(days((4, None), (None, 2)), my_name="You", partner_name="<b>S"))
    assert "<b>" not in chart
    assert chart.count("&lt;b&gt;S") == 4  # its marker's title, the sentence, legend, table
    assert '<th scope="row">Mon 2 Nov</th><td>—</td><td>Low</td>' in chart
    assert "Moods will gather here" not in chart
    empty = draw(mood_chart(days((None, None)), my_name="You", partner_name=None))
    assert "Moods will gather here" in empty
    assert "<table>" not in empty


def test_a_chart_is_drawn_once_for_the_same_days_and_names_and_again_when_a_mood_changes():
    first = mood_chart_html(days((4, None), (3, 2)), my_name="You", partner_name="Sam")
    again = mood_chart_html(days((4, None), (3, 2)), my_name="You", partner_name="Sam")
    changed = mood_chart_html(days((4, None), (3, 5)), my_name="You", partner_name="Sam")
    renamed = mood_chart_html(days((4, None), (3, 2)), my_name="You", partner_name="Sal")
    assert again is first
    assert changed is not first
    assert "Sam, 2 Nov: Great" in changed
    assert renamed is not first
    assert "Sal, 2 Nov: Low" in renamed


def test_my_reaction_is_marked_chosen_on_the_partners_card(client, cast, same_couple_day):
    checkin_submit(user=cast.author, mood=4)
    theirs = checkin_submit(user=cast.partner, mood=3).checkin
    checkin_respond(user=cast.author, checkin_id=theirs.pk, reaction="hug")
    client.force_login(cast.author)
    page = client.get("/").content.decode()
    card = page[page.index(f'id="checkin-{theirs.pk}"') :]
    card = card[: card.index("</article>")]
    assert card.count("reaction--chosen") == 1
    assert 'value="hug" class="reaction reaction--chosen"' in card
    assert card.count("(chosen)") == 1
    assert card.count("icon--") >= 6  # five buttons and my response's reaction


def test_a_partner_whose_day_moved_on_first_is_explained_not_missing(client, cast):
    # 09:00 UTC on 7 December: 01:00 Monday in Los Angeles (the couple's Tuesday), 22:00
    # Monday in Auckland (the couple's Monday). Sam's check-in waits for Robin's Tuesday.
    with time_machine.travel("2026-12-07 09:00:00Z", tick=False):
        checkin_submit(user=cast.partner, mood=3)
        client.force_login(cast.author)
        page = client.get("/").content.decode()
    assert 'data-testid="partner-ahead"' in page
    assert '<span dir="auto">Sam</span>\'s day has already moved on' in page
    with time_machine.travel("2026-12-07 11:30:00Z", tick=False):  # Robin's Tuesday
        page = client.get("/").content.decode()
    assert 'data-testid="partner-ahead"' not in page
    assert 'class="mood-chip mood--3"' in page
