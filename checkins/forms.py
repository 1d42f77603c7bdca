"""The check-in and response forms. They parse input; the services validate and act."""

from __future__ import annotations

from typing import Any

from django import forms

from checkins.models import (
    ANSWER_MAX_LENGTH,
    REPLY_MAX_LENGTH,
    Checkin,
    Energy,
    Mood,
    Reaction,
    Visibility,
)
from checkins.services import AnswerInput
from nuzzle.lib.forms import WordsField
from prompts.models import Prompt


class CheckinForm(forms.Form):
    mood = forms.TypedChoiceField(
        label="How are you today?",
        choices=Mood.choices,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how you are today."},
    )
    energy = forms.TypedChoiceField(
        label="Energy (optional)",
        choices=[("", "Skip"), *Energy.choices],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    visibility = forms.ChoiceField(
        label="Who sees this?",
        choices=Visibility.choices,
        initial=Visibility.SHARED,
        widget=forms.RadioSelect,
    )

    def __init__(
        self, *args: Any, questions: list[Prompt], existing: Checkin | None = None, **kwargs: Any
    ) -> None:
        if existing is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "mood": existing.mood,
                "energy": existing.energy or "",
                "visibility": existing.visibility,
                **{f"answer_{a.prompt_id}": a.text for a in existing.answers.all()},
            }
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            self.fields[f"answer_{question.pk}"] = WordsField(
                label=question.text,
                required=False,
                max_length=ANSWER_MAX_LENGTH,
                draft=True,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def answer_fields(self) -> list[forms.BoundField]:
        return [self[f"answer_{question.pk}"] for question in self.questions]

    def answers(self) -> list[AnswerInput]:
        return [
            AnswerInput(question_id=q.pk, text=self.cleaned_data.get(f"answer_{q.pk}") or "")
            for q in self.questions
        ]


class ResponseForm(forms.Form):
    reaction = forms.ChoiceField(choices=[("", "No reaction"), *Reaction.choices], required=False)
    # The card renders its own reply input (templates/checkins/_checkin_card.html).
    text = WordsField(label="Reply", required=False, max_length=REPLY_MAX_LENGTH)
