"""The prompt bank: every question Nuzzle asks, curated in the admin.

Prompts are shared, non-personal content (no couple data lives here). Each has a
stable `key` so that loading the bundled bank again updates rather than duplicates.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from nuzzle.couples.scoping import CoupleScopedQuerySet
from nuzzle.lib.choices import Reaction
from nuzzle.lib.validators import validate_no_control_characters

ANSWER_MAX_LENGTH = 2000


class Prompt(models.Model):
    class Kind(models.TextChoices):
        QUESTION = "question", "Daily question"
        LOVEMAP = "lovemap", "Love-map topic"
        CHECKIN = "checkin", "Check-in question"

    class Dimension(models.TextChoices):
        EMOTIONAL = "emotional"
        INTELLECTUAL = "intellectual"
        PHYSICAL = "physical"
        EXPERIENTIAL = "experiential"

    class Depth(models.IntegerChoices):
        LIGHT = 1
        MEDIUM = 2
        DEEP = 3

    class Domain(models.TextChoices):
        PEOPLE = "people", "People in my life"
        STRESSES = "stresses", "Stresses and worries"
        HOPES = "hopes", "Hopes and dreams"
        JOYS = "joys", "Joys and favourites"
        HISTORY = "history", "History and memories"
        VALUES = "values", "Values and beliefs"
        WORK = "work", "Work and projects"
        BODY = "body", "Body and health"

    class Status(models.TextChoices):
        DRAFT = "draft"
        PUBLISHED = "published"
        RETIRED = "retired"

    key = models.SlugField(
        max_length=80, unique=True, help_text="Stable identity used by the bundled bank loader."
    )
    text = models.TextField(max_length=500, validators=[MaxLengthValidator(500)])
    kind = models.CharField(max_length=16, choices=Kind.choices)
    dimension = models.CharField(max_length=16, choices=Dimension.choices)
    depth = models.PositiveSmallIntegerField(
        choices=Depth.choices,
        default=Depth.LIGHT,
        validators=[MinValueValidator(1), MaxValueValidator(3)],
    )
    domain = models.CharField(
        max_length=16, choices=Domain.choices, blank=True, help_text="Love-map topics only."
    )
    half_life_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Love-map topics only: after this, an answer is stale."
    )
    locale = models.CharField(max_length=16, default="en")
    tags = models.JSONField(default=list, blank=True)
    pack = models.CharField(max_length=64, default="core")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    sensitive = models.BooleanField(
        default=False, help_text="Only asked when both partners have opted in."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Edit history for curators (who changed what, when); prompts hold no couple data.
    history = HistoricalRecords()

    class Meta:
        ordering: ClassVar = ["kind", "id"]
        indexes: ClassVar = [models.Index(fields=["kind", "status", "locale"])]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(depth__gte=1, depth__lte=3), name="prompt_depth_1_3"
            ),
            models.CheckConstraint(
                condition=~Q(kind="lovemap") | (~Q(domain="") & Q(half_life_days__gt=0)),
                name="prompt_lovemap_has_domain_and_half_life",
            ),
        ]

    def __str__(self) -> str:
        return self.key


class QuestionSchedule(models.Model):
    """When a couple's next daily question is due: twelve hours before its next couple
    day begins in the couple's zone (docs/days.md), stored in UTC so the sweep selects
    due couples with one indexed range query (docs/architecture.md: schedules live in
    the database)."""

    couple = models.OneToOneField(
        "couples.Couple", on_delete=models.CASCADE, related_name="question_schedule"
    )
    due_at = models.DateTimeField(db_index=True)
    # The couple's settled question history, folded by the sweep (prompts.history): what
    # selection needs, in a bounded size however long the couple has been answering,
    # so the sweep reads a few rows per couple, not its whole history. A cache: NULL
    # `history_through` (a new couple, a lost row) means "read the whole history".
    history_through = models.DateField(null=True, blank=True)
    history_answered = models.PositiveIntegerField(default=0)
    # Bytes, not JSON: a million of each are decoded per daily sweep. Bit n of
    # `history_asked` (little-endian) is set when prompt n was asked; `history_recent`
    # holds the last few prompt ids, newest first, as little-endian uint32s.
    history_asked = models.BinaryField(default=bytes)
    history_recent = models.BinaryField(default=bytes)

    def __str__(self) -> str:
        return f"question schedule {self.pk}"


class DailyQuestion(models.Model):
    """One question per couple per couple-day (the couple's zone). A passed question
    keeps its row (status `passed`) and a new one takes its place that day."""

    class Status(models.TextChoices):
        OPEN = "open"
        PASSED = "passed"
        CLOSED = "closed"  # unanswered by one of them for three days: quietly closed

    # No single-column indexes on the two keys: the (couple, -couple_date) and (prompt,
    # status, revealed_at) indexes below serve every lookup by either, and each index
    # less is one less to write for each of the million rows a daily sweep inserts.
    couple = models.ForeignKey(
        "couples.Couple",
        on_delete=models.CASCADE,
        related_name="daily_questions",
        db_index=False,
    )
    prompt = models.ForeignKey(
        Prompt, on_delete=models.PROTECT, related_name="daily_questions", db_index=False
    )
    couple_date = models.DateField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    # Answers are accepted until then: the end of the third couple-day.
    closes_at = models.DateTimeField()
    # Set in the same transaction as the second answer: both answers become visible.
    revealed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            # One live question per couple-day; passed ones don't count. The sweep and
            # first-view assignment both rely on this to assign exactly once.
            models.UniqueConstraint(
                fields=["couple", "couple_date"],
                condition=~Q(status="passed"),
                name="daily_question_once_per_couple_day",
            ),
        ]
        indexes: ClassVar = [
            # A couple's questions, newest first: pages, and the sweep's read of the days
            # after its history summary (couple_id = ANY(...) AND couple_date > ...).
            models.Index(fields=["couple", "-couple_date"]),
            # The closing sweep, every minute: open questions past their time. Partial,
            # so it holds the few questions still waiting (at most three per couple),
            # not every revealed one of every day since the start.
            models.Index(
                fields=["closes_at"],
                condition=Q(status="open", revealed_at__isnull=True),
                name="daily_question_to_close",
            ),
            # Per-prompt statistics in the admin (times asked, answer and skip rates):
            # covering revealed_at lets the counts come from the index alone.
            models.Index(fields=["prompt", "status", "revealed_at"]),
        ]

    def __str__(self) -> str:
        return f"daily question {self.pk}"


class QuestionAnswerQuerySet(CoupleScopedQuerySet["QuestionAnswer"]):
    pass


class QuestionAnswer(models.Model):
    question = models.ForeignKey(DailyQuestion, on_delete=models.CASCADE, related_name="answers")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="question_answers"
    )
    text = models.TextField(
        max_length=ANSWER_MAX_LENGTH,
        validators=[MaxLengthValidator(ANSWER_MAX_LENGTH), validate_no_control_characters],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = QuestionAnswerQuerySet.as_manager()

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["question", "author"], name="question_answer_once"),
        ]

    def __str__(self) -> str:
        return f"question answer {self.pk}"


class QuestionReactionQuerySet(CoupleScopedQuerySet["QuestionReaction"]):
    pass


class QuestionReaction(models.Model):
    """A reaction to the partner's revealed answer (one per person, updated in place)."""

    question = models.ForeignKey(DailyQuestion, on_delete=models.CASCADE, related_name="reactions")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="question_reactions"
    )
    reaction = models.CharField(max_length=16, choices=Reaction.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = QuestionReactionQuerySet.as_manager()

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["question", "author"], name="question_reaction_once"),
        ]

    def __str__(self) -> str:
        return f"question reaction {self.pk}"


class VisibleQuestion(models.Model):
    """The daily questions a person may see, each with what of the partner's answer they
    may see. A database view (`prompts_visiblequestion`, migration 0006), keyed by the
    viewer: every question of my current couple (`current`), with my answer and
    reaction, whether my partner answered, and their answer and reaction only once the
    question is revealed; and from couples I was in before, the questions I answered,
    with my words only. The partner's text is sealed here, in the database: no read of
    a question can carry it before both have answered."""

    pk = models.CompositePrimaryKey("viewer", "question")
    viewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, related_name="+"
    )
    question = models.ForeignKey(
        DailyQuestion, on_delete=models.DO_NOTHING, db_column="id", related_name="+"
    )
    couple = models.ForeignKey("couples.Couple", on_delete=models.DO_NOTHING, related_name="+")
    prompt = models.ForeignKey(Prompt, on_delete=models.DO_NOTHING, related_name="+")
    couple_date = models.DateField()
    status = models.CharField(max_length=8)
    closes_at = models.DateTimeField()
    revealed_at = models.DateTimeField(null=True)
    current = models.BooleanField()  # a question of my current couple
    # NULL is "none" here, not "": a view's outer joins say so (DJ001 is for tables).
    my_answer = models.TextField(null=True)  # noqa: DJ001
    partner_answered = models.BooleanField()
    partner_answer = models.TextField(null=True)  # noqa: DJ001 (NULL until revealed)
    my_reaction = models.CharField(max_length=16, null=True)  # noqa: DJ001
    partner_reaction = models.CharField(max_length=16, null=True)  # noqa: DJ001 (as the answer)

    class Meta:
        managed = False
        db_table = "prompts_visiblequestion"

    def __str__(self) -> str:
        return f"question {self.question_id} seen by user {self.viewer_id}"
