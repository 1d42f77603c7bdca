"""Love maps in a real browser (Debian Chromium via Playwright): Alex maps three topics
about themself; Blake guesses, reveals, and catches up when Alex changes an answer.
Everything is plain POST and redirect (the pages need no JavaScript).

axe-core checks the overview, my map (one area) and my map of you: serious and critical
findings fail.

The docs' screenshot of the partner map comes from here too, when asked for:

    NUZZLE_LOVEMAP_SCREENSHOTS=docs .venv/bin/pytest tests/browser/test_lovemap_journey.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from lovemaps import services
from lovemaps.models import LovemapReveal
from prompts.models import Prompt
from prompts.services import prompt_bank_load
from tests.browser.journey import (
    DESKTOP,
    OVERFLOWS,
    assert_accessible,
    log_in,
    lovemap_answer,
    lovemap_rate,
    lovemap_reveal,
    lovemap_topic_ids,
    pair_two_people,
)
from tests.factories import PASSWORD as FACTORY_PASSWORD
from tests.factories import couple_of, new_user

# Partners here live one couple day whatever the hour (see conftest.one_couple_day).
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("one_couple_day")]

PASSWORD = "a calm evening walk"
# Unique answers, so finding one in a page proves where it went.
FIRST = "Warm bread from the bakery on Saturday mornings (crumb-7341)."
SECOND = "Swimming in the lake before anyone else is up (ripple-2290)."
THIRD = "The old film festival every autumn (reel-5512)."
THIRD_NOW = "Board games with the neighbours on Thursdays (meeple-8806)."
GUESS = "Something with bread, surely?"


@pytest.fixture(autouse=True)
def _prompt_bank(transactional_db):
    """The bundled topics (the live server shares the test database, which starts empty)."""
    prompt_bank_load()


def test_partners_map_guess_reveal_rate_and_catch_up(person, site, browser_errors):
    alex, blake = pair_two_people(person, password=PASSWORD)

    # Alex maps three topics in one area; all three show as answered.
    alex.goto("/lovemap/mine/?domain=joys")
    first, second, third = lovemap_topic_ids(alex, count=3)
    for topic_id, text in ((first, FIRST), (second, SECOND), (third, THIRD)):
        lovemap_answer(alex, topic_id, text)
    expect(alex.get_by_text("Saved.")).to_be_visible()
    assert_accessible(alex, "my map, joys")

    # Blake sees three new topics and none of Alex's words until revealing them.
    blake.goto("/lovemap/partner/")
    for topic_id in (first, second, third):
        expect(blake.get_by_test_id(f"partner-topic-{topic_id}")).to_have_attribute(
            "data-status", "unseen"
        )
    source = blake.content()
    for secret in ("crumb-7341", "ripple-2290", "reel-5512"):
        assert secret not in source, "Alex's answer is in the page before Blake reveals it"
    assert blake.evaluate(OVERFLOWS) is False, "/lovemap/partner/ scrolls sideways on a phone"

    # Blake guesses one, then reveals it; reveals another without a guess.
    card = lovemap_reveal(blake, first, guess=GUESS)
    expect(card.get_by_test_id("revealed-answer")).to_have_text(FIRST)
    expect(card.get_by_test_id("my-guess")).to_contain_text(GUESS)
    card = lovemap_reveal(blake, third)
    expect(card.get_by_test_id("revealed-answer")).to_have_text(THIRD)
    expect(card.get_by_test_id("my-guess")).to_have_count(0)
    assert "ripple-2290" not in blake.content()

    # Alex rates Blake's guess.
    alex.goto("/lovemap/mine/")
    expect(alex.get_by_test_id(f"my-topic-{first}").get_by_text(GUESS)).to_be_visible()
    lovemap_rate(alex, first, "Close")
    assert LovemapReveal.objects.get(guess=GUESS).rating == "close"

    # Alex changes the third answer: a new version, which Blake must reveal again.
    lovemap_answer(alex, third, THIRD_NOW)
    alex.goto("/lovemap/")
    expect(alex.get_by_test_id("fresh-mine")).to_contain_text("3 answers")
    assert_accessible(alex, "love maps overview")

    blake.reload()
    changed = blake.get_by_test_id(f"partner-topic-{third}")
    expect(changed).to_have_attribute("data-status", "changed")
    expect(changed).to_contain_text("Changed")
    source = blake.content()
    assert "meeple-8806" not in source, "Alex's new answer is in the page before Blake reveals it"
    expect(blake.get_by_test_id(f"partner-topic-{second}")).to_have_attribute(
        "data-status", "unseen"
    )
    expect(blake.get_by_test_id(f"partner-topic-{first}").get_by_test_id("rating")).to_have_text(
        "Alex said: Close"
    )
    assert_accessible(blake, "my map of you, phone")
    blake.set_viewport_size({"width": 320, "height": 700})
    assert blake.evaluate(OVERFLOWS) is False, "/lovemap/partner/ scrolls sideways at 320px"

    # Blake's dashboard says what changed.
    blake.goto("/")
    slot = blake.get_by_test_id("lovemap-tile")
    expect(slot).to_contain_text("1 changed")
    expect(slot).to_contain_text("1 new")
    assert browser_errors == []


SHOTS = os.environ.get("NUZZLE_LOVEMAP_SCREENSHOTS")
ROBIN_MAP = {
    "joys": [
        "Slow Sunday mornings: coffee in bed, the crossword, nowhere to be.",
        "Anything by Studio Ghibli, and the smell of the sea at Whitstable.",
        "Singing in the car when nobody can hear me.",
    ],
    "stresses": [
        "Thursday's presentation — I've rehearsed it, but I still dread the Q&A.",
        "Mum's hospital appointment next week.",
    ],
    "hopes": ["A long walk along the coast path, all the way to Cornwall, one day."],
}
SAM_GUESSES = [
    ("Coffee and the crossword, obviously.", "spot_on"),
    ("Studio Ghibli films?", "close"),
]


@pytest.mark.skipif(not SHOTS, reason="set NUZZLE_LOVEMAP_SCREENSHOTS=<folder> to take it")
def test_screenshot_for_the_docs(browser, site):
    """docs/screenshot-lovemap-desktop.png: Sam's map of Robin, 1280 wide — one answer
    changed, some new, some known, with a rated guess."""
    out = Path(str(SHOTS))
    out.mkdir(parents=True, exist_ok=True)
    robin = new_user(email="robin@example.com", display_name="Robin", timezone="Europe/London")
    sam = new_user(email="sam@example.com", display_name="Sam", timezone="Europe/London")
    couple_of(robin, sam)
    topics = {
        domain: list(
            Prompt.objects.filter(kind=Prompt.Kind.LOVEMAP, domain=domain).order_by("id")[:3]
        )
        for domain in ROBIN_MAP
    }
    for domain, answers in ROBIN_MAP.items():
        for topic, text in zip(topics[domain], answers, strict=False):
            services.lovemap_answer(user=robin, topic_id=topic.pk, text=text)
    joys = topics["joys"]
    for topic, (guess, rating) in zip(joys, SAM_GUESSES, strict=False):
        services.lovemap_reveal(user=sam, topic_id=topic.pk, guess=guess)
        reveal = LovemapReveal.objects.get(viewer=sam, entry__topic=topic)
        services.lovemap_guess_rate(user=robin, guess_id=reveal.pk, rating=rating)
    services.lovemap_reveal(user=sam, topic_id=topics["stresses"][0].pk, guess="")
    services.lovemap_answer(
        user=robin,
        topic_id=topics["stresses"][0].pk,
        text="Less the presentation now — more whether we can afford the move.",
    )

    context = browser.new_context(
        base_url=site.url, viewport=DESKTOP, locale="en-GB", timezone_id="Europe/London"
    )
    page = context.new_page()
    log_in(page, email="sam@example.com", password=FACTORY_PASSWORD)
    page.goto("/lovemap/partner/")
    page.screenshot(
        path=str(out / "screenshot-lovemap-desktop.png"),
        full_page=True,
        animations="disabled",
        caret="hide",
    )
    context.close()
