"""Refresh docs/screenshot-admin-prompts.png: the prompt bank's changelist as a curator sees
it at 1280 × 800, daily questions by times asked.

Not a test. Like `screenshots.py`, it writes to the database of the server it points at
(the bundled bank, a throwaway curator and a throwaway couple whose past daily questions
give the statistics something to show), so use a development database::

    export DATABASE_URL=sqlite:////tmp/nuzzle-shots.sqlite3
    .venv/bin/python manage.py migrate && .venv/bin/python manage.py prompts_load
    .venv/bin/python manage.py runserver 127.0.0.1:8765 --noreload &
    .venv/bin/python -m tests.browser.screenshot_admin_prompts http://127.0.0.1:8765
    kill %1
"""

from __future__ import annotations

import argparse
import secrets
from datetime import date, timedelta
from pathlib import Path

from tests.browser.journey import DESKTOP, launch_chromium
from tests.browser.screenshots import _django

PASSWORD = "a quiet library afternoon"
# How often the most-asked questions were asked, and what became of each asking:
# (times asked, revealed, passed); the rest stayed open or closed unanswered.
ASKED = [(40, 31, 1), (38, 27, 6), (30, 19, 7), (29, 21, 5), (28, 19, 4), (21, 18, 1)]
ASKED += [(12 - n, 9 - n // 2, n % 3) for n in range(10)]


def seed() -> str:
    """A curator, and a couple that was asked the first questions of the bank on past
    days. Returns the curator's email."""
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from nuzzle.couples.models import User
    from nuzzle.couples.services import invite_accept, invite_create
    from prompts.models import DailyQuestion, Prompt

    tag = secrets.token_hex(3)
    curator = User.objects.create_user(
        f"curator-{tag}@example.com", PASSWORD, display_name="Cur", is_staff=True
    )
    curator.groups.add(Group.objects.get(name="curator"))
    robin = User.objects.create_user(f"robin-{tag}@example.com", PASSWORD, display_name="Robin")
    sam = User.objects.create_user(f"sam-{tag}@example.com", PASSWORD, display_name="Sam")
    couple = invite_accept(user=sam, code=invite_create(user=robin).code)

    now = timezone.now()
    questions = Prompt.objects.filter(kind=Prompt.Kind.QUESTION, status=Prompt.Status.PUBLISHED)
    day = date(2020, 1, 1)
    rows = []
    for prompt, (times, revealed, passed) in zip(questions.order_by("key"), ASKED, strict=False):
        for n in range(times):
            if n < passed:
                status, revealed_at = DailyQuestion.Status.PASSED, None
            elif n < passed + revealed:
                status, revealed_at = DailyQuestion.Status.OPEN, now
            else:
                status, revealed_at = DailyQuestion.Status.CLOSED, None
            rows.append(
                DailyQuestion(
                    couple=couple,
                    prompt=prompt,
                    couple_date=day,
                    status=status,
                    closes_at=now,
                    revealed_at=revealed_at,
                )
            )
            day += timedelta(days=1)
    DailyQuestion.objects.bulk_create(rows)
    return curator.email


def take(url: str, out: Path) -> Path:
    from playwright.sync_api import sync_playwright

    email = seed()
    path = out / "screenshot-admin-prompts.png"
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(base_url=url, viewport=DESKTOP, locale="en-GB")
            page.goto("/admin/login/")
            page.get_by_label("Email address").fill(email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.goto("/admin/prompts/prompt/?kind__exact=question&o=-4")
            page.screenshot(path=str(path))
        finally:
            browser.close()
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="a running Nuzzle, e.g. http://127.0.0.1:8765")
    parser.add_argument("--out", type=Path, default=Path("docs"), help="folder (default: docs)")
    args = parser.parse_args(argv)
    _django()
    path = take(args.url, args.out)
    print(f"{path}  {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
