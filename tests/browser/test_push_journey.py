"""Notifications on a person's devices, in real Chromium (Debian's, via Playwright).

A person turns notifications on for this browser from the nudges page, sees the device
listed, sends themselves a test notification, gets a real nudge as a notification and
no email, taps the notification to land on its page, turns notifications off, removes a
device without JavaScript and chooses how nudges reach them. Where push cannot work the
page says why instead of offering a button that fails. axe-core checks the page.

What is stood in for, and nothing else:

- **The browser's push service.** Headless Chromium here reaches no push service, so
  `PushManager.subscribe()` cannot work. An init script makes `subscribe` and
  `getSubscription` give a `PushSubscription`-shaped object whose endpoint and keys come
  from `tests.pushservice.PushServiceStandIn`: the server's pushes really go there,
  encrypted for and decrypted with that subscription's keys, with VAPID checked.
  `BrowserPush` records the application-server key the page subscribed with.
- **The push reaching the device.** The stand-in's decrypted payload goes to the real
  service worker through DevTools (`ServiceWorker.deliverPushMessage`), as a phone's
  push service would deliver it; the worker shows the notification.
- **The tap.** No DevTools command taps a notification, and the operating system's
  notification is out of reach headless, so `ServiceWorker.click` dispatches a real
  `NotificationEvent` (the shown notification, from `getNotifications()`) to the real
  `notificationclick` handler, evaluated in the worker. Only what a script-made event
  cannot have is stood in for, during that one dispatch: `waitUntil` (the browser
  refuses it on a script-made event; the stand-in keeps the promise and the test waits
  on it) and the right to focus or open a window that only a real tap grants
  (`WindowClient.focus` resolves with the window unfocused; `Clients.openWindow`
  records the URL it was asked for). `notification.close()`, `clients.matchAll()` and
  `WindowClient.navigate()` are the browser's own: the page really navigates.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import expect

from nuzzle.lib.timezones import local_date
from nuzzle.nudges import services, webpush
from nuzzle.nudges.delivery import nudges_deliver
from nuzzle.nudges.kinds import Kind
from nuzzle.nudges.models import Nudge, NudgePreferences, PushDevice
from tests import days
from tests.browser.journey import OVERFLOWS, PHONE, assert_accessible, log_in
from tests.factories import new_nudge, new_user
from tests.pushservice import PushServiceStandIn, Subscription

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Locator, Page

pytestmark = pytest.mark.browser

PASSWORD = "a calm evening walk"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

# PushManager, as far as the page can tell, with the subscription kept by the test
# (`BrowserPush`, through the `__standInPush` binding) rather than by a push service.
_PUSH_MANAGER = """
(function () {
  if (!("PushManager" in window)) return;
  function bytes(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(b64 + "===".slice((b64.length + 3) % 4));
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  function base64url(source) {
    var view = source instanceof ArrayBuffer ? new Uint8Array(source)
      : new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
    var raw = "";
    for (var i = 0; i < view.length; i++) raw += String.fromCharCode(view[i]);
    return btoa(raw).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  }
  function subscription(found) {
    if (!found) return null;
    return {
      endpoint: found.endpoint,
      expirationTime: null,
      options: { userVisibleOnly: true, applicationServerKey: bytes(found.key).buffer },
      getKey: function (name) { return bytes(found.keys[name]).buffer; },
      toJSON: function () {
        return { endpoint: found.endpoint, expirationTime: null,
                 keys: { p256dh: found.keys.p256dh, auth: found.keys.auth } };
      },
      unsubscribe: function () {
        return window.__standInPush("unsubscribe").then(function () { return true; });
      },
    };
  }
  PushManager.prototype.subscribe = function (options) {
    var key = options && options.applicationServerKey;
    if (!key) {
      return Promise.reject(new DOMException("no applicationServerKey", "AbortError"));
    }
    if (Notification.permission !== "granted") {
      return Promise.reject(new DOMException("permission denied", "NotAllowedError"));
    }
    var text = typeof key === "string" ? key : base64url(key);
    return window.__standInPush("subscribe", text).then(subscription);
  };
  PushManager.prototype.getSubscription = function () {
    return window.__standInPush("get").then(subscription);
  };
})();
"""


class BrowserPush:
    """The push registration of one browser context: `subscription` (from the push
    service stand-in, or any `tests.pushservice.Subscription`) once the page has
    subscribed, none after it unsubscribed. `keys` lists the application-server keys
    the page subscribed with, in order. Install before the context's next navigation."""

    def __init__(self, context: BrowserContext, subscription: Subscription) -> None:
        self.subscription = subscription
        self.key: str | None = None  # subscribed with this key; None: not subscribed
        self.keys: list[str] = []
        context.expose_binding("__standInPush", self._call)
        context.add_init_script(_PUSH_MANAGER)

    def _call(self, source: Any, action: str, key: str | None = None) -> dict[str, Any] | None:
        if action == "subscribe" and key is not None:
            self.key = key
            self.keys.append(key)
        elif action == "unsubscribe":
            self.key = None
        if self.key is None:
            return None
        return {**self.subscription.as_json(), "key": self.key}


# Every notification the worker shows now, as plain data.
_SHOWN = """async (tag) => {
  const shown = await self.registration.getNotifications(tag ? { tag } : undefined);
  return shown.map((n) => ({
    title: n.title, body: n.body, tag: n.tag, url: n.data && n.data.url,
  }));
}"""

# A tap on the notification with `tag`, through the worker's own notificationclick
# handler (see the module docstring for what is stood in for, and why).
_CLICK = """async (tag) => {
  const [notification] = await self.registration.getNotifications({ tag });
  if (!notification) throw new Error("no notification with the tag " + tag);
  const event = new NotificationEvent("notificationclick", { notification });
  const kept = [], opened = [];
  const waitUntil = ExtendableEvent.prototype.waitUntil;
  const focus = WindowClient.prototype.focus;
  const openWindow = Clients.prototype.openWindow;
  ExtendableEvent.prototype.waitUntil = function (promise) {
    if (this !== event) return waitUntil.call(this, promise);
    kept.push(promise);
  };
  WindowClient.prototype.focus = function () { return Promise.resolve(this); };
  Clients.prototype.openWindow = function (url) { opened.push(url); return Promise.resolve(null); };
  try {
    self.dispatchEvent(event);
    const late = new Promise((_, fail) => setTimeout(() => fail(new Error("still busy")), 10000));
    const done = await Promise.race([Promise.all(kept), late]);
    return { waited: kept.length, opened,
             landed: done.map((client) => (client && client.url) || null) };
  } finally {
    ExtendableEvent.prototype.waitUntil = waitUntil;
    WindowClient.prototype.focus = focus;
    Clients.prototype.openWindow = openWindow;
  }
}"""


class ServiceWorker:
    """The site's service worker in `page`'s browser context, reached through DevTools:
    pushes delivered as a push service would, the notifications it shows, and taps."""

    def __init__(self, page: Page, origin: str) -> None:
        self.page, self.origin = page, origin
        self.cdp = page.context.new_cdp_session(page)
        registrations: list[dict[str, Any]] = []
        self.errors: list[Any] = []
        self.cdp.on(
            "ServiceWorker.workerRegistrationUpdated",
            lambda event: registrations.extend(event["registrations"]),
        )
        self.cdp.on("ServiceWorker.workerErrorReported", lambda event: self.errors.append(event))
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        self.cdp.send("ServiceWorker.enable")
        self.registration_id = self._until(
            lambda: next(
                (r["registrationId"] for r in registrations if r["scopeURL"] == f"{origin}/"),
                None,
            ),
            "the service worker's registration",
        )

    def _until(self, found: Any, what: str, seconds: float = 10) -> Any:
        deadline = time.monotonic() + seconds
        while (value := found()) is None or value == []:
            if time.monotonic() > deadline:
                raise AssertionError(f"gave up waiting for {what}")
            self.page.wait_for_timeout(50)
        return value

    def _worker(self) -> Any:
        workers = [w for w in self.page.context.service_workers if w.url.startswith(self.origin)]
        return workers[0] if workers else self.page.context.wait_for_event("serviceworker")

    def shown(self, tag: str | None = None) -> list[dict[str, Any]]:
        return self._worker().evaluate(_SHOWN, tag)

    def push(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        """Deliver `data` as the push service would; the notifications with its tag.
        A delivery right after DevTools attached is sometimes dropped before the worker
        sees it, so an unshown push is sent again (twice at most); the tag makes a
        repeat replace, never add, so one push is still one notification."""
        for _ in range(3):
            self.cdp.send(
                "ServiceWorker.deliverPushMessage",
                {
                    "origin": self.origin,
                    "registrationId": self.registration_id,
                    "data": json.dumps(data),
                },
            )
            try:
                return self._until(lambda: self.shown(data["tag"]), "the notification", 3)
            except AssertionError:
                continue
        return []

    def no_window_left(self) -> None:
        """Wait until the worker sees no window of the site: a page that navigated away
        stays one of its clients for a moment, and a tap then goes to that window."""
        script = """async (origin) => (await self.clients.matchAll(
          { type: "window", includeUncontrolled: true }
        )).filter((client) => new URL(client.url).origin === origin).length"""
        self._until(
            lambda: True if self._worker().evaluate(script, self.origin) == 0 else None,
            "the app's last window to close",
        )

    def click(self, tag: str) -> dict[str, Any]:
        """Tap the notification with `tag`: what the handler waited on, which windows
        it asked to open and where the focused window landed."""
        return self._worker().evaluate(_CLICK, tag)


@pytest.fixture
def push_service(settings) -> Iterator[PushServiceStandIn]:
    """The push service stand-in on loopback, which the app may POST to."""
    settings.WEBPUSH_ALLOW_HTTP = True
    settings.WEBPUSH_ENDPOINT_HOSTS = ["127.0.0.1"]
    with PushServiceStandIn() as service:
        service.expect_public_key(webpush.public_key())
        yield service


def devices_card(page: Page) -> Locator:
    return page.get_by_role("region", name="Notifications on your devices")


def this_device(page: Page) -> Locator:
    """What the card says about this browser."""
    return devices_card(page).get_by_role("status")


def nudge_evening(zone: str) -> datetime:
    """19:00 today in `zone` (the default nudge time, outside the default quiet hours),
    whatever the hour the test runs at."""
    return days.local_time(local_date(zone), zone, hour=19)


def test_notifications_on_this_device_from_turning_on_to_a_tapped_nudge(
    person, site, browser_errors, push_service, transactional_db, mailoutbox
):
    robin = new_user(display_name="Robin", password=PASSWORD)
    page = person(viewport=PHONE)
    here = BrowserPush(page.context, push_service.subscribe())
    subscription = here.subscription
    log_in(page, email=robin.email, password=PASSWORD)

    page.goto("/account/nudges/")
    expect(this_device(page)).to_have_text("Notifications are off for this device.")
    expect(devices_card(page).get_by_test_id("no-devices")).to_be_visible()
    page.context.grant_permissions(["notifications"], origin=site.url)
    with page.expect_navigation():  # on, then the page reloads to list the device
        devices_card(page).get_by_role("button", name="Turn on notifications here").click()
    expect(devices_card(page).get_by_test_id("device-list")).to_contain_text("Chrome on Linux")
    expect(this_device(page)).to_have_text("Notifications are on for this device.")
    expect(devices_card(page).get_by_role("button", name="Turn off here")).to_be_visible()
    expect(
        devices_card(page).get_by_role("button", name="Turn on notifications here")
    ).to_be_hidden()
    assert_accessible(page, "nudges, a device listed and on")
    assert not page.evaluate(OVERFLOWS), "the nudges page scrolls sideways on a phone"

    # (Through the page: Playwright's own request client keeps its connection to the
    # live server open past the test.)
    answer = page.evaluate("fetch('/api/v1/push/key').then(function (r) { return r.json(); })")
    assert here.keys == [answer["public_key"]]
    device = PushDevice.objects.get(user=robin)
    assert (device.endpoint, device.p256dh, device.auth, device.name) == (
        subscription.endpoint,
        subscription.p256dh,
        subscription.auth,
        "Chrome on Linux",
    )

    # A test notification: pushed at once, one request, encrypted for this browser.
    devices_card(page).get_by_role("button", name="Send a test notification").click()
    expect(page.get_by_text("Sent a test notification to your device.")).to_be_visible()
    (received,) = push_service.received
    assert received.vapid_ok
    assert received.problems == []
    (test_push,) = push_service.delivered(subscription)
    assert test_push["url"] == "/account/nudges/"

    # The phone's push service hands it to the service worker: one notification.
    worker = ServiceWorker(page, site.url)
    assert worker.push(test_push) == [test_push]
    page.goto("/account/")  # the person is elsewhere in the app when they tap it
    tapped = worker.click(test_push["tag"])
    assert tapped == {"waited": 1, "opened": [], "landed": [f"{site.url}/account/nudges/"]}
    expect(page).to_have_url(f"{site.url}/account/nudges/")
    assert worker.shown(test_push["tag"]) == []  # tapping closed it

    # A real nudge at 19:00 in Robin's zone: one push to this device and no email.
    services.preferences_update(user=robin, kinds={Kind.CHECKIN_REMINDER.value: True})
    # Delivery's clock is pinned by `now`; the process clock runs on, so its time
    # budget still ends a run that went wrong (a frozen clock would spin forever).
    evening = nudge_evening(robin.timezone)
    nudge = new_nudge(
        user=robin,
        kind=Kind.CHECKIN_REMINDER,
        scheduled_for=evening,
        next_attempt_at=evening,
        created_at=evening,
    )
    result = nudges_deliver(now=evening, time_budget_seconds=20)
    assert (result.sent, result.retried, result.failed) == (1, 0, 0)
    nudge.refresh_from_db()
    assert (nudge.status, nudge.sent_via) == (Nudge.Status.SENT, "push")
    assert mailoutbox == []
    assert len(push_service.received) == 2
    assert all(r.vapid_ok and not r.problems for r in push_service.received)
    nudge_push = push_service.delivered(subscription)[1]
    assert nudge_push["url"] == "/checkin/"
    assert worker.push(nudge_push) == [nudge_push]
    # Tapped with no window of the app open: the worker asks for one at the nudge's page.
    page.goto("about:blank")
    worker.no_window_left()
    tapped = worker.click(nudge_push["tag"])
    assert tapped == {"waited": 1, "opened": [f"{site.url}/checkin/"], "landed": [None]}
    assert worker.errors == []

    # Removed from the list (as a push service's 410 would): this browser still holds its
    # subscription, but the page no longer calls it on, and turning on brings it back.
    page.goto("/account/nudges/")
    expect(devices_card(page).get_by_text("this device", exact=True)).to_be_visible()
    device = PushDevice.objects.get(user=robin)
    device.delete()
    page.reload()
    expect(this_device(page)).to_have_text("Notifications are off for this device.")
    with page.expect_navigation():
        devices_card(page).get_by_role("button", name="Turn on notifications here").click()
    expect(this_device(page)).to_have_text("Notifications are on for this device.")
    assert PushDevice.objects.get(user=robin).endpoint == subscription.endpoint

    # Off again here: the device leaves the list and the server.
    with page.expect_navigation():
        devices_card(page).get_by_role("button", name="Turn off here").click()
    expect(this_device(page)).to_have_text("Notifications are off for this device.")
    expect(devices_card(page).get_by_test_id("no-devices")).to_be_visible()
    assert not PushDevice.objects.filter(user=robin).exists()
    assert here.key is None
    assert len(push_service.received) == 2  # turning off sends nothing


def test_a_device_is_removed_without_javascript_and_the_channel_choice_saves(
    person, site, browser_errors, push_service, transactional_db
):
    robin = new_user(display_name="Robin", password=PASSWORD)
    elsewhere = push_service.subscribe()
    services.device_register(
        user=robin,
        endpoint=elsewhere.endpoint,
        p256dh=elsewhere.p256dh,
        auth=elsewhere.auth,
        name="Firefox on Android",
    )
    page = person(viewport=PHONE, javascript=False)
    log_in(page, email=robin.email, password=PASSWORD)
    page.goto("/account/nudges/")
    # (Playwright leaves <noscript> out of an element's text; the page shows it.)
    expect(this_device(page)).to_have_text(
        "Turning on notifications needs JavaScript in this browser. Nudges still come by email.",
        use_inner_text=True,
    )
    devices_card(page).get_by_role("button", name="Remove Firefox on Android").click()
    expect(page.get_by_text("Notifications are off for that device.")).to_be_visible()
    expect(devices_card(page).get_by_test_id("no-devices")).to_be_visible()
    assert not PushDevice.objects.filter(user=robin).exists()
    assert push_service.received == []

    choice = page.get_by_role("radio", name="Notifications and email")
    choice.check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    page.reload()
    expect(choice).to_be_checked()
    assert NudgePreferences.objects.get(user=robin).channels == "both"


def test_where_notifications_cannot_work_the_page_says_why(
    person, site, browser, browser_errors, transactional_db
):
    robin = new_user(display_name="Robin", password=PASSWORD)
    signed_in = person()
    log_in(signed_in, email=robin.email, password=PASSWORD)
    cookies = signed_in.context.cookies()

    def opened(page: Page) -> Page:
        page.context.add_cookies(cookies)
        page.goto("/account/nudges/")
        return page

    # A browser without the Push API.
    no_push = person()
    no_push.context.add_init_script("delete window.PushManager;")
    opened(no_push)
    expect(this_device(no_push)).to_have_text(
        "This browser can't show notifications from websites. Nudges still come by email."
    )

    # Safari on an iPhone, outside the Home Screen: no Push API until Nuzzle is added.
    iphone = person(viewport=PHONE)
    iphone.context.add_init_script("delete window.PushManager;")
    safari = iphone.context.new_cdp_session(iphone)  # the override lasts as long as it
    safari.send("Emulation.setUserAgentOverride", {"userAgent": IPHONE, "platform": "iPhone"})
    opened(iphone)
    expect(this_device(iphone)).to_contain_text(
        "On iPhone and iPad, notifications work once Nuzzle is on your Home Screen"
    )

    # Notifications blocked for the site in this browser.
    blocked = person(viewport=PHONE)
    target = blocked.context.new_cdp_session(blocked).send("Target.getTargetInfo")
    permissions = browser.new_browser_cdp_session()  # the setting lasts as long as it
    permissions.send(
        "Browser.setPermission",
        {
            "permission": {"name": "notifications"},
            "setting": "denied",
            "origin": site.url,
            "browserContextId": target["targetInfo"]["browserContextId"],
        },
    )
    opened(blocked)
    assert blocked.evaluate("Notification.permission") == "denied"
    expect(this_device(blocked)).to_have_text(
        "Notifications are blocked for this site in this browser. Allow them in the "
        "browser's site settings, then come back here."
    )
    assert_accessible(blocked, "nudges, notifications blocked")

    for page in (no_push, iphone, blocked):
        expect(
            devices_card(page).get_by_role("button", name="Turn on notifications here")
        ).to_be_hidden()
        expect(devices_card(page).get_by_role("button", name="Turn off here")).to_be_hidden()
    permissions.detach()
