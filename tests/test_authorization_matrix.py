"""The authorization matrix: every route × method × principal → expected status.

`test_every_route_has_a_row` walks the URL configuration; a route without a row here
fails the suite, so no endpoint ships without someone deciding who may use it.

Principals (tests/conftest.py's cast): `author` and `partner` are one couple (author
owns the couple's objects in these rows), `other` is in another couple, `unpaired` has
no couple, `anonymous` is signed out, `curator` is staff in the "curator" group (as
`manage.py curator_add` makes one) and in no couple: to the app a curator is one more
unpaired person; in the admin they reach the prompt bank and nothing else. Rows that
need an object build it in `path`.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from checkins.services import checkin_submit
from lovemaps.services import lovemap_answer, lovemap_reveal
from nuzzle.couples import services
from nuzzle.couples.models import User
from nuzzle.nudges.services import device_register
from nuzzle.nudges.tokens import unsubscribe_token
from prompts.services import daily_question_ensure, question_answer
from tests.conftest import Cast, token_client
from tests.factories import PromptFactory, new_curator, new_user
from tests.factories import as_prompt as cast_prompt
from tests.pushservice import new_subscription

PRINCIPALS = ("author", "partner", "other", "unpaired", "anonymous", "curator")


@dataclass(frozen=True)
class Row:
    method: str
    path: str | Callable[[Cast], str]
    expect: dict[str, int]
    body: dict = field(default_factory=dict)

    @property
    def is_api(self) -> bool:
        return isinstance(self.path, str) and self.path.startswith("/api/")


def each(status: int, **overrides: int) -> dict[str, int]:
    """The same status for every principal, except those named (the curator too: an
    `unpaired=` override here is usually about one person's own object, e.g. their
    invite, which the curator does not share)."""
    return {principal: overrides.get(principal, status) for principal in PRINCIPALS}


def signed_in(status: int, *, anonymous: int, **overrides: int) -> dict[str, int]:
    """Everyone signed in alike; the curator, in no couple, answers as `unpaired` does."""
    overrides.setdefault("curator", overrides.get("unpaired", status))
    return each(status, anonymous=anonymous, **overrides)


def paired(status: int, *, unpaired: int, anonymous: int) -> dict[str, int]:
    """People in a couple alike; the curator, in no couple, answers as `unpaired` does."""
    return each(status, unpaired=unpaired, anonymous=anonymous, curator=unpaired)


def unpaired_invite(cast: Cast) -> str:
    return services.invite_create(user=cast.unpaired).display_code


def strangers_invite(cast: Cast) -> str:
    return services.invite_create(user=new_user()).display_code


def couples_question(cast: Cast) -> int:
    """Today's question of the author's couple (the bank has one prompt)."""
    PromptFactory()
    question = daily_question_ensure(user=cast.author)
    assert question is not None
    return question.pk


def revealed_question(cast: Cast) -> int:
    question_id = couples_question(cast)
    question_answer(user=cast.author, question_id=question_id, text="mine")
    question_answer(user=cast.partner, question_id=question_id, text="theirs")
    return question_id


def authors_topic(cast: Cast) -> int:
    """A love-map topic the author answered (the partner may reveal it)."""
    topic = cast_prompt(
        PromptFactory(kind="lovemap", key=f"lm-{cast.author.pk}", domain="joys", half_life_days=30)
    )
    lovemap_answer(user=cast.author, topic_id=topic.pk, text="About me")
    return topic.pk


def partners_guess(cast: Cast) -> int:
    """The partner's guess about one of the author's topics (only the author rates)."""
    topic_id = authors_topic(cast)
    return lovemap_reveal(user=cast.partner, topic_id=topic_id, guess="A guess").pk


def authors_checkin(cast: Cast) -> int:
    """A shared check-in by `author`: the partner may respond, nobody else may."""
    return checkin_submit(user=cast.author, mood=4).checkin.pk


def authors_unsubscribe_link(cast: Cast) -> str:
    """The author's one-click link for one kind: anyone holding it may use it."""
    return f"/unsubscribe/{unsubscribe_token(cast.author.pk, 'question_ready')}/"


def a_subscription(cast: Cast) -> dict[str, object]:
    """A browser's push subscription on a listed push service (never contacted here)."""
    return new_subscription(f"https://fcm.googleapis.com/fcm/send/{secrets.token_urlsafe(12)}")


def authors_device(cast: Cast) -> int:
    subscription = a_subscription(cast)
    keys = subscription["keys"]
    assert isinstance(keys, dict)
    device, _ = device_register(
        user=cast.author,
        endpoint=subscription["endpoint"],
        p256dh=keys["p256dh"],
        auth=keys["auth"],
    )
    return device.pk


LOGIN = 302  # HTML pages send anonymous visitors to the log-in page

MATRIX: dict[str, list[Row]] = {
    # --- HTML: accounts ---
    "home": [Row("GET", "/", signed_in(200, anonymous=LOGIN))],
    "signup": [
        Row("GET", "/signup/", signed_in(302, anonymous=200)),
        Row("POST", "/signup/", signed_in(302, anonymous=200)),
    ],
    "login": [Row("GET", "/login/", signed_in(302, anonymous=200))],
    "logout": [Row("POST", "/logout/", each(302))],
    "password-reset": [Row("GET", "/password-reset/", each(200))],
    "password-reset-done": [Row("GET", "/password-reset/sent/", each(200))],
    "password-reset-confirm": [Row("GET", "/password-reset/MQ/bad-token/", each(200))],
    "password-reset-complete": [Row("GET", "/password-reset/done/", each(200))],
    "account": [
        Row("GET", "/account/", signed_in(200, anonymous=LOGIN)),
        Row("POST", "/account/", signed_in(200, anonymous=LOGIN)),
    ],
    "account-delete": [
        Row("GET", "/account/delete/", signed_in(200, anonymous=LOGIN)),
        # A wrong password: the form again with its error, and nobody in the cast deleted.
        Row(
            "POST",
            "/account/delete/",
            signed_in(200, anonymous=LOGIN),
            {"password": "not the password"},
        ),
    ],
    # Your data: each person's own export (the curator's is their own, as anyone's).
    "account-data": [Row("GET", "/account/data/", signed_in(200, anonymous=LOGIN))],
    "account-export-json": [
        Row("GET", "/account/data/export.json", signed_in(200, anonymous=LOGIN)),
    ],
    "account-export-md": [
        Row("GET", "/account/data/export.md", signed_in(200, anonymous=LOGIN)),
    ],
    # --- HTML: pairing ---
    "invite": [
        Row("GET", "/invite/", paired(302, unpaired=200, anonymous=LOGIN)),
        Row("POST", "/invite/", signed_in(302, anonymous=LOGIN), {"action": "create"}),
    ],
    "invite-join": [Row("GET", "/invite/join/?code=ABCD", signed_in(302, anonymous=LOGIN))],
    "invite-accept": [
        Row("GET", lambda cast: f"/invite/{unpaired_invite(cast)}/", each(200)),
        # Paired people get 400 (already paired), the inviter 400 (own invite); the
        # curator, in no couple, may pair with the inviter like anyone else.
        Row(
            "POST",
            lambda cast: f"/invite/{unpaired_invite(cast)}/",
            signed_in(400, anonymous=302, curator=302),
        ),
    ],
    "couple": [
        Row("GET", "/couple/", paired(200, unpaired=302, anonymous=LOGIN)),
        Row("POST", "/couple/", paired(200, unpaired=302, anonymous=LOGIN)),
    ],
    "couple-unpair": [
        Row("GET", "/couple/unpair/", paired(200, unpaired=302, anonymous=LOGIN)),
        Row("POST", "/couple/unpair/", paired(302, unpaired=302, anonymous=LOGIN)),
    ],
    # --- HTML: check-ins ---
    "checkin": [
        Row("GET", "/checkin/", signed_in(200, anonymous=LOGIN)),
        Row("POST", "/checkin/", signed_in(200, anonymous=LOGIN)),  # empty: form errors
    ],
    "checkin-respond": [
        # The partner responds (then back to the page); the author is told "not your
        # own" on the page; everyone else: 404.
        Row(
            "POST",
            lambda cast: f"/checkins/{authors_checkin(cast)}/respond/",
            each(404, author=302, partner=302, anonymous=LOGIN),
            {"reaction": "heart"},
        ),
    ],
    "history": [Row("GET", "/history/", signed_in(200, anonymous=LOGIN))],
    # --- HTML: the daily question ---
    "question": [Row("GET", "/question/", signed_in(200, anonymous=LOGIN))],
    "question-history": [Row("GET", "/questions/", signed_in(200, anonymous=LOGIN))],
    "question-answer": [
        Row(
            "POST",
            lambda cast: f"/questions/{couples_question(cast)}/answer/",
            each(404, author=302, partner=302, anonymous=LOGIN),
            {"text": "An answer"},
        ),
    ],
    "question-pass": [
        Row(
            "POST",
            lambda cast: f"/questions/{couples_question(cast)}/pass/",
            each(404, author=302, partner=302, anonymous=LOGIN),
        ),
    ],
    "question-react": [
        Row(
            "POST",
            lambda cast: f"/questions/{revealed_question(cast)}/react/",
            each(404, author=302, partner=302, anonymous=LOGIN),
            {"reaction": "heart"},
        ),
    ],
    # --- HTML: love maps ---
    "lovemap": [Row("GET", "/lovemap/", signed_in(200, anonymous=LOGIN))],
    "lovemap-mine": [Row("GET", "/lovemap/mine/", signed_in(200, anonymous=LOGIN))],
    "lovemap-partner": [Row("GET", "/lovemap/partner/", signed_in(200, anonymous=LOGIN))],
    "lovemap-answer": [
        Row(
            "POST",
            lambda cast: f"/lovemap/mine/{authors_topic(cast)}/",
            signed_in(302, anonymous=LOGIN),
            {"answer": "Me too"},
        ),
    ],
    "lovemap-confirm": [
        # Anyone may confirm their own answer; without one it is a 404.
        Row(
            "POST",
            lambda cast: f"/lovemap/mine/{authors_topic(cast)}/confirm/",
            each(404, author=302, anonymous=LOGIN),
        ),
    ],
    "lovemap-reveal": [
        Row(
            "POST",
            lambda cast: f"/lovemap/partner/{authors_topic(cast)}/reveal/",
            each(404, partner=302, anonymous=LOGIN),
        ),
    ],
    "lovemap-guess-rate": [
        Row(
            "POST",
            lambda cast: f"/lovemap/guesses/{partners_guess(cast)}/rate/",
            each(404, author=302, anonymous=LOGIN),
            {"rating": "close"},
        ),
    ],
    # --- HTML: email nudges ---
    "nudge-preferences": [
        Row("GET", "/account/nudges/", signed_in(200, anonymous=LOGIN)),
        Row("POST", "/account/nudges/", signed_in(200, anonymous=LOGIN)),  # empty: form errors
    ],
    "unsubscribe": [
        # Token only: whoever asks, the token decides (a bad one is a 404 for everyone).
        Row("GET", authors_unsubscribe_link, each(200)),
        Row("POST", authors_unsubscribe_link, each(200)),
        Row("GET", "/unsubscribe/1.all.forged/", each(404)),
        Row("POST", "/unsubscribe/1.all.forged/", each(404)),
    ],
    # --- operations ---
    "healthz": [Row("GET", "/healthz", each(200))],
    # --- the installable app's shell: the same for everyone, nothing of anyone's ---
    "manifest": [Row("GET", "/manifest.webmanifest", each(200))],
    "service-worker": [Row("GET", "/sw.js", each(200))],
    "apple-touch-icon": [Row("GET", "/apple-touch-icon.png", each(200))],
    "offline": [Row("GET", "/offline/", each(200))],
    # Only the curator is staff: the index and the prompt bank, nothing of any couple's
    # (403 on couple models' pages). Everyone else is sent to the admin's log-in.
    "admin": [
        Row("GET", "/admin/", each(302, curator=200)),
        Row("GET", "/admin/prompts/prompt/", each(302, curator=200)),
        Row("GET", "/admin/prompts/prompt/add/", each(302, curator=200)),
        Row("GET", "/admin/prompts/dailyquestion/", each(302, curator=403)),
        Row("GET", "/admin/checkins/checkin/", each(302, curator=403)),
        Row("GET", "/admin/couples/user/", each(302, curator=403)),
        Row("GET", "/admin/couples/couple/", each(302, curator=403)),
        Row("GET", "/admin/couples/invite/", each(302, curator=403)),
        Row("GET", "/admin/nudges/nudge/", each(302, curator=403)),
        Row("GET", "/admin/nudges/nudgeschedule/", each(302, curator=403)),
        Row("GET", "/admin/nudges/nudgepreferences/", each(302, curator=403)),
        Row("GET", "/admin/auth/group/", each(302, curator=403)),
    ],
    # --- API: schema and docs are public (the code is open source) ---
    "api-schema": [Row("GET", "/api/schema/", each(200))],
    "api-docs": [Row("GET", "/api/docs/", each(200))],
    # --- API: account ---
    "api-auth-signup": [Row("POST", "/api/v1/auth/signup", each(400))],
    "api-auth-token": [Row("POST", "/api/v1/auth/token", each(400))],
    "api-auth-logout": [Row("POST", "/api/v1/auth/logout", signed_in(204, anonymous=401))],
    "api-me": [
        Row("GET", "/api/v1/me", signed_in(200, anonymous=401)),
        Row("PATCH", "/api/v1/me", signed_in(200, anonymous=401)),
        # A wrong password (400, nothing deleted) keeps the cast intact for other rows.
        Row(
            "DELETE",
            "/api/v1/me",
            signed_in(400, anonymous=401),
            {"password": "not the password"},
        ),
    ],
    "api-me-export": [Row("GET", "/api/v1/me/export", signed_in(200, anonymous=401))],
    # --- API: couple ---
    "api-couple": [
        Row("GET", "/api/v1/couple", paired(200, unpaired=404, anonymous=401)),
        Row("PATCH", "/api/v1/couple", paired(200, unpaired=404, anonymous=401)),
        Row("DELETE", "/api/v1/couple", paired(204, unpaired=404, anonymous=401)),
    ],
    "api-invite-create": [
        Row("POST", "/api/v1/couple/invites", paired(409, unpaired=201, anonymous=401)),
    ],
    "api-invite-revoke": [
        # Only the inviter (here: `unpaired`); everyone else gets 404, never 403.
        Row(
            "DELETE",
            lambda cast: f"/api/v1/couple/invites/{unpaired_invite(cast)}",
            each(404, unpaired=204, anonymous=401),
        ),
    ],
    # --- API: check-ins and dashboard ---
    "api-checkin-questions": [
        Row("GET", "/api/v1/checkins/questions", signed_in(200, anonymous=401)),
    ],
    "api-checkin-today": [
        Row("GET", "/api/v1/checkins/today", signed_in(200, anonymous=401)),
        Row("PUT", "/api/v1/checkins/today", signed_in(201, anonymous=401), {"mood": 3}),
    ],
    "api-checkin-list": [Row("GET", "/api/v1/checkins", signed_in(200, anonymous=401))],
    "api-checkin-responses": [
        Row(
            "POST",
            lambda cast: f"/api/v1/checkins/{authors_checkin(cast)}/responses",
            each(404, author=400, partner=201, anonymous=401),
            {"reaction": "heart"},
        ),
    ],
    "api-question-today": [
        Row(
            "GET",
            "/api/v1/questions/today",
            paired(404, unpaired=404, anonymous=401),  # no prompt in the bank: nothing yet
        ),
    ],
    "api-question-list": [Row("GET", "/api/v1/questions", signed_in(200, anonymous=401))],
    "api-question-answer": [
        Row(
            "POST",
            lambda cast: f"/api/v1/questions/{couples_question(cast)}/answer",
            each(404, author=201, partner=201, anonymous=401),
            {"text": "An answer"},
        ),
    ],
    "api-question-pass": [
        # Passing gives another question: with a one-prompt bank there is none (409).
        Row(
            "POST",
            lambda cast: f"/api/v1/questions/{couples_question(cast)}/pass",
            each(404, author=409, partner=409, anonymous=401),
        ),
    ],
    "api-question-reactions": [
        Row(
            "POST",
            lambda cast: f"/api/v1/questions/{revealed_question(cast)}/reactions",
            each(404, author=201, partner=201, anonymous=401),
            {"reaction": "heart"},
        ),
    ],
    "api-lovemap-topics": [Row("GET", "/api/v1/lovemap/topics", signed_in(200, anonymous=401))],
    "api-lovemap-mine": [Row("GET", "/api/v1/lovemap/mine", signed_in(200, anonymous=401))],
    "api-lovemap-answer": [
        Row(
            "PUT",
            lambda cast: f"/api/v1/lovemap/mine/{authors_topic(cast)}",
            signed_in(200, anonymous=401),
            {"answer": "Mine"},
        ),
    ],
    "api-lovemap-confirm": [
        Row(
            "POST",
            lambda cast: f"/api/v1/lovemap/mine/{authors_topic(cast)}/confirm",
            each(404, author=200, anonymous=401),
        ),
    ],
    "api-lovemap-partner": [
        Row("GET", "/api/v1/lovemap/partner", signed_in(200, anonymous=401)),
    ],
    "api-lovemap-reveal": [
        Row(
            "POST",
            lambda cast: f"/api/v1/lovemap/partner/{authors_topic(cast)}/reveal",
            each(404, partner=200, anonymous=401),
        ),
    ],
    "api-lovemap-guess-rating": [
        Row(
            "POST",
            lambda cast: f"/api/v1/lovemap/guesses/{partners_guess(cast)}/rating",
            each(404, author=200, anonymous=401),
            {"rating": "close"},
        ),
    ],
    "api-lovemap-freshness": [
        Row("GET", "/api/v1/lovemap/freshness", signed_in(200, anonymous=401)),
    ],
    "api-dashboard": [Row("GET", "/api/v1/dashboard", signed_in(200, anonymous=401))],
    # --- API: nudges (each person's own; nothing of the partner's) ---
    "api-me-preferences": [
        Row("GET", "/api/v1/me/preferences", signed_in(200, anonymous=401)),
        Row(
            "PATCH",
            "/api/v1/me/preferences",
            signed_in(200, anonymous=401),
            {"nudge_time": "18:30", "kinds": {"checkin_reminder": True}},
        ),
    ],
    "api-nudge-list": [Row("GET", "/api/v1/nudges", signed_in(200, anonymous=401))],
    # --- API: push devices (each person's own) ---
    "api-push-key": [Row("GET", "/api/v1/push/key", each(200))],
    "api-me-devices": [
        Row("GET", "/api/v1/me/devices", signed_in(200, anonymous=401)),
        Row(
            "POST",
            "/api/v1/me/devices",
            signed_in(201, anonymous=401),
            {"subscription": a_subscription},
        ),
    ],
    "api-me-device": [
        # Only the person whose device it is; everyone else gets 404, never 403.
        Row(
            "DELETE",
            lambda cast: f"/api/v1/me/devices/{authors_device(cast)}",
            each(404, author=204, anonymous=401),
        ),
    ],
    "api-couple-join": [
        Row(
            "POST",
            "/api/v1/couple/join",
            paired(409, unpaired=201, anonymous=401),
            {"code": strangers_invite},
        ),
    ],
}


def route_names() -> set[str]:
    """Every named route; the admin site counts as one route ("admin")."""
    names: set[str] = set()
    unnamed: list[str] = []

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    names.add("admin")
                    continue
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                if pattern.name:
                    names.add(pattern.name)
                else:
                    unnamed.append(prefix + str(pattern.pattern))

    walk(get_resolver().url_patterns)
    assert not unnamed, f"every route needs a name (and a matrix row): {unnamed}"
    return names


def test_every_route_has_a_row_and_every_row_a_route():
    routes = route_names()
    missing = routes - set(MATRIX)
    stale = set(MATRIX) - routes
    assert not missing, f"routes without an authorization-matrix row: {sorted(missing)}"
    assert not stale, f"matrix rows for routes that no longer exist: {sorted(stale)}"


CASES = [
    pytest.param(name, row, principal, id=f"{name}-{row.method}-{principal}")
    for name, rows in MATRIX.items()
    for row in rows
    for principal in PRINCIPALS
]


def principal_user(cast: Cast, principal: str) -> User | None:
    """The cast member for `principal`; the curator (not in tests/conftest.py's cast, as
    most tests need none) is made on demand."""
    if principal == "anonymous":
        return None
    if principal == "curator":
        return new_curator()
    return getattr(cast, principal)


def client_for(cast: Cast, principal: str, api: bool) -> Client | APIClient:
    user = principal_user(cast, principal)
    if api:
        return token_client(user) if user else APIClient()
    client = Client()
    if user:
        client.force_login(user)
    return client


@pytest.mark.parametrize(("name", "row", "principal"), CASES)
def test_route_answers_each_principal_as_the_matrix_says(cast, name, row, principal):
    path = row.path(cast) if callable(row.path) else row.path
    body = {key: value(cast) if callable(value) else value for key, value in row.body.items()}
    body = {**body.pop("subscription", {}), **body}  # a push subscription is the whole body
    client = client_for(cast, principal, api=path.startswith("/api/"))
    if path.startswith("/api/"):
        response = client.generic(
            row.method, path, data=json.dumps(body), content_type="application/json"
        )
    else:
        response = getattr(client, row.method.lower())(path, body)
    expected = row.expect[principal]
    assert response.status_code == expected, (
        f"{row.method} {path} as {principal}: {response.status_code}, expected {expected}"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/lovemap/partner/99999999999999999999999/reveal",
        "/api/v1/checkins/99999999999999999999/responses",
        "/questions/99999999999999999999/answer/",
    ],
)
def test_ids_too_large_for_the_database_are_a_plain_404(cast, path):
    client = token_client(cast.author) if path.startswith("/api/") else Client()
    if not path.startswith("/api/"):
        client.force_login(cast.author)
    assert client.post(path, {}).status_code == 404
