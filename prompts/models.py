"""The prompt bank: every question Nuzzle asks, curated in the admin.

Prompts are shared, non-personal content (no couple data lives here). Each has a
stable `key` so that loading the bundled bank again updates rather than duplicates.
"""

from __future__ import annotations

from typing import ClassVar

from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q


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
