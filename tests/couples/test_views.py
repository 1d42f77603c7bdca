"""The browser pages for accounts and pairing, through Django's test client."""

import re

import pytest
from django.core import mail

from nuzzle.couples import services
from nuzzle.couples.models import User
from nuzzle.couples.scoping import couple_context
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def signup(client, **overrides):
    data = {
        "display_name": "Robin",
        "email": "robin@example.com",
        "password": "a calm evening 42",
        "timezone": "Europe/Berlin",
    }
    data.update(overrides)
    return client.post("/signup/", data)


class TestSignupPage:
    def test_signing_up_logs_you_in_and_shows_how_to_invite(self, client):
        response = signup(client)
        assert response.status_code == 302
        assert response["Location"] == "/"
        home = client.get("/")
        assert b"Invite your partner" in home.content

    def test_it_returns_to_a_safe_next_page_only(self, client):
        assert signup(client, next="/invite/ABCD/")["Location"] == "/invite/ABCD/"
        other = UserFactory.build()
        response = signup(client.__class__(), email=other.email, next="https://evil.example/")
        assert response["Location"] == "/"

    def test_errors_are_shown_on_their_fields_and_nothing_is_stored(self, client):
        response = signup(client, password="123", timezone="Nowhere/Land")
        assert response.status_code == 200
        form = response.context["form"]
        assert "password" in form.errors
        assert "timezone" in form.errors
        assert not User.objects.exists()

    @pytest.mark.parametrize("email", ["robin@example.com", "Robin@Example.com"])
    def test_a_taken_email_in_any_case_gets_the_one_message_and_no_constraint_name(
        self, client, email
    ):
        UserFactory(email="robin@example.com")
        response = signup(client, email=email)
        assert response.status_code == 200
        form = response.context["form"]
        assert form.errors == {
            "email": ["An account with this email already exists. Try logging in."]
        }
        assert "constraint" not in response.content.decode().lower()
        assert User.objects.count() == 1

    def test_markup_in_a_name_is_escaped_everywhere(self, client):
        signup(client, display_name="<script>alert(1)</script>")
        page = client.get("/").content.decode()
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;" in page


class TestLogin:
    def test_login_by_email_in_any_case(self, client):
        UserFactory(email="robin@example.com")
        response = client.post("/login/", {"username": "ROBIN@example.com", "password": PASSWORD})
        assert response.status_code == 302

    def test_unknown_email_and_wrong_password_read_the_same(self, client):
        UserFactory(email="robin@example.com")
        wrong = client.post("/login/", {"username": "robin@example.com", "password": "nope nope"})
        unknown = client.post("/login/", {"username": "who@example.com", "password": "nope nope"})
        assert (
            wrong.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()
        )
        assert "Email or password is incorrect." in str(wrong.context["form"].non_field_errors())

    def test_logout_is_a_post(self, client):
        client.force_login(UserFactory())
        assert client.get("/logout/").status_code == 405
        assert client.post("/logout/").status_code == 302
        assert client.get("/")["Location"].startswith("/login/")


class TestPasswordReset:
    def test_the_email_has_both_parts_and_its_link_sets_a_new_password(self, client, settings):
        settings.SITE_URL = "https://nuzzle.example"
        user = UserFactory(email="robin@example.com")
        response = client.post("/password-reset/", {"email": "Robin@example.com"})
        assert response["Location"] == "/password-reset/sent/"
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        html = message.alternatives[0][0]
        link = re.search(r"https://nuzzle\.example(/password-reset/[^/\s]+/[^/\s]+/)", message.body)
        assert link, message.body
        assert link.group(0) in html
        form_page = client.get(link.group(1), follow=True)
        assert form_page.context["validlink"]
        done = client.post(
            form_page.redirect_chain[-1][0],
            {"new_password1": "a brand new tune 9", "new_password2": "a brand new tune 9"},
        )
        assert done.status_code == 302
        user.refresh_from_db()
        assert user.check_password("a brand new tune 9")

    def test_an_unknown_email_looks_the_same_and_sends_nothing(self, client):
        response = client.post("/password-reset/", {"email": "nobody@example.com"})
        assert response["Location"] == "/password-reset/sent/"
        assert mail.outbox == []


class TestPairingPages:
    def test_invite_accept_and_unpair_through_the_pages(self, client):
        inviter, joiner = UserFactory(display_name="Robin"), UserFactory(display_name="Sam")
        client.force_login(inviter)
        client.post("/invite/", {"action": "create"})
        invite = inviter.invites_sent.get()
        page = client.get("/invite/")
        assert invite.display_code.encode() in page.content

        other = client.__class__()
        other.force_login(joiner)
        accept_page = other.get(f"/invite/{invite.display_code}/")
        assert b'Join <span dir="auto">Robin</span>?' in accept_page.content
        assert other.post(f"/invite/{invite.display_code}/")["Location"] == "/"
        assert b'data-testid="partner-name" dir="auto">Robin<' in other.get("/").content
        assert b'data-testid="partner-name" dir="auto">Sam<' in client.get("/").content

        assert b'Unpair from <span dir="auto">Sam</span>?' in client.get("/couple/unpair/").content
        client.post("/couple/unpair/")
        assert b"Invite your partner" in other.get("/").content

    def test_an_anonymous_visitor_sees_who_invited_them_and_is_sent_to_sign_up(self, client):
        invite = services.invite_create(user=UserFactory(display_name="Robin"))
        page = client.get(f"/invite/{invite.display_code}/")
        assert b'<span dir="auto">Robin</span> invited you' in page.content
        assert b"/signup/?next=/invite/" in page.content
        assert client.post(f"/invite/{invite.display_code}/")["Location"].startswith("/login/")

    def test_a_used_invite_page_says_so(self, client):
        invite = services.invite_create(user=UserFactory(display_name="Robin"))
        services.invite_accept(user=UserFactory(), code=invite.code)
        client.force_login(UserFactory())
        page = client.get(f"/invite/{invite.code}/")
        assert b"already been used" in page.content
        response = client.post(f"/invite/{invite.code}/")
        assert response.status_code == 400

    def test_the_join_form_goes_to_the_code_page(self, client):
        client.force_login(UserFactory())
        response = client.get("/invite/join/", {"code": "abcd-efgh"})
        assert response["Location"] == "/invite/ABCDEFGH/"
        assert client.get("/invite/join/", {"code": " - "})["Location"] == "/invite/"

    def test_revoking_from_the_page_kills_the_link(self, client):
        inviter = UserFactory()
        client.force_login(inviter)
        client.post("/invite/", {"action": "create"})
        invite = inviter.invites_sent.get()
        client.post("/invite/", {"action": "revoke", "code": invite.code})
        invite.refresh_from_db()
        assert invite.revoked_at is not None

    def test_changing_the_couple_zone_and_my_profile(self, client, cast):
        client.force_login(cast.author)
        client.post("/couple/", {"timezone": "Asia/Tokyo"})
        client.post("/account/", {"display_name": "Rob", "timezone": "America/Chicago"})
        cast.author.refresh_from_db()
        cast.couple.refresh_from_db()
        assert (cast.couple.timezone, cast.author.timezone) == ("Asia/Tokyo", "America/Chicago")
        assert couple_context(User.objects.get(pk=cast.partner.pk)).couple.timezone == "Asia/Tokyo"

    def test_pages_of_signed_in_people_are_never_cached(self, client, cast):
        client.force_login(cast.author)
        assert client.get("/")["Cache-Control"] == "no-store"


def test_times_on_pages_are_shown_in_the_persons_own_zone(client):
    import time_machine

    inviter = UserFactory(timezone="Asia/Tokyo")
    client.force_login(inviter)
    with time_machine.travel("2026-03-01 20:30:00Z", tick=False):
        client.post("/invite/", {"action": "create"})
        page = client.get("/invite/").content.decode()
    # 7 days after 20:30 UTC is 05:30 the next morning in Tokyo (UTC+9).
    assert "Monday 9 March, 05:30" in page


def test_opting_in_to_sensitive_questions_from_the_account_page(client, cast):
    client.force_login(cast.author)
    client.post(
        "/account/",
        {"display_name": "Robin", "timezone": "Europe/London", "allow_sensitive_questions": "on"},
    )
    cast.author.refresh_from_db()
    assert cast.author.allow_sensitive_questions
    client.post("/account/", {"display_name": "Robin", "timezone": "Europe/London"})
    cast.author.refresh_from_db()
    assert not cast.author.allow_sensitive_questions
