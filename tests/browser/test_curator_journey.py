"""A curator tends the prompt bank in the Django admin, in a real browser (Debian Chromium via
Playwright): log in, find a prompt by search, edit it, publish two drafts in bulk, export the
bank as CSV, import a small CSV (upload, review, confirm), and find every page outside the
prompt bank closed. The admin's own JavaScript runs under the site's CSP: no console errors.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.contrib.auth.models import Group, Permission
from playwright.sync_api import expect

from nuzzle.couples.models import User
from prompts.models import Prompt
from tests.factories import new_user

pytestmark = pytest.mark.browser

PASSWORD = "a quiet library afternoon"
CHANGELIST = "/admin/prompts/prompt/"
# The curator group's permissions (prompts/migrations/0003_curator_group.py).
CURATOR_CODENAMES = (
    "add_prompt",
    "change_prompt",
    "delete_prompt",
    "view_prompt",
    "view_historicalprompt",
)


@pytest.fixture
def curator(transactional_db) -> User:
    """A staff member in the curator group. The live server's database is flushed between
    tests, so the group the migration made may be gone: recreate it the same way."""
    group, _ = Group.objects.get_or_create(name="curator")
    group.permissions.set(
        Permission.objects.filter(content_type__app_label="prompts", codename__in=CURATOR_CODENAMES)
    )
    user = new_user(email="curator@example.com", display_name="Cur", is_staff=True)
    user.set_password(PASSWORD)
    user.save()
    user.groups.add(group)
    return user


@pytest.fixture
def bank(transactional_db) -> dict[str, Prompt]:
    def prompt(key: str, text: str, **fields: object) -> Prompt:
        defaults: dict[str, object] = {"kind": "question", "dimension": "emotional"}
        return Prompt.objects.create(key=key, text=text, **{**defaults, **fields})

    return {
        "lighthouse": prompt(
            "lighthouse-walk",
            "If we walked to a lighthouse tomorrow, what would you want to talk about?",
            status="published",
        ),
        "draft-a": prompt("draft-a", "What made you laugh this week?"),
        "draft-b": prompt("draft-b", "Which small habit of mine do you secretly like?"),
        "to-update": prompt("to-update", "Old wording", status="published"),
    }


def test_a_curator_tends_the_prompt_bank(person, curator, bank, browser_errors, tmp_path):
    page = person()

    # Log in at the admin's own login page.
    page.goto("/admin/login/")
    page.get_by_label("Email address").fill(curator.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    prompts_link = page.get_by_role("rowheader", name="Prompts").get_by_role("link")
    expect(prompts_link).to_be_visible()
    # Only the prompt bank is listed for a curator.
    expect(page.get_by_role("link", name="Users")).to_have_count(0)
    expect(page.get_by_role("link", name="Check-ins")).to_have_count(0)

    # Find a prompt by a word of its text, open it, edit it.
    prompts_link.click()
    expect(page.get_by_test_id("published-now")).to_contain_text("Published now: 2 daily question")
    page.locator("#searchbar").fill("lighthouse")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("1 result")).to_be_visible()
    page.get_by_role("link", name="lighthouse-walk").click()
    expect(page.get_by_text("See it as partners do")).to_be_visible()
    new_text = "If we walked to a lighthouse at dawn, what would we talk about?"
    page.get_by_label("Text").fill(new_text)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    bank["lighthouse"].refresh_from_db()
    assert bank["lighthouse"].text == new_text

    # The edit history shows who changed what; the preview shows it as partners see it.
    page.goto(f"{CHANGELIST}{bank['lighthouse'].pk}/history/")
    history = page.locator("#change-history")
    expect(history).to_contain_text("Changed")
    expect(history).to_contain_text("at dawn")
    page.goto(f"{CHANGELIST}{bank['lighthouse'].pk}/change/")
    page.get_by_role("link", name="See it as partners do").click()
    expect(page.get_by_test_id("preview")).to_contain_text(new_text)
    expect(page.get_by_role("heading", name="Today's question")).to_be_visible()

    # Adding a prompt: the admin's own script fills in the key from the text.
    page.goto(f"{CHANGELIST}add/")
    page.get_by_label("Text").fill("What song takes you straight back?")
    page.get_by_label("Text").press("Tab")  # prepopulate.js listens for change/keyup
    expect(page.get_by_label("Key")).to_have_value("what-song-takes-you-straight-back")

    # Publish the two drafts in bulk from the action bar.
    page.goto(f"{CHANGELIST}?status__exact=draft")
    for key in ("draft-a", "draft-b"):
        page.locator(f'input[name="_selected_action"][value="{bank[key].pk}"]').check()
    expect(page.locator(".action-counter")).to_contain_text("2 of 2 selected")  # actions.js ran
    page.locator('select[name="action"]').select_option("publish_selected")
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".messagelist")).to_contain_text("Published 2 prompts.")
    statuses = dict(Prompt.objects.values_list("key", "status"))
    assert (statuses["draft-a"], statuses["draft-b"]) == ("published", "published")

    # Export the bank as CSV: a real download.
    page.goto(CHANGELIST)
    page.get_by_role("link", name="Export").click()
    page.get_by_label("Format").select_option(label="csv")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Submit").click()
    download = download_info.value
    assert re.fullmatch(r"Prompt-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    exported = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert {row["key"] for row in exported} == {key.key for key in bank.values()}
    assert "id" not in exported[0]

    # Import a small CSV: one prompt updated by key, one new. Upload, review, confirm.
    upload = tmp_path / "new-prompts.csv"
    upload.write_text(
        "key,text,kind,dimension,depth,status\n"
        "to-update,What would you like more of this month?,question,emotional,2,published\n"
        "first-kiss,Where should our next first date be?,question,experiential,1,draft\n",
        encoding="utf-8",
    )
    page.goto(CHANGELIST)
    page.get_by_role("link", name="Import").click()
    # guess_format.js binds its listener on DOM ready: a file chosen before then
    # is never looked at, so wait for the page to finish loading first.
    page.wait_for_url("**/import/", wait_until="load")
    page.get_by_label("File to import").set_input_files(upload)
    # guess_format.js picks the format from the file's extension.
    expect(page.get_by_label("Format")).to_have_value("0")
    page.get_by_role("button", name="Submit").click()
    preview = page.locator("table.import-preview")
    expect(preview).to_contain_text("What would you like more of this month?")
    expect(preview).to_contain_text("first-kiss")
    assert Prompt.objects.count() == 4  # nothing stored before confirming
    page.get_by_role("button", name="Confirm import").click()
    expect(page.locator(".messagelist")).to_contain_text("1 new")
    expect(page.locator(".messagelist")).to_contain_text("1 updated")
    assert Prompt.objects.count() == 5
    assert Prompt.objects.get(key="to-update").text == "What would you like more of this month?"
    assert Prompt.objects.get(key="first-kiss").status == "draft"

    # No console errors so far: the admin's scripts (actions, prepopulate, import-export's
    # format guess) ran, and nothing inline was refused by the CSP.
    assert browser_errors == [], "\n".join(browser_errors)

    # Outside the prompt bank, every page is closed to a curator.
    for url in ("/admin/couples/user/", "/admin/checkins/checkin/", "/admin/auth/group/"):
        response = page.goto(url)
        assert response is not None
        assert response.status == 403, url
    # Chromium logs each of those refusals to the console, and asks the bare 403 page
    # (Django's, with no icon link) for /favicon.ico: expected here, and only here.
    browser_errors[:] = [
        e
        for e in browser_errors
        if "status of 403 (Forbidden)" not in e and not e.endswith("/favicon.ico]")
    ]
