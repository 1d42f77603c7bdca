"""A display name is one line of plain text (nuzzle.lib.validators.validate_single_line).

It is shown inside other text: the partner's Markdown export, the greeting and the
subject of emails. A name with line breaks could start lines of its own there (a
`# Heading`, a `[link](...)`, a fake "click here"), so sign-up, the account page and
`PATCH /api/v1/me` refuse line breaks, tabs and control characters; and since rows
saved before this rule may still hold such names, the export and the emails neutralise
whatever name they print.
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import timezone

from nuzzle.couples.models import User
from nuzzle.lib.text import markdown_inline, one_line
from nuzzle.nudges.channels.base import Addressee
from nuzzle.nudges.channels.email import nudge_message
from nuzzle.nudges.kinds import Kind
from nuzzle.nudges.services import couple_ended_notice_send
from tests.factories import PASSWORD, new_nudge

pytestmark = pytest.mark.django_db

INJECTED = "Sam\n# Injected\n[click here](https://evil.example/)"

BAD_NAMES = [
    "Sam\n# Injected",
    "Sam\r\nBcc: x@example.com",
    "Sam\rX",
    "Sam\tX",
    "Sam\x07X",
    "Sam\x1bX",
    "Sam\x85X",
    "Sam\u2028X",
    "Sam\u2029X",
]
BAD_IDS = ["lf", "crlf", "cr", "tab", "bell", "escape", "nel", "line-sep", "para-sep"]


def signup_body(display_name: str) -> dict[str, str]:
    return {
        "display_name": display_name,
        "email": "new.person@example.com",
        "password": PASSWORD,
        "timezone": "Europe/Berlin",
    }


# --- refused at the door ---------------------------------------------------------------------


@pytest.mark.parametrize("name", BAD_NAMES, ids=BAD_IDS)
def test_signing_up_on_the_page_with_a_multi_line_name_is_refused(client, name):
    response = client.post("/signup/", signup_body(name))
    assert response.status_code == 200
    assert "display_name" in response.context["form"].errors
    assert not User.objects.filter(email="new.person@example.com").exists()


@pytest.mark.parametrize("name", BAD_NAMES, ids=BAD_IDS)
def test_signing_up_through_the_api_with_a_multi_line_name_is_a_400(api, name):
    response = api().post("/api/v1/auth/signup", signup_body(name), format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["display_name"]
    assert not User.objects.filter(email="new.person@example.com").exists()


@pytest.mark.parametrize("name", BAD_NAMES, ids=BAD_IDS)
def test_changing_my_name_through_the_api_to_a_multi_line_one_is_a_400(api, cast, name):
    response = api(cast.author).patch("/api/v1/me", {"display_name": name}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["display_name"]
    cast.author.refresh_from_db()
    assert cast.author.display_name == "Robin"


@pytest.mark.parametrize("name", BAD_NAMES, ids=BAD_IDS)
def test_changing_my_name_on_the_account_page_to_a_multi_line_one_is_refused(client, cast, name):
    client.force_login(cast.author)
    response = client.post("/account/", {"display_name": name, "timezone": "Europe/London"})
    assert response.status_code == 200
    assert "display_name" in response.context["form"].errors
    cast.author.refresh_from_db()
    assert cast.author.display_name == "Robin"


def test_the_service_refuses_a_multi_line_name_whoever_calls_it(cast):
    from nuzzle.couples import services
    from nuzzle.lib.errors import Invalid

    zone = cast.author.timezone
    with pytest.raises(Invalid) as refused:
        services.user_update(user=cast.author, display_name="Robin\nX", timezone_name="UTC")
    assert list(refused.value.by_field()) == ["display_name"]
    cast.author.refresh_from_db()
    assert (cast.author.display_name, cast.author.timezone) == ("Robin", zone)


def test_spaces_around_a_name_are_trimmed_as_before(api, cast):
    response = api(cast.author).patch(
        "/api/v1/me", {"display_name": "  Robin Ash \n"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["display_name"] == "Robin Ash"


def test_the_schema_says_which_names_are_accepted(client):
    import re

    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    pattern = schema["components"]["schemas"]["PatchedMeUpdateRequest"]["properties"][
        "display_name"
    ]["pattern"]
    for good in ["Robin", "  Robin Ash  ", "Zoë 🌻"]:
        assert re.search(pattern, good), good
    for bad in [*BAD_NAMES, "   ", ""]:
        assert not re.search(pattern, bad), bad


# --- names saved before the rule are neutralised where they are printed --------------------


def with_old_name(user, name: str):
    """Store a name as an older version of Nuzzle could have (no validation)."""
    User.objects.filter(pk=user.pk).update(display_name=name)
    user.refresh_from_db()
    return user


def test_a_partners_old_multi_line_name_is_literal_text_in_my_markdown_export(client, cast):
    with_old_name(cast.partner, INJECTED)
    client.force_login(cast.author)
    response = client.get("/account/data/export.md")
    assert response.status_code == 200
    text = response.content.decode()
    lines = text.splitlines()
    assert not [line for line in lines if line.startswith("# Injected")]
    assert "[click here](" not in text
    couple_line = next(line for line in lines if line.startswith("- With "))
    assert couple_line.startswith(
        r"- With Sam \# Injected \[click here\]\(https://evil.example/\),"
    )


def test_my_own_old_multi_line_name_is_literal_text_in_my_markdown_export(client, cast):
    with_old_name(cast.author, "Robin\n\n## Also me")
    client.force_login(cast.author)
    text = client.get("/account/data/export.md").content.decode()
    assert r"- Display name: Robin \#\# Also me" in text.splitlines()
    assert not [line for line in text.splitlines() if line.startswith("## Also me")]


def assert_one_line_greeting(body: str, expected: str) -> None:
    first = body.splitlines()[0]
    assert first == expected, first
    assert "\n# Injected" not in body
    assert "\n[click here]" not in body


def test_a_nudge_email_puts_old_multi_line_names_on_one_line(cast):
    recipient = Addressee(
        user_id=cast.author.pk,
        email=cast.author.email,
        display_name=INJECTED,
        timezone=cast.author.timezone,
        partner_name="Kit\nClick: https://evil.example/",
    )
    now = timezone.now()
    nudge = new_nudge(
        user=cast.author,
        kind=Kind.WEEKLY_RECAP,
        period=now.date().isoformat(),
        local_date=now.date(),
        scheduled_for=now,
        context={"days_together": 1},
    )
    message = nudge_message(nudge, recipient)
    assert_one_line_greeting(message.body, "Hi Sam # Injected [click here](https://evil.example/),")
    assert "\nClick: https://evil.example/" not in message.body
    assert message.subject == "Your week with Kit Click: https://evil.example/"


def test_the_couple_ended_email_puts_old_multi_line_names_on_one_line(cast):
    with_old_name(cast.partner, INJECTED)
    assert couple_ended_notice_send(partner_id=cast.partner.pk, ended_by_name="Robin\n\nX")
    [message] = mail.outbox
    assert_one_line_greeting(message.body, "Hi Sam # Injected [click here](https://evil.example/),")
    assert "Robin X ended your couple" in message.body
    assert message.subject.startswith("Robin X ended")


def test_the_password_reset_email_puts_an_old_multi_line_name_on_one_line(client, cast):
    with_old_name(cast.author, INJECTED)
    client.post("/password-reset/", {"email": cast.author.email})
    [message] = mail.outbox
    assert_one_line_greeting(
        message.body, "Hello Sam # Injected [click here](https://evil.example/),"
    )
    [(html, _)] = message.alternatives
    name = "Sam # Injected [click here](https://evil.example/)"
    assert f'Hello <span dir="auto">{name}</span>,' in html


@pytest.mark.parametrize(
    ("raw", "line", "markdown"),
    [
        ("Sam", "Sam", "Sam"),
        (" Sam\r\n\tAsh ", "Sam Ash", "Sam Ash"),
        ("*Sam*_`x`", "*Sam*_`x`", r"\*Sam\*\_\`x\`"),
        ("<b>&amp;</b>", "<b>&amp;</b>", r"\<b\>\&amp;\</b\>"),
        ("a\\b|c~d!e", "a\\b|c~d!e", r"a\\b\|c\~d\!e"),
        ("Mary-Jane O'Neil 2.0", "Mary-Jane O'Neil 2.0", "Mary-Jane O'Neil 2.0"),
    ],
)
def test_names_are_neutralised_for_text_and_markdown(raw, line, markdown):
    assert one_line(raw) == line
    assert markdown_inline(raw) == markdown
