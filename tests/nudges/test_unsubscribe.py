"""Unsubscribing: signed per-purpose tokens, a confirmation on GET, action on POST
(including RFC 8058 one-click POSTs with no cookie and no CSRF token)."""

from __future__ import annotations

import re

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from nuzzle.nudges.kinds import Kind
from nuzzle.nudges.models import Nudge, NudgeSchedule
from nuzzle.nudges.tokens import (
    SALT,
    BadUnsubscribeToken,
    unsubscribe_read,
    unsubscribe_token,
)
from tests.factories import new_nudge

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def link(user_id: int, kind: str | None) -> str:
    return f"/unsubscribe/{unsubscribe_token(user_id, kind)}/"


def enabled_kinds(user) -> set[str]:
    return set(NudgeSchedule.objects.filter(user=user, enabled=True).values_list("kind", flat=True))


def one_click_client() -> Client:
    """What a mail client's one-click POST looks like: no cookies, CSRF enforced."""
    return Client(enforce_csrf_checks=True)


class TestTokens:
    def test_a_token_reads_back_as_its_person_and_kind(self):
        assert unsubscribe_read(unsubscribe_token(42, "lovemap_stale")) == (42, "lovemap_stale")
        assert unsubscribe_read(unsubscribe_token(42, None)) == (42, None)

    def test_tokens_are_short_and_url_safe(self):
        for kind in [*Kind.values, None]:
            token = unsubscribe_token(123456789, kind)
            assert re.fullmatch(r"[A-Za-z0-9._-]+", token), token
            assert len(token) < 90

    @pytest.mark.parametrize(
        "tamper",
        [
            lambda t: t.replace("42.", "43.", 1),  # someone else
            lambda t: t.replace("question_ready", "weekly_recap"),  # another kind
            lambda t: t.replace("question_ready", "all"),  # widen to every kind
            lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # altered signature
            lambda t: t[:20],  # cut short
            lambda t: "",
            lambda t: t + "x",
        ],
    )
    def test_any_change_to_a_token_makes_it_invalid(self, tamper):
        token = unsubscribe_token(42, "question_ready")
        with pytest.raises(BadUnsubscribeToken):
            unsubscribe_read(tamper(token))

    def test_a_value_signed_for_another_purpose_is_refused(self):
        other_purpose = signing.Signer(salt="nuzzle.something-else", sep=".").sign("42.all")
        with pytest.raises(BadUnsubscribeToken):
            unsubscribe_read(other_purpose)
        forged_kind = signing.Signer(salt=SALT, sep=".").sign("42.not_a_kind")
        with pytest.raises(BadUnsubscribeToken):
            unsubscribe_read(forged_kind)

    def test_tokens_survive_a_key_rotation_with_the_old_key_as_fallback(self, settings):
        token = unsubscribe_token(7, None)
        settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
        settings.SECRET_KEY = "a-brand-new-secret-key-for-this-test-only-0123456789"
        assert unsubscribe_read(token) == (7, None)

    def test_an_unknown_kind_cannot_be_signed(self):
        with pytest.raises(ValueError, match="unknown nudge kind"):
            unsubscribe_token(1, "nope")


@pytest.mark.django_db
class TestUnsubscribePage:
    def test_get_asks_first_and_changes_nothing(self, cast, client):
        before = enabled_kinds(cast.author)
        response = client.get(link(cast.author.pk, Kind.QUESTION_READY))
        assert response.status_code == 200
        page = response.content.decode()
        assert "Stop “Today&#x27;s question is waiting” emails?" in page
        assert ">Stop these emails</button>" in page
        assert 'method="post"' in page
        assert enabled_kinds(cast.author) == before
        assert "no-store" in response["Cache-Control"]

    def test_the_all_kinds_page_offers_to_stop_everything(self, cast, client):
        page = client.get(link(cast.author.pk, None)).content.decode()
        assert ">Stop all Nuzzle emails</button>" in page

    def test_a_one_click_post_stops_that_kind_only(self, cast):
        pending = new_nudge(
            user=cast.author,
            kind=Kind.QUESTION_READY,
            period="2030-01-01",
            local_date=timezone.now().date(),
            scheduled_for=timezone.now(),
        )
        before = enabled_kinds(cast.author)
        response = one_click_client().post(link(cast.author.pk, Kind.QUESTION_READY), ONE_CLICK)
        assert response.status_code == 200
        assert enabled_kinds(cast.author) == before - {Kind.QUESTION_READY}
        pending.refresh_from_db()
        assert pending.status == Nudge.Status.SKIPPED
        assert enabled_kinds(cast.partner) == before  # the partner's stay as they were

    def test_a_browser_post_without_a_csrf_token_works_too(self, cast):
        response = one_click_client().post(link(cast.author.pk, Kind.WEEKLY_RECAP))
        assert response.status_code == 200
        assert b"Done" in response.content
        assert b"/account/nudges/" in response.content  # the way back: preferences
        assert Kind.WEEKLY_RECAP not in enabled_kinds(cast.author)

    def test_posting_twice_is_the_same_as_once(self, cast):
        url = link(cast.author.pk, Kind.LOVEMAP_STALE)
        first = one_click_client().post(url, ONE_CLICK)
        state = enabled_kinds(cast.author)
        second = one_click_client().post(url, ONE_CLICK)
        assert first.status_code == second.status_code == 200
        assert first.content == second.content
        assert enabled_kinds(cast.author) == state

    def test_the_all_link_stops_every_kind(self, cast):
        assert enabled_kinds(cast.author)
        response = one_click_client().post(link(cast.author.pk, None), ONE_CLICK)
        assert response.status_code == 200
        assert b"no more Nuzzle emails" in response.content
        assert enabled_kinds(cast.author) == set()
        assert enabled_kinds(cast.partner)

    def test_the_token_decides_not_whoever_is_signed_in(self, cast, client):
        client.force_login(cast.other)
        client.post(link(cast.author.pk, None))
        assert enabled_kinds(cast.author) == set()
        assert enabled_kinds(cast.other)

    @pytest.mark.parametrize("method", ["get", "post"])
    def test_a_tampered_token_is_a_friendly_404_and_changes_nothing(self, cast, method):
        token = unsubscribe_token(cast.author.pk, None)
        token = token.replace(f"{cast.author.pk}.", f"{cast.partner.pk}.", 1)
        before = {user.pk: enabled_kinds(user) for user in (cast.author, cast.partner)}
        response = getattr(one_click_client(), method)(f"/unsubscribe/{token}/", ONE_CLICK)
        assert response.status_code == 404
        assert b"unsubscribe link doesn" in response.content
        assert {user.pk: enabled_kinds(user) for user in (cast.author, cast.partner)} == before

    def test_a_deleted_account_reads_the_same_as_a_live_one(self, cast):
        gone = cast.unpaired
        gone_url = link(gone.pk, Kind.CHECKIN_REMINDER)
        gone.delete()
        for_gone = one_click_client().post(gone_url, ONE_CLICK)
        for_live = one_click_client().post(link(cast.author.pk, Kind.CHECKIN_REMINDER), ONE_CLICK)
        assert for_gone.status_code == for_live.status_code == 200
        assert for_gone.content == for_live.content

    def test_other_methods_are_refused(self, cast, client):
        assert client.put(link(cast.author.pk, None)).status_code == 405
