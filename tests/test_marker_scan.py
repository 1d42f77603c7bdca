"""One couple's words reach no one else: not a page, an htmx fragment, an API answer,
an admin page, an export, an email or a log line (docs/reliability.md: Access control
and privacy).

A unique marker is planted in every kind of content couple A writes. Then everything
anyone else can get is fetched: every route in the URL configuration (walked, so a
new route, an export say, is scanned without an edit here), with couple A's object ids
for the routes that take one, as each other principal, plain and as htmx; every admin
page for every object; every email the nudges send to anyone but the author; and every
log record written during the test. No marker may turn up. The author's (and for what
they share, the partner's) own pages must show every marker, so the scan can fail.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from django.contrib import admin
from django.core import mail
from django.db.models import Model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient

from checkins.models import Checkin
from checkins.services import AnswerInput, checkin_respond, checkin_submit
from lovemaps.models import LovemapReveal
from lovemaps.services import lovemap_answer, lovemap_reveal
from nuzzle.couples import services as couples
from nuzzle.couples.models import User
from nuzzle.nudges.delivery import nudges_deliver
from nuzzle.nudges.planning import nudges_tick
from nuzzle.nudges.services import (
    device_register,
    preferences_for,
    preferences_update,
    schedule_reset,
)
from nuzzle.nudges.tokens import unsubscribe_token
from prompts.models import DailyQuestion
from prompts.services import daily_question_ensure, question_answer
from tests.checkins.helpers import todays_question_ids
from tests.conftest import token_client
from tests.factories import PromptFactory, as_prompt, couple_of, new_curator, new_user
from tests.pushservice import PushServiceStandIn

pytestmark = pytest.mark.django_db

# London is on BST in June: 09:00 UTC is mid-morning, 18:00 UTC is 19:00 local (the
# default nudge time, outside the default quiet hours).
YESTERDAY = datetime(2026, 6, 9, 9, 0, tzinfo=UTC)
TODAY = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
EVENING = datetime(2026, 6, 10, 18, 0, tzinfo=UTC)

# Every kind of content couple A writes; the partner may see all but these two.
KINDS = (
    "private check-in answer",
    "shared check-in answer",
    "check-in reply",
    "sealed question answer",
    "revealed question answer",
    "love-map answer (current)",
    "love-map answer (older version)",
    "love-map guess",
)
HIDDEN_FROM_PARTNER = frozenset({"private check-in answer", "sealed question answer"})
# Admin routes that take something other than an object id (none is about content).
ADMIN_SKIPPED = {"view_on_site"}  # a redirect to the object's page on the site


def new_markers() -> dict[str, str]:
    """A fresh random token per kind, so a failure names what leaked."""
    return {
        kind: f"mk-{re.sub(r'[^a-z]+', '', kind)[:12]}-{secrets.token_hex(6)}" for kind in KINDS
    }


@dataclass
class Couple:
    author: User
    partner: User
    checkins: list[int]
    questions: list[int]
    topics: list[int]
    guesses: list[int]


def plant(markers: dict[str, str], time_machine) -> Couple:
    """Couple A (author, partner) writes one of everything, each text with its marker.
    Yesterday: a shared check-in with a reply, a question both answered, a love-map
    answer the partner revealed with a guess (then changed: the older version stays).
    Today: a private check-in and an answer to a question the partner has not answered.
    """
    time_machine.move_to(YESTERDAY, tick=False)
    author = new_user(display_name="Robin")
    partner = new_user(display_name="Sam")
    couple_of(author, partner)
    for _ in range(3):
        PromptFactory()
        PromptFactory(kind="checkin")
    topic = as_prompt(PromptFactory(kind="lovemap", key="lm-scan", domain="joys"))

    first, *_ = todays_question_ids(author)
    shared = checkin_submit(
        user=author,
        mood=4,
        answers=[AnswerInput(first, f"{markers['shared check-in answer']} and a long walk")],
    ).checkin
    checkin_respond(
        user=partner,
        checkin_id=shared.pk,
        reaction="heart",
        text=f"{markers['check-in reply']} me too",
    )
    asked = daily_question_ensure(user=author)
    assert asked is not None
    question_answer(
        user=author, question_id=asked.pk, text=f"{markers['revealed question answer']} hmm"
    )
    question_answer(user=partner, question_id=asked.pk, text="Both, really.")
    lovemap_answer(
        user=author, topic_id=topic.pk, text=f"{markers['love-map answer (older version)']}!"
    )
    guess = lovemap_reveal(
        user=partner, topic_id=topic.pk, guess=f"{markers['love-map guess']} maybe"
    )
    lovemap_answer(user=author, topic_id=topic.pk, text=f"{markers['love-map answer (current)']}")

    time_machine.move_to(TODAY, tick=False)
    first, *_ = todays_question_ids(author)
    checkin_submit(
        user=author,
        mood=2,
        visibility="private",
        answers=[AnswerInput(first, f"{markers['private check-in answer']} just for me")],
    )
    today = daily_question_ensure(user=author)
    assert today is not None
    assert today.pk != asked.pk
    question_answer(
        user=author, question_id=today.pk, text=f"{markers['sealed question answer']} later"
    )
    assert DailyQuestion.objects.get(pk=today.pk).revealed_at is None  # still sealed
    return Couple(
        author=author,
        partner=partner,
        checkins=list(Checkin.objects.filter(author=author).values_list("pk", flat=True)),
        questions=[asked.pk, today.pk],
        topics=[topic.pk],
        guesses=[guess.pk],
    )


# --- Walking the URL configuration ----------------------------------------------------

PARAMETER = re.compile(r"<(?:[^>:]+:)?(?P<name>[^>]+)>")
OBJECT = re.compile(r"/[0-9]+/")  # an admin page about one object


def expand(route: str, samples: dict[str, list[str]]) -> tuple[list[str], set[str]]:
    """Every path `route` gives with the sample values of its parameters, and the names
    of parameters without samples (then no path)."""
    names = PARAMETER.findall(route)
    unknown = {name for name in names if name not in samples}
    if unknown:
        return [], unknown
    paths = []
    for values in itertools.product(*(samples[name] for name in names)):
        path = route
        for value in values:  # ids and tokens: no backslash to escape
            path = PARAMETER.sub(value, path, count=1)
        paths.append(path)
    return paths, set()


def site_paths(samples: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    """Every path of the site outside the admin, and the routes that could not be
    filled in (a parameter without a sample)."""
    paths: list[str] = []
    unfilled: list[str] = []

    def walk(patterns: Iterable, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace != "admin":
                    walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern.pattern, RegexPattern):
                unfilled.append(f"{prefix}{pattern.pattern} (a regex route)")
            else:
                found, unknown = expand(prefix + str(pattern.pattern), samples)
                paths.extend(found)
                if unknown:
                    unfilled.append(f"{prefix}{pattern.pattern} needs {sorted(unknown)}")

    walk(get_resolver().url_patterns, "/")
    return paths, unfilled


def admin_paths() -> tuple[list[str], list[str]]:
    """Every admin page for the objects in the database: the index, each app, and for
    each registered model every page its ModelAdmin routes (changelist, add, import,
    export, ...) with every object's id (change, history, delete, preview, ...)."""
    models: dict[str, type[Model]] = {
        f"{model._meta.app_label}/{model._meta.model_name}/": model
        for model in admin.site._registry
    }
    labels = sorted({model._meta.app_label for model in admin.site._registry})
    paths: list[str] = []
    unfilled: list[str] = []
    for pattern in admin.site.get_urls():
        if isinstance(pattern, URLResolver):
            prefix = str(pattern.pattern)
            model = models[prefix]
            ids = [str(pk) for pk in model._default_manager.values_list("pk", flat=True)]
            for inner in pattern.url_patterns:
                assert isinstance(inner, URLPattern)
                found, unknown = expand(prefix + str(inner.pattern), {"object_id": ids, "id": ids})
                paths.extend(found)
                if unknown:
                    unfilled.append(f"admin/{prefix}{inner.pattern} needs {sorted(unknown)}")
        elif pattern.name == "app_list":
            paths.extend(f"{label}/" for label in labels)
        elif isinstance(pattern.pattern, RegexPattern) or pattern.name in ADMIN_SKIPPED:
            continue  # the catch-all (a 404 or a redirect to the log-in) and the skipped
        else:
            found, unknown = expand(str(pattern.pattern), {})
            paths.extend(found)
            if unknown:
                unfilled.append(f"admin/{pattern.pattern} needs {sorted(unknown)}")
    return [f"/admin/{path}" for path in paths], unfilled


# --- Scanning ---------------------------------------------------------------------------


@dataclass
class Scan:
    markers: dict[str, str]
    leaks: list[str] = field(default_factory=list)
    seen: dict[str, list[str]] = field(default_factory=dict)  # what each principal got
    counts: dict[str, int] = field(default_factory=dict)

    def check(self, who: str, where: str, text: str, forbidden: Iterable[str]) -> None:
        self.counts[who] = self.counts.get(who, 0) + 1
        self.seen.setdefault(who, []).append(text)
        for kind in forbidden:
            if self.markers[kind] in text:
                self.leaks.append(f"{kind} reached {who} via {where}")

    def found_by(self, *people: str) -> set[str]:
        texts = [text for who in people for text in self.seen.get(who, [])]
        return {kind for kind, marker in self.markers.items() if any(marker in t for t in texts)}


def response_text(response) -> str:
    body = response.getvalue().decode("utf-8", "replace")
    headers = "\n".join(f"{name}: {value}" for name, value in response.items())
    return f"{headers}\n\n{body}"


def email_text(message) -> str:
    parts = [message.subject, message.body, message.from_email]
    parts += [*message.to, *message.cc, *message.bcc, *message.reply_to]
    parts += [str(content) for content, _mimetype in getattr(message, "alternatives", [])]
    parts += [str(attachment) for attachment in message.attachments]
    parts += [f"{name}: {value}" for name, value in message.extra_headers.items()]
    parts += [f"{name}: {value}" for name, value in message.message().items()]
    return "\n".join(parts)


def log_text(record: logging.LogRecord) -> str:
    formatted = logging.Formatter("%(levelname)s %(name)s %(message)s").format(record)
    return f"{formatted}\n{record.getMessage()}\n{record.args!r}\n{vars(record)!r}"


def requests_for(
    user: User | None, site: list[str], admin_pages: list[str]
) -> Iterator[tuple[str, object]]:
    """(where, response) for every page as `user`: HTML plain and as htmx, the API with
    a token and with the session, and the admin."""
    browser = Client()
    api = token_client(user) if user is not None else APIClient()
    if user is not None:
        browser.force_login(user)
    for path in site:
        if path.startswith("/api/"):
            yield f"GET {path} (token)", api.get(path)
            yield f"GET {path} (session)", browser.get(path)
        else:
            yield f"GET {path}", browser.get(path)
            yield f"GET {path} (htmx)", browser.get(path, headers={"HX-Request": "true"})
    for path in admin_pages:
        yield f"GET {path}", browser.get(path)


def test_one_couples_words_reach_no_one_else(time_machine, caplog, settings):
    caplog.set_level(logging.DEBUG)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "http://testserver"
    markers = new_markers()
    mail.outbox = []

    a = plant(markers, time_machine)
    other, other_partner = new_user(display_name="Kit"), new_user(display_name="Lee")
    couple_of(other, other_partner)
    unpaired = new_user(display_name="Ash")
    curator = new_curator()
    operator = User.objects.create_superuser("operator@example.com", "an operator's phrase 9")
    invite = couples.invite_create(user=unpaired)
    principals: dict[str, User | None] = {
        "author": a.author,
        "partner": a.partner,
        "other": other,
        "unpaired": unpaired,
        "curator": curator,
        "operator": operator,
        "anonymous": None,
    }
    scan = Scan(markers)

    # The nudges, as the beat runs them at 19:00: every email to anyone but the author,
    # and every push notification (the partner has a device and chose both channels),
    # decrypted by the push service stand-in.
    settings.WEBPUSH_ALLOW_HTTP, settings.WEBPUSH_ENDPOINT_HOSTS = True, ["127.0.0.1"]
    with PushServiceStandIn() as push_service:
        subscription = push_service.subscribe()
        device, _ = device_register(
            user=a.partner,
            endpoint=subscription.endpoint,
            p256dh=subscription.p256dh,
            auth=subscription.auth,
        )
        preferences_update(user=a.partner, channels="both")
        for person in User.objects.all():
            schedule_reset(user=person, prefs=preferences_for(person))
        time_machine.move_to(EVENING, tick=False)
        nudges_tick(now=EVENING)
        nudges_deliver(now=EVENING)
        pushed = push_service.delivered(subscription)
    to_others = [m for m in mail.outbox if set(m.recipients()) != {a.author.email}]
    for message in to_others:
        scan.check("email", f"email to {message.recipients()}", email_text(message), KINDS)
    assert any(a.partner.email in message.recipients() for message in to_others), (
        "no email to the partner: the email scan would prove nothing"
    )
    for payload in pushed:
        scan.check("push", "push to the partner", json.dumps(payload), KINDS)
    assert pushed, "no push to the partner: the push scan would prove nothing"

    # Every page, with couple A's ids where a route takes one.
    samples = {
        "checkin_id": [str(pk) for pk in a.checkins],
        "question_id": [str(pk) for pk in a.questions],
        "topic_id": [str(pk) for pk in a.topics],
        "guess_id": [str(pk) for pk in a.guesses],
        "code": [invite.display_code],
        "token": [unsubscribe_token(a.author.pk, "question_ready"), "bad-token"],
        "uidb64": [urlsafe_base64_encode(force_bytes(a.author.pk))],
        "device_id": [str(device.pk)],
    }
    site, unfilled = site_paths(samples)
    admin_pages, admin_unfilled = admin_paths()
    assert not unfilled + admin_unfilled, (
        f"routes the scan cannot fill in: add sample values to `samples`: "
        f"{unfilled + admin_unfilled}"
    )
    statuses: dict[str, dict[str, int]] = {}
    for who, user in principals.items():
        forbidden = () if who == "author" else HIDDEN_FROM_PARTNER if who == "partner" else KINDS
        # Staff get every admin page; to everyone else each one is the same redirect to
        # the admin's log-in, so the pages of single objects are left out for them.
        staff = user is not None and user.is_staff
        admin_for = admin_pages if staff else [p for p in admin_pages if not OBJECT.search(p)]
        for where, response in requests_for(user, site, admin_for):
            statuses.setdefault(who, {})[where] = response.status_code
            scan.check(who, where, response_text(response), forbidden)

    # Every log line anyone wrote, while all of this happened.
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    for record in records:
        scan.check("logs", f"log {record.name}:{record.lineno}", log_text(record), KINDS)

    print(  # -s shows what was covered
        f"\nmarker scan: {len(site)} site paths, {len(admin_pages)} admin paths; "
        f"responses per principal: { {w: scan.counts[w] for w in principals} }; "
        f"emails: {len(to_others)} scanned ({len(mail.outbox)} sent); "
        f"log records: {len(records)}"
    )
    assert not scan.leaks, "\n".join(scan.leaks)

    # The scan can fail: the markers are there to be found, by the people they belong to.
    assert scan.found_by("author", "partner") == set(KINDS)
    assert scan.found_by("author") >= HIDDEN_FROM_PARTNER
    # ...and the walk reached the pages that matter (not a wall of errors or log-ins).
    assert not [w for w, code in statuses["operator"].items() if code >= 500]
    for who in principals:
        assert not [w for w, code in statuses[who].items() if code >= 500], who
    assert statuses["operator"][f"GET /admin/checkins/checkin/{a.checkins[0]}/change/"] == 200
    assert statuses["curator"]["GET /admin/prompts/prompt/"] == 200
    assert statuses["other"]["GET /history/"] == 200
    assert LovemapReveal.objects.filter(pk__in=a.guesses).exists()
