"""Fixtures for real-browser tests: Playwright (sync API) driving Debian Chromium.

Without Chromium the browser tests are skipped, unless NUZZLE_REQUIRE_BROWSER=1 (set it in
CI), which turns the missing browser into a failure instead of a silent skip.
Set NUZZLE_CHROMIUM to use a Chromium somewhere other than /usr/bin/chromium.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NoReturn

import pytest
import time_machine
from playwright.sync_api import sync_playwright

from tests import days
from tests.browser.journey import CHROMIUM, DESKTOP, launch_chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("NUZZLE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (NUZZLE_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(config, items):
    """Run the browser tests after all the others.

    While Playwright's sync API is alive, its asyncio loop counts as running in the main
    thread, so Django needs DJANGO_ALLOW_ASYNC_UNSAFE for every ORM call until the
    session ends. Running these tests last keeps that flag away from every other test
    (`manage.py check --deploy` rightly fails when it sees it). The sort is stable.
    """
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session")
def browser(django_db_setup) -> Iterator[Browser]:
    """One Chromium for the session; each test opens its own contexts (see `person`)."""
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM}: install Debian's chromium package")

    # Playwright's sync API runs an asyncio loop in this thread, and Django refuses ORM
    # calls (the test's own queries, the live server's flush) from a thread with a
    # running loop. Nothing here is really async, so it is safe to allow, from here to
    # the end of the session (the browser tests run last, see above).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = launch_chromium(playwright)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def site(live_server, settings):
    """The live server, with invite links pointing at it rather than at SITE_URL's default."""
    settings.SITE_URL = live_server.url
    return live_server


# The zones the journeys pair people in (London first: the inviter's, so the shared one).
JOURNEY_ZONES = ("Europe/London", "America/New_York", "Asia/Kolkata")


@pytest.fixture
def one_couple_day() -> Iterator[None]:
    """The server's clock (it shares this process) moved on to the next half hour at
    which people in London, New York and Kolkata all live one couple day of London's:
    a journey about a flow between partners must not depend on the hour it runs at.
    The day rule itself has its own journey (test_long_distance_journey.py)."""
    instant = days.together_in(*JOURNEY_ZONES, shared=JOURNEY_ZONES[0])
    with time_machine.travel(instant, tick=True):
        yield


@pytest.fixture
def browser_errors() -> list[str]:
    """Console errors, uncaught exceptions and Content-Security-Policy violations from
    every page a test opened.

    A test that provokes an error on purpose (Chromium logs every 4xx response to the
    console) removes what it expected; whatever is left when the test ends fails it (see
    `person`).
    """
    return []


# Reports each Content-Security-Policy violation in the page to the test, as it happens
# (on first load and after every htmx swap). Chromium logs them to the console too; the
# event is the precise record (directive, source, sample) and doesn't rest on the
# console's wording. It needs JavaScript: without it, the console is the record.
_REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  var where = event.sourceFile ? " at " + event.sourceFile + ":" + event.lineNumber : "";
  var sample = event.sample ? " (" + event.sample + ")" : "";
  window.__nuzzleCspViolation(
    event.violatedDirective + " refused " + (event.blockedURI || "?") + where + sample
  );
}, true);
"""


@pytest.fixture
def person(browser, site, browser_errors) -> Iterator[Callable[..., Page]]:
    """`person(timezone_id=..., javascript=True)` → a page in a new browser context.

    Each context has its own cookies, so two contexts are two people on two devices.
    When the test ends, any console error, uncaught exception or Content-Security-Policy
    violation seen on any of its pages (and not removed from `browser_errors` by the test,
    which may do so only for errors it caused on purpose) fails the test: a clean console
    on every page and every htmx swap is part of what these journeys check.
    CSP violations are also kept apart, where a test cannot clear them.
    """
    contexts: list[BrowserContext] = []
    violations: list[str] = []

    def open_page(
        *,
        timezone_id: str = "UTC",
        viewport: ViewportSize | None = None,
        javascript: bool = True,
    ) -> Page:
        context = browser.new_context(
            base_url=site.url,
            timezone_id=timezone_id,
            viewport=viewport or DESKTOP,
            locale="en-GB",
            java_script_enabled=javascript,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)

        def on_violation(source: Any, report: str) -> None:
            line = f"{source['page'].url}: Content-Security-Policy: {report}"
            violations.append(line)
            browser_errors.append(line)

        if javascript:
            context.expose_binding("__nuzzleCspViolation", on_violation)
            context.add_init_script(_REPORT_CSP_VIOLATIONS)
        page = context.new_page()

        def on_console(message: Any) -> None:
            if message.type == "error":
                # Where it came from (a failed resource names itself only here).
                source = (message.location or {}).get("url") or page.url
                browser_errors.append(f"{page.url}: {message.text} [{source}]")

        page.on("console", on_console)
        page.on("pageerror", lambda error: browser_errors.append(f"{page.url}: {error}"))
        return page

    yield open_page
    for context in contexts:
        context.close()
    problems = violations + [e for e in browser_errors if e not in violations]
    if problems:
        pytest.fail(
            "the browser reported errors or Content-Security-Policy violations:\n  "
            + "\n  ".join(problems),
            pytrace=False,
        )
