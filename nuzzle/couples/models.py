"""People, couples and invites.

A person belongs to at most one *active* couple. `Membership` carries a copy of the
couple's end time so the database itself can enforce that rule with a partial unique
index; content written in a couple is keyed to the couple, so a later couple never
sees an earlier couple's content.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone as dj_timezone

from nuzzle.couples import signals as account_signals
from nuzzle.lib.http import absolute_url
from nuzzle.lib.timezones import validate_timezone

if TYPE_CHECKING:
    from datetime import datetime


def normalize_email(email: str) -> str:
    """Emails are compared and stored lower-cased, without surrounding space."""
    return email.strip().lower()


class UserManager(BaseUserManager["User"]):
    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(email=normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("display_name", "Admin")
        return self.create_user(email, password, is_staff=True, is_superuser=True, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=normalize_email(username or ""))


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField("email address", max_length=254, unique=True)
    display_name = models.CharField(
        max_length=50, help_text="How your partner sees you, e.g. your first name."
    )
    timezone = models.CharField(
        "time zone",
        max_length=64,
        default="UTC",
        validators=[validate_timezone],
        help_text="Your days and reminders follow this zone.",
    )
    allow_sensitive_questions = models.BooleanField(
        "include sensitive questions",
        default=False,
        help_text="Questions about intimacy, money worries or family wounds are only asked "
        "when both partners have switched this on.",
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=dj_timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["display_name"]

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(Lower("email"), name="user_email_case_insensitive_unique"),
        ]

    def __str__(self) -> str:
        return f"user {self.pk}"  # never the email or name: this ends up in logs

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email(self.email)
        self.display_name = self.display_name.strip()

    def save(self, *args: Any, **kwargs: Any) -> None:
        password_changed = self._password is not None and self.pk is not None  # type: ignore[attr-defined]
        super().save(*args, **kwargs)
        if password_changed:
            # A new password ends every API token; sessions end through Django's
            # session hash check. The view that changed it keeps its own session.
            from knox.models import AuthToken

            AuthToken.objects.filter(user=self).delete()
            account_signals.password_changed.send(sender=type(self), user=self)


class CoupleQuerySet(models.QuerySet["Couple"]):
    def active(self) -> CoupleQuerySet:
        return self.filter(ended_at__isnull=True)


class Couple(models.Model):
    created_at = models.DateTimeField(default=dj_timezone.now)
    timezone = models.CharField(
        "time zone",
        max_length=64,
        default="UTC",
        validators=[validate_timezone],
        help_text="The couple's shared day (the daily question) follows this zone.",
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    members: models.ManyToManyField[User, Membership] = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="couples"
    )

    objects = CoupleQuerySet.as_manager()

    def __str__(self) -> str:
        return f"couple {self.pk}"


class Membership(models.Model):
    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    joined_at = models.DateTimeField(default=dj_timezone.now)
    # Mirrors Couple.ended_at (set in the same transaction) so that the partial unique
    # index below can enforce "at most one active couple per person" in the database.
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["couple", "user"], name="membership_once_per_couple"),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(ended_at__isnull=True),
                name="membership_one_active_couple_per_person",
            ),
        ]

    def __str__(self) -> str:
        return f"membership {self.pk} (couple {self.couple_id}, user {self.user_id})"


# Codes are typed by people: no 0/O, 1/I/L or U; 20 symbols of 30 ≈ 98 bits.
INVITE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
INVITE_CODE_LENGTH = 20


def new_invite_code() -> str:
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_CODE_LENGTH))


def normalize_invite_code(raw: str) -> str:
    """Accept codes as typed: any case, with or without dashes and spaces."""
    return "".join(ch for ch in raw.upper() if ch.isalnum())


def format_invite_code(code: str) -> str:
    """ABCD-EFGH-... : groups of four are easier to read aloud and to type."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def default_invite_expiry() -> datetime:
    return dj_timezone.now() + settings.INVITE_TTL


class Invite(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        ACCEPTED = "accepted"
        REVOKED = "revoked"
        EXPIRED = "expired"

    code = models.CharField(max_length=32, unique=True, default=new_invite_code)
    inviter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invites_sent"
    )
    created_at = models.DateTimeField(default=dj_timezone.now)
    expires_at = models.DateTimeField(default=default_invite_expiry)
    revoked_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invites_accepted",
    )
    couple = models.ForeignKey(
        Couple, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints: ClassVar = [
            # At most one live invite per person (docs/product.md): `invite_create` revokes
            # the earlier ones under a lock on the inviter; this is the database's word
            # on it. An expired invite counts until revoked (a predicate cannot use the
            # clock); `invite_create` revokes those too.
            models.UniqueConstraint(
                fields=["inviter"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invite_one_live_per_inviter",
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["inviter", "created_at"])]

    def __str__(self) -> str:
        return f"invite {self.pk}"

    @property
    def display_code(self) -> str:
        return format_invite_code(self.code)

    def share_url(self) -> str:
        """The link the inviter sends to their partner (absolute, from SITE_URL)."""
        return absolute_url(reverse("invite-accept", kwargs={"code": self.display_code}))

    def status_at(self, now: datetime) -> Invite.Status:
        if self.accepted_at is not None:
            return Invite.Status.ACCEPTED
        if self.revoked_at is not None:
            return Invite.Status.REVOKED
        if now >= self.expires_at:
            return Invite.Status.EXPIRED
        return Invite.Status.PENDING


class Partnership(models.Model):
    """Who is whose partner now: one row per person in an active couple, with their
    partner and the couple. A database view (`couples_partnership`, migration 0004),
    read-only: the who-sees-what views of the feature apps join it, so "my current
    partner" is said once, in SQL, for the ORM and raw statements alike."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.DO_NOTHING,
        related_name="partnership",
    )
    partner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+"
    )
    couple = models.ForeignKey(Couple, on_delete=models.DO_NOTHING, related_name="+")

    class Meta:
        managed = False
        db_table = "couples_partnership"

    def __str__(self) -> str:
        return f"partnership of user {self.user_id}"
