"""Steps of the pairing journey, shared by the browser test and the screenshot script.

Each step drives a real page the way a person would: by labels and visible button text,
so a step breaks when the page a person sees breaks.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright, ViewportSize

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
