"""Rate limits on log-in, sign-up, password reset and invite codes (PRODUCT §7), and no
account enumeration through their messages.

Each test starts with an empty part of the cache (tests/conftest.py), and sets small
rates of its own so it can cross them quickly.
"""

from __future__ import annotations

import re
import time
from unittest import mock

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client, RequestFactory
from rest_framework.throttling import BaseThrottle

from nuzzle.couples import services
from nuzzle.couples.models import Membership, User
from nuzzle.lib import ratelimit
from tests.factories import PASSWORD, UserFactory, new_curator

pytestmark = pytest.mark.django_db

LOGIN = "/login/"
RESET = "/password-reset/"
TOKEN = "/api/v1/auth/token"


@pytest.fixture
def rates(settings):
    """Small limits: three per address, two per email, everywhere."""
    settings.RATE_LIMITS = {
        "auth": "3/min",
        "auth_email": "100/min",
        "signup": "3/hour",
        "password_reset": "3/hour",
        "password_reset_email": "100/hour",
        "invite_accept": "3/hour",
        "invite_accept_user": "100/hour",
    }
    return settings.RATE_LIMITS


WRONG = "wrong password"


def log_in(client, email="robin@example.com", password=WRONG, **meta):
    return client.post(LOGIN, {"username": email, "password": password}, **meta)


def signup_data(n: int) -> dict[str, str]:
    return {
        "display_name": "Robin",
        "email": f"p{n}@example.com",
        "password": "a calm evening 42",
        "timezone": "Europe/Berlin",
    }


def assert_refused_calmly(response, period_seconds: int) -> None:
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= period_seconds
    assert b"try again" in response.content
    assert "429.html" in [t.name for t in response.templates]


# --- over the limit: 429 and nothing processed ------------------------------------


class TestOverTheLimitNothingHappens:
    def test_login_even_with_the_right_password_creates_no_session(self, client, rates):
        UserFactory(email="robin@example.com")
        for _ in range(3):
            assert log_in(client).status_code == 200  # wrong password: the form again
        sessions = Session.objects.count()

        response = log_in(client, password=PASSWORD)

        assert_refused_calmly(response, 60)
        assert Session.objects.count() == sessions
        assert "_auth_user_id" not in client.session

    def test_signup_creates_no_user(self, client, rates):
        for n in range(3):
            assert client.post("/signup/", signup_data(n)).status_code == 302
            client.logout()

        response = client.post("/signup/", signup_data(99))

        assert_refused_calmly(response, 3600)
        assert not User.objects.filter(email="p99@example.com").exists()

    def test_password_reset_sends_no_email(self, client, rates):
        UserFactory(email="robin@example.com")
        for n in range(3):
            client.post(RESET, {"email": f"nobody{n}@example.com"})

        response = client.post(RESET, {"email": "robin@example.com"})

        assert_refused_calmly(response, 3600)
        assert mail.outbox == []

    def test_invite_accept_forms_no_couple_even_with_a_good_code(self, client, rates):
        inviter, joiner = UserFactory(), UserFactory()
        invite = services.invite_create(user=inviter)
        client.force_login(joiner)
        for n in range(3):
            assert client.post(f"/invite/NOPE{n}NOPE{n}/").status_code == 400

        response = client.post(f"/invite/{invite.code}/")

        assert_refused_calmly(response, 3600)
        assert not Membership.objects.filter(user=joiner).exists()

    def test_invite_codes_are_limited_per_person_across_addresses(self, client, rates):
        rates["invite_accept_user"] = "2/hour"
        client.force_login(UserFactory())
        statuses = [
            client.post("/invite/NOPENOPE/", REMOTE_ADDR=f"10.0.0.{n}").status_code
            for n in range(3)
        ]
        assert statuses == [400, 400, 429]

    def test_the_window_closes_and_attempts_are_welcome_again(self, client, rates):
        # A real one-second window: on Redis the key's expiry runs on the server's clock,
        # which frozen time in this process cannot move.
        rates["auth"] = "3/1sec"
        for _ in range(3):
            log_in(client)
        assert log_in(client).status_code == 429
        time.sleep(1.2)
        assert log_in(client).status_code == 200

    def test_under_the_default_rates_a_normal_session_is_untouched(self, client):
        UserFactory(email="robin@example.com")
        for _ in range(5):
            assert log_in(client, password=PASSWORD).status_code == 302
            client.logout()


# --- which address counts ----------------------------------------------------------


class TestClientAddress:
    def test_without_trusted_proxies_a_spoofed_forwarded_for_changes_nothing(
        self, client, rates, settings
    ):
        settings.TRUSTED_PROXY_COUNT = 0
        statuses = [
            log_in(
                client, email=f"p{n}@example.com", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"
            ).status_code
            for n in range(4)
        ]
        assert statuses == [200, 200, 200, 429]

    def test_behind_one_proxy_two_real_clients_count_separately(self, client, rates, settings):
        settings.TRUSTED_PROXY_COUNT = 1
        proxy = {"REMOTE_ADDR": "10.0.0.1"}
        for _ in range(3):
            log_in(client, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)

        assert log_in(client, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy).status_code == 429
        assert (
            log_in(
                client, email="b@example.com", HTTP_X_FORWARDED_FOR="198.51.100.8", **proxy
            ).status_code
            == 200
        )

    def test_behind_one_proxy_prepending_fake_addresses_does_not_escape(
        self, client, rates, settings
    ):
        settings.TRUSTED_PROXY_COUNT = 1
        # The proxy appends the address it saw (198.51.100.7) to whatever the client sent.
        statuses = [
            log_in(
                client,
                email=f"p{n}@example.com",
                REMOTE_ADDR="10.0.0.1",
                HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, 198.51.100.7",
            ).status_code
            for n in range(4)
        ]
        assert statuses == [200, 200, 200, 429]

    @pytest.mark.parametrize("proxies", [0, 1, 2])
    @pytest.mark.parametrize(
        "forwarded", [None, "198.51.100.7", "203.0.113.9, 198.51.100.7", " a , b ,c "]
    )
    def test_the_pages_and_drf_agree_on_the_address(self, settings, proxies, forwarded):
        settings.TRUSTED_PROXY_COUNT = proxies
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": proxies}
        meta = {"REMOTE_ADDR": "10.0.0.1"}
        if forwarded is not None:
            meta["HTTP_X_FORWARDED_FOR"] = forwarded
        request = RequestFactory().get("/", **meta)

        assert ratelimit.client_ip(request) == BaseThrottle().get_ident(request)

    def test_the_settings_hand_drf_the_same_proxy_count(self):
        from django.conf import settings

        assert settings.REST_FRAMEWORK["NUM_PROXIES"] == settings.TRUSTED_PROXY_COUNT


# --- per account email ---------------------------------------------------------------


class TestPerEmail:
    def test_login_attempts_on_one_account_are_limited_from_any_address(self, client, rates):
        rates["auth_email"] = "2/min"
        UserFactory(email="robin@example.com")
        statuses = [
            log_in(client, email=email, REMOTE_ADDR=f"10.0.1.{n}").status_code
            for n, email in enumerate(
                ["robin@example.com", " ROBIN@example.com", "robin@example.com"]
            )
        ]
        assert statuses == [200, 200, 429]
        # Someone else, from a fresh address, is not affected.
        assert log_in(client, email="sam@example.com", REMOTE_ADDR="10.0.2.1").status_code == 200

    def test_reset_requests_for_one_email_are_limited_from_any_address(self, client, rates):
        rates["password_reset_email"] = "2/hour"
        UserFactory(email="robin@example.com")
        statuses = [
            client.post(
                RESET, {"email": "robin@example.com"}, REMOTE_ADDR=f"10.0.1.{n}"
            ).status_code
            for n in range(3)
        ]
        assert statuses == [302, 302, 429]
        assert len(mail.outbox) == 2


# --- the API counts in the same buckets ------------------------------------------------


class TestTheApiAgrees:
    def test_log_in_attempts_on_the_page_count_for_the_api_token_too(self, client, api, rates):
        UserFactory(email="robin@example.com")
        for _ in range(3):
            log_in(client)

        response = api().post(TOKEN, {"email": "robin@example.com", "password": PASSWORD})

        assert response.status_code == 429
        assert 1 <= int(response["Retry-After"]) <= 60
        assert "token" not in response.json()

    def test_the_api_token_is_limited_per_email_across_addresses(self, api, rates):
        rates["auth_email"] = "2/min"
        body = {"email": "robin@example.com", "password": "nope nope"}
        statuses = [
            api().post(TOKEN, body, REMOTE_ADDR=f"10.0.1.{n}").status_code for n in range(3)
        ]
        assert statuses == [400, 400, 429]

    def test_the_api_ignores_a_spoofed_forwarded_for_too(self, api, rates, settings):
        settings.TRUSTED_PROXY_COUNT = 0
        statuses = [
            api()
            .post(
                TOKEN,
                {"email": f"p{n}@example.com", "password": "nope nope"},
                HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
            )
            .status_code
            for n in range(4)
        ]
        assert statuses == [400, 400, 400, 429]

    def test_behind_a_proxy_the_api_counts_the_same_client_as_the_pages(
        self, client, api, rates, settings
    ):
        settings.TRUSTED_PROXY_COUNT = 1
        proxy = {"REMOTE_ADDR": "10.0.0.1"}
        for n in range(3):
            log_in(client, email=f"p{n}@example.com", HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)
        body = {"email": "q@example.com", "password": "nope nope"}

        same = api().post(TOKEN, body, HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7", **proxy)
        other = api().post(TOKEN, body, HTTP_X_FORWARDED_FOR="198.51.100.8", **proxy)

        assert same.status_code == 429
        assert other.status_code == 400

    def test_api_sign_up_and_the_page_share_one_budget(self, client, api, rates):
        for n in range(3):
            assert client.post("/signup/", signup_data(n)).status_code == 302
            client.logout()
        body = {**signup_data(50), "email": "api@example.com"}

        response = api().post("/api/v1/auth/signup", body)

        assert response.status_code == 429
        assert not User.objects.filter(email="api@example.com").exists()


# --- the admin's log-in counts in the same buckets ----------------------------------------

ADMIN_LOGIN = "/admin/login/"


def admin_log_in(client, email="curator@example.com", password=WRONG, **meta):
    return client.post(
        f"{ADMIN_LOGIN}?next=/admin/", {"username": email, "password": password}, **meta
    )


class TestTheAdminLogInIsLimited:
    """Curators' and operators' passwords get the same limits as everyone's."""

    def test_wrong_passwords_then_the_right_one_creates_no_session(self, client, rates):
        new_curator(email="curator@example.com")
        for _ in range(3):
            assert admin_log_in(client).status_code == 200  # the form again
        sessions = Session.objects.count()

        response = admin_log_in(client, password=PASSWORD)

        assert_refused_calmly(response, 60)
        assert Session.objects.count() == sessions
        assert "_auth_user_id" not in client.session

    def test_a_staff_account_is_limited_per_email_from_any_address(self, client, rates):
        rates["auth_email"] = "2/min"
        new_curator(email="curator@example.com")
        statuses = [admin_log_in(client, REMOTE_ADDR=f"10.0.1.{n}").status_code for n in range(2)]
        right = admin_log_in(client, password=PASSWORD, REMOTE_ADDR="10.0.1.9")
        assert statuses == [200, 200]
        assert right.status_code == 429
        assert "_auth_user_id" not in client.session

    def test_the_admin_the_page_and_the_api_share_one_budget(self, client, api, rates):
        rates["auth_email"] = "3/min"
        rates["auth"] = "100/min"
        new_curator(email="curator@example.com")
        log_in(client, email="curator@example.com")
        api().post(TOKEN, {"email": "curator@example.com", "password": WRONG})
        admin_log_in(client)

        assert admin_log_in(client, password=PASSWORD).status_code == 429
        assert log_in(client, email="curator@example.com", password=PASSWORD).status_code == 429

    def test_under_the_default_rates_a_curator_logs_in(self, client):
        new_curator(email="curator@example.com")
        response = admin_log_in(client, password=PASSWORD)
        assert response.status_code == 302
        assert response["Location"] == "/admin/"


# --- Redis down: fail open -------------------------------------------------------------


def test_with_the_cache_unreachable_the_limits_fail_open(client, rates):
    # What django-redis with IGNORE_EXCEPTIONS answers while Redis is down.
    unreachable = mock.Mock()
    unreachable.add.return_value = None
    unreachable.incr.return_value = None
    unreachable.get.return_value = None
    with mock.patch.object(ratelimit, "cache", unreachable):
        statuses = [log_in(client).status_code for _ in range(6)]
    assert statuses == [200] * 6


@pytest.mark.parametrize(
    ("rate", "expected"),
    [("20/min", (20, 60)), ("10/hour", (10, 3600)), ("10/15min", (10, 900)), ("3/d", (3, 86400))],
)
def test_rates_are_read_like_drf_with_an_optional_multiplier(rate, expected):
    assert ratelimit.parse_rate(rate) == expected


def test_a_malformed_rate_is_refused():
    with pytest.raises(ValueError, match="Not a rate"):
        ratelimit.parse_rate("ten per hour")


# --- no account enumeration ----------------------------------------------------------------


def _without_token(html: bytes) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html.decode())


class TestNoAccountEnumeration:
    def test_login_reads_the_same_for_an_unknown_email_and_a_wrong_password(self, client):
        UserFactory(email="robin@example.com")
        wrong = log_in(client, email="robin@example.com", password="nope nope")
        unknown = log_in(client, email="nobody@example.com", password="nope nope")

        assert wrong.status_code == unknown.status_code == 200
        assert _without_token(wrong.content).replace(
            "robin@example.com", "EMAIL"
        ) == _without_token(unknown.content).replace("nobody@example.com", "EMAIL")
        assert b"Email or password is incorrect." in wrong.content

    def test_an_inactive_account_reads_like_any_wrong_login(self, client):
        UserFactory(email="robin@example.com", is_active=False)
        inactive = log_in(client, email="robin@example.com", password=PASSWORD)
        assert inactive.status_code == 200
        assert b"Email or password is incorrect." in inactive.content

    def test_password_reset_looks_the_same_whether_or_not_the_account_exists(self, client):
        UserFactory(email="robin@example.com")
        known = client.post(RESET, {"email": "robin@example.com"}, follow=True)
        unknown = client.post(RESET, {"email": "nobody@example.com"}, follow=True)

        assert known.redirect_chain == unknown.redirect_chain == [("/password-reset/sent/", 302)]
        assert known.status_code == unknown.status_code == 200
        assert known.content == unknown.content
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == ["robin@example.com"]

    def test_the_api_token_answers_the_same_for_an_unknown_email(self, api):
        UserFactory(email="robin@example.com")
        wrong = api().post(TOKEN, {"email": "robin@example.com", "password": "nope nope"})
        unknown = api().post(TOKEN, {"email": "nobody@example.com", "password": "nope nope"})

        assert wrong.status_code == unknown.status_code == 400
        assert wrong.content == unknown.content


def test_account_deletion_password_guesses_are_limited_on_the_page_and_the_api(cast, api, settings):
    """A borrowed session or token cannot guess the password to delete an account."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "account_delete_user": "3/hour"}
    client = api(cast.author)
    statuses = [
        client.delete("/api/v1/me", {"password": f"guess {n}"}, format="json").status_code
        for n in range(4)
    ]
    assert statuses == [400, 400, 400, 429]
    page = Client()
    page.force_login(cast.author)
    response = page.post("/account/delete/", {"password": "another guess"})
    assert response.status_code == 429  # the same budget, page or API
    assert type(cast.author).objects.filter(pk=cast.author.pk).exists()
