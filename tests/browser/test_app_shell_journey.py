"""Nuzzle as an installed app, in real Chromium: installable with no errors, a service
worker over the whole site, a push shown as a notification, and the offline page when
the connection drops — never a stored copy of a signed-in page."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import expect

if TYPE_CHECKING:
    from playwright.sync_api import Page

from tests.browser.journey import (
    CHROMIUM,
    CHROMIUM_ARGS,
    OVERFLOWS,
    PHONE,
    assert_accessible,
    create_invite,
    sign_up,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def device(browser, site, tmp_path, browser_errors) -> Iterator[Page]:
    """A phone's browser with a profile of its own on disk: Chromium installs no app
    from a private (incognito) context, which is what each `person` page has."""
    context = browser.browser_type.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=str(CHROMIUM),
        args=CHROMIUM_ARGS,
        base_url=site.url,
        viewport=PHONE,
        locale="en-GB",
    )
    context.set_default_timeout(10_000)
    page = context.pages[0] if context.pages else context.new_page()
    page.on(
        "console",
        lambda message: message.type == "error"
        and browser_errors.append(f"{page.url}: {message.text}"),
    )
    page.on("pageerror", lambda error: browser_errors.append(f"{page.url}: {error}"))
    yield page
    context.close()


def worker_ready(page: Any) -> str:
    """Waits for the service worker to control nothing less than the whole site."""
    return page.evaluate("navigator.serviceWorker.ready.then(function (r) { return r.scope; })")


class Connection:
    """The connection drops or comes back, for the page and for its service worker:
    Playwright's offline mode does not reach the worker, so the worker's own DevTools
    target is told too, through a session relayed by the page's (kept attached: the
    emulation lasts as long as the session)."""

    def __init__(self, page: Page, cdp: Any) -> None:
        self.page, self.cdp = page, cdp
        worker = next(
            target
            for target in cdp.send("Target.getTargets")["targetInfos"]
            if target["type"] == "service_worker"
        )
        attached = cdp.send(
            "Target.attachToTarget", {"targetId": worker["targetId"], "flatten": False}
        )
        self.session = attached["sessionId"]
        self.sent = 0
        self._worker("Network.enable", {})

    def _worker(self, method: str, params: dict[str, Any]) -> None:
        self.sent += 1
        message = json.dumps({"id": self.sent, "method": method, "params": params})
        self.cdp.send("Target.sendMessageToTarget", {"sessionId": self.session, "message": message})

    def set(self, *, online: bool) -> None:
        self.page.context.set_offline(not online)
        conditions = {
            "offline": not online,
            "latency": 0,
            "downloadThroughput": -1,
            "uploadThroughput": -1,
        }
        self._worker("Network.emulateNetworkConditions", conditions)


def test_the_app_installs_shows_a_push_and_works_offline(device, site, browser_errors):
    page = device
    page.goto("/login/")
    assert worker_ready(page) == f"{site.url}/"

    cdp = page.context.new_cdp_session(page)
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert errors == []
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == []
    assert json.loads(manifest["data"])["display"] == "standalone"

    # A push, as the push service would deliver it, becomes one notification.
    page.context.grant_permissions(["notifications"], origin=site.url)
    page.wait_for_function("Notification.permission === 'granted'")
    registrations: list[dict[str, Any]] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )
    worker_errors: list[Any] = []
    cdp.on("ServiceWorker.workerErrorReported", lambda event: worker_errors.append(event))
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while not registrations and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    registration = next(r for r in registrations if r["scopeURL"] == f"{site.url}/")
    network = Connection(page, cdp)  # also how the test goes offline, below
    shown = """navigator.serviceWorker.ready
        .then(function (r) { return r.getNotifications(); })
        .then(function (all) {
          return all.map(function (n) {
            return {title: n.title, body: n.body, tag: n.tag, url: n.data && n.data.url};
          });
        })"""

    def push(data: dict[str, str]) -> list[dict[str, str]]:
        """Deliver `data` as the push service would; the notifications with its tag.
        DevTools' delivery right after attaching is sometimes dropped before the worker
        sees it, so an undelivered push is sent again (twice at most); the tag makes a
        repeat replace, never add, so the count still checks that one push is one
        notification."""
        for _ in range(3):
            cdp.send(
                "ServiceWorker.deliverPushMessage",
                {
                    "origin": site.url,
                    "registrationId": registration["registrationId"],
                    "data": json.dumps(data),
                },
            )
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                found = [n for n in page.evaluate(shown) if n["tag"] == data["tag"]]
                if found:
                    return found
                page.wait_for_timeout(50)
        return []

    payload = {
        "title": "Today's question is waiting",
        "body": "Sam has answered. Your turn when you're ready.",
        "url": "/question/",
        "tag": "question_ready",
    }
    assert push(payload) == [payload]
    # A payload pointing away from the site opens the home page instead.
    elsewhere = push({"title": "x", "url": "https://elsewhere.example/", "tag": "t"})
    assert [n["url"] for n in elsewhere] == ["/"]
    assert len(page.evaluate(shown)) == 2
    assert worker_errors == []

    # Signed in, then the connection drops: the offline page, not a stored copy.
    page.goto("/signup/")
    sign_up(page, name="Robin", email="robin@example.com", password="a calm evening walk")
    expect(page.get_by_role("heading", name="Invite your partner")).to_be_visible()

    # On the phone: one header row, the daily places in a tab bar at the foot of the
    # screen, the rest behind "More".
    header = page.locator(".site-header").bounding_box()
    assert header is not None
    assert header["height"] < 70
    tabs = page.locator(".tabbar")
    bar = tabs.bounding_box()
    assert bar is not None
    assert abs(bar["y"] + bar["height"] - PHONE["height"]) < 2
    for place in ("Us today", "Check in", "Question", "Love maps"):
        expect(tabs.get_by_role("link", name=place)).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_hidden()
    page.get_by_text("More", exact=True).click()
    expect(page.get_by_role("link", name="Account")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    assert_accessible(page, "phone menu open")
    assert not page.evaluate(OVERFLOWS)
    tabs.get_by_role("link", name="Check in").click()
    expect(tabs.get_by_role("link", name="Check in")).to_have_attribute("aria-current", "page")

    assert page.evaluate("!!navigator.serviceWorker.controller")
    network.set(online=False)
    page.goto("/")
    expect(page.get_by_role("heading", name="You're offline")).to_be_visible()
    expect(page.get_by_text("Robin")).to_have_count(0)
    assert_accessible(page, "offline page")
    network.set(online=True)
    page.get_by_role("link", name="Try again").click()
    expect(page.get_by_role("heading", name="Invite your partner")).to_be_visible()

    cached = page.evaluate(
        """caches.keys().then(function (names) {
          return Promise.all(names.map(function (name) {
            return caches.open(name).then(function (c) { return c.keys(); });
          }));
        }).then(function (lists) {
          return [].concat.apply([], lists).map(function (r) { return new URL(r.url).pathname; });
        })"""
    )
    assert "/offline/" in cached
    assert all(path == "/offline/" or path.startswith("/static/") for path in cached), cached
    # The dropped connection's failed loads are the test's doing, not the app's.
    assert [e for e in browser_errors if "ERR_INTERNET_DISCONNECTED" not in e] == []


# Stands in for a phone's share sheet: records what the page asked to share.
_SHARE_SHEET = """
window.__shared = [];
navigator.share = function (data) { window.__shared.push(data); return Promise.resolve(); };
"""


def test_the_invite_goes_through_the_share_sheet_where_there_is_one(person, site, browser_errors):
    phone = person(viewport=PHONE)
    phone.context.add_init_script(_SHARE_SHEET)
    phone.goto("/signup/")
    sign_up(phone, name="Robin", email="robin@example.com", password="a calm evening walk")
    link, _ = create_invite(phone)

    phone.get_by_role("button", name="Share…").click()
    assert phone.evaluate("window.__shared") == [{"title": "Join me on Nuzzle", "url": link}]
    assert_accessible(phone, "invite with a share button")

    # A browser with no share sheet (this desktop Chromium): copying, as before.
    desktop = person()
    desktop.goto("/login/")
    assert desktop.evaluate("typeof navigator.share") != "function"
    desktop.context.add_cookies(phone.context.cookies())
    desktop.goto("/")
    expect(desktop.get_by_role("button", name="Copy")).to_be_visible()
    expect(desktop.get_by_role("button", name="Share…")).to_be_hidden()


# Stands in for the app badge API: counts the times the page cleared the badge.
_BADGE = """
window.__badgeCleared = 0;
navigator.clearAppBadge = function () { window.__badgeCleared += 1; return Promise.resolve(); };
"""


def test_opening_nuzzle_signed_in_clears_the_app_badge(person, site, browser_errors):
    page = person(viewport=PHONE)
    page.context.add_init_script(_BADGE)
    page.goto("/login/")
    assert page.evaluate("window.__badgeCleared") == 0  # nobody's badge to clear yet
    page.goto("/signup/")
    sign_up(page, name="Robin", email="robin@example.com", password="a calm evening walk")
    expect(page.get_by_role("heading", name="Invite your partner")).to_be_visible()
    page.wait_for_function("window.__badgeCleared === 1")
