"""The daily question in a real browser (Debian Chromium via Playwright): two partners
answer, the first answer stays sealed until the second, then both see both and react.
With htmx (the card swaps itself) and without JavaScript (plain POST and redirect).

axe-core checks /question/ unanswered, waiting and revealed (light and dark) and the
question history: serious and critical findings fail.

The docs' screenshots of the question come from here too, when asked for:

    NUZZLE_QUESTION_SCREENSHOTS=docs .venv/bin/pytest tests/browser/test_question_journey.py
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from prompts import services
from prompts.models import DailyQuestion, Prompt, QuestionReaction
from prompts.services import prompt_bank_load
from tests.browser.journey import (
    DESKTOP,
    OVERFLOWS,
    PHONE,
    answer_question,
    assert_accessible,
    log_in,
    pair_two_people,
    react_to_answer,
    todays_question,
)
from tests.factories import PASSWORD as FACTORY_PASSWORD
from tests.factories import couple_of, new_user

# Partners here live one couple day whatever the hour (see conftest.one_couple_day).
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("one_couple_day")]

PASSWORD = "a calm evening walk"
# Unique answers, so finding one in a page proves where it went.
FIRST_DRAFT = "The harbour wall at dusk, lighthouse-marmalade-4127."
ALEX_ANSWER = "The harbour wall at dusk, the night we missed the last ferry (lighthouse-4128)."
BLAKE_ANSWER = "Our first rainy Sunday in the new flat, doing nothing at all (teapot-5531)."


@pytest.fixture(autouse=True)
def _prompt_bank(transactional_db):
    """The bundled questions (the live server shares the test database, which starts empty)."""
    prompt_bank_load()


def test_partners_answer_the_daily_question_and_see_both(person, site, browser_errors):
    alex, blake = pair_two_people(person, password=PASSWORD)

    # Alex opens today's question: nobody has answered yet.
    alex.goto("/question/")
    card = todays_question(alex)
    prompt = card.get_by_role("heading", level=2).inner_text()
    expect(card.get_by_role("button", name="Pass on this one")).to_be_visible()
    assert_accessible(alex, "question, unanswered")

    # An answer of only spaces is explained in place (htmx swaps the 400 card in).
    card.get_by_role("textbox", name="Your answer").fill("   ")
    card.get_by_role("button", name="Answer", exact=True).click()
    expect(card.get_by_role("alert")).to_have_text("Write an answer first.")
    # Chromium logs every 4xx response to the console; this one was expected.
    assert [e for e in browser_errors if "status of 400" not in e] == []
    browser_errors.clear()

    # Alex answers, then changes it: the card swaps itself, the URL stays.
    answer_question(alex, FIRST_DRAFT)
    waiting = card.get_by_test_id("waiting")
    expect(waiting).to_contain_text("sealed until Blake answers")
    expect(waiting).to_be_focused()
    expect(alex).to_have_url(f"{site.url}/question/")
    answer_question(alex, ALEX_ANSWER, button="Update my answer")
    expect(card.get_by_test_id("my-answer")).to_have_text(ALEX_ANSWER)
    expect(card.get_by_role("button", name="Pass on this one")).to_have_count(0)
    assert_accessible(alex, "question, waiting")

    # Blake sees that Alex answered, and nothing of what Alex wrote, anywhere.
    blake.goto("/")
    slot = blake.get_by_test_id("question-tile")
    expect(slot).to_contain_text(prompt)
    expect(slot.get_by_test_id("question-state")).to_contain_text("Alex has answered")
    for path in ["/", "/question/", "/questions/"]:
        blake.goto(path)
        source = blake.content()
        assert "lighthouse" not in source, f"Alex's sealed answer is in the source of {path}"
    blake.goto("/question/")
    expect(todays_question(blake).get_by_test_id("partner-answered")).to_contain_text(
        "Alex has answered"
    )
    assert blake.evaluate(OVERFLOWS) is False, "/question/ scrolls sideways on a phone"

    # Blake answers: both answers appear at once, and Blake reacts to Alex's.
    answer_question(blake, BLAKE_ANSWER)
    mine = todays_question(blake)
    expect(mine.get_by_test_id("partner-answer")).to_have_text(ALEX_ANSWER)
    expect(mine.get_by_role("status")).to_contain_text("You've both answered")
    expect(mine.get_by_role("status")).to_be_focused()
    react_to_answer(blake, "Love this")
    expect(mine.get_by_role("status")).to_have_text("Sent to Alex.")
    assert blake.evaluate(OVERFLOWS) is False, "the revealed question scrolls sideways"
    assert_accessible(blake, "question, revealed, phone")

    # Alex comes back: both answers, and Blake's reaction to Alex's.
    alex.reload()
    card = todays_question(alex)
    expect(card.get_by_test_id("revealed")).to_be_visible()
    expect(card.get_by_test_id("partner-answer")).to_have_text(BLAKE_ANSWER)
    expect(card.get_by_test_id("partner-reaction")).to_contain_text("Love this")
    assert_accessible(alex, "question, revealed")
    alex.emulate_media(color_scheme="dark", reduced_motion="reduce")
    assert_accessible(alex, "question, revealed, dark")
    alex.emulate_media(color_scheme="light")

    alex.goto("/")
    expect(alex.get_by_test_id("question-state")).to_contain_text("See both answers")
    alex.goto("/questions/")
    expect(alex.get_by_test_id("partner-answer")).to_have_text(BLAKE_ANSWER)
    assert_accessible(alex, "question history")

    assert QuestionReaction.objects.get().reaction == "heart"
    assert browser_errors == []


def test_without_javascript_passing_answering_and_reacting_still_work(person, site, browser_errors):
    alex = new_user(email="alex@example.com", display_name="Alex", timezone="Europe/London")
    blake = new_user(email="blake@example.com", display_name="Blake", timezone="Asia/Kolkata")
    couple_of(alex, blake)
    a = person(javascript=False)
    log_in(a, email="alex@example.com", password=FACTORY_PASSWORD)
    b = person(javascript=False)
    log_in(b, email="blake@example.com", password=FACTORY_PASSWORD)

    # Alex passes on the first question and gets another one.
    a.goto("/question/")
    first = todays_question(a).get_by_role("heading", level=2).inner_text()
    a.get_by_role("button", name="Pass on this one").click()
    expect(a.get_by_text("Here's another one.")).to_be_visible()
    expect(todays_question(a).get_by_role("heading", level=2)).not_to_have_text(first)

    # Alex answers: POST, then back to the card, sealed.
    answer_question(a, ALEX_ANSWER)
    expect(a).to_have_url(re.compile(r"/question/#question-\d+$"))
    expect(a.get_by_text("Answer saved.")).to_be_visible()
    b.goto("/question/")
    assert "lighthouse" not in b.content()

    # Blake answers and reacts; Alex reloads and sees both answers and the reaction.
    answer_question(b, BLAKE_ANSWER)
    expect(todays_question(b).get_by_test_id("partner-answer")).to_have_text(ALEX_ANSWER)
    react_to_answer(b, "Proud of you")
    expect(b).to_have_url(re.compile(r"/question/#question-\d+$"))
    a.reload()
    card = todays_question(a)
    expect(card.get_by_test_id("partner-answer")).to_have_text(BLAKE_ANSWER)
    expect(card.get_by_test_id("partner-reaction")).to_contain_text("Proud of you")
    assert browser_errors == []


SHOTS = os.environ.get("NUZZLE_QUESTION_SCREENSHOTS")
SHOT_PROMPT = "q-small-thing-maybe-without-noticing-makes"
ROBIN_SAYS = (
    "When you leave the kettle warm for me in the morning, even on the days you're running "
    "late. It's tiny, but it feels like a note that says you thought of me."
)
SAM_SAYS = (
    "The way you text \"home safe?\" whenever I'm out late. I pretend it's fussy, "
    "but I always wait for it before I set off."
)


@pytest.mark.skipif(not SHOTS, reason="set NUZZLE_QUESTION_SCREENSHOTS=<folder> to take them")
def test_screenshots_for_the_docs(browser, site):
    """docs/screenshot-question-phone.png (Robin's answer sealed, waiting for Sam, 390 wide)
    and docs/screenshot-question-desktop.png (both answers, reactions, 1280 wide)."""
    out = Path(str(SHOTS))
    out.mkdir(parents=True, exist_ok=True)
    robin = new_user(email="robin@example.com", display_name="Robin", timezone="Europe/London")
    sam = new_user(email="sam@example.com", display_name="Sam", timezone="Europe/London")
    couple_of(robin, sam)
    question = services.daily_question_ensure(user=robin)
    assert question is not None
    DailyQuestion.objects.filter(pk=question.pk).update(prompt=Prompt.objects.get(key=SHOT_PROMPT))

    def robin_on(viewport, scale):
        context = browser.new_context(
            base_url=site.url,
            viewport=viewport,
            device_scale_factor=scale,
            is_mobile=scale > 1,
            has_touch=scale > 1,
            locale="en-GB",
            timezone_id="Europe/London",
        )
        page = context.new_page()
        log_in(page, email="robin@example.com", password=FACTORY_PASSWORD)
        page.goto("/question/")
        return page

    phone = robin_on(PHONE, 2)
    answer_question(phone, ROBIN_SAYS)
    phone.evaluate("document.activeElement.blur()")
    assert phone.evaluate(OVERFLOWS) is False
    # A screen as tall as the page: the tab bar, fixed to the screen's foot, shows there.
    tall = phone.evaluate("document.documentElement.scrollHeight")
    phone.set_viewport_size({"width": PHONE["width"], "height": tall})
    phone.screenshot(
        path=str(out / "screenshot-question-phone.png"),
        full_page=True,
        animations="disabled",
        caret="hide",
    )
    phone.context.close()

    services.question_answer(user=sam, question_id=question.pk, text=SAM_SAYS)
    services.question_react(user=sam, question_id=question.pk, reaction="hug")
    desktop = robin_on(DESKTOP, 1)
    react_to_answer(desktop, "Love this")
    desktop.reload()
    desktop.screenshot(
        path=str(out / "screenshot-question-desktop.png"),
        full_page=True,
        animations="disabled",
        caret="hide",
    )
    desktop.context.close()
