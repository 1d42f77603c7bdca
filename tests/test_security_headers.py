"""Security headers and cookies (PRODUCT §7, RELIABILITY "Access control and privacy").

Every HTML page and API response carries a strict CSP, nosniff, a referrer policy,
frame denial and COOP; couple pages and the API are never cached. Under the production
settings (read from settings.py itself with the documented [production] environment
of .env.example) https requests get HSTS, http is redirected, and the session and CSRF
cookies are Secure, HttpOnly and SameSite. The API docs run under the same CSP.
"""

from __future__ import annotations

import json
import re
import secrets
import sys

import pytest
from django.contrib.staticfiles import finders

from tests.factories import PASSWORD, InviteFactory, UserFactory
from tests.test_deploy import production_environment, run_in_project, settings_variables

pytestmark = pytest.mark.django_db


def csp_directives(response) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_hardened(response) -> None:
    csp = csp_directives(response)
    script_src = csp.get("script-src", csp.get("default-src"))
    assert script_src == ["'self'"], script_src
    assert "'unsafe-inline'" not in csp.get("style-src", [])
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


# --- every response ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login/", "/signup/", "/password-reset/"])
def test_public_pages_are_hardened(client, path):
    assert_hardened(client.get(path))


@pytest.mark.parametrize("path", ["/", "/couple/", "/checkin/", "/question/", "/account/"])
def test_couple_pages_are_hardened_and_never_cached(client, cast, path):
    client.force_login(cast.author)
    response = client.get(path)
    assert response.status_code == 200
    assert_hardened(response)
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/couple", "/api/v1/dashboard"])
def test_api_responses_are_hardened_and_never_cached(cast, api, path):
    response = api(cast.author).get(path)
    assert response.status_code == 200
    assert_hardened(response)
    assert response["Cache-Control"] == "no-store"


def test_api_errors_are_hardened_and_never_cached(api):
    response = api().get("/api/v1/me")
    assert response.status_code == 401
    assert_hardened(response)
    assert response["Cache-Control"] == "no-store"


def no_store(response) -> bool:
    return "no-store" in [part.strip() for part in response["Cache-Control"].split(",")]


def test_the_anonymous_invite_page_naming_the_inviter_is_never_cached(client):
    invite = InviteFactory(inviter=UserFactory(display_name="Robin"))
    response = client.get(f"/invite/{invite.code}/")
    assert response.status_code == 200
    assert b"Robin" in response.content
    assert response["Cache-Control"] == "no-store"
    assert_hardened(response)


def test_the_anonymous_unsubscribe_pages_are_never_cached(client):
    from nuzzle.nudges.tokens import unsubscribe_token

    path = f"/unsubscribe/{unsubscribe_token(UserFactory().pk, None)}/"
    assert no_store(client.get(path))
    assert no_store(client.post(path))


def test_the_password_reset_confirmation_page_is_never_cached(client):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    user = UserFactory()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    form = client.get(f"/password-reset/{uid}/{token}/", follow=True)
    assert form.status_code == 200
    assert no_store(form)


@pytest.mark.parametrize("path", ["/login/", "/signup/", "/password-reset/", "/nowhere/"])
def test_other_anonymous_pages_are_not_cached_either(client, path):
    """Each carries a CSRF token or says something about a person: nothing to share."""
    assert no_store(client.get(path))


def test_the_rate_limit_page_is_hardened(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "auth": "1/min"}
    client.post("/login/", {"username": "a@example.com", "password": "x"})
    response = client.post("/login/", {"username": "a@example.com", "password": "x"})
    assert response.status_code == 429
    assert_hardened(response)


# --- the API docs under the CSP --------------------------------------------------------


def test_the_api_docs_need_no_inline_script_and_load_only_same_origin_files(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert_hardened(response)
    html = response.content.decode()

    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts
    for attributes, body in scripts:
        assert body.strip() == "", "inline script would be blocked by the CSP"
        src = re.search(r'\bsrc="([^"]+)"', attributes)
        assert src, attributes
        url = src.group(1).replace("&amp;", "&")
        assert url.startswith("/"), url
        assert not url.startswith("//"), url
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/").split("?")[0]), url
        else:
            script = client.get(url)
            assert script.status_code == 200
            assert script["Content-Type"].startswith("application/javascript")
    for href in re.findall(r'<link\b[^>]*\bhref="([^"]+)"', html):
        assert href.startswith("/static/"), href
        assert finders.find(href.removeprefix("/static/")), href
    # No inline <style> either: style-src has no 'unsafe-inline' (our own template).
    assert "<style" not in html
    assert "style=" not in html


# --- production settings ------------------------------------------------------------------

PRODUCTION_NAMES = [
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_HTTPONLY",
    "CSRF_COOKIE_SAMESITE",
]

_DUMP = (
    "import json, nuzzle.settings as s; "
    f"print(json.dumps({{n: getattr(s, n, None) for n in {PRODUCTION_NAMES!r}}}))"
)


@pytest.fixture(scope="module")
def production_values(tmp_path_factory) -> dict[str, object]:
    """The security settings settings.py computes for the documented production env."""
    import os

    environment = {k: v for k, v in os.environ.items() if k not in settings_variables()}
    environment.update(production_environment())
    environment["SECRET_KEY"] = secrets.token_urlsafe(50)
    database = tmp_path_factory.mktemp("prod") / "unused.sqlite3"
    environment["DATABASE_URL"] = f"sqlite:///{database}"
    result = run_in_project([sys.executable, "-c", _DUMP], environment)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    if values["SECURE_PROXY_SSL_HEADER"] is not None:
        values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    return values


@pytest.fixture
def production(settings, production_values):
    for name, value in production_values.items():
        if name != "DEBUG":
            setattr(settings, name, value)
    return production_values


HTTPS = {"secure": True, "HTTP_X_FORWARDED_PROTO": "https"}


def test_production_sends_hsts_over_https(client, production):
    response = client.get("/login/", **HTTPS)
    assert response.status_code == 200
    hsts = response["Strict-Transport-Security"]
    assert re.fullmatch(r"max-age=(\d+); includeSubDomains; preload", hsts), hsts
    assert int(hsts.split(";")[0].split("=")[1]) >= 60 * 60 * 24 * 180
    assert_hardened(response)


def test_production_redirects_plain_http_to_https(client, production):
    response = client.get("/login/", HTTP_X_FORWARDED_PROTO="http")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def test_production_session_and_csrf_cookies_are_secure_httponly_and_samesite(client, production):
    UserFactory(email="robin@example.com")
    page = client.get("/login/", **HTTPS)
    logged_in = client.post(
        "/login/", {"username": "robin@example.com", "password": PASSWORD}, **HTTPS
    )
    assert logged_in.status_code == 302

    for name, response in (("csrftoken", page), ("sessionid", logged_in)):
        cookie = response.cookies[name]
        assert cookie["secure"] is True, name
        assert cookie["httponly"] is True, name
        assert cookie["samesite"] in ("Lax", "Strict"), name
