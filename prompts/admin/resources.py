"""What the prompt admin imports and exports (django-import-export): prompts keyed by
`key`, as CSV that no spreadsheet runs as a formula or as JSON with real types, tags
read either way, and an import preview whose diff the CSP allows."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from diff_match_patch import diff_match_patch  # type: ignore[import-untyped]
from django.core.exceptions import ValidationError
from django.utils.html import format_html_join
from import_export import fields as ie_fields
from import_export import resources, widgets
from import_export.formats.base_formats import CSV
from import_export.resources import Diff

from nuzzle.lib.validators import without_constraint_names
from prompts.admin.forms import lovemap_rule_errors
from prompts.models import Prompt

# A spreadsheet runs a cell that starts with one of = + - @ (or a tab or carriage
# return before them) as a formula: a prompt's text or tag could then run in a
# curator's spreadsheet. Such cells are exported with a leading apostrophe, which
# spreadsheets read as "this is text". Cells that already start with apostrophes
# before such a character get one more, so the import can always take exactly one
# away: export and import round-trip every value. (A line feed counts too: the import
# reads files as text, which turns a carriage return into one.)
_FORMULA_LIKE = re.compile(r"'*[=+\-@\t\r\n]")


def neutralise_cell(value: Any) -> Any:
    """A cell as it is written to an exported CSV file (see `_FORMULA_LIKE`)."""
    if isinstance(value, str) and _FORMULA_LIKE.match(value):
        return f"'{value}"
    return value


def restore_cell(value: Any) -> Any:
    """A cell as it is read from a CSV file: `neutralise_cell` undone."""
    if isinstance(value, str) and value.startswith("'") and _FORMULA_LIKE.match(value, 1):
        return value[1:]
    return value


def _map_cells(dataset: Any, change: Callable[[Any], Any]) -> Any:
    """A copy of a tablib Dataset with `change` applied to every cell."""
    changed = type(dataset)(headers=dataset.headers, title=dataset.title)
    for row in dataset:
        changed.append([change(cell) for cell in row])
    return changed


class SpreadsheetSafeCSV(CSV):
    """CSV whose cells no spreadsheet runs as a formula, and which reads back what it
    wrote. Only CSV: JSON is not opened in spreadsheets."""

    def export_data(self, dataset: Any, **kwargs: Any) -> Any:
        return super().export_data(_map_cells(dataset, neutralise_cell), **kwargs)

    def create_dataset(self, in_stream: Any, **kwargs: Any) -> Any:
        return _map_cells(super().create_dataset(in_stream, **kwargs), restore_cell)


class TagsWidget(widgets.Widget):
    """Tags as "a, b" in CSV and as a JSON list in JSON; either is read back on import
    (a JSON list written into a CSV cell is accepted too)."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> list[str]:
        if value is None:
            return []
        if isinstance(value, list):
            items = value
        else:
            text = str(value).strip()
            if text.startswith("["):
                try:
                    items = json.loads(text)
                except json.JSONDecodeError as error:
                    raise ValueError(f"tags: not a JSON list ({error.msg})") from error
                if not isinstance(items, list):
                    raise ValueError("tags: expected a list")
            else:
                items = text.split(",")
        return [str(item).strip() for item in items if str(item).strip()]

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> Any:
        tags = [str(tag) for tag in (value or [])]
        if kwargs.get("force_native_type"):
            return tags
        return ", ".join(tags)


class PlainDiff(Diff):
    """The import preview's per-field diff as <ins>/<del> without inline `style`
    attributes (the CSP refuses them; import-export's import.css styles both)."""

    def as_html(self) -> list[str]:
        matcher = diff_match_patch()
        tags = {matcher.DIFF_INSERT: "ins", matcher.DIFF_DELETE: "del", matcher.DIFF_EQUAL: "span"}
        cells: list[str] = []
        for before, after in zip(self.left, self.right, strict=False):
            if before != after and self.new:
                before = ""
            diff = matcher.diff_main(str(before), str(after))
            matcher.diff_cleanupSemantic(diff)
            cells.append(
                format_html_join(
                    "",
                    "<{}>{}</{}>",
                    ((tags[op], text, tags[op]) for op, text in diff if text),
                )
            )
        return cells


class PromptResource(resources.ModelResource):
    """Prompts keyed by `key`: importing a file updates the prompts it names and adds
    the new ones, never duplicates. Ids and timestamps are neither exported nor read."""

    tags = ie_fields.Field(attribute="tags", column_name="tags", widget=TagsWidget())

    class Meta:
        model = Prompt
        import_id_fields = ("key",)
        fields = (
            "key",
            "text",
            "kind",
            "dimension",
            "depth",
            "domain",
            "half_life_days",
            "locale",
            "tags",
            "pack",
            "status",
            "sensitive",
        )
        exclude = ("id", "created_at", "updated_at")
        export_order = fields
        skip_unchanged = True
        report_skipped = True
        # full_clean(): choices, lengths, the key's slug format, the check constraints.
        clean_model_instances = True

    def get_diff_class(self) -> type[Diff]:
        return PlainDiff

    def validate_instance(
        self,
        instance: Prompt,
        import_validation_errors: dict[str, Any] | None = None,
        validate_unique: bool = True,
    ) -> None:
        errors = dict(import_validation_errors or {})
        rule = lovemap_rule_errors(instance.kind, instance.domain, instance.half_life_days)
        for field, message in rule.items():
            errors.setdefault(field, ValidationError(message, code="invalid"))
        try:
            super().validate_instance(instance, errors, validate_unique)
        except ValidationError as exc:
            raise without_constraint_names(exc) from exc

    def before_save_instance(self, instance: Prompt, row: Any, **kwargs: Any) -> None:
        # The edit history names the curator who imported, and why.
        user = kwargs.get("user")
        if user is not None and user.is_authenticated:
            instance._history_user = user  # type: ignore[attr-defined]
        instance._change_reason = "Imported"  # type: ignore[attr-defined]
