"""API token authentication: knox's tokens, checked with one query instead of three.

knox's own `TokenAuthentication` reads the candidate tokens, then (lazily) each one's
user, then every other token of that user to delete the expired ones — three queries
on every API request. This class reads the candidates with their user in one query
and leaves the sweeping of a person's other expired tokens to the moments knox writes
anyway (the expiry renewal, at most once per `MIN_REFRESH_INTERVAL`: an hour) and to
the hourly housekeeping (`nuzzle.couples.services.housekeeping`). Everything that
decides who gets in is unchanged: the digest comparison, refusing (and deleting) an
expired token, refusing an inactive person, the `token_expired` signal, the renewal
rule and the `WWW-Authenticate: Token` header.
"""

from __future__ import annotations

from hmac import compare_digest
from typing import Any

from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox import auth as knox_auth
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS
from knox.signals import token_expired
from rest_framework import exceptions

INVALID = "Invalid token."


class TokenAuthentication(knox_auth.TokenAuthentication):
    def authenticate(self, request: Any) -> tuple[Any, AuthToken] | None:
        # DRF encodes the header back to ISO-8859-1 bytes before splitting it. A WSGI
        # server always hands over text it can encode; a header that cannot be (a str
        # from a test client, say) is a bad credential like any other, not a 500.
        try:
            result: tuple[Any, AuthToken] | None = super().authenticate(request)
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed(INVALID) from exc
        return result

    def authenticate_credentials(self, token: bytes) -> tuple[Any, AuthToken]:
        # knox tokens are hex: anything else (non-ASCII bytes, which the server hands
        # over as they came) is refused before hashing, with the same 401 as a wrong one.
        try:
            text = token.decode("ascii")
            digest = hash_token(text)
        except (TypeError, ValueError) as exc:  # UnicodeDecodeError, binascii.Error
            raise exceptions.AuthenticationFailed(INVALID) from exc
        candidates = AuthToken.objects.select_related("user").filter(
            token_key=text[: CONSTANTS.TOKEN_KEY_LENGTH]
        )
        for auth_token in candidates:
            if not compare_digest(digest, auth_token.digest):
                continue
            if auth_token.expiry is not None and auth_token.expiry < timezone.now():
                username = auth_token.user.get_username()
                auth_token.delete()
                token_expired.send(sender=self.__class__, username=username, source="auth_token")
                break
            if knox_auth.knox_settings.AUTO_REFRESH and auth_token.expiry:
                self.renew_token(auth_token)
            user, found = self.validate_user(auth_token)
            return user, found
        raise exceptions.AuthenticationFailed(INVALID)

    def renew_token(self, auth_token: AuthToken) -> None:
        """knox's renewal (it saves a new expiry at most once per `MIN_REFRESH_INTERVAL`);
        when it does, the person's other expired tokens are deleted too, as knox would."""
        before = auth_token.expiry
        super().renew_token(auth_token)
        wrote = (auth_token.expiry - before).total_seconds() > (
            knox_auth.knox_settings.MIN_REFRESH_INTERVAL
        )
        if wrote:
            AuthToken.objects.filter(user_id=auth_token.user_id, expiry__lt=timezone.now()).exclude(
                digest=auth_token.digest
            ).delete()


class TokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of knox's class, for this subclass (drf-spectacular
    matches authentication classes exactly)."""

    target_class = "nuzzle.lib.auth.TokenAuthentication"
