"""Steps of the journeys (pairing, checking in, turning toward), shared by the browser tests
and the screenshot script.

Each step drives a real page the way a person would: by labels and visible button text,
so a step breaks when the page a person sees breaks.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from playwright.sync_api import expect

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page, Playwright, ViewportSize

CHROMIUM = Path(os.environ.get("NUZZLE_CHROMIUM", "/usr/bin/chromium"))

# Playwright cannot download its own browsers here, so we drive Debian's Chromium.
# The flags keep it from phoning home and from needing a GPU or a user namespace.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
# JavaScript that is true when the page is wider than the screen (it scrolls sideways).
OVERFLOWS = "document.documentElement.scrollWidth > document.documentElement.clientWidth"


def launch_chromium(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


BLOCKING_IMPACTS = {"serious", "critical"}


def assert_accessible(page: Page, where: str) -> None:
    """No serious or critical axe-core violations on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    for violation in violations:
        # Lesser findings don't fail the test but are worth seeing with `pytest -s`.
        print(f"axe [{where}] {violation['impact']}: {violation['id']} — {violation['help']}")
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    report = "\n".join(
        f"  {v['id']} ({v['impact']}): {v['help']} — "
        + ", ".join(" ".join(node["target"]) for node in v["nodes"])
        + f"\n    {v['helpUrl']}"
        for v in blocking
    )
    assert not blocking, f"accessibility violations on the {where} page:\n{report}"


def sign_up(page: Page, *, name: str, email: str, password: str) -> None:
    """Fill in and submit the sign-up form on the current page (/signup/)."""
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_load_state()


def create_invite(page: Page) -> tuple[str, str]:
    """On the unpaired home page, create an invite; return (link, code) as shown."""
    page.get_by_role("button", name="Create an invite link").click()
    page.wait_for_load_state()
    link = page.locator("#invite-url").input_value()
    code = page.get_by_test_id("invite-code").inner_text().strip()
    return link, code


def accept_invite(
    page: Page, link: str, *, inviter: str, name: str, email: str, password: str
) -> None:
    """Open an invite link, create an account from it, and accept: the two are paired."""
    page.goto(link)
    page.get_by_role("link", name="Create an account to join").click()
    sign_up(page, name=name, email=email, password=password)
    page.get_by_role("button", name=f"Accept and pair with {inviter}").click()
    expect(page.get_by_test_id("partner-name")).to_have_text(inviter)


def log_in(page: Page, *, email: str, password: str) -> None:
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def check_in(
    page: Page,
    *,
    mood: str,
    energy: str | None = None,
    answer: str | None = None,
    private: bool = False,
    submit: bool = True,
) -> None:
    """On /checkin/, choose a mood (and energy), answer the first question, pick who sees
    it, and (unless submit=False) press the one submit button."""
    page.get_by_role("radio", name=mood, exact=True).check()
    if energy is not None:
        page.get_by_role("radio", name=energy, exact=True).check()
    if answer is not None:
        page.get_by_role("group", name="A few words, if you like").get_by_role(
            "textbox"
        ).first.fill(answer)
    visibility = "Just for me" if private else "Shared with my partner"
    page.get_by_role("radio", name=re.compile(f"^{visibility}")).check()
    if submit:
        page.get_by_role("button", name=re.compile(r"^(Check in|Update my check-in)$")).click()
        # With htmx the form says "Saved" in place; without JavaScript, home says thanks.
        saved = page.get_by_test_id("saved").or_(page.get_by_text("Checked in. Thank you"))
        expect(saved).to_be_visible()


def partner_card(page: Page) -> Locator:
    """The partner's side of "Us today"."""
    return page.get_by_test_id("today-partner")


def react(page: Page, reaction: str) -> None:
    """Turn toward the partner's check-in on "Us today" with one of the reactions."""
    card = partner_card(page)
    card.get_by_role("button", name=re.compile(f"^{re.escape(reaction)}")).click()
    expect(card.get_by_test_id("response").filter(has_text=reaction)).to_be_visible()


def reply(page: Page, text: str) -> None:
    """Send a short reply to the partner's check-in on "Us today"."""
    card = partner_card(page)
    card.get_by_role("textbox", name=re.compile(r"^Reply to ")).fill(text)
    card.get_by_role("button", name="Send", exact=True).click()
    expect(card.get_by_test_id("response").filter(has_text=text)).to_be_visible()


def todays_question(page: Page) -> Locator:
    """Today's question card on /question/ (the first question on the page)."""
    return page.get_by_role("article").first


def answer_question(page: Page, text: str, *, button: str = "Answer") -> None:
    """On /question/, write an answer to today's question and send it (or, with
    button="Update my answer", change the one already sent)."""
    card = todays_question(page)
    if button == "Update my answer":
        card.get_by_text("Change my answer").click()
    card.get_by_role("textbox", name="Your answer").fill(text)
    card.get_by_role("button", name=button, exact=True).click()
    # With htmx the card swaps itself; without JavaScript the page comes back to it.
    done = card.get_by_test_id("waiting").or_(card.get_by_test_id("revealed"))
    expect(done).to_be_visible()


def react_to_answer(page: Page, reaction: str) -> None:
    """React to the partner's revealed answer on today's question."""
    card = todays_question(page)
    card.get_by_role("button", name=re.compile(f"^{re.escape(reaction)}")).click()
    expect(card.get_by_role("button", name=f"{reaction} (chosen)")).to_be_visible()


def pair_two_people(person, *, password: str):
    """Alex (London, desktop) signs up and invites; Blake (New York, phone) accepts.
    Returns both pages, paired."""
    alex = person(timezone_id="Europe/London")
    alex.goto("/signup/")
    sign_up(alex, name="Alex", email="alex@example.com", password=password)
    link, _ = create_invite(alex)
    blake = person(timezone_id="America/New_York", viewport=PHONE)
    accept_invite(
        blake, link, inviter="Alex", name="Blake", email="blake@example.com", password=password
    )
    return alex, blake


def lovemap_topic_ids(page: Page, *, count: int) -> list[int]:
    """The first `count` topics still to answer on /lovemap/mine/ (as shown), by id."""
    todos = page.locator(".lovemap-todo[data-testid^='my-topic-']")
    ids = [todos.nth(i).get_attribute("data-testid") or "" for i in range(count)]
    return [int(testid.removeprefix("my-topic-")) for testid in ids]


def lovemap_answer(page: Page, topic_id: int, text: str) -> None:
    """On /lovemap/mine/, answer a topic (open its fold, write, save) or, if it is already
    answered, edit the answer; the page comes back with the answer on the topic's card."""
    card = page.get_by_test_id(f"my-topic-{topic_id}")
    card.locator("summary").first.click()
    card.get_by_role("textbox", name="Your answer").fill(text)
    card.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_test_id(f"my-topic-{topic_id}").get_by_test_id("my-answer")).to_have_text(
        text
    )


def lovemap_reveal(page: Page, topic_id: int, *, guess: str | None = None) -> Locator:
    """On /lovemap/partner/, guess (optionally) and reveal a topic; return its card."""
    card = page.get_by_test_id(f"partner-topic-{topic_id}")
    if guess is not None:
        card.get_by_role("textbox", name="Your guess (optional)").fill(guess)
    card.get_by_role("button", name="Reveal", exact=True).click()
    card = page.get_by_test_id(f"partner-topic-{topic_id}")
    expect(card).to_have_attribute("data-status", "current")
    return card


def lovemap_rate(page: Page, topic_id: int, rating: str) -> None:
    """On /lovemap/mine/, rate the partner's guess on a topic (Spot on, Close, Not quite)."""
    card = page.get_by_test_id(f"my-topic-{topic_id}")
    card.get_by_role("button", name=rating, exact=True).click()
    card = page.get_by_test_id(f"my-topic-{topic_id}")
    expect(card.get_by_role("button", name=f"{rating} (chosen)")).to_be_visible()
