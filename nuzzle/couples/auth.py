"""Who is asking: the signed-in person of a request, as a `User`."""

from __future__ import annotations

from typing import Any

from nuzzle.couples.models import User
from nuzzle.lib.context_processors import request_user


def requester(request: Any) -> User:
    """The signed-in user of a request whose view already required authentication."""
    user = request_user(request)
    if not isinstance(user, User):
        raise TypeError("requester() needs an authenticated request")
    return user
