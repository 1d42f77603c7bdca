"""Deleting my account (docs/product.md: Your data; docs/api.md `DELETE /api/v1/me`;
docs/reliability.md: Access control and privacy): it needs my password; it ends my
couple at once and my partner is told; everything I wrote goes; every session and token
of mine stops working on the very next request; queued nudges go with me, and my
partner's queued nudges about me are dropped when they are due to be sent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from knox.models import AuthToken

from checkins.models import Checkin, CheckinResponse
from lovemaps.models import LovemapEntry, LovemapReveal
from lovemaps.services import lovemap_answer
from nuzzle.couples import services
from nuzzle.couples.models import Couple, Membership, User
from nuzzle.lib.timezones import local_date
from nuzzle.nudges import kinds
from nuzzle.nudges.delivery import nudges_deliver
from nuzzle.nudges.kinds import Kind, Recipient
from nuzzle.nudges.models import Nudge
from prompts.models import QuestionAnswer
from prompts.services import daily_question_ensure, question_answer
from tests.conftest import token_client
from tests.couples.test_unpair_policy import (
    API_READS,
    HTML_PAGES,
    everything_seen_by,
    lovemap_topic,
    session_client,
    turn_toward,
    where,
    write_everything,
)
from tests.factories import PASSWORD, couple_of, new_nudge, new_user

pytestmark = pytest.mark.django_db

# Everything the deleted person could open before, with ids in the path too.
HTML_ANONYMOUS = (*HTML_PAGES, "/questions/1/answer/", "/lovemap/mine/1/")


@pytest.fixture
def bank() -> None:
    from prompts.services import prompt_bank_load

    prompt_bank_load()


def sessions_of(user_id: int) -> int:
    return sum(1 for s in Session.objects.all() if s.get_decoded().get(SESSION_KEY) == str(user_id))


def test_after_deletion_every_session_token_and_page_of_mine_is_anonymous(
    cast, bank, django_capture_on_commit_callbacks
):
    robin, sam = cast.author, cast.partner
    robin_id = robin.pk
    write_everything(robin, "ROBIN-WROTE")
    write_everything(sam, "SAM-WROTE")
    turn_toward(robin, sam, "ROBIN-WROTE")
    turn_toward(sam, robin, "SAM-WROTE")
    sessions = [session_client(robin) for _ in range(2)]
    browser = Client()  # a real log-in through the form, too
    assert browser.post("/login/", {"username": robin.email, "password": PASSWORD}).status_code
    sessions.append(browser)
    tokens = [token_client(robin) for _ in range(3)]
    for client in sessions:
        assert client.get("/").status_code == 200
    for client in tokens:
        assert client.get("/api/v1/me").status_code == 200
    assert sessions_of(robin_id) == 3
    assert AuthToken.objects.filter(user_id=robin_id).count() == 3
    sam_html, sam_api = session_client(sam), token_client(sam)
    assert where("ROBIN-WROTE", everything_seen_by(sam_html, sam_api))  # before: shared

    with django_capture_on_commit_callbacks(execute=True):
        response = tokens[0].delete("/api/v1/me", {"password": PASSWORD}, format="json")
    assert response.status_code == 204

    # Every old session: the anonymous answer on every page and every API read.
    for client in sessions:
        for path in HTML_ANONYMOUS:
            page = client.get(path)
            assert page.status_code == 302, path
            assert page["Location"].startswith("/login/"), path
        for path in API_READS:
            assert client.get(path).status_code in (401, 403), path
    # Every old token: 401 everywhere.
    for client in tokens:
        for path in (*API_READS, "/api/v1/me/export"):
            assert client.get(path).status_code == 401, path
        assert client.delete("/api/v1/me", {"password": PASSWORD}, format="json").status_code == 401
    assert sessions_of(robin_id) == 0
    assert not AuthToken.objects.filter(user_id=robin_id).exists()
    # Robin and everything Robin wrote are gone; Sam's words are Sam's still.
    assert not User.objects.filter(pk=robin_id).exists()
    assert not Checkin.objects.filter(author_id=robin_id).exists()
    assert not QuestionAnswer.objects.filter(author_id=robin_id).exists()
    assert not LovemapEntry.objects.filter(author_id=robin_id).exists()
    assert not CheckinResponse.objects.filter(author_id=robin_id).exists()
    assert not LovemapReveal.objects.filter(viewer_id=robin_id).exists()
    assert Checkin.objects.filter(author=sam).exists()
    # Sam's reply to Robin's check-in and guess about Robin are Sam's: they stay,
    # detached from what Robin wrote; Robin's rating of the guess went with Robin.
    assert CheckinResponse.objects.get(author=sam).checkin_id is None
    sams_guess = LovemapReveal.objects.get(viewer=sam)
    assert (sams_guess.entry_id, sams_guess.rating, sams_guess.rated_at) == (None, "", None)
    # Sam: no couple, nothing of Robin's anywhere, own content kept.
    assert cast.couple.memberships.filter(ended_at__isnull=True).count() == 0
    assert Couple.objects.get(pk=cast.couple.pk).ended_at is not None
    assert sam_api.get("/api/v1/me").json()["couple"] is None
    assert sam_api.get("/api/v1/couple").status_code == 404
    sam_sees = everything_seen_by(sam_html, sam_api)
    sam_sees["/api/v1/me/export"] = sam_api.get("/api/v1/me/export").content.decode()
    assert where("ROBIN-WROTE", sam_sees) == []
    assert {"/history/", "/api/v1/me/export"} <= set(where("SAM-WROTE", sam_sees))
    for kept in ("SAM-WROTE reply", "SAM-WROTE guess"):
        assert where(kept, sam_sees) == ["/api/v1/me/export"]
    # Sam was told, by name, with nothing anyone wrote.
    [notice] = mail.outbox
    assert notice.to == [sam.email]
    assert notice.subject == "Robin ended your couple in Nuzzle"
    html = str(notice.alternatives[0][0])
    assert "Robin ended your couple" in notice.body
    assert "Robin ended your couple" in html
    assert "ROBIN-WROTE" not in notice.body + html
    assert "SAM-WROTE" not in notice.body + html
    assert "List-Unsubscribe" not in notice.extra_headers


def test_when_my_partner_deletes_their_account_i_keep_my_words_and_see_none_of_theirs(
    cast, bank, django_capture_on_commit_callbacks
):
    robin, sam = cast.author, cast.partner
    write_everything(robin, "ROBIN-WROTE")
    write_everything(sam, "SAM-WROTE")
    turn_toward(robin, sam, "ROBIN-WROTE")
    turn_toward(sam, robin, "SAM-WROTE")
    robin_html, robin_api = session_client(robin), token_client(robin)
    assert where("SAM-WROTE", everything_seen_by(robin_html, robin_api))  # before: shared

    with django_capture_on_commit_callbacks(execute=True):
        services.user_delete(user=User.objects.get(pk=sam.pk), password=PASSWORD)

    # Every page and API read of mine still works (no 500 on a detached reply or
    # guess) and shows none of Sam's words; my export keeps my reply and my guess.
    robin_sees = everything_seen_by(robin_html, robin_api)
    export = robin_api.get("/api/v1/me/export")
    assert export.status_code == 200
    robin_sees["/api/v1/me/export"] = export.content.decode()
    assert where("SAM-WROTE", robin_sees) == []
    assert {"/history/", "/lovemap/mine/", "/api/v1/me/export"} <= set(
        where("ROBIN-WROTE", robin_sees)
    )
    for kept in ("ROBIN-WROTE reply", "ROBIN-WROTE guess"):
        assert where(kept, robin_sees) == ["/api/v1/me/export"]
    assert CheckinResponse.objects.get(author=robin).checkin_id is None
    assert LovemapReveal.objects.get(viewer=robin).entry_id is None

    # Robin pairs with Cleo: Cleo sees nothing from before, neither Robin's words
    # (their detached reply and guess included) nor Sam's; Robin sees none of Sam's.
    robin = User.objects.get(pk=robin.pk)
    cleo = new_user(display_name="Cleo")
    services.invite_accept(user=cleo, code=services.invite_create(user=robin).code)
    write_everything(cleo, "CLEO-WROTE")
    cleo_sees = everything_seen_by(session_client(cleo), token_client(cleo))
    assert where("ROBIN-WROTE", cleo_sees) == []
    assert where("SAM-WROTE", cleo_sees) == []
    robin_sees = everything_seen_by(robin_html, robin_api)
    assert where("SAM-WROTE", robin_sees) == []
    assert where("CLEO-WROTE", robin_sees)


def test_a_wrong_or_missing_password_deletes_nothing(cast, api, django_capture_on_commit_callbacks):
    client = api(cast.author)
    with django_capture_on_commit_callbacks(execute=True):
        wrong = client.delete("/api/v1/me", {"password": "not it"}, format="json")
        missing = client.delete("/api/v1/me", {}, format="json")
        empty = client.delete("/api/v1/me", {"password": ""}, format="json")
        not_text = client.delete("/api/v1/me", {"password": 42}, format="json")
    for response in (wrong, missing, empty, not_text):
        assert response.status_code == 400
        assert "password" in response.json()
    assert client.get("/api/v1/me").json()["couple"]["partner"]["display_name"] == "Sam"
    assert User.objects.filter(pk=cast.author.pk).exists()
    assert mail.outbox == []
    with pytest.raises(Exception, match="password"):
        services.user_delete(user=cast.author, password="not it")


def test_the_page_explains_asks_for_the_password_and_logs_out(
    cast, django_capture_on_commit_callbacks
):
    robin_id = cast.author.pk
    client, elsewhere = session_client(cast.author), session_client(cast.author)
    page = client.get("/account/delete/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Everything you wrote is deleted" in text
    assert 'Your couple with <span dir="auto">Sam</span> ends at once' in text
    assert "every session and every app token" in text
    assert 'name="password"' in text
    assert "/account/delete/" in client.get("/account/").content.decode()

    wrong = client.post("/account/delete/", {"password": "not it"})
    assert wrong.status_code == 200
    assert "password" in wrong.context["form"].errors
    assert User.objects.filter(pk=robin_id).exists()

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post("/account/delete/", {"password": PASSWORD}, follow=True)
    assert done.redirect_chain[0] == ("/login/", 302)
    assert "Your account and everything you wrote are deleted." in done.content.decode()
    assert not User.objects.filter(pk=robin_id).exists()
    for browser in (client, elsewhere):
        assert browser.get("/").status_code == 302
        assert browser.get("/account/delete/")["Location"].startswith("/login/")
    assert len(mail.outbox) == 1


def test_an_unpaired_person_can_delete_their_account_and_nobody_is_told(
    cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.user_delete(user=cast.unpaired, password=PASSWORD)
    assert not User.objects.filter(pk=cast.unpaired.pk).exists()
    assert mail.outbox == []
    # Nobody else is touched.
    assert Membership.objects.filter(ended_at__isnull=True).count() == 4


def test_the_page_offers_the_export_when_there_is_one(cast):
    from django.urls import NoReverseMatch, reverse

    try:
        data_url = reverse("account-data")
    except NoReverseMatch:
        pytest.skip("no data-export page yet")
    page = session_client(cast.author).get("/account/delete/").content.decode()
    assert f'href="{data_url}"' in page


# --- Queued nudges ---------------------------------------------------------------

# 17:00 in London, 12:00 in New York: outside everyone's default quiet hours.
NOW = datetime(2026, 5, 1, 16, 0, tzinfo=UTC)


def pending(user: User, kind: Kind) -> Nudge:
    day = local_date(user.timezone, NOW)
    return new_nudge(
        user=user,
        kind=kind,
        period=day.isoformat(),
        local_date=day,
        scheduled_for=NOW,
        next_attempt_at=NOW,
        created_at=NOW,
        status=Nudge.Status.PENDING,
    )


def test_queued_nudges_go_with_me_and_my_partners_nudges_about_me_are_dropped_at_send(
    bank, django_capture_on_commit_callbacks
):
    with time_machine.travel(NOW, tick=False):
        robin = new_user(display_name="Robin", timezone="Europe/London")
        sam = new_user(display_name="Sam", timezone="America/New_York")
        couple_of(robin, sam)
        robin_id = robin.pk
        question = daily_question_ensure(user=robin)
        assert question is not None
        question_answer(user=robin, question_id=question.pk, text="Mine")
        lovemap_answer(user=robin, topic_id=lovemap_topic().pk, text="A joy")
        answered = pending(sam, Kind.PARTNER_ANSWERED)
        catchup = pending(sam, Kind.LOVEMAP_CATCHUP)
        pending(robin, Kind.QUESTION_READY)
        # Before: Sam is due both (so the skips below are the re-check's doing).
        sam_now = [Recipient(sam.pk, local_date(sam.timezone, NOW))]
        assert sam.pk in kinds.eligible(Kind.PARTNER_ANSWERED.value, sam_now, NOW)
        assert sam.pk in kinds.eligible(Kind.LOVEMAP_CATCHUP.value, sam_now, NOW)

        with django_capture_on_commit_callbacks(execute=True):
            services.user_delete(user=User.objects.get(pk=robin_id), password=PASSWORD)
        mail.outbox.clear()  # the couple-ended notice

        assert not Nudge.objects.filter(user_id=robin_id).exists()  # went with Robin
        result = nudges_deliver(now=NOW)

    assert (result.sent, result.skipped) == (0, 2)
    for row in (answered, catchup):
        row.refresh_from_db()
        assert row.status == Nudge.Status.SKIPPED
        assert row.reason == "not sent: no longer needed when it was due to go"
    assert mail.outbox == []
