"""Choices shared by several feature apps."""

from __future__ import annotations

from django.db import models


class Reaction(models.TextChoices):
    """The small fixed set for turning toward a partner's check-in or answer."""

    HEART = "heart", "Love this"
    HUG = "hug", "Sending a hug"
    PROUD = "proud", "Proud of you"
    SAME = "same", "Me too"
    LAUGH = "laugh", "Ha!"
