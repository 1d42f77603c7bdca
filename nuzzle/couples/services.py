"""Writes about people, couples and invites: sign-up, pairing, unpairing."""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from nuzzle.couples.models import (
    Couple,
    Invite,
    Membership,
    User,
    normalize_email,
)
from nuzzle.couples.scoping import couple_context, forget_couple_context
from nuzzle.couples.selectors import invite_get_by_code
from nuzzle.couples.signals import couple_ended, timezone_changed
from nuzzle.lib.errors import Conflict, Invalid, NotFound, as_invalid
from nuzzle.lib.timezones import accepted_timezone_names
from nuzzle.lib.validators import validate_single_line

logger = logging.getLogger(__name__)


EMAIL_TAKEN = "An account with this email already exists. Try logging in."


def _display_name_errors(display_name: str) -> list[str]:
    """A display name is one line of text (it is put inside emails and exports)."""
    try:
        validate_single_line(display_name.strip())
    except ValidationError as exc:
        return list(exc.messages)
    return []


def user_signup(*, email: str, password: str, display_name: str, timezone_name: str) -> User:
    """Create an account. Field problems raise Invalid with every message by field.

    An email that is taken (in any letter case) gets the one message below, the same
    for the page and the API; the database's case-insensitive unique constraint is not
    validated here (its message would name the constraint), only relied on for two
    sign-ups racing with one email."""
    user = User(email=normalize_email(email), display_name=display_name, timezone=timezone_name)
    errors: dict[str | None, list[str]] = {}
    try:
        with as_invalid():
            user.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
    except Invalid as exc:
        errors.update(exc.by_field())
    if name_errors := _display_name_errors(display_name):
        errors.setdefault("display_name", []).extend(name_errors)
    # Stored emails are normalized (lower case), so this finds "Sam@Example.com" too.
    if "email" not in errors and User.objects.filter(email=user.email).exists():
        errors["email"] = [EMAIL_TAKEN]
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise Invalid.from_fields(errors)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # two sign-ups with one email at the same moment
        raise Invalid(EMAIL_TAKEN, field="email") from exc
    logger.info("user signed up: user=%s", user.pk)
    return user


def user_update(
    *,
    user: User,
    display_name: str | None = None,
    timezone_name: str | None = None,
    allow_sensitive_questions: bool | None = None,
) -> User:
    """Change a person's display name, time zone and/or sensitive-question opt-in
    (sensitive questions are asked only when both partners opted in)."""
    if display_name is not None:
        if name_errors := _display_name_errors(display_name):
            raise Invalid.from_fields({"display_name": name_errors})
        user.display_name = display_name
    moved = timezone_name is not None and timezone_name != user.timezone
    if timezone_name is not None:
        user.timezone = timezone_name
    if allow_sensitive_questions is not None:
        user.allow_sensitive_questions = allow_sensitive_questions
    with as_invalid():
        user.full_clean(exclude=["password", "email"], validate_unique=False)
    with transaction.atomic():
        user.save(update_fields=["display_name", "timezone", "allow_sensitive_questions"])
        if moved:
            timezone_changed.send(sender=User, user=user)
    return user


def invite_create(*, user: User) -> Invite:
    """A fresh invite for an unpaired person. Earlier pending invites are revoked, so
    each person has at most one live invite link at a time.

    Concurrency: the inviter's user row is locked first (the lock pairing and account
    deletion take too), so two calls at once (a double click, two tabs) run one after
    the other: the second revokes the first's invite instead of both revoking only the
    older ones and each adding a live one. Whether the person is paired is checked
    under the same lock, so an invite never outlives a pairing that finished a moment
    before. The partial unique index `invite_one_live_per_inviter` is the database's
    last word on "one live invite".
    """
    with transaction.atomic():
        if not list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk")):
            raise NotFound("No such account.")  # deleted meanwhile
        if Membership.objects.filter(user=user, ended_at__isnull=True).exists():
            raise Conflict("You are already paired. Unpair first to invite someone new.")
        now = timezone.now()
        Invite.objects.filter(
            inviter=user, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        invite = Invite.objects.create(inviter=user, created_at=now)
    logger.info("invite created: invite=%s user=%s", invite.pk, user.pk)
    return invite


def invite_revoke(*, user: User, code: str) -> None:
    """Revoke one of my invites. Someone else's (or an unknown) code is a 404."""
    invite = invite_get_by_code(code=code)
    if invite is None or invite.inviter_id != user.pk:
        raise NotFound("No such invite.")
    if invite.accepted_at is not None:
        raise Conflict("This invite has already been accepted.")
    Invite.objects.filter(pk=invite.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def invite_accept(*, user: User, code: str, timezone_name: str | None = None) -> Couple:
    """Accept an invite and form a couple of exactly two people, atomically. The couple's
    shared zone is the one the person accepting confirmed or chose (`timezone_name`),
    by default the inviter's.

    Concurrency: both people's rows are locked in id order before anything is checked
    or written, so every pairing that involves either of them runs one at a time (of
    several people racing for one code exactly one wins; two people accepting each
    other's invites at once form one couple) and no two transactions can deadlock by
    taking the same locks in opposite orders. The partial unique index on active
    memberships stays as the database's last word.
    """
    if couple_context(user) is not None:
        raise Conflict("You are already paired.")
    if timezone_name is not None and timezone_name not in accepted_timezone_names():
        raise Invalid(
            f"“{timezone_name}” is not a known time zone. Use an IANA name like Europe/Berlin.",
            field="timezone",
        )
    with transaction.atomic():
        found = invite_get_by_code(code=code)
        if found is None:
            raise Invalid(
                "There is no invite with this code. Check it and try again.", field="code"
            )
        if found.inviter_id == user.pk:
            raise Invalid("This is your own invite. Send the link to your partner.", field="code")
        list(
            User.objects.select_for_update()
            .filter(pk__in=[found.inviter_id, user.pk])
            .order_by("pk")
        )
        # Re-read under the locks: another acceptance may have just finished.
        invite = Invite.objects.select_related("inviter").get(pk=found.pk)
        now = timezone.now()
        status = invite.status_at(now)
        if status is not Invite.Status.PENDING:
            message = {
                Invite.Status.ACCEPTED: "This invite has already been used.",
                Invite.Status.REVOKED: "This invite was withdrawn. Ask for a new link.",
                Invite.Status.EXPIRED: "This invite has expired. Ask for a new link.",
            }[status]
            raise Invalid(message, field="code")
        active = set(
            Membership.objects.filter(
                user_id__in=[invite.inviter_id, user.pk], ended_at__isnull=True
            ).values_list("user_id", flat=True)
        )
        if user.pk in active:
            raise Conflict("You are already paired.")
        if invite.inviter_id in active:
            raise Invalid("This invite is no longer valid. Ask for a new link.", field="code")
        couple = Couple.objects.create(
            timezone=timezone_name or invite.inviter.timezone, created_at=now
        )
        try:
            with transaction.atomic():
                Membership.objects.bulk_create(
                    [
                        Membership(couple=couple, user=invite.inviter, joined_at=now),
                        Membership(couple=couple, user=user, joined_at=now),
                    ]
                )
        except IntegrityError as exc:  # only reachable if something bypassed the locks
            raise Conflict("One of you is already paired.") from exc
        invite.accepted_at = now
        invite.accepted_by = user
        invite.couple = couple
        invite.save(update_fields=["accepted_at", "accepted_by", "couple"])
        # Neither partner keeps a live invite once paired.
        Invite.objects.filter(
            inviter__in=[user, invite.inviter], accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
    forget_couple_context(user)
    logger.info("couple formed: couple=%s invite=%s", couple.pk, invite.pk)
    return couple


def couple_update(*, user: User, timezone_name: str) -> Couple:
    """Change the couple's shared time zone (either partner may)."""
    context = couple_context(user)
    if context is None:
        raise NotFound("You are not paired.")
    couple = context.couple
    couple.timezone = timezone_name
    with as_invalid():
        couple.full_clean(exclude=["ended_by"])
    couple.save(update_fields=["timezone"])
    return couple


def couple_end(*, user: User) -> Couple:
    """Unpair, immediately for both partners. Each keeps what they wrote; nothing of
    this couple is visible to either through any later couple."""
    context = couple_context(user)
    if context is None:
        raise NotFound("You are not paired.")
    now = timezone.now()
    with transaction.atomic():
        couple = Couple.objects.select_for_update().get(pk=context.couple.pk)
        if couple.ended_at is None:
            couple.ended_at = now
            couple.ended_by = user
            couple.save(update_fields=["ended_at", "ended_by"])
            Membership.objects.filter(couple=couple, ended_at__isnull=True).update(ended_at=now)
            # Only the call that actually ended it tells anyone (a second, racing unpair
            # finds it ended and stays quiet).
            couple_ended.send(
                sender=Couple,
                couple_id=couple.pk,
                ended_by_id=user.pk,
                ended_by_name=user.display_name,
                partner_id=context.partner.pk,
            )
    forget_couple_context(user, context.partner)
    logger.info("couple ended: couple=%s by user=%s", couple.pk, user.pk)
    return couple


def user_delete(*, user: User, password: str) -> None:
    """Delete my account (docs/product.md: Your data), effective on the very next request.

    The password is checked first; a wrong one raises Invalid on `password`
    and nothing changes. Then, in one transaction: the active couple ends exactly as an
    unpair does (the partner is unpaired at once and told, after commit, through
    `couple_ended`); the person is deleted, and with them, by cascade, everything they
    wrote, their API tokens, preferences, schedules and queued nudges; and every
    session of theirs is deleted. What the partner wrote about them stays the
    partner's: a reply to one of their check-ins and a guess about their love map are
    kept, detached (the models' on_delete), with none of the deleted person's words.
    """
    if not password or not user.check_password(password):
        raise Invalid("That is not your password.", field="password")
    user_id = user.pk
    with transaction.atomic():
        # The same lock as pairing takes: no invite can be accepted by or for this
        # person while they are being deleted.
        if not list(User.objects.select_for_update().filter(pk=user_id).values_list("pk")):
            return  # deleted meanwhile (a double submit)
        forget_couple_context(user)
        if couple_context(user) is not None:
            with contextlib.suppress(NotFound):  # the partner unpaired a moment ago
                couple_end(user=user)
        user.delete()
        _sessions_delete(user_id=user_id)
    forget_couple_context(user)
    logger.info("account deleted: user=%s", user_id)


def _sessions_delete(*, user_id: int) -> int:
    """Delete every database session that belongs to `user_id`.

    Django keeps no index from user to session (the user id is inside the signed,
    encoded session data), so this reads every unexpired session and decodes it:
    O(sessions), fine for an action as rare as deleting an account, and the hourly
    housekeeping keeps the table to live sessions. Such sessions would already be
    anonymous (their user no longer exists, and the session auth hash no longer
    matches anything), but a deleted person leaves nothing behind."""
    from django.contrib.auth import SESSION_KEY
    from django.contrib.sessions.models import Session

    wanted = str(user_id)
    doomed = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if str(session.get_decoded().get(SESSION_KEY)) == wanted
    ]
    deleted, _ = Session.objects.filter(pk__in=doomed).delete()
    return deleted


def housekeeping() -> dict[str, int]:
    """Delete expired sessions, API tokens and invites that ended over 30 days ago."""
    from django.contrib.sessions.models import Session
    from knox.models import AuthToken

    now = timezone.now()
    cutoff = now - timedelta(days=30)
    sessions, _ = Session.objects.filter(expire_date__lt=now).delete()
    tokens, _ = AuthToken.objects.filter(expiry__lt=now).delete()
    invites, _ = Invite.objects.filter(accepted_at__isnull=True, expires_at__lt=cutoff).delete()
    return {"sessions": sessions, "tokens": tokens, "invites": invites}
