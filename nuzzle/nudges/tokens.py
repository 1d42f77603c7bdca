"""Signed one-click unsubscribe tokens.

A token says "person N may stop kind K (or every kind)" and nothing else: it is the
only credential the unsubscribe page asks for, because a mail client's one-click POST
(RFC 8058) carries no cookie and no CSRF token. So:

- it is signed with the site's secret under its own salt, so a token made for any other
  purpose (or by anyone without the key) never passes here;
- it never expires: an email from last year must still be able to stop the next one.
  Rotating `SECRET_KEY` (with the old key in `SECRET_KEY_FALLBACKS`) keeps them working;
- it is short and URL-safe: `<user id>.<kind or "all">.<signature>`, no `/` or `:`.

Nothing in it is secret (ids and kind names); only the signature makes it valid.
"""

from __future__ import annotations

from django.core import signing

from nuzzle.nudges.kinds import SPECS

SALT = "nuzzle.nudges.unsubscribe"
ALL_KINDS = "all"
_SEP = "."


class BadUnsubscribeToken(ValueError):
    """The token was cut short, altered, or signed for something else."""


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT, sep=_SEP)


def unsubscribe_token(user_id: int, kind: str | None) -> str:
    """The token that stops `kind` (or, with None, every kind) for this person."""
    if kind is not None and kind not in SPECS:
        raise ValueError(f"unknown nudge kind: {kind!r}")
    return _signer().sign(f"{int(user_id)}{_SEP}{kind or ALL_KINDS}")


def unsubscribe_read(token: str) -> tuple[int, str | None]:
    """(user id, kind or None for every kind) from a token made by `unsubscribe_token`.

    Raises `BadUnsubscribeToken` for anything else. A kind that has since left the
    catalogue is refused too: there is nothing left to stop."""
    try:
        value = _signer().unsign(token)
    except signing.BadSignature as exc:
        raise BadUnsubscribeToken("the unsubscribe link is not valid") from exc
    user_part, _, kind = value.partition(_SEP)
    well_formed = user_part.isascii() and user_part.isdigit()
    if not well_formed or not (kind == ALL_KINDS or kind in SPECS):
        raise BadUnsubscribeToken("the unsubscribe link is not valid")
    return int(user_part), None if kind == ALL_KINDS else kind
