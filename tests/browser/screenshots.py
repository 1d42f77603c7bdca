"""Refresh the README screenshots by walking the pairing journey on a running Nuzzle.

Not a test: it drives Debian Chromium (see `journey.py`) through sign-up, invite and
accept against a live server, and saves PNGs. It signs up two throwaway people
(robin-<random>@example.com, sam-<random>@example.com), so point it at a development
server, never at a real one::

    export DATABASE_URL=sqlite:////tmp/nuzzle-shots.sqlite3  # keep your dev data out of it
    export SITE_URL=https://nuzzle.example.org               # how the invite link reads
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py runserver 127.0.0.1:8765 --noreload &
    .venv/bin/python -m tests.browser.screenshots http://127.0.0.1:8765
    kill %1

By default it writes the three images the README uses into docs/:

    screenshot-home-desktop.png     the paired home ("Us today"), 1280 wide
    screenshot-home-phone.png       the same on a phone, 390 wide
    screenshot-invite-desktop.png   the unpaired home with an invite link, 1280 wide

`--all --out var/screenshots` also writes every step (sign-up, invite, accept, paired
home, couple settings, unpair) at both sizes, for reviewing the pages; add
`--color-scheme dark` to review the dark theme. From Python: `take_screenshots(url, out)`.
"""

from __future__ import annotations

import argparse
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from tests.browser.journey import (
    DESKTOP,
    OVERFLOWS,
    PHONE,
    create_invite,
    launch_chromium,
    sign_up,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

README_SHOTS = {
    "home-desktop": "screenshot-home-desktop.png",
    "home-phone": "screenshot-home-phone.png",
    "invite-desktop": "screenshot-invite-desktop.png",
}
PASSWORD = "a calm evening walk"


class Camera:
    """Opens people's pages and saves them at desktop and phone sizes.

    The phone shot opens the same URL in a phone-sized context with the same cookies and
    time zone, so it shows what that person sees on their phone.
    """

    def __init__(
        self, browser: Browser, base_url: str, out: Path, *, everything: bool, scheme: str
    ) -> None:
        self.browser = browser
        self.base_url = base_url
        self.out = out
        self.everything = everything
        self.scheme = scheme
        self.saved: list[Path] = []
        self._zones: dict[BrowserContext, str] = {}

    def person(self, timezone_id: str) -> Page:
        context = self.browser.new_context(
            base_url=self.base_url,
            viewport=DESKTOP,
            timezone_id=timezone_id,
            locale="en-GB",
            color_scheme=self.scheme,  # type: ignore[arg-type]
        )
        context.set_default_timeout(15_000)
        self._zones[context] = timezone_id
        return context.new_page()

    def _save(self, page: Page, name: str) -> None:
        filename = README_SHOTS.get(name)
        if filename is None and not self.everything:
            return
        path = self.out / (filename or f"{name}.png")
        page.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
        self.saved.append(path)

    def shoot(self, page: Page, scene: str) -> None:
        self._save(page, f"{scene}-desktop")
        if f"{scene}-phone" not in README_SHOTS and not self.everything:
            return
        phone = self.browser.new_context(
            storage_state=page.context.storage_state(),
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            timezone_id=self._zones[page.context],
            locale="en-GB",
            color_scheme=self.scheme,  # type: ignore[arg-type]
        )
        try:
            phone_page = phone.new_page()
            phone_page.goto(page.url)
            if phone_page.evaluate(OVERFLOWS):
                print(f"warning: {scene} scrolls sideways on a phone")
            self._save(phone_page, f"{scene}-phone")
        finally:
            phone.close()


def take_screenshots(
    base_url: str, out: Path, *, everything: bool = False, scheme: str = "light"
) -> list[Path]:
    """Walk sign-up → invite → accept on `base_url`; return the PNGs written to `out`."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    tag = secrets.token_hex(4)
    base_url = base_url.rstrip("/")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        camera = Camera(browser, base_url, out, everything=everything, scheme=scheme)
        try:
            robin = camera.person("Europe/London")
            robin.goto("/signup/")
            camera.shoot(robin, "signup")
            sign_up(robin, name="Robin", email=f"robin-{tag}@example.com", password=PASSWORD)
            camera.shoot(robin, "welcome")
            _, code = create_invite(robin)
            robin.goto("/")
            camera.shoot(robin, "invite")

            sam = camera.person("America/New_York")
            sam.goto(f"/invite/{code}/")
            camera.shoot(sam, "invited")
            sam.get_by_role("link", name="Create an account to join").click()
            sign_up(sam, name="Sam", email=f"sam-{tag}@example.com", password=PASSWORD)
            camera.shoot(sam, "accept")
            sam.get_by_role("button", name="Accept and pair with Robin").click()
            sam.wait_for_load_state()
            camera.shoot(sam, "paired")

            robin.goto("/")
            camera.shoot(robin, "home")
            robin.goto("/couple/")
            camera.shoot(robin, "couple")
            robin.goto("/couple/unpair/")
            camera.shoot(robin, "unpair")
        finally:
            browser.close()
    return camera.saved


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="a running Nuzzle, e.g. http://127.0.0.1:8765")
    parser.add_argument("--out", type=Path, default=Path("docs"), help="folder (default: docs)")
    parser.add_argument("--all", action="store_true", help="every step, not only the README's")
    parser.add_argument("--color-scheme", choices=["light", "dark"], default="light")
    args = parser.parse_args(argv)
    for path in take_screenshots(args.url, args.out, everything=args.all, scheme=args.color_scheme):
        print(f"{path}  {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
