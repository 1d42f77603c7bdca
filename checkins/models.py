"""Daily check-ins: one per person per local day, and the partner's responses.

A check-in is keyed to its author and to the couple it was written in (null when the
author was unpaired), so a later couple never sees it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from nuzzle.couples.models import Couple, User
from nuzzle.couples.scoping import CoupleScopedQuerySet
from nuzzle.lib.choices import Reaction
from nuzzle.lib.timezones import couple_day
from nuzzle.lib.validators import validate_no_control_characters
from prompts.models import Prompt

ANSWER_MAX_LENGTH = 500
REPLY_MAX_LENGTH = 500


class Mood(models.IntegerChoices):
    STRUGGLING = 1, "Struggling"
    LOW = 2, "Low"
    OKAY = 3, "Okay"
    GOOD = 4, "Good"
    GREAT = 5, "Great"


class Energy(models.IntegerChoices):
    DRAINED = 1, "Drained"
    TIRED = 2, "Tired"
    STEADY = 3, "Steady"
    LIVELY = 4, "Lively"
    BUZZING = 5, "Buzzing"


class Visibility(models.TextChoices):
    SHARED = "shared", "Shared with my partner"
    PRIVATE = "private", "Just for me"


class CheckinQuerySet(CoupleScopedQuerySet["Checkin"]):
    def visible_to(self, user: User, **filters: Any) -> CheckinQuerySet:
        """The check-ins `VisibleCheckin` (the database's who-sees-what view) gives
        `user`, narrowed by `filters` on the view's columns (inside the view, so the
        database reads only the rows asked for): everything I wrote (any couple, any
        visibility) and what my partner shared in our current couple. Private
        check-ins never reach the partner."""
        seen = VisibleCheckin.objects.filter(viewer=user, **filters).values("checkin")
        return self.filter(pk__in=seen)


class Checkin(models.Model):
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="checkins"
    )
    couple = models.ForeignKey(
        Couple, null=True, blank=True, on_delete=models.SET_NULL, related_name="checkins"
    )
    # The author's local date when they checked in (their day, in their zone).
    local_date = models.DateField()
    # The couple day this check-in counts toward (docs/days.md): the date in the
    # couple's shared zone that the author's local day overlaps most. Fixed when the
    # check-in is first written in its couple, so a later change of zone never moves a
    # day already counted. Without a couple, the local date.
    couple_date = models.DateField()
    mood = models.PositiveSmallIntegerField(
        choices=Mood.choices, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    energy = models.PositiveSmallIntegerField(
        choices=Energy.choices,
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    visibility = models.CharField(
        max_length=8, choices=Visibility.choices, default=Visibility.SHARED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CheckinQuerySet.as_manager()

    class Meta:
        constraints: ClassVar = [
            # One per person per local day: a double submit updates, never duplicates.
            models.UniqueConstraint(fields=["author", "local_date"], name="checkin_once_a_day"),
            models.CheckConstraint(condition=Q(mood__gte=1, mood__lte=5), name="checkin_mood_1_5"),
            models.CheckConstraint(
                condition=Q(energy__isnull=True) | Q(energy__gte=1, energy__lte=5),
                name="checkin_energy_1_5",
            ),
            models.CheckConstraint(
                condition=Q(visibility__in=["shared", "private"]), name="checkin_visibility"
            ),
        ]
        indexes: ClassVar = [
            # The dashboard and history read a couple's recent days; "both showed up"
            # groups a couple's shared check-ins by couple day.
            models.Index(fields=["couple", "couple_date"]),
        ]

    def __str__(self) -> str:
        return f"checkin {self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Services always set the couple day; a row made another way (a fixture, the
        # demo) gets it from the same rule rather than failing on the NOT NULL column.
        if self.couple_date is None and self.local_date is not None:
            self.couple_date = (
                couple_day(self.local_date, self.author.timezone, self.couple.timezone)
                if self.couple_id is not None and self.couple is not None
                else self.local_date
            )
        super().save(*args, **kwargs)


class CheckinAnswer(models.Model):
    checkin = models.ForeignKey(Checkin, on_delete=models.CASCADE, related_name="answers")
    prompt = models.ForeignKey(Prompt, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    # TextField's max_length only limits form widgets; the validator enforces it.
    text = models.TextField(
        max_length=ANSWER_MAX_LENGTH,
        validators=[MaxLengthValidator(ANSWER_MAX_LENGTH), validate_no_control_characters],
    )

    class Meta:
        ordering: ClassVar = ["position"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["checkin", "prompt"], name="checkin_answer_once"),
        ]

    def __str__(self) -> str:
        return f"checkin answer {self.pk}"


class CheckinResponse(models.Model):
    """The partner turning toward a check-in: one per partner per check-in, updated in
    place (a reaction, a short reply, or both), so a double submit never duplicates.

    The reply is its author's words: it stays theirs (in their export) when the
    check-in's author deletes their account. The check-in then goes and `checkin`
    becomes NULL; `checkin_date`, copied when the response is written, still says
    which day it answered. Pages reach responses only through their check-in, so a
    detached one is shown nowhere but in its author's export."""

    checkin = models.ForeignKey(
        Checkin, null=True, blank=True, on_delete=models.SET_NULL, related_name="responses"
    )
    # The check-in's `local_date` (its author's day), copied: it outlives the check-in.
    checkin_date = models.DateField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="checkin_responses"
    )
    reaction = models.CharField(max_length=16, choices=Reaction.choices, blank=True)
    text = models.TextField(
        max_length=REPLY_MAX_LENGTH,
        blank=True,
        validators=[MaxLengthValidator(REPLY_MAX_LENGTH), validate_no_control_characters],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["checkin", "author"], name="checkin_response_once"),
            models.CheckConstraint(
                condition=~Q(reaction="", text=""), name="checkin_response_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"checkin response {self.pk}"


# --- What the database defines (docs/architecture.md, rule 2) ----------------------------


class VisibleCheckin(models.Model):
    """Who may see which check-in: one row per (viewer, check-in) the viewer may see,
    with the check-in's columns. A database view (`checkins_visiblecheckin`, migration
    0004): mine in any couple and of any visibility, and my current partner's shared
    ones in our current couple. Read-only; every read of check-ins starts here."""

    pk = models.CompositePrimaryKey("viewer", "checkin")
    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+"
    )
    checkin = models.ForeignKey(
        Checkin, on_delete=models.DO_NOTHING, db_column="id", related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+"
    )
    couple = models.ForeignKey(Couple, null=True, on_delete=models.DO_NOTHING, related_name="+")
    local_date = models.DateField()
    couple_date = models.DateField()
    mood = models.PositiveSmallIntegerField()
    energy = models.PositiveSmallIntegerField(null=True)
    visibility = models.CharField(max_length=8)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "checkins_visiblecheckin"

    def __str__(self) -> str:
        return f"checkin {self.checkin_id} seen by user {self.viewer_id}"


class VisibleResponse(models.Model):
    """Who may see which response: mine, and my current partner's on a check-in of our
    current couple. A database view (`checkins_visibleresponse`, migration 0004)."""

    pk = models.CompositePrimaryKey("viewer", "response")
    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+"
    )
    response = models.ForeignKey(
        CheckinResponse, on_delete=models.DO_NOTHING, db_column="id", related_name="+"
    )
    checkin = models.ForeignKey(Checkin, null=True, on_delete=models.DO_NOTHING, related_name="+")
    checkin_date = models.DateField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+"
    )
    reaction = models.CharField(max_length=16, blank=True)
    text = models.TextField(blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "checkins_visibleresponse"

    def __str__(self) -> str:
        return f"response {self.response_id} seen by user {self.viewer_id}"


class ShowedUpMonth(models.Model):
    """How many couple days of one month both partners of a couple shared a check-in
    for. Kept exact by the database itself: a trigger on every insert, update and
    delete of a check-in recounts its couple-month (migration 0004), so no write path
    (a service, the admin, an account's deletion) can forget it, and "days both showed
    up" reads a couple's few monthly rows instead of grouping its whole history.

    No foreign key constraint to the couple: the trigger may recount a couple's month
    in the same transaction that deletes the couple."""

    couple = models.ForeignKey(
        Couple, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    month = models.DateField()  # its first day
    days = models.PositiveIntegerField(default=0)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["couple", "month"], name="showed_up_once_a_month"),
        ]

    def __str__(self) -> str:
        return f"showed up {self.pk}"
