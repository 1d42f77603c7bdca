"""Right-to-left words read right to left: every element that shows or takes a person's
words (answers, replies, guesses, display names) is marked `dir="auto"`, so the browser
(or mail client) sets its direction from the words themselves.

Hebrew and Arabic are planted everywhere a person can write, the pages (and htmx
fragments, and the emails' HTML parts) are rendered, and each piece of right-to-left
text must sit in an element with dir="auto" that holds nothing but such words: the
element designed for them, not a whole English sentence or card that happens to contain
them. Where markup can't go (the mood chart's sentences, also used in its SVG
description), a name is isolated in the text itself: FSI ... PDI, the plain-text
counterpart of dir="auto". Titles (no markup allowed) and decorative initials
(aria-hidden) are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.core import mail
from django.test import Client

from checkins.models import REPLY_MAX_LENGTH
from checkins.services import AnswerInput, checkin_respond, checkin_submit
from lovemaps.services import lovemap_answer, lovemap_reveal
from nuzzle.couples import services as couples
from nuzzle.nudges.channels.base import Addressee
from nuzzle.nudges.channels.email import nudge_message
from nuzzle.nudges.kinds import Kind
from nuzzle.nudges.models import Nudge
from prompts.models import Prompt
from prompts.services import daily_question_ensure, prompt_bank_load, question_answer
from tests.checkins.helpers import todays_question_ids
from tests.factories import new_user
from tests.pages import SIGNED_IN_PAGES

pytestmark = pytest.mark.django_db

RTL = re.compile(r"[\u0590-\u05ff\u0600-\u06ff\ufb1d-\ufdff\ufe70-\ufeff]")
LATIN = re.compile(r"[A-Za-z]")
ISOLATE = re.compile("\u2068[^\u2068\u2069]*\u2069")  # FSI ... PDI

ROBIN = "רוני"  # the author's display name (Hebrew)
SAM = "سامي"  # the partner's (Arabic)
HEBREW_ANSWER = "היום היה ארוך\nאבל טוב"
ARABIC_ANSWER = "كان يوما طويلا\nلكنه جميل"
HEBREW_REPLY = "גאה בך"
ARABIC_REPLY = "أنا فخور بك"
HEBREW_QUESTION = "החוף בשקיעה"
ARABIC_QUESTION = "البحر عند الغروب"
HEBREW_MAP = "תה ליד החלון"
ARABIC_GUESS = "قهوة في الصباح"

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
VOID |= {"track", "wbr", "path", "polyline", "line", "circle", "rect"}  # self-closed SVG


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None
    children: list[Element | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def ancestors(self):
        node: Element | None = self
        while node is not None:
            yield node
            node = node.parent


class Tree(HTMLParser):
    """A small DOM: enough to find each text node's ancestors (our templates are
    well-formed; an unmatched end tag closes up to its opening tag)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Element(tag, {k: v or "" for k, v in attrs}, self.current))

    def handle_endtag(self, tag):
        for node in self.current.ancestors():
            if node.tag == tag:
                self.current = node.parent or self.root
                return

    def handle_data(self, data):
        self.current.children.append(data)


def misplaced_words(page: str) -> list[str]:
    """Each piece of right-to-left text not inside a dir="auto" element of its own."""
    tree = Tree()
    tree.feed(page)
    problems: list[str] = []

    def check(holder: Element, text: str) -> None:
        if not RTL.search(ISOLATE.sub("", text)):
            return  # every right-to-left run is isolated in the text itself
        chain = list(holder.ancestors())
        if any(n.tag in {"title", "head"} or n.attrs.get("aria-hidden") == "true" for n in chain):
            return
        marked = next((n for n in chain if "dir" in n.attrs), None)
        where = " > ".join(f"{n.tag}.{n.attrs.get('class', '')}" for n in reversed(chain[:4]))
        if marked is None or marked.attrs["dir"] != "auto":
            problems.append(f"{text!r} has no dir=auto around it ({where})")
        elif LATIN.search(
            marked.attrs.get("value", "") if marked.tag == "input" else marked.text()
        ):
            problems.append(f"{text!r}: its dir=auto element holds other words too ({where})")

    def walk(node: Element) -> None:
        if RTL.search(node.attrs.get("value", "")):
            check(node, node.attrs["value"])
        for child in node.children:
            if isinstance(child, str):
                if RTL.search(child):
                    check(node, child.strip())
            else:
                walk(child)

    walk(tree.root)
    return problems


@pytest.fixture
def planted(cast, django_capture_on_commit_callbacks):
    """The cast, with names and words in Hebrew (Robin) and Arabic (Sam) everywhere."""
    prompt_bank_load()
    cast.author.display_name, cast.partner.display_name = ROBIN, SAM
    cast.author.save()
    cast.partner.save()
    mine = checkin_submit(
        user=cast.author,
        mood=4,
        answers=[AnswerInput(question_id=todays_question_ids(cast.author)[0], text=HEBREW_ANSWER)],
    ).checkin
    theirs = checkin_submit(
        user=cast.partner,
        mood=3,
        answers=[AnswerInput(question_id=todays_question_ids(cast.partner)[0], text=ARABIC_ANSWER)],
    ).checkin
    checkin_respond(user=cast.partner, checkin_id=mine.pk, reaction="hug", text=ARABIC_REPLY)
    checkin_respond(user=cast.author, checkin_id=theirs.pk, reaction="heart", text=HEBREW_REPLY)
    question = daily_question_ensure(user=cast.author)
    assert question is not None
    question_answer(user=cast.author, question_id=question.pk, text=HEBREW_QUESTION)
    question_answer(user=cast.partner, question_id=question.pk, text=ARABIC_QUESTION)
    topics = list(Prompt.objects.filter(kind=Prompt.Kind.LOVEMAP, status="published")[:3])
    lovemap_answer(user=cast.author, topic_id=topics[0].pk, text=HEBREW_MAP)
    lovemap_answer(user=cast.author, topic_id=topics[1].pk, text=HEBREW_MAP + " 2")
    lovemap_reveal(user=cast.partner, topic_id=topics[0].pk, guess=ARABIC_GUESS)
    lovemap_answer(user=cast.partner, topic_id=topics[2].pk, text="مساء")
    return {"mine": mine, "theirs": theirs, "question": question, "topics": topics}


PAGES = SIGNED_IN_PAGES


def test_every_page_marks_a_persons_words_dir_auto(client, cast, planted):
    seen = 0
    for person in (cast.author, cast.partner):
        client.force_login(person)
        for path in PAGES:
            response = client.get(path, follow=True)  # /invite/ goes to /couple/ when paired
            assert response.status_code == 200, path
            page = response.content.decode()
            seen += len(RTL.findall(page))
            problems = misplaced_words(page)
            assert not problems, f"{path} as {person.display_name}:\n" + "\n".join(problems)
    assert seen > 200  # the planted words really were on the pages


def test_htmx_fragments_and_refusals_mark_them_too(client, cast, planted):
    client.force_login(cast.partner)
    mine, question, topics = planted["mine"], planted["question"], planted["topics"]
    bodies = {
        "respond fragment": client.post(
            f"/checkins/{mine.pk}/respond/", {"reaction": "proud"}, HTTP_HX_REQUEST="true"
        ),
        "refused reply, htmx": client.post(
            f"/checkins/{mine.pk}/respond/",
            {"text": ARABIC_REPLY * REPLY_MAX_LENGTH},
            HTTP_HX_REQUEST="true",
        ),
        "refused reply": client.post(
            f"/checkins/{mine.pk}/respond/", {"text": ARABIC_REPLY * REPLY_MAX_LENGTH}
        ),
        "question card": client.post(
            f"/questions/{question.pk}/react/", {"reaction": "heart"}, HTTP_HX_REQUEST="true"
        ),
        "refused answer": client.post(f"/questions/{question.pk}/answer/", {"text": HEBREW_MAP}),
        "refused guess": client.post(
            f"/lovemap/partner/{topics[1].pk}/reveal/", {"guess": ARABIC_GUESS * 200}
        ),
        "refused map answer": client.post(
            f"/lovemap/mine/{topics[1].pk}/", {"answer": ARABIC_GUESS * 200}
        ),
    }
    for name, response in bodies.items():
        page = response.content.decode()
        assert RTL.search(page), name
        problems = misplaced_words(page)
        assert not problems, f"{name}:\n" + "\n".join(problems)


def test_the_invite_page_marks_the_inviters_name(client):
    invite = couples.invite_create(user=new_user(display_name=ROBIN))
    anonymous = client.get(f"/invite/{invite.display_code}/").content.decode()
    signed_in = Client()
    signed_in.force_login(new_user(display_name=SAM))
    joining = signed_in.get(f"/invite/{invite.display_code}/").content.decode()
    for page in (anonymous, joining):
        assert ROBIN in page
        assert misplaced_words(page) == []


def test_the_emails_html_parts_mark_names(
    client, cast, planted, django_capture_on_commit_callbacks
):
    recipient = Addressee(
        user_id=cast.author.pk,
        email=cast.author.email,
        display_name=ROBIN,
        timezone=cast.author.timezone,
        partner_name=SAM,
    )
    contexts = {
        Kind.QUESTION_READY: {"partner_answered": True},
        Kind.CHECKIN_REMINDER: {},
        Kind.PARTNER_ANSWERED: {"revealed": False},
        Kind.LOVEMAP_STALE: {"stale": 2},
        Kind.LOVEMAP_CATCHUP: {"updates": 3},
        Kind.WEEKLY_RECAP: {"days_together": 4, "questions_revealed": 2, "lovemap_updates": 1},
    }
    messages = []
    for kind, context in contexts.items():
        nudge = Nudge(user=cast.author, kind=kind, period="p", context=context)
        messages.append(nudge_message(nudge, recipient))
    with django_capture_on_commit_callbacks(execute=True):
        couples.couple_end(user=cast.partner)  # Robin is told that Sam ended the couple
    client.post("/password-reset/", {"email": cast.author.email})
    messages += mail.outbox
    assert len(messages) == len(contexts) + 2
    for message in messages:
        [(page, _)] = message.alternatives
        assert RTL.search(page), message.subject
        assert misplaced_words(page) == [], message.subject
