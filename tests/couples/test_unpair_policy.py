"""The unpair policy end to end (docs/product.md: Unpair; docs/reliability.md: Access
control and privacy): unpairing takes effect on the very next request, for both
partners, in the API and the HTML; each keeps what they wrote; a later couple never sees
an earlier couple's content, neither the partner's nor the person's own words written
with them.

Content carries a marker per author and couple, and whole pages and API answers are
searched for it, so no field anywhere can leak it without the tests noticing.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from checkins.models import Checkin
from checkins.services import AnswerInput, checkin_respond, checkin_submit
from lovemaps.services import lovemap_answer, lovemap_guess_rate, lovemap_reveal
from nuzzle.couples import services
from nuzzle.couples.models import User
from nuzzle.couples.selectors import couple_day_today
from nuzzle.lib.errors import NotFound
from prompts.models import Prompt
from prompts.selectors import checkin_questions_for
from prompts.services import daily_question_ensure, prompt_bank_load, question_answer
from tests.conftest import token_client
from tests.factories import new_user
from tests.pages import SIGNED_IN_PAGES

pytestmark = pytest.mark.django_db

# Every page a person can open without an id in the path.
HTML_PAGES = SIGNED_IN_PAGES
# Every JSON endpoint a person can GET without an id in the path.
API_READS = (
    "/api/v1/me",
    "/api/v1/me/preferences",
    "/api/v1/couple",
    "/api/v1/checkins/questions",
    "/api/v1/checkins/today",
    "/api/v1/checkins",
    "/api/v1/questions/today",
    "/api/v1/questions",
    "/api/v1/lovemap/topics",
    "/api/v1/lovemap/mine",
    "/api/v1/lovemap/partner",
    "/api/v1/lovemap/freshness",
    "/api/v1/dashboard",
    "/api/v1/nudges",
)


@pytest.fixture
def bank() -> None:
    prompt_bank_load()


def session_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def lovemap_topic() -> Prompt:
    return Prompt.objects.filter(kind=Prompt.Kind.LOVEMAP, status=Prompt.Status.PUBLISHED)[0]


def write_everything(user: User, marker: str) -> None:
    """A shared check-in with an answer, an answer to today's question, and a love-map
    answer, each carrying `marker`."""
    question_id = checkin_questions_for(day=couple_day_today(user=user))[0].pk
    checkin_submit(
        user=user, mood=4, answers=[AnswerInput(question_id=question_id, text=f"{marker} mood")]
    )
    question = daily_question_ensure(user=user)
    assert question is not None
    question_answer(user=user, question_id=question.pk, text=f"{marker} answer")
    lovemap_answer(user=user, topic_id=lovemap_topic().pk, text=f"{marker} joy")


def turn_toward(user: User, partner: User, marker: str) -> int:
    """`user` replies to `partner`'s check-in and guesses `partner`'s love-map answer
    before revealing it, each text carrying `marker`; `partner` rates the guess. Returns
    the guess's id."""
    checkin = Checkin.objects.get(author=partner)
    checkin_respond(user=user, checkin_id=checkin.pk, reaction="hug", text=f"{marker} reply")
    reveal = lovemap_reveal(user=user, topic_id=lovemap_topic().pk, guess=f"{marker} guess")
    lovemap_guess_rate(user=partner, guess_id=reveal.pk, rating="close")
    return reveal.pk


def everything_seen_by(
    html: Client | None, api: APIClient | None, *, pages: Iterable[str] = HTML_PAGES
) -> dict[str, str]:
    """Every page and API answer this person gets now, as text, by path."""
    seen: dict[str, str] = {}
    if html is not None:
        for path in pages:
            page = html.get(path, follow=True)
            assert page.status_code == 200, (path, page.status_code)
            seen[path] = page.content.decode()
    if api is not None:
        for path in API_READS:
            response = api.get(path)
            assert response.status_code in (200, 404), (path, response.status_code)
            seen[path] = response.content.decode()
    return seen


def where(marker: str, seen: dict[str, str]) -> list[str]:
    return sorted(path for path, text in seen.items() if marker in text)


# Where a person finds their own words after unpairing (and in a later couple).
KEPT = {
    "/history/",
    "/questions/",
    "/lovemap/mine/",
    "/api/v1/checkins",
    "/api/v1/questions",
    "/api/v1/lovemap/mine",
}
KEPT_ANSWER = {"/questions/", "/api/v1/questions"}  # my answer to the daily question


def test_unpairing_hides_each_others_content_at_once_and_a_new_couple_sees_none_of_it(
    cast, bank, django_capture_on_commit_callbacks
):
    robin, sam = cast.author, cast.partner
    write_everything(robin, "ROBIN-WITH-SAM")
    write_everything(sam, "SAM-WITH-ROBIN")
    question = daily_question_ensure(user=sam)
    assert question is not None
    turn_toward(sam, robin, "SAM-WITH-ROBIN")
    turn_toward(robin, sam, "ROBIN-WITH-SAM")
    robin_html, robin_api = session_client(robin), token_client(robin)
    sam_html, sam_api = session_client(sam), token_client(sam)

    # While paired each sees the other's shared words (so the checks below mean something).
    assert where("ROBIN-WITH-SAM", everything_seen_by(sam_html, sam_api))
    assert where("SAM-WITH-ROBIN", everything_seen_by(robin_html, robin_api))

    with django_capture_on_commit_callbacks(execute=True):
        assert robin_api.delete("/api/v1/couple").status_code == 204

    # The very next request, through the same sessions and tokens: nothing of the other.
    robin_sees = everything_seen_by(robin_html, robin_api)
    sam_sees = everything_seen_by(sam_html, sam_api)
    assert where("SAM-WITH-ROBIN", robin_sees) == []
    assert where("ROBIN-WITH-SAM", sam_sees) == []
    assert sam_api.get("/api/v1/couple").status_code == 404
    assert sam_api.get("/api/v1/me").json()["couple"] is None
    # Each keeps what they wrote, in their history: check-ins, answers to the daily
    # question, love map.
    for person_sees, marker in ((robin_sees, "ROBIN-WITH-SAM"), (sam_sees, "SAM-WITH-ROBIN")):
        assert set(where(marker, person_sees)) >= KEPT
        assert set(where(f"{marker} answer", person_sees)) >= KEPT_ANSWER
    # Sam was told, without a word of anyone's content.
    [notice] = mail.outbox
    assert notice.to == [sam.email]
    assert notice.subject == "Robin ended your couple in Nuzzle"
    body = notice.body + str(notice.alternatives[0][0])
    assert "ROBIN-WITH-SAM" not in body
    assert "SAM-WITH-ROBIN" not in body

    # Robin pairs with Cleo, and they write together.
    robin = User.objects.get(pk=robin.pk)  # the one above cached its couple context
    cleo = new_user(display_name="Cleo")
    invite = services.invite_create(user=robin)
    services.invite_accept(user=cleo, code=invite.code)
    write_everything(cleo, "CLEO-WITH-ROBIN")
    with pytest.raises(NotFound):  # Robin's answer was written with Sam: not Cleo's to see
        lovemap_reveal(user=cleo, topic_id=lovemap_topic().pk)
    cleo_sees = everything_seen_by(session_client(cleo), token_client(cleo))
    assert where("ROBIN-WITH-SAM", cleo_sees) == []
    assert where("SAM-WITH-ROBIN", cleo_sees) == []
    # Robin still has their own words from before, and never Sam's.
    robin_sees = everything_seen_by(robin_html, robin_api)
    assert set(where("ROBIN-WITH-SAM", robin_sees)) >= KEPT
    assert set(where("ROBIN-WITH-SAM answer", robin_sees)) >= KEPT_ANSWER
    assert where("SAM-WITH-ROBIN", robin_sees) == []
    assert where("CLEO-WITH-ROBIN", robin_sees)  # the new couple works as a couple
    # Sam, alone now, sees nothing of Robin's new couple either.
    assert where("CLEO-WITH-ROBIN", everything_seen_by(sam_html, sam_api)) == []


def test_the_partner_can_unpair_too_and_the_notice_goes_to_the_other(
    cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = session_client(cast.partner).post("/couple/unpair/")
    assert response.status_code == 302
    [notice] = mail.outbox
    assert notice.to == [cast.author.email]
    assert notice.subject == "Sam ended your couple in Nuzzle"
    assert "List-Unsubscribe" not in notice.extra_headers
    assert token_client(cast.author).get("/api/v1/couple").status_code == 404


def test_a_second_unpair_racing_the_first_sends_no_second_notice(
    cast, django_capture_on_commit_callbacks
):
    robin = User.objects.get(pk=cast.author.pk)
    sam = User.objects.get(pk=cast.partner.pk)
    from nuzzle.couples.scoping import couple_context

    assert couple_context(robin) is not None  # both hold a context from before
    assert couple_context(sam) is not None
    with django_capture_on_commit_callbacks(execute=True):
        services.couple_end(user=robin)
        services.couple_end(user=sam)  # finds it already ended
    assert len(mail.outbox) == 1


def test_a_notice_that_cannot_be_sent_does_not_fail_the_unpair(
    cast, settings, caplog, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    with django_capture_on_commit_callbacks(execute=True):
        assert token_client(cast.author).delete("/api/v1/couple").status_code == 204
    assert "couple-ended notice not sent" in caplog.text
    assert cast.partner.email not in caplog.text
