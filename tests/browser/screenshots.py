"""Refresh the screenshots in docs/ by walking the journeys on a running Nuzzle.

Not a test: it drives Debian Chromium (see `journey.py`) against a live server through
sign-up, invite and accept; then writes three weeks of past check-ins for the new couple
straight into the database (past days can't be written through the app, by design); then
both check in through the pages and Sam turns toward Robin (a hug and a reply). It signs up
two throwaway people (robin-<random>@example.com, sam-<random>@example.com) and writes to
the database the server uses, so point it at a development server, never at a real one,
with the same DATABASE_URL for both::

    export DATABASE_URL=sqlite:////tmp/nuzzle-shots.sqlite3  # keep your dev data out of it
    export SITE_URL=https://nuzzle.example.org               # how the invite link reads
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py runserver 127.0.0.1:8765 --noreload &
    .venv/bin/python -m tests.browser.screenshots http://127.0.0.1:8765
    kill %1

By default it writes the four images the README uses into docs/:

    screenshot-home-desktop.png     the paired home ("Us today"), 1280 wide: both check-ins,
                                    a response, three weeks of moods
    screenshot-home-phone.png       the same on a phone, 390 wide, down to the mood chart
    screenshot-invite-desktop.png   the unpaired home with an invite link, 1280 wide
    screenshot-checkin-phone.png    the check-in form, filled in, on a phone

and three of Nuzzle as an app on a phone, 390 wide:

    screenshot-app-phone.png           Robin's home as the installed app shows it: one
                                       screen, the tab bar at its foot
    screenshot-devices-phone.png       the nudges page's "Notifications on your devices"
                                       card, after turning notifications on in an Android
                                       Chrome: one device listed, this device on
    screenshot-notification-phone.png  a MOCK-UP, labelled as one: a lock screen drawn
                                       around Nuzzle's real push payload for Robin's
                                       question_ready nudge (a headless browser cannot
                                       photograph the system's notifications)

Turning notifications on needs a push service, which headless Chromium cannot reach: the
page subscribes through `test_push_journey.BrowserPush`, which hands it a subscription
with fresh keys and an endpoint on fcm.googleapis.com (one of WEBPUSH_ENDPOINT_HOSTS's
defaults). The server accepts and lists it; nothing is pushed to it.

`--all --out var/screenshots` also writes every step (sign-up, invite, accept, paired
home, check-in, Sam's home, history, couple settings, unpair) at both sizes, for reviewing
the pages; add `--color-scheme dark` to review the dark theme. From Python (with Django
set up): `take_screenshots(url, out)`.
"""

from __future__ import annotations

import argparse
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from tests.browser.journey import (
    DESKTOP,
    OVERFLOWS,
    PHONE,
    check_in,
    create_invite,
    launch_chromium,
    react,
    reply,
    sign_up,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, FloatRect, Locator, Page

README_SHOTS = {
    "home-desktop": "screenshot-home-desktop.png",
    "home-phone": "screenshot-home-phone.png",
    "invite-desktop": "screenshot-invite-desktop.png",
    "checkin-phone": "screenshot-checkin-phone.png",
}
# Nuzzle as an app on a phone (see the module docstring).
APP_SHOTS = {
    "app-phone": "screenshot-app-phone.png",
    "devices-phone": "screenshot-devices-phone.png",
    "notification-phone": "screenshot-notification-phone.png",
}
DOCS_SHOTS = {**README_SHOTS, **APP_SHOTS}
PASSWORD = "a calm evening walk"
# What the devices shot's browser says it is: the device is listed as "Chrome on Android".
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
NOTIFICATION_MOCK = Path(__file__).with_name("notification_mock.html")
APP_ICON = Path(__file__).resolve().parents[2] / "static" / "img" / "icons" / "icon-192.png"

# Three weeks and a bit of life before today, oldest first: (mood, question key, answer) per
# day, the answer optional; None for a day someone skipped (missing a day is fine: a gap).
Day = tuple[int, str, str] | tuple[int] | None
ROBIN_DAYS: list[Day] = [
    (3,),
    (4, "checkin-looking-forward", "Seeing Jo at the weekend."),
    None,
    (3, "checkin-mental-space", "Settling back in after the trip."),
    (4,),
    (4, "checkin-looking-forward", "Pottery class tonight!"),
    None,
    (3,),
    (2, "checkin-mental-space", "The deadline is eating everything."),
    (2,),
    (3, "checkin-small-win", "Slept properly for once."),
    (4,),
    None,
    (4, "checkin-grateful", "A long walk by the river."),
    (5, "checkin-looking-forward", "My sister arrives tomorrow."),
    (4,),
    (3, "checkin-energy-drain", "Meetings drained me; soup helped."),
    (3,),
    None,
    (4, "checkin-small-win", "Finished the big report."),
    (5,),
    (4, "checkin-grateful", "The market with you this morning."),
    (4, "checkin-want-to-talk", "Holiday plans? No rush."),
]
SAM_DAYS: list[Day] = [
    (3,),
    None,
    (4,),
    (4,),
    (3, "checkin-mental-space", "Busy week at the clinic."),
    None,
    (3, "checkin-body-feels", "Back is sore again."),
    (4,),
    (4, "checkin-looking-forward", "Booked the train for May!"),
    (3,),
    None,
    (2, "checkin-need-from-me", "A quiet night in, please."),
    (3,),
    (3, "checkin-small-win", "Better today. Long lunch helped."),
    (4,),
    (5, "checkin-small-win", "Got the new role!"),
    (4,),
    None,
    (3, "checkin-body-feels", "Tired but okay."),
    (4,),
    (4, "checkin-grateful", "Band practice was so much fun."),
    None,
    (3, "checkin-need-from-me", "Could you sort the bins tonight?"),
]
TODAY_ROBIN = "Nervous about Thursday's presentation, but ready."
TODAY_SAM = "Mostly the kitchen leak. Plumber comes at 9."
SAM_REPLY = "You've got this. Practise on me tonight?"


def _django() -> None:
    """Set up Django in this process, on the same database as the server (DATABASE_URL)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nuzzle.settings")
    # Playwright's sync API runs an asyncio loop in this thread; these ORM calls are
    # plain blocking writes to a development database, so allow them.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    django.setup()


def seed_history(robin_email: str, sam_email: str) -> None:
    """Write three weeks of past check-ins (and a few responses) for a freshly paired couple,
    straight into the database: past days can't be written through the app, by design."""
    from checkins.models import Checkin, CheckinAnswer, CheckinResponse, Reaction, Visibility
    from nuzzle.couples.models import User
    from nuzzle.couples.scoping import couple_context
    from nuzzle.lib.timezones import local_date
    from prompts.models import Prompt

    robin = User.objects.get(email=robin_email)
    sam = User.objects.get(email=sam_email)
    context = couple_context(robin)
    assert context is not None, "pair the two before seeding their history"
    questions = {p.key: p for p in Prompt.objects.filter(kind=Prompt.Kind.CHECKIN)}
    reactions = [Reaction.HEART, Reaction.HUG, Reaction.PROUD, Reaction.SAME]
    for person, partner, days in ((robin, sam, ROBIN_DAYS), (sam, robin, SAM_DAYS)):
        today = local_date(person.timezone)
        for offset, entry in enumerate(reversed(days), start=1):
            if entry is None:
                continue
            checkin = Checkin.objects.create(
                author=person,
                couple=context.couple,
                local_date=today - timedelta(days=offset),
                mood=entry[0],
                energy=2 + (offset % 3),
                visibility=Visibility.SHARED,
            )
            if len(entry) == 3:
                _, key, text = entry
                CheckinAnswer.objects.create(checkin=checkin, prompt=questions[key], text=text)
                CheckinResponse.objects.create(
                    checkin=checkin,
                    checkin_date=checkin.local_date,
                    author=partner,
                    reaction=reactions[offset % len(reactions)],
                )


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

    def wanted(self, name: str) -> bool:
        return name in DOCS_SHOTS or self.everything

    def path(self, name: str) -> Path:
        return self.out / DOCS_SHOTS.get(name, f"{name}.png")

    def save(self, page: Page, name: str, *, until: str | None = None) -> None:
        """Save the whole page, or only down to the element with data-testid `until`."""
        if not self.wanted(name):
            return
        path = self.path(name)
        clip: FloatRect | None = None
        if until is not None:
            bottom = page.get_by_test_id(until).evaluate(
                "e => e.getBoundingClientRect().bottom + window.scrollY"
            )
            width = page.evaluate("document.documentElement.clientWidth")
            clip = {"x": 0, "y": 0, "width": width, "height": bottom + 16}
        # On a phone the tab bar is fixed to the bottom of the screen: a screen as tall as
        # the picture shows it at the picture's foot, where it sits, not mid-page.
        viewport = page.viewport_size
        if viewport is not None and viewport["width"] == PHONE["width"]:
            height = (
                clip["height"] if clip else page.evaluate("document.documentElement.scrollHeight")
            )
            page.set_viewport_size({"width": viewport["width"], "height": int(height)})
        page.screenshot(
            path=str(path), full_page=True, clip=clip, animations="disabled", caret="hide"
        )
        if viewport is not None:
            page.set_viewport_size(viewport)
        self.saved.append(path)

    def save_screen(self, page: Page, name: str) -> None:
        """Save one screen of the page as it is now (the viewport), not the whole page."""
        if not self.wanted(name):
            return
        path = self.path(name)
        page.screenshot(path=str(path), animations="disabled", caret="hide")
        self.saved.append(path)

    def save_part(self, page: Page, name: str, part: Locator, *, margin: int = 12) -> None:
        """Save one part of the page (and a margin of the page around it), on a screen as
        tall as the page: nothing fixed to the screen's foot (the tab bar) covers it."""
        if not self.wanted(name):
            return
        path = self.path(name)
        viewport = page.viewport_size
        height = page.evaluate("document.documentElement.scrollHeight")
        if viewport is not None:
            page.set_viewport_size({"width": viewport["width"], "height": int(height)})
        box = part.bounding_box()
        assert box is not None, f"nothing to see for {name}"
        width = page.evaluate("document.documentElement.clientWidth")
        top = max(box["y"] - margin, 0)
        clip: FloatRect = {
            "x": 0,
            "y": top,
            "width": width,
            "height": box["y"] + box["height"] + margin - top,
        }
        page.screenshot(path=str(path), clip=clip, animations="disabled", caret="hide")
        if viewport is not None:
            page.set_viewport_size(viewport)
        self.saved.append(path)

    def phone(self, page: Page, *, user_agent: str | None = None) -> Page:
        """The same person (cookies, time zone) on a phone; close its context when done."""
        context = self.browser.new_context(
            base_url=self.base_url,
            storage_state=page.context.storage_state(),
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            user_agent=user_agent,
            timezone_id=self._zones[page.context],
            locale="en-GB",
            color_scheme=self.scheme,  # type: ignore[arg-type]
        )
        context.set_default_timeout(15_000)
        self._zones[context] = self._zones[page.context]
        return context.new_page()

    def shoot(self, page: Page, scene: str, *, phone_until: str | None = None) -> None:
        self.save(page, f"{scene}-desktop")
        if not self.wanted(f"{scene}-phone"):
            return
        phone_page = self.phone(page)
        try:
            phone_page.goto(page.url)
            if phone_page.evaluate(OVERFLOWS):
                print(f"warning: {scene} scrolls sideways on a phone")
            self.save(phone_page, f"{scene}-phone", until=phone_until)
        finally:
            phone_page.context.close()


def shoot_app(camera: Camera, person: Page) -> None:
    """The person's home on a phone, as the installed app shows it: one screen, the tab
    bar at its foot, and no browser around it (the picture is the page only). Nothing in
    the app looks different in `display-mode: standalone` (and this Chromium cannot
    emulate that media feature), so a phone's page is the app's screen."""
    if not camera.wanted("app-phone"):
        return
    phone = camera.phone(person)
    try:
        phone.goto("/")
        camera.save_screen(phone, "app-phone")
    finally:
        phone.context.close()


def shoot_devices(camera: Camera, person: Page) -> None:
    """The person turns notifications on in Chrome on an Android phone; the nudges page's
    card then lists the device and says this device is on."""
    if not camera.wanted("devices-phone"):
        return
    from playwright.sync_api import expect

    from tests.browser.test_push_journey import BrowserPush
    from tests.pushservice import make_subscription

    phone = camera.phone(person, user_agent=ANDROID_CHROME)
    try:
        # A listed push service's shape of endpoint: the server keeps it, sends nothing.
        endpoint = f"https://fcm.googleapis.com/fcm/send/{secrets.token_urlsafe(24)}"
        BrowserPush(phone.context, make_subscription(endpoint))
        phone.context.grant_permissions(["notifications"], origin=camera.base_url)
        phone.goto("/account/nudges/")
        card = phone.get_by_role("region", name="Notifications on your devices")
        with phone.expect_navigation():
            card.get_by_role("button", name="Turn on notifications here").click()
        expect(card.get_by_test_id("device-list")).to_contain_text("Chrome on Android")
        expect(card.get_by_role("status")).to_have_text("Notifications are on for this device.")
        camera.save_part(phone, "devices-phone", card)
    finally:
        phone.context.close()


def shoot_notification(camera: Camera, person_email: str) -> None:
    """A mock-up of a phone's lock screen with the push Nuzzle sends this person when
    today's question is waiting and their partner has answered: the title and body are
    the app's own (`channels.push.payload`), the lock screen is drawn around them."""
    if not camera.wanted("notification-phone"):
        return
    import base64

    from django.conf import settings
    from django.template import Context, Template

    from nuzzle.couples.models import User
    from nuzzle.couples.selectors import active_pairs
    from nuzzle.lib.timezones import local_date
    from nuzzle.nudges.channels.base import Addressee
    from nuzzle.nudges.channels.push import payload
    from nuzzle.nudges.kinds import Kind
    from nuzzle.nudges.models import Nudge, NudgePreferences

    person = User.objects.get(email=person_email)
    pair = active_pairs(user_ids={person.pk}).get(person.pk)
    addressee = Addressee(
        user_id=person.pk,
        email=person.email,
        display_name=person.display_name,
        timezone=person.timezone,
        partner_name=pair.partner_name if pair else None,
    )
    kind = Kind.QUESTION_READY
    row = Nudge(user=person, kind=kind.value, context={"partner_answered": True})
    message = payload(row, addressee)
    nudge_time = NudgePreferences.objects.get(user=person).nudge_time
    icon = base64.b64encode(APP_ICON.read_bytes()).decode("ascii")
    today = local_date(person.timezone)
    html = Template(NOTIFICATION_MOCK.read_text()).render(
        Context(
            {
                "app": settings.SITE_NAME,
                "kind": kind.label,
                "title": message["title"],
                "body": message["body"],
                "icon": f"data:image/png;base64,{icon}",
                "time": f"{nudge_time:%H:%M}",
                "date": f"{today:%A} {today.day} {today:%B}",
            }
        )
    )
    context = camera.browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, locale="en-GB"
    )
    try:
        page = context.new_page()
        page.set_content(html)
        camera.save_screen(page, "notification-phone")
    finally:
        context.close()


def _partner_zone(robin_zone: str) -> str:
    """Sam's zone: New York, unless it is on another date than Robin's right now (from
    midnight in London until midnight in New York), then Paris. Sam reacts to Robin's check-in
    on "today" cards, which both show only while the two live the same day, so the
    walk works at any hour."""
    from nuzzle.lib.timezones import local_date

    return next(
        zone
        for zone in ("America/New_York", "Europe/Paris")
        if local_date(zone) == local_date(robin_zone)
    )


def take_screenshots(
    base_url: str, out: Path, *, everything: bool = False, scheme: str = "light"
) -> list[Path]:
    """Walk sign-up → invite → accept → three weeks of history → both check in → Sam turns
    toward Robin → Robin turns notifications on, on `base_url`; return the PNGs written to
    `out`."""
    from playwright.sync_api import sync_playwright

    from prompts.services import prompt_bank_load

    out.mkdir(parents=True, exist_ok=True)
    tag = secrets.token_hex(4)
    robin_email, sam_email = f"robin-{tag}@example.com", f"sam-{tag}@example.com"
    base_url = base_url.rstrip("/")
    prompt_bank_load()  # the check-in questions (idempotent)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        camera = Camera(browser, base_url, out, everything=everything, scheme=scheme)
        try:
            robin = camera.person("Europe/London")
            robin.goto("/signup/")
            camera.shoot(robin, "signup")
            sign_up(robin, name="Robin", email=robin_email, password=PASSWORD)
            camera.shoot(robin, "welcome")
            _, code = create_invite(robin)
            robin.goto("/")
            camera.shoot(robin, "invite")

            sam = camera.person(_partner_zone("Europe/London"))
            sam.goto(f"/invite/{code}/")
            camera.shoot(sam, "invited")
            sam.get_by_role("link", name="Create an account to join").click()
            sign_up(sam, name="Sam", email=sam_email, password=PASSWORD)
            camera.shoot(sam, "accept")
            sam.get_by_role("button", name="Accept and pair with Robin").click()
            sam.wait_for_load_state()
            camera.shoot(sam, "paired")

            seed_history(robin_email, sam_email)

            # Robin checks in on their phone (the check-in shot is the filled-in form).
            robin.goto("/checkin/")
            camera.save(robin, "checkin-desktop")
            robin_phone = camera.phone(robin)
            robin_phone.goto("/checkin/")
            check_in(robin_phone, mood="Good", energy="Steady", answer=TODAY_ROBIN, submit=False)
            robin_phone.evaluate("document.activeElement.blur()")  # leave the field
            camera.save(robin_phone, "checkin-phone")
            check_in(robin_phone, mood="Good", energy="Steady", answer=TODAY_ROBIN)
            camera.save(robin_phone, "checkin-saved-phone")
            robin_phone.context.close()

            # Sam checks in, sees Robin's check-in, and turns toward it.
            sam.goto("/checkin/")
            check_in(sam, mood="Okay", energy="Tired", answer=TODAY_SAM)
            sam.goto("/")
            react(sam, "Sending a hug")
            reply(sam, SAM_REPLY)
            camera.shoot(sam, "home-sam")

            # Robin comes back to both check-ins, Sam's response, and three weeks of moods.
            robin.goto("/")
            react(robin, "Love this")
            robin.goto("/")
            camera.shoot(robin, "home", phone_until="showed-up")

            # Nuzzle as an app on Robin's phone: home, notifications on, a nudge arriving.
            shoot_app(camera, robin)
            shoot_devices(camera, robin)
            shoot_notification(camera, robin_email)
            robin.goto("/history/")
            camera.shoot(robin, "history")
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
    _django()
    for path in take_screenshots(args.url, args.out, everything=args.all, scheme=args.color_scheme):
        print(f"{path}  {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
