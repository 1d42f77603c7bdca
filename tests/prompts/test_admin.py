"""The Django admin: curators tend the prompt bank and reach nothing else; no admin page,
for anyone, shows what a couple wrote.

A curator is staff in the "curator" group (created by prompts/migrations/0003), never a
superuser. Operators are superusers: they see account data and metadata, never content.
"""

from __future__ import annotations

import csv
import importlib
import io
import json
import re
from datetime import date, timedelta
from types import SimpleNamespace
from typing import cast

import factory
import pytest
from django.apps import apps as global_apps
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http.response import HttpResponseBase
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken

from lovemaps.models import LovemapEntry
from nuzzle.couples.models import Couple, User
from prompts.models import DailyQuestion, Prompt
from tests.factories import (
    DailyQuestionFactory,
    InviteFactory,
    new_checkin,
    new_checkin_answer,
    new_checkin_response,
    new_daily_question,
    new_lovemap_entry,
    new_question_answer,
    new_question_reaction,
    new_user,
)
from tests.queries import Queries, assert_queries_do_not_grow, capture_queries

MIGRATION = importlib.import_module("prompts.migrations.0003_curator_group")
CURATOR_PERMISSIONS = {
    "prompts.add_prompt",
    "prompts.change_prompt",
    "prompts.delete_prompt",
    "prompts.view_prompt",
    "prompts.view_historicalprompt",
}
# Unique strings planted in couple content: finding one on a page proves a leak.
MARKERS = {
    "checkin answer": "otter-quince-5531",
    "checkin reply": "saffron-lantern-8812",
    "question answer": "velvet-harbour-2719",
}
CHANGELIST = "/admin/prompts/prompt/"


class PromptFactory(factory.django.DjangoModelFactory[Prompt]):
    class Meta:
        model = Prompt

    key = factory.Sequence(lambda n: f"admin-test-prompt-{n}")
    text = factory.Sequence(lambda n: f"What would make this week {n} feel lighter?")
    kind = Prompt.Kind.QUESTION
    dimension = Prompt.Dimension.EMOTIONAL
    depth = Prompt.Depth.LIGHT
    status = Prompt.Status.DRAFT


def new_prompt(**fields: object) -> Prompt:
    return cast(Prompt, PromptFactory(**fields))


def ask(
    prompt: Prompt,
    couple: Couple,
    *,
    revealed: int = 0,
    passed: int = 0,
    open_: int = 0,
    closed: int = 0,
    start: date | None = None,
) -> None:
    """Ask `prompt` of `couple` on consecutive days: some revealed (both answered), some
    passed, some still open, some closed unanswered."""
    now = timezone.now()
    day = start or date(2025, 1, 1)
    rows = []
    kinds = (
        [(DailyQuestion.Status.OPEN, now)] * revealed
        + [(DailyQuestion.Status.PASSED, None)] * passed
        + [(DailyQuestion.Status.OPEN, None)] * open_
        + [(DailyQuestion.Status.CLOSED, None)] * closed
    )
    for offset, (status, revealed_at) in enumerate(kinds):
        rows.append(
            DailyQuestionFactory.build(
                couple=couple,
                prompt=prompt,
                couple_date=day + timedelta(days=offset),
                status=status,
                closes_at=now,
                revealed_at=revealed_at,
            )
        )
    DailyQuestion.objects.bulk_create(rows)


@pytest.fixture
def curator(db) -> User:
    user = new_user(display_name="Cur", is_staff=True)
    user.groups.add(Group.objects.get(name="curator"))
    return user


@pytest.fixture
def curator_client(curator) -> Client:
    client = Client()
    client.force_login(curator)
    return client


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("operator@example.com", "an operator's passphrase 9")


@pytest.fixture
def super_client(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def content(cast) -> SimpleNamespace:
    """One couple's content, each text carrying a marker; plus an invite and a token."""
    checkin_prompt = new_prompt(kind=Prompt.Kind.CHECKIN, status=Prompt.Status.PUBLISHED)
    question_prompt = new_prompt(status=Prompt.Status.PUBLISHED)
    checkin = new_checkin(
        author=cast.author, couple=cast.couple, local_date=date(2025, 3, 1), mood=2
    )
    new_checkin_answer(checkin=checkin, prompt=checkin_prompt, text=MARKERS["checkin answer"])
    new_checkin_response(
        checkin=checkin,
        checkin_date=checkin.local_date,
        author=cast.partner,
        reaction="hug",
        text=MARKERS["checkin reply"],
    )
    question = new_daily_question(
        couple=cast.couple,
        prompt=question_prompt,
        couple_date=date(2025, 3, 1),
        closes_at=timezone.now(),
        revealed_at=timezone.now(),
    )
    new_question_answer(question=question, author=cast.author, text=MARKERS["question answer"])
    new_question_answer(question=question, author=cast.partner, text="Both, really.")
    new_question_reaction(question=question, author=cast.partner, reaction="heart")
    invite = InviteFactory(inviter=cast.unpaired)
    AuthToken.objects.create(user=cast.author)
    return SimpleNamespace(checkin=checkin, question=question, invite=invite, cast=cast)


# --- The curator group ---------------------------------------------------------------


def perms_of(group: Group) -> set[str]:
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }


def test_migrate_creates_the_curator_group_with_exactly_the_prompt_permissions(db):
    assert perms_of(Group.objects.get(name="curator")) == CURATOR_PERMISSIONS


def test_the_curator_group_migration_reverses_and_reapplies(db):
    editor = SimpleNamespace(connection=connection)
    group = Group.objects.get(name="curator")
    group.permissions.add(Permission.objects.get(codename="view_checkin"))  # drifted by hand

    MIGRATION.remove_curator_group(global_apps, editor)
    assert not Group.objects.filter(name="curator").exists()

    MIGRATION.create_curator_group(global_apps, editor)
    MIGRATION.create_curator_group(global_apps, editor)  # idempotent
    assert perms_of(Group.objects.get(name="curator")) == CURATOR_PERMISSIONS


def test_a_curator_has_only_prompt_permissions(curator):
    assert curator.get_all_permissions() == CURATOR_PERMISSIONS
    assert not curator.is_superuser


# --- What a curator can do ---------------------------------------------------------------


INLINE = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)|\sstyle=|\son[a-z]+=", re.I)


def assert_csp_clean(html: str, where: str) -> None:
    """No inline script, style attribute or event handler: the CSP would refuse them."""
    found = [html[max(0, m.start() - 60) : m.end() + 60] for m in INLINE.finditer(html)]
    assert not found, f"inline code at {where}: {found}"


def test_curator_opens_the_prompt_pages(curator_client):
    prompt = new_prompt(
        key="sunday-ritual", text="What would a perfect Sunday hold?", tags=["rest"]
    )
    new_prompt(key="first-job", text="What was your first job?", dimension="experiential")
    pk = prompt.pk
    pages = {
        "index": "/admin/",
        "app": "/admin/prompts/",
        "changelist": CHANGELIST,
        "search text": f"{CHANGELIST}?q=perfect+sunday",
        "search key": f"{CHANGELIST}?q=sunday-ritual",
        "search tag": f"{CHANGELIST}?q=rest",
        "filter": f"{CHANGELIST}?kind__exact=question&status__exact=draft"
        "&dimension__exact=emotional",
        "filter pack, locale, depth": f"{CHANGELIST}?pack=core&locale=en&depth__exact=1",
        "change": f"{CHANGELIST}{pk}/change/",
        "add": f"{CHANGELIST}add/",
        "history": f"{CHANGELIST}{pk}/history/",
        "preview": f"{CHANGELIST}{pk}/preview/",
        "import": f"{CHANGELIST}import/",
        "export": f"{CHANGELIST}export/",
        "delete": f"{CHANGELIST}{pk}/delete/",
    }
    for name, url in pages.items():
        response = curator_client.get(url)
        assert response.status_code == 200, f"{name}: {url} → {response.status_code}"
        assert_csp_clean(response.content.decode(), url)

    for query in ("perfect+sunday", "sunday-ritual", "rest"):
        found = curator_client.get(f"{CHANGELIST}?q={query}").context["cl"].result_list
        assert [p.key for p in found] == ["sunday-ritual"], query
    filtered = curator_client.get(f"{CHANGELIST}?dimension__exact=experiential")
    assert [p.key for p in filtered.context["cl"].result_list] == ["first-job"]

    index = curator_client.get("/admin/").content.decode()
    assert "/admin/prompts/prompt/" in index
    for elsewhere in ("/admin/couples/", "/admin/checkins/", "/admin/auth/", "/admin/knox/"):
        assert elsewhere not in index


def test_curator_adds_and_edits_a_prompt_and_the_history_names_them(curator_client, curator):
    response = curator_client.post(
        f"{CHANGELIST}add/",
        {
            "key": "small-joy",
            "text": "What small thing made you smile today?",
            "kind": "question",
            "dimension": "emotional",
            "depth": "1",
            "domain": "",
            "half_life_days": "",
            "sensitive": "",
            "status": "draft",
            "locale": "en",
            "pack": "core",
            "tags": "joy, daily",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    prompt = Prompt.objects.get(key="small-joy")
    assert prompt.tags == ["joy", "daily"]

    response = curator_client.post(
        f"{CHANGELIST}{prompt.pk}/change/",
        {
            "text": "What small thing made you smile this week?",
            "kind": "question",
            "dimension": "emotional",
            "depth": "2",
            "domain": "",
            "half_life_days": "",
            "status": "draft",
            "locale": "en",
            "pack": "core",
            "tags": "joy",
            "key": "renamed-by-a-tampered-form",  # read-only once created: ignored
        },
    )
    assert response.status_code == 302
    prompt.refresh_from_db()
    assert (prompt.key, prompt.text, prompt.depth) == (
        "small-joy",
        "What small thing made you smile this week?",
        2,
    )
    history = list(prompt.history.order_by("history_date"))
    assert [h.history_type for h in history] == ["+", "~"]
    assert {h.history_user_id for h in history} == {curator.pk}

    page = curator_client.get(f"{CHANGELIST}{prompt.pk}/history/").content.decode()
    assert "What small thing made you smile today?" in page  # the diff shows the old text


def test_the_change_page_previews_the_prompt(curator_client):
    prompt = new_prompt(text="Where would you go\nif money were no object?")
    page = curator_client.get(f"{CHANGELIST}{prompt.pk}/change/").content.decode()
    assert "<blockquote>Where would you go<br>if money were no object?</blockquote>" in page
    assert f"{CHANGELIST}{prompt.pk}/preview/" in page

    preview = curator_client.get(f"{CHANGELIST}{prompt.pk}/preview/")
    assert preview.templates[0].name == "admin/prompts/prompt/preview.html"
    html = preview.content.decode()
    assert "Today's question" in html
    assert "Where would you go\nif money were no object?" in html
    assert "<textarea" in html
    assert "disabled" in html


def test_prompt_text_is_escaped_in_the_admin(curator_client):
    prompt = new_prompt(text="<script>alert(1)</script> {{ user.email }}")
    for url in (
        CHANGELIST,
        f"{CHANGELIST}{prompt.pk}/change/",
        f"{CHANGELIST}{prompt.pk}/preview/",
    ):
        html = curator_client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in html, url
        assert "&lt;script&gt;" in html, url


def selected(prompts: list[Prompt]) -> list[str]:
    return [str(p.pk) for p in prompts]


def test_curator_publishes_retires_and_drafts_in_bulk(curator_client, curator):
    drafts = [new_prompt() for _ in range(3)]
    already = new_prompt(status=Prompt.Status.PUBLISHED)

    response = curator_client.post(
        CHANGELIST,
        {"action": "publish_selected", "_selected_action": selected([*drafts, already])},
        follow=True,
    )
    assert response.status_code == 200
    assert "Published 3 prompts. 1 already published." in response.content.decode()
    assert set(Prompt.objects.values_list("status", flat=True)) == {"published"}
    # Each change is in the edit history, attributed to the curator.
    record = drafts[0].history.latest()
    assert (record.status, record.history_user_id, record.history_type) == (
        "published",
        curator.pk,
        "~",
    )
    assert record.history_change_reason == "Published in bulk"

    curator_client.post(
        CHANGELIST, {"action": "retire_selected", "_selected_action": selected(drafts[:2])}
    )
    curator_client.post(
        CHANGELIST, {"action": "move_to_draft", "_selected_action": selected([already])}
    )
    statuses = dict(Prompt.objects.values_list("pk", "status"))
    assert [statuses[p.pk] for p in [*drafts, already]] == [
        "retired",
        "retired",
        "published",
        "draft",
    ]


def test_the_changelist_counts_published_prompts_per_kind(curator_client):
    new_prompt(status=Prompt.Status.PUBLISHED)
    new_prompt(status=Prompt.Status.PUBLISHED)
    new_prompt(kind=Prompt.Kind.CHECKIN, status=Prompt.Status.PUBLISHED)
    new_prompt(kind=Prompt.Kind.CHECKIN, status=Prompt.Status.RETIRED)
    response = curator_client.get(CHANGELIST)
    assert response.context["published_now"] == [
        ("Daily question", 2),
        ("Love-map topic", 0),
        ("Check-in question", 1),
    ]
    html = response.content.decode()
    assert "Published now: <strong>2</strong> daily questions · <strong>0</strong>" in html
    assert "<strong>1</strong> check-in question</p>" in html
    assert "<title>Select prompt to change | Nuzzle admin</title>" in html


# --- Export and import ---------------------------------------------------------------------

EXPORT_FIELDS = [
    "key", "text", "kind", "dimension", "depth", "domain", "half_life_days", "locale", "tags",
    "pack", "status", "sensitive",
]  # fmt: skip


def export(client: Client, fmt: str, query: str = "") -> tuple[str, str]:
    """Export through the admin form; return (filename, body). CSV is format 0, JSON 1."""
    data = {"format": {"csv": "0", "json": "1"}[fmt], "resource": "0"}
    data.update({f"promptresource_{name}": "on" for name in EXPORT_FIELDS})
    response = client.post(f"{CHANGELIST}export/{query}", data)
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    return disposition.split('filename="')[1].rstrip('"'), response.content.decode()


def test_curator_exports_csv_and_json(curator_client):
    new_prompt(key="tea-or-coffee", text="Tea, or coffee — and why?", tags=["food", "daily"])
    new_prompt(
        key="stress-now",
        kind=Prompt.Kind.LOVEMAP,
        domain=Prompt.Domain.STRESSES,
        half_life_days=14,
        sensitive=True,
        status=Prompt.Status.PUBLISHED,
    )

    name, body = export(curator_client, "csv")
    assert name.endswith(".csv")
    rows = {row["key"]: row for row in csv.DictReader(io.StringIO(body))}
    assert list(next(iter(rows.values()))) == EXPORT_FIELDS  # no id, no timestamps
    assert rows["tea-or-coffee"]["text"] == "Tea, or coffee — and why?"
    assert rows["tea-or-coffee"]["tags"] == "food, daily"
    assert rows["stress-now"]["half_life_days"] == "14"
    assert rows["stress-now"]["sensitive"] == "1"

    name, body = export(curator_client, "json")
    assert name.endswith(".json")
    items = {item["key"]: item for item in json.loads(body)}
    assert items["tea-or-coffee"]["tags"] == ["food", "daily"]
    assert items["tea-or-coffee"]["half_life_days"] is None
    assert (items["stress-now"]["depth"], items["stress-now"]["sensitive"]) == (1, True)

    # The export follows the changelist's filters.
    _, body = export(curator_client, "csv", "?status__exact=published")
    assert [row["key"] for row in csv.DictReader(io.StringIO(body))] == ["stress-now"]


CSV_HEADER = ",".join(EXPORT_FIELDS)


def import_file(client: Client, body: str, *, fmt: str = "csv", name: str = "bank.csv"):
    """Step one: upload. Returns the dry-run page."""
    upload = SimpleUploadedFile(name, body.encode(), content_type="text/csv")
    return client.post(
        f"{CHANGELIST}import/",
        {"import_file": upload, "format": {"csv": "0", "json": "1"}[fmt], "resource": "0"},
    )


def confirm(client: Client, dry_run_page):
    """Step two: confirm with the hidden fields the dry-run page carries."""
    form = dry_run_page.context["confirm_form"]
    assert form is not None, "no confirm form: the dry run found errors"
    return client.post(f"{CHANGELIST}process_import/", dict(form.initial))


def test_curator_imports_csv_in_two_steps_updating_by_key(curator_client, curator):
    existing = new_prompt(key="dream-trip", text="Old text", status=Prompt.Status.PUBLISHED)
    untouched = new_prompt(key="untouched")
    body = "\n".join(
        [
            CSV_HEADER,
            'dream-trip,"Where would you go, if you could go anywhere?",question,experiential,'
            '2,,,en,"travel, dreams",core,published,0',
            "new-ritual,What ritual would you like us to start?,question,emotional,1,,,en,,"
            "core,draft,0",
        ]
    )
    dry_run = import_file(curator_client, body)
    assert dry_run.status_code == 200
    result = dry_run.context["result"]
    assert not result.has_errors()
    assert not result.has_validation_errors()
    assert [row.import_type for row in result.rows] == ["update", "new"]
    assert_csp_clean(dry_run.content.decode(), "import preview")
    assert "<del>Old text</del>" in dry_run.content.decode()
    # A dry run changes nothing.
    assert Prompt.objects.count() == 2
    assert Prompt.objects.get(pk=existing.pk).text == "Old text"

    response = confirm(curator_client, dry_run)
    assert response.status_code == 302
    assert response["Location"] == CHANGELIST

    assert Prompt.objects.count() == 3  # one new, none duplicated
    existing.refresh_from_db()
    assert existing.text == "Where would you go, if you could go anywhere?"
    assert (existing.dimension, existing.depth, existing.tags) == (
        "experiential",
        2,
        ["travel", "dreams"],
    )
    created = Prompt.objects.get(key="new-ritual")
    assert (created.status, created.tags, created.locale) == ("draft", [], "en")
    assert Prompt.objects.get(pk=untouched.pk).text == untouched.text
    # The history says who imported.
    record = existing.history.latest()
    assert (record.history_user_id, record.history_change_reason) == (curator.pk, "Imported")

    # Importing the same file again changes nothing and adds nothing.
    again = import_file(curator_client, body)
    assert [row.import_type for row in again.context["result"].rows] == ["skip", "skip"]
    confirm(curator_client, again)
    assert Prompt.objects.count() == 3


def test_an_exported_json_file_imports_back_unchanged(curator_client):
    new_prompt(key="lm-1", kind="lovemap", domain="hopes", half_life_days=90, tags=["a", "b"])
    _, body = export(curator_client, "json")
    edited = json.loads(body)
    edited[0]["text"] = "A hope you haven't told me yet?"
    dry_run = import_file(curator_client, json.dumps(edited), fmt="json", name="bank.json")
    assert [row.import_type for row in dry_run.context["result"].rows] == ["update"]
    confirm(curator_client, dry_run)
    prompt = Prompt.objects.get(key="lm-1")
    assert (prompt.text, prompt.tags, prompt.half_life_days) == (
        "A hope you haven't told me yet?",
        ["a", "b"],
        90,
    )


def test_an_invalid_import_shows_errors_and_stores_nothing(curator_client):
    body = "\n".join(
        [
            CSV_HEADER,
            "ok-one,Fine,question,emotional,1,,,en,,core,draft,0",
            "bad kind!,Broken,riddle,emotional,9,,,en,,core,draft,0",
            "no-domain,A love-map topic without a domain,lovemap,emotional,1,,,en,,core,draft,0",
        ]
    )
    dry_run = import_file(curator_client, body)
    assert dry_run.status_code == 200
    assert dry_run.context["result"].has_validation_errors()
    assert dry_run.context.get("confirm_form") is None
    assert Prompt.objects.count() == 0


# --- Spreadsheet formulas in the CSV export ---------------------------------------------

FORMULAS = {
    "f-equals": ('=HYPERLINK("https://evil.example","Click")', ["=1+1", "ok"]),
    "f-plus": ("+1 a question?", ["+tag"]),
    "f-minus": ("-2 and counting", ["-x"]),
    "f-at": ("@SUM(A1:A9)", ["@me"]),
    "f-tab": ("\t=1+1", ["fine"]),
    "f-cr": ("\r=1+1", ["fine"]),
    "f-lf": ("\n=1+1", ["fine"]),
    "f-quoted": ("'=already quoted", ["''@twice"]),
    "f-plain": ("An ordinary question? = fine inside", ["it's", "a-b"]),
}


def test_the_csv_export_neutralises_cells_a_spreadsheet_would_run(curator_client):
    for key, (text, tags) in FORMULAS.items():
        new_prompt(key=key, text=text, tags=tags)
    _, body = export(curator_client, "csv")
    rows = {row["key"]: row for row in csv.DictReader(io.StringIO(body))}
    for key, row in rows.items():
        for column, cell in row.items():
            if cell[:1] in ("=", "+", "-", "@", "\t", "\r", "\n"):
                pytest.fail(f"{key}.{column} starts a formula: {cell!r}")
    assert rows["f-equals"]["text"] == '\'=HYPERLINK("https://evil.example","Click")'
    assert rows["f-equals"]["tags"] == "'=1+1, ok"
    assert rows["f-tab"]["text"] == "'\t=1+1"
    assert rows["f-quoted"]["text"] == "''=already quoted"
    assert rows["f-plain"]["text"] == "An ordinary question? = fine inside"
    assert rows["f-plain"]["tags"] == "it's, a-b"


def test_the_json_export_is_left_as_it_is(curator_client):
    new_prompt(key="f-equals", text="=1+1", tags=["@me"])
    _, body = export(curator_client, "json")
    [item] = json.loads(body)
    assert (item["text"], item["tags"]) == ("=1+1", ["@me"])


def test_an_exported_csv_file_imports_back_unchanged(curator_client):
    # Not "f-cr": reading a CSV file as text turns its carriage return into a line feed,
    # whatever is done to formulas (its neutralisation is undone all the same, below).
    for key, (text, tags) in FORMULAS.items():
        if key != "f-cr":
            new_prompt(key=key, text=text, tags=tags)
    before = {p.key: (p.text, p.tags) for p in Prompt.objects.all()}
    _, body = export(curator_client, "csv")

    dry_run = import_file(curator_client, body)
    assert not dry_run.context["result"].has_validation_errors()
    assert {row.import_type for row in dry_run.context["result"].rows} == {"skip"}

    Prompt.objects.all().delete()
    dry_run = import_file(curator_client, body)
    assert {row.import_type for row in dry_run.context["result"].rows} == {"new"}
    confirm(curator_client, dry_run)
    assert {p.key: (p.text, p.tags) for p in Prompt.objects.all()} == before


def test_a_carriage_return_cell_comes_back_without_the_apostrophe(curator_client):
    new_prompt(key="f-cr", text="\r=1+1")
    _, body = export(curator_client, "csv")
    Prompt.objects.all().delete()
    confirm(curator_client, import_file(curator_client, body))
    assert Prompt.objects.get(key="f-cr").text == "\n=1+1"


@pytest.mark.parametrize(
    "value",
    ["=1", "'=1", "''=1", "+", "-", "@", "\t", "\r", "\n", "'", "''", "'a", "a=1", "", "'\t"],
)
def test_neutralising_a_cell_is_undone_exactly(value):
    from prompts.admin.resources import neutralise_cell, restore_cell

    assert restore_cell(neutralise_cell(value)) == value
    assert neutralise_cell(value)[:1] not in ("=", "+", "-", "@", "\t", "\r", "\n")


# --- Constraint messages are plain sentences ---------------------------------------------


LOVEMAP_WITHOUT_DOMAIN = {
    "key": "no-domain",
    "text": "A love-map topic without a domain?",
    "kind": "lovemap",
    "dimension": "emotional",
    "depth": "1",
    "domain": "",
    "half_life_days": "",
    "status": "draft",
    "locale": "en",
    "pack": "core",
    "tags": "",
}


def test_a_love_map_topic_without_domain_is_explained_without_the_constraint_name(
    curator_client,
):
    response = curator_client.post(f"{CHANGELIST}add/", LOVEMAP_WITHOUT_DOMAIN)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["domain"] == ["A love-map topic needs a domain."]
    assert errors["half_life_days"] == ["A love-map topic needs a half-life, in days."]
    assert "prompt_lovemap_has_domain_and_half_life" not in response.content.decode()
    assert not Prompt.objects.exists()


def test_an_import_of_such_a_topic_explains_it_without_the_constraint_name(curator_client):
    body = "\n".join(
        [
            CSV_HEADER,
            "no-domain,A love-map topic without a domain,lovemap,emotional,1,,,en,,core,draft,0",
        ]
    )
    dry_run = import_file(curator_client, body)
    assert dry_run.context["result"].has_validation_errors()
    page = dry_run.content.decode()
    assert "prompt_lovemap_has_domain_and_half_life" not in page
    assert "A love-map topic needs a domain." in page
    assert not Prompt.objects.exists()


# --- Statistics --------------------------------------------------------------------------


def changelist_row(client: Client, prompt: Prompt) -> dict[str, str]:
    """The rendered statistics cells of one prompt on the changelist."""
    from html.parser import HTMLParser

    response = client.get(f"{CHANGELIST}?q={prompt.key}")
    cells: dict[str, str] = {}

    class Cells(HTMLParser):
        current: str | None = None

        def handle_starttag(self, tag, attrs):
            classes = dict(attrs).get("class") or ""
            for name in ("times_asked", "answer_rate", "skip_rate"):
                if f"field-{name}" in classes.split():
                    self.current = name

        def handle_data(self, data):
            if self.current:
                cells[self.current] = cells.get(self.current, "") + data.strip()

        def handle_endtag(self, tag):
            if tag == "td":
                self.current = None

    Cells().feed(response.content.decode())
    return cells


def test_statistics_times_asked_answer_rate_and_skip_rate(curator_client, cast):
    asked = new_prompt(key="asked")
    never = new_prompt(key="never")
    # 8 times: 4 revealed, 2 passed, 1 open waiting, 1 closed unanswered; other couple too.
    ask(asked, cast.couple, revealed=3, passed=2, open_=1, closed=1)
    ask(asked, cast.other_couple, revealed=1)

    assert changelist_row(curator_client, asked) == {
        "times_asked": "8",
        "answer_rate": "50%",
        "skip_rate": "25%",
    }
    assert changelist_row(curator_client, never) == {
        "times_asked": "—",
        "answer_rate": "—",
        "skip_rate": "—",
    }
    change = curator_client.get(f"{CHANGELIST}{asked.pk}/change/").content.decode()
    assert "50%" in change
    assert "25%" in change


def test_a_daily_question_asked_of_two_couples_shows_two_times_asked(curator_client, cast):
    prompt = new_prompt(key="asked-twice")
    ask(prompt, cast.couple, open_=1)
    ask(prompt, cast.other_couple, revealed=1)

    assert changelist_row(curator_client, prompt)["times_asked"] == "2"


def test_a_check_in_question_answered_in_two_couples_shows_two_times_asked(curator_client, cast):
    # Check-in questions are never daily questions: they are asked in the check-in form,
    # and each check-in that answered one counts.
    prompt = new_prompt(key="checkin-asked-twice", kind=Prompt.Kind.CHECKIN)
    unanswered = new_prompt(key="checkin-never-answered", kind=Prompt.Kind.CHECKIN)
    for author, couple in ((cast.author, cast.couple), (cast.other, cast.other_couple)):
        checkin = new_checkin(author=author, couple=couple, local_date=date(2025, 3, 1), mood=3)
        new_checkin_answer(checkin=checkin, prompt=prompt, text="A quiet evening.")

    assert changelist_row(curator_client, prompt) == {
        "times_asked": "2",
        "answer_rate": "n/a",
        "skip_rate": "n/a",
    }
    assert changelist_row(curator_client, unanswered)["times_asked"] == "—"


def test_a_love_map_topic_answered_in_two_couples_shows_two_times_asked(curator_client, cast):
    # One per person who answered: an older version of the same answer is not counted.
    topic = new_prompt(
        key="lovemap-asked-twice",
        kind=Prompt.Kind.LOVEMAP,
        domain=Prompt.Domain.JOYS,
        half_life_days=30,
    )
    now = timezone.now()
    for author, couple, version in (
        (cast.author, cast.couple, 1),
        (cast.author, cast.couple, 2),
        (cast.other, cast.other_couple, 1),
    ):
        LovemapEntry.objects.filter(author=author, topic=topic).update(is_current=False)
        new_lovemap_entry(
            author=author,
            topic=topic,
            couple=couple,
            version=version,
            text="Rain on the window.",
            created_at=now,
            confirmed_at=now,
            stale_at=now + timedelta(days=30),
        )

    assert changelist_row(curator_client, topic)["times_asked"] == "2"


def test_statistics_columns_sort_in_the_database(curator_client, cast):
    low, high = new_prompt(key="low"), new_prompt(key="high")
    new_prompt(key="never")
    ask(low, cast.couple, revealed=1, passed=3)
    ask(high, cast.other_couple, revealed=3, passed=1, open_=1)

    cl = curator_client.get(CHANGELIST).context["cl"]
    columns = list(cl.list_display)

    def keys(column: str, descending: bool = False) -> list[str]:
        order = f"{'-' if descending else ''}{columns.index(column)}"
        response = curator_client.get(f"{CHANGELIST}?o={order}")
        return [p.key for p in response.context["cl"].result_list]

    assert keys("answer_rate") == ["never", "low", "high"]
    assert keys("answer_rate", descending=True) == ["high", "low", "never"]
    assert keys("skip_rate", descending=True) == ["low", "high", "never"]
    assert keys("times_asked") == ["never", "low", "high"]


def changelist_queries(client: Client) -> Queries[HttpResponseBase]:
    queries = capture_queries(lambda: client.get(CHANGELIST))
    assert queries.result.status_code == 200
    return queries


def test_changelist_queries_do_not_grow_with_questions_asked(curator_client, cast):
    prompts = [new_prompt() for _ in range(5)]
    for index, prompt in enumerate(prompts):
        ask(prompt, cast.couple, revealed=1, start=date(2024, 1, 1) + timedelta(days=10 * index))

    def grow():
        for index, prompt in enumerate(prompts):
            start = date(2020, 1, 1) + timedelta(days=200 * index)
            ask(prompt, cast.other_couple, revealed=40, passed=40, open_=10, closed=9, start=start)
        assert DailyQuestion.objects.count() == 500

    _, many = assert_queries_do_not_grow(lambda: changelist_queries(curator_client), grow)
    print(f"prompt changelist: {len(many)} queries")  # shown with -s
    stats = curator_client.get(CHANGELIST).context["cl"].result_list
    assert {p.stat_times_asked for p in stats} == {100}


# --- What a curator cannot reach -----------------------------------------------------------


def admin_urls(model) -> tuple[str, str]:
    opts = model._meta
    return (
        reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
        reverse(f"admin:{opts.app_label}_{opts.model_name}_add"),
    )


def test_every_other_admin_page_refuses_a_curator(curator_client, content):
    cast_ = content.cast
    refused: dict[str, int] = {}
    for model in admin.site._registry:
        if model is Prompt:
            continue
        for url in admin_urls(model):
            refused[url] = curator_client.get(url).status_code
    objects = [
        cast_.author,
        cast_.couple,
        content.checkin,
        content.question,
        content.invite,
        Group.objects.get(name="curator"),
        AuthToken.objects.first(),
    ]
    for obj in objects:
        opts = obj._meta
        for view in ("change", "delete", "history"):
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[obj.pk])
            refused[url] = curator_client.get(url).status_code
    refused[f"/admin/couples/user/{cast_.author.pk}/password/"] = curator_client.get(
        f"/admin/couples/user/{cast_.author.pk}/password/"
    ).status_code
    # Changing anything by POST is refused too.
    refused["POST user change"] = curator_client.post(
        reverse("admin:couples_user_change", args=[cast_.author.pk]),
        {"email": "taken@example.com", "is_superuser": "on"},
    ).status_code
    cast_.author.refresh_from_db()
    assert cast_.author.email != "taken@example.com"

    registered = {m._meta.label for m in admin.site._registry}
    assert {"couples.User", "couples.Couple", "couples.Invite", "checkins.Checkin",
            "prompts.DailyQuestion", "auth.Group"} <= registered  # fmt: skip
    assert {"prompts.QuestionAnswer", "prompts.QuestionReaction"}.isdisjoint(registered)
    assert {"checkins.CheckinAnswer", "checkins.CheckinResponse"}.isdisjoint(registered)
    assert {url: code for url, code in refused.items() if code != 403} == {}

    # App pages with nothing a curator may see do not exist for them.
    for app in ("couples", "checkins", "auth", "knox"):
        assert curator_client.get(f"/admin/{app}/").status_code == 404, app


def test_anonymous_and_non_staff_people_are_sent_to_the_admin_login(cast):
    client = Client()
    client.force_login(cast.author)  # a partner, not staff
    for url in (CHANGELIST, f"{CHANGELIST}export/", f"{CHANGELIST}import/", "/admin/couples/user/"):
        for who in (client, Client()):
            response = who.get(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith("/admin/login/"), url


# --- No couple content on any admin page -----------------------------------------------------


def every_admin_page(client: Client) -> dict[str, int]:
    """GET every admin page there is for the objects in the database: the index, each
    app, each registered model's changelist (also sorted by each column) and add page,
    and each object's change, history and delete pages. Returns {url: status}."""
    statuses: dict[str, int] = {}
    seen_apps = set()
    urls = ["/admin/"]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        if opts.app_label not in seen_apps:
            seen_apps.add(opts.app_label)
            urls.append(reverse("admin:app_list", args=[opts.app_label]))
        changelist, add = admin_urls(model)
        urls += [changelist, add]
        urls += [f"{changelist}?o={i}" for i in range(1, len(model_admin.list_display) + 1)]
        for obj in model._default_manager.all()[:20]:
            for view in ("change", "history", "delete"):
                urls.append(
                    reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[obj.pk])
                )
        if model is Prompt:
            urls += [f"{CHANGELIST}export/", f"{CHANGELIST}import/"]
            urls += [f"{CHANGELIST}{p.pk}/preview/" for p in Prompt.objects.all()]
        if model is User:
            urls += [f"{changelist}{u.pk}/password/" for u in User.objects.all()]

    for url in urls:
        response = client.get(url)
        statuses[url] = response.status_code
        page = response.content.decode()
        for what, marker in MARKERS.items():
            assert marker not in page, f"{what} shown at {url}"
        if response.status_code == 200:
            assert_csp_clean(page, url)
    return statuses


def test_no_admin_page_shows_couple_content_to_an_operator(super_client, content):
    statuses = every_admin_page(super_client)
    opened = {url for url, code in statuses.items() if code == 200}
    # The walk is not vacuous: the operator opens the pages about this couple's rows.
    for must in (
        f"/admin/checkins/checkin/{content.checkin.pk}/change/",
        f"/admin/prompts/dailyquestion/{content.question.pk}/change/",
        f"/admin/couples/couple/{content.cast.couple.pk}/change/",
        f"/admin/couples/user/{content.cast.author.pk}/change/",
        f"/admin/couples/user/{content.cast.author.pk}/delete/",  # lists related rows
        f"/admin/couples/invite/{content.invite.pk}/change/",
        "/admin/checkins/checkin/",
        "/admin/prompts/dailyquestion/",
    ):
        assert must in opened, must
    assert not [url for url, code in statuses.items() if code >= 500]


def test_no_admin_page_shows_couple_content_to_a_curator(curator_client, content):
    statuses = every_admin_page(curator_client)
    opened = {url for url, code in statuses.items() if code == 200}
    assert CHANGELIST in opened
    outside = {u for u in opened if not u.startswith(CHANGELIST)}
    assert outside == {"/admin/", "/admin/prompts/"}


def test_operators_see_metadata_and_counts_only(super_client, content):
    checkin_page = super_client.get(f"/admin/checkins/checkin/{content.checkin.pk}/change/")
    html = checkin_page.content.decode()
    assert "Struggling" not in html  # the mood is personal: not shown
    fields = checkin_page.context["adminform"].form.fields
    assert fields == {}  # everything is read-only
    rows = super_client.get("/admin/checkins/checkin/").context["cl"].result_list
    assert [(c.stat_answer_count, c.stat_response_count) for c in rows] == [(1, 1)]

    questions = super_client.get("/admin/prompts/dailyquestion/").context["cl"].result_list
    assert [q.stat_answer_count for q in questions] == [2]

    invite_page = super_client.get(f"/admin/couples/invite/{content.invite.pk}/change/")
    assert content.invite.code not in invite_page.content.decode()  # a credential
    assert content.invite.display_code not in invite_page.content.decode()

    couples = super_client.get("/admin/couples/couple/").context["cl"].result_list
    assert sorted(c.stat_member_count for c in couples) == [2, 2]

    # Nothing about couples can be added or changed here.
    for url in ("/admin/checkins/checkin/add/", "/admin/couples/couple/add/",
                "/admin/prompts/dailyquestion/add/", "/admin/couples/invite/add/"):  # fmt: skip
        assert super_client.get(url).status_code == 403, url


# --- Accounts, for operators ------------------------------------------------------------------


def test_operator_creates_and_edits_an_account_by_email(super_client, superuser):
    response = super_client.post(
        "/admin/couples/user/add/",
        {
            "email": " New.Curator@Example.com ",
            "display_name": "Nova",
            "timezone": "Europe/Berlin",
            "usable_password": "true",
            "password1": "a long and quiet river 7",
            "password2": "a long and quiet river 7",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(email="new.curator@example.com")
    assert user.check_password("a long and quiet river 7")
    assert (user.display_name, user.timezone, user.is_staff) == ("Nova", "Europe/Berlin", False)

    response = super_client.post(
        f"/admin/couples/user/{user.pk}/change/",
        {
            "email": "new.curator@example.com",
            "display_name": "Nova",
            "timezone": "Europe/Berlin",
            "is_active": "on",
            "is_staff": "on",
            "groups": [str(Group.objects.get(name="curator").pk)],
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert user.is_staff
    assert user.get_all_permissions() == CURATOR_PERMISSIONS

    # The same email in another case is the same account: refused.
    response = super_client.post(
        "/admin/couples/user/add/",
        {
            "email": "NEW.curator@example.com",
            "display_name": "Copy",
            "timezone": "UTC",
            "usable_password": "true",
            "password1": "a long and quiet river 7",
            "password2": "a long and quiet river 7",
        },
    )
    assert response.status_code == 200
    assert User.objects.filter(email__iexact="new.curator@example.com").count() == 1

    listing = super_client.get("/admin/couples/user/?q=nova")
    assert [u.pk for u in listing.context["cl"].result_list] == [user.pk]
