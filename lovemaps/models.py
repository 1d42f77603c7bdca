"""Love maps: each person's answers about their own inner world, versioned, and what
their partner has seen of them.

Design notes:
- Every edit is a new `LovemapEntry` version; exactly one version per (author, topic)
  is current (partial unique index).
- `stale_at` = `confirmed_at` + the topic's half-life, stored, so "stale" is one
  indexed comparison for pages and for the set-based nudge selectors. (If a curator
  changes a half-life, `lovemap_stale_at_refresh` recomputes it.)
- `couple` is the couple the version was written or last confirmed in: a partner sees
  only versions of their current couple, so a later couple never sees an earlier
  couple's words unless the author re-confirms them ("still true") while paired anew.
- A `LovemapReveal` points at the exact version revealed: the viewer is `current` on a
  topic when they revealed its current version, `changed` when they revealed an older
  one, `unseen` otherwise. An optional guess (and the subject's rating) rides on it.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q

from nuzzle.couples.models import Couple
from nuzzle.lib.validators import validate_no_control_characters
from prompts.models import Prompt

ANSWER_MAX_LENGTH = 1000
GUESS_MAX_LENGTH = 1000


class LovemapEntry(models.Model):
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lovemap_entries"
    )
    topic = models.ForeignKey(Prompt, on_delete=models.PROTECT, related_name="lovemap_entries")
    couple = models.ForeignKey(
        Couple, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    is_current = models.BooleanField(default=True)
    text = models.TextField(
        max_length=ANSWER_MAX_LENGTH,
        validators=[MaxLengthValidator(ANSWER_MAX_LENGTH), validate_no_control_characters],
    )
    created_at = models.DateTimeField()
    confirmed_at = models.DateTimeField()
    stale_at = models.DateTimeField()

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["author", "topic", "version"], name="lovemap_entry_version_once"
            ),
            models.UniqueConstraint(
                fields=["author", "topic"],
                condition=Q(is_current=True),
                name="lovemap_entry_one_current",
            ),
        ]
        indexes: ClassVar = [
            # My map and my partner's map: current versions of one person.
            models.Index(fields=["author", "is_current"]),
            # Nudges and the daily question's lean: current versions gone stale.
            models.Index(fields=["is_current", "stale_at"]),
            models.Index(fields=["couple", "is_current"]),
        ]

    def __str__(self) -> str:
        return f"lovemap entry {self.pk} v{self.version}"


class GuessRating(models.TextChoices):
    SPOT_ON = "spot_on", "Spot on"
    CLOSE = "close", "Close"
    NOT_QUITE = "not_quite", "Not quite"


class LovemapReveal(models.Model):
    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lovemap_reveals"
    )
    entry = models.ForeignKey(LovemapEntry, on_delete=models.CASCADE, related_name="reveals")
    couple = models.ForeignKey(Couple, on_delete=models.CASCADE, related_name="+")
    revealed_at = models.DateTimeField()
    guess = models.TextField(
        max_length=GUESS_MAX_LENGTH,
        blank=True,
        validators=[MaxLengthValidator(GUESS_MAX_LENGTH), validate_no_control_characters],
    )
    rating = models.CharField(max_length=16, choices=GuessRating.choices, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["viewer", "entry"], name="lovemap_reveal_once"),
        ]
        indexes: ClassVar = [models.Index(fields=["viewer", "couple"])]

    def __str__(self) -> str:
        return f"lovemap reveal {self.pk}"
