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
- A reveal, and the guess on it, is the viewer's: it outlives the entry it was about.
  When the entry's author deletes their account the reveal is detached (`entry` NULL,
  `reveal_detach`) and keeps its `topic`, copied when it was written, so the viewer's
  export still says what they guessed about; the author's rating goes with the author.
"""

from __future__ import annotations

from typing import Any, ClassVar, cast

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.db.models.deletion import Collector

from nuzzle.couples.models import Couple
from nuzzle.couples.scoping import CoupleScopedQuerySet
from nuzzle.lib.validators import validate_no_control_characters
from prompts.models import Prompt

ANSWER_MAX_LENGTH = 1000
GUESS_MAX_LENGTH = 1000


class LovemapEntryQuerySet(CoupleScopedQuerySet["LovemapEntry"]):
    """`mine(user)` is every version I wrote, in any couple. My partner's are read only
    through the `PartnerEntry` view: their versions written or last confirmed in our
    current couple, so a later couple never sees an earlier couple's words."""


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

    objects = LovemapEntryQuerySet.as_manager()

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


def reveal_detach(
    collector: Collector, field: models.ForeignKey[Any, Any], sub_objs: Any, using: str
) -> None:
    """`on_delete` for a reveal's `entry`, which goes only with its author's account:
    the reveal and its guess are the viewer's words and stay, detached (as SET_NULL
    does); the rating of that guess is the entry author's, and goes with them, like
    everything else they did."""
    models.SET_NULL(collector, field, sub_objs, using)
    for name, value in (("rating", ""), ("rated_at", None)):
        rated = cast("models.Field[Any, Any]", field.model._meta.get_field(name))
        collector.add_field_update(rated, value, sub_objs)


class LovemapReveal(models.Model):
    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lovemap_reveals"
    )
    # NULL once the entry's author deleted their account (see `reveal_detach`).
    entry = models.ForeignKey(
        LovemapEntry, null=True, blank=True, on_delete=reveal_detach, related_name="reveals"
    )
    # The entry's topic, copied when revealed: it outlives the entry.
    topic = models.ForeignKey(Prompt, on_delete=models.PROTECT, related_name="+")
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


class PartnerEntry(models.Model):
    """My current partner's love map as I may see it. A database view
    (`lovemaps_partnerentry`, migration 0003), keyed by the viewer: their current
    answers written or last confirmed in our current couple, each with my `status`
    ("current": I revealed this version; "changed": an older one; "unseen"), and the
    text, my guess and its rating only where current. Read-only; the partner's map is
    read only through it."""

    pk = models.CompositePrimaryKey("viewer", "entry")
    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+"
    )
    entry = models.ForeignKey(
        LovemapEntry, on_delete=models.DO_NOTHING, db_column="id", related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+"
    )
    topic = models.ForeignKey(Prompt, on_delete=models.DO_NOTHING, related_name="+")
    couple = models.ForeignKey(Couple, on_delete=models.DO_NOTHING, related_name="+")
    version = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    confirmed_at = models.DateTimeField()
    stale_at = models.DateTimeField()
    status = models.CharField(max_length=8)  # "unseen", "changed" or "current"
    # NULL is "none" here, not "": sealed unless current (DJ001 is for tables).
    text = models.TextField(null=True)  # noqa: DJ001
    reveal_id = models.IntegerField(null=True)  # my reveal of this version
    guess = models.TextField(null=True)  # noqa: DJ001
    rating = models.CharField(max_length=16, null=True)  # noqa: DJ001

    class Meta:
        managed = False
        db_table = "lovemaps_partnerentry"

    def __str__(self) -> str:
        return f"lovemap entry {self.entry_id} seen by user {self.viewer_id}"
