"""API token authentication (nuzzle.lib.auth): knox's tokens and rules, one query."""

from __future__ import annotations

from datetime import timedelta

import pytest
from knox.models import AuthToken
from knox.signals import token_expired
from rest_framework.test import APIClient

from tests.queries import capture_queries

pytestmark = pytest.mark.django_db

ME = "/api/v1/me"


def client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_a_valid_token_authenticates_with_one_query(cast):
    _, token = AuthToken.objects.create(user=cast.author)
    client = client_with(token)
    client.get(ME)  # the first request may renew the expiry (one write)
    queries = capture_queries(lambda: client.get(ME))
    assert queries.result.status_code == 200
    token_queries = [sql for sql in queries.sql if "knox_authtoken" in sql]
    assert len(token_queries) == 1, token_queries
    assert "couples_user" in token_queries[0]  # the person comes in the same query


def test_a_wrong_token_is_refused_with_the_token_challenge(cast):
    _, token = AuthToken.objects.create(user=cast.author)
    wrong = token[:-4] + ("0000" if not token.endswith("0000") else "1111")
    response = client_with(wrong).get(ME)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_malformed_token_is_refused(cast):
    assert client_with("not-hex!").get(ME).status_code == 401


def test_an_expired_token_is_refused_and_deleted(cast):
    seen = []

    def receiver(sender, username, source, **_):
        seen.append((username, source))

    token_expired.connect(receiver)
    try:
        instance, token = AuthToken.objects.create(user=cast.author, expiry=timedelta(seconds=-1))
        assert client_with(token).get(ME).status_code == 401
    finally:
        token_expired.disconnect(receiver)
    assert not AuthToken.objects.filter(pk=instance.pk).exists()
    assert seen == [(cast.author.email, "auth_token")]


def test_an_inactive_person_is_refused(cast):
    _, token = AuthToken.objects.create(user=cast.author)
    cast.author.is_active = False
    cast.author.save(update_fields=["is_active"])
    assert client_with(token).get(ME).status_code == 401


def test_the_expiry_is_renewed_at_most_once_an_hour(cast):
    instance, token = AuthToken.objects.create(user=cast.author, expiry=timedelta(days=1))
    client = client_with(token)
    assert client.get(ME).status_code == 200
    renewed = AuthToken.objects.get(pk=instance.pk).expiry
    assert renewed > instance.expiry + timedelta(days=80)  # TOKEN_TTL: 90 days
    queries = capture_queries(lambda: client.get(ME))
    assert queries.result.status_code == 200
    assert not [sql for sql in queries.sql if sql.startswith("UPDATE")]
    assert AuthToken.objects.get(pk=instance.pk).expiry == renewed


def test_renewal_sweeps_the_persons_other_expired_tokens(cast):
    stale, _ = AuthToken.objects.create(user=cast.author, expiry=timedelta(seconds=-1))
    live, _ = AuthToken.objects.create(user=cast.author, expiry=timedelta(days=5))
    others, _ = AuthToken.objects.create(user=cast.partner, expiry=timedelta(seconds=-1))
    _, token = AuthToken.objects.create(user=cast.author, expiry=timedelta(days=1))
    assert client_with(token).get(ME).status_code == 200
    remaining = set(AuthToken.objects.values_list("pk", flat=True))
    assert stale.pk not in remaining
    assert {live.pk, others.pk} <= remaining


def test_the_schema_still_documents_the_token_scheme(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["components"]["securitySchemes"]["knoxApiToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": 'Token-based authentication with required prefix "Token"',
    }
    assert {"knoxApiToken": []} in schema["paths"]["/api/v1/me"]["get"]["security"]


@pytest.mark.parametrize(
    "header",
    [
        "Token \xff",  # a byte that is no UTF-8 (WSGI servers pass headers as ISO-8859-1)
        "Token \xc3\xa9t\xc3\xa9",  # UTF-8 bytes of "été", as a WSGI server hands them over
        "Token é" + "a" * 60,  # non-ASCII within the ISO-8859-1 range
        "Token ☃",  # beyond ISO-8859-1: only a test client can send this
        "token \xff\xfe",
    ],
    ids=["byte-ff", "utf8-bytes", "latin1", "beyond-latin1", "lowercase-prefix"],
)
def test_an_undecodable_or_non_ascii_token_is_a_401_not_a_500(cast, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(ME)
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}
    assert response["WWW-Authenticate"] == "Token"


def test_an_undecodable_token_on_an_open_endpoint_is_a_401_too(cast):
    """Sign-up allows anyone, but a credential that is sent must be a good one."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token \xff")
    assert client.post("/api/v1/auth/signup", {}, format="json").status_code == 401
