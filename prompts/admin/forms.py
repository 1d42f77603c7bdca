"""The prompt admin's edit form, and the love-map rule in words that both the form and
the import check (prompts.admin.resources)."""

from __future__ import annotations

from typing import Any

from django import forms

from prompts.models import Prompt


def lovemap_rule_errors(
    kind: str, domain: str | None, half_life_days: int | None
) -> dict[str, str]:
    """The check constraint `prompt_lovemap_has_domain_and_half_life`, in words, per
    field: a love-map topic needs a domain and a half-life. (Django's own message for
    the constraint would show a curator its database name.)"""
    if kind != Prompt.Kind.LOVEMAP:
        return {}
    errors = {}
    if not domain:
        errors["domain"] = "A love-map topic needs a domain."
    if not half_life_days:
        errors["half_life_days"] = "A love-map topic needs a half-life, in days."
    return errors


class TagsField(forms.CharField):
    """The JSON list of tags, edited as "a, b, c"."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(str(tag) for tag in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [tag.strip() for tag in text.split(",") if tag.strip()]


class PromptForm(forms.ModelForm):  # type: ignore[type-arg, unused-ignore]
    tags = TagsField(required=False, help_text="Comma-separated, e.g. food, travel.")

    class Meta:
        model = Prompt
        fields = (
            "key",
            "text",
            "kind",
            "dimension",
            "depth",
            "domain",
            "half_life_days",
            "sensitive",
            "status",
            "locale",
            "pack",
            "tags",
        )
        widgets = {"text": forms.Textarea(attrs={"rows": 3, "cols": 80})}

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        rule = lovemap_rule_errors(
            cleaned.get("kind", ""), cleaned.get("domain"), cleaned.get("half_life_days")
        )
        for field, message in rule.items():
            if field not in self.errors:
                self.add_error(field, message)
        return cleaned
