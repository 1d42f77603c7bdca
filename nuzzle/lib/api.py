"""Shared DRF plumbing: pagination, output shapes, the exception handler, small view
helpers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from operator import attrgetter
from typing import Any, Generic, TypeVar, cast

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from nuzzle.lib.errors import Conflict, Invalid, NotFound, ServiceError
from nuzzle.lib.forms import normalise_newlines, too_long_message
from nuzzle.lib.timezones import accepted_timezone_names, validate_timezone
from nuzzle.lib.validators import validate_single_line


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100


class PageQuerySerializer(serializers.Serializer):
    """Query parameters of a paginated list. Unknown and empty parameters are a 400, so
    a typo (`?form=`) is reported instead of silently returning everything."""

    page = serializers.IntegerField(min_value=1, required=False)
    page_size = serializers.IntegerField(
        min_value=1, max_value=Pagination.max_page_size, required=False
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors = {
            name: ["Unknown parameter."] for name in self.initial_data if name not in self.fields
        }
        # DRF treats `?page_size=` as absent; an empty value is a mistake worth saying.
        errors.update(
            {
                name: ["This parameter is empty."]
                for name, value in self.initial_data.items()
                if name in self.fields and value == ""
            }
        )
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


def paginated(child: type[serializers.Serializer], *, name: str) -> serializers.Serializer:
    """The schema of a page of `child` items: {"count", "next", "previous", "results"}
    (docs/api.md, Conventions), for APIViews that paginate by hand."""
    return inline_serializer(
        name=name,
        fields={
            "count": serializers.IntegerField(min_value=0),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": child(many=True),
        },
    )


Shown = TypeVar("Shown")
Context = TypeVar("Context")


class Output(Generic[Shown, Context]):
    """One JSON output shape, written once: each key with the serializer field that
    documents it and how its value is read from the object shown.

    `serializer` is the DRF serializer made of those fields (named `name`, a dotted
    name for one nested in a view: the schema's component names come from it). The
    OpenAPI schema, nested outputs and a `.data` pass where DRF should format a value
    use it. `render(shown, context)` gives the same keys, in the same order, as plain
    dicts and lists: the hot paths (check-ins, love maps, the dashboard) render with
    it, because a serializer's `.data` costs several times a plain dict (about 4x
    for a page of check-ins, 20x one check-in at a time).

    A read is an attribute path (`"prompt.text"`), its value used as it is, or a
    function of the object and the context (who asks, say, for "me" or "partner";
    None where nothing else is needed) that returns the JSON value.
    """

    def __init__(
        self,
        name: str,
        /,  # so that an output may have a key called "name"
        **fields: tuple[serializers.Field, str | Callable[[Shown, Context], Any]],
    ) -> None:
        attrs: dict[str, Any] = {key: field for key, (field, _) in fields.items()}
        attrs["__qualname__"] = name
        self.serializer = cast(
            "type[serializers.Serializer]",
            type(name.rpartition(".")[2], (serializers.Serializer,), attrs),
        )
        # (key, read, whether the read is an attribute path, which takes no context)
        self._reads: tuple[tuple[str, Callable[..., Any], bool], ...] = tuple(
            (key, attrgetter(read), True) if isinstance(read, str) else (key, read, False)
            for key, (_, read) in fields.items()
        )

    def render(self, shown: Shown, context: Context) -> dict[str, Any]:
        return {
            key: read(shown) if by_path else read(shown, context)
            for key, read, by_path in self._reads
        }

    def render_all(self, shown: Iterable[Shown], context: Context) -> list[dict[str, Any]]:
        return [self.render(one, context) for one in shown]


def json_text(text: str, status_code: int = 200) -> HttpResponse:
    """A response body the database built as JSON (a hot endpoint's one prepared
    statement, `nuzzle.lib.prepared`), sent as it is: not parsed and rendered again.
    Its shape is the same `Output`'s, which a test compares on PostgreSQL."""
    return HttpResponse(text, content_type="application/json", status=status_code)


class _Counted:
    """`count` items nobody reads: lets DRF's pagination check a page number and build
    its links for a page the database has already built as JSON."""

    def __init__(self, count: int) -> None:
        self._count = count

    def count(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, key: object) -> list[object]:
        return []


def page_bounds(paginator: Pagination, request: Any, number: int) -> tuple[int, int]:
    """The size and offset of page `number` (1-based), as the paginator would read it."""
    size = paginator.get_page_size(request) or Pagination.max_page_size
    return size, (number - 1) * size


def page_json(paginator: Pagination, request: Any, *, count: int, results: str) -> HttpResponse:
    """A page the database built (`results`, a JSON array, and `count` in all) in the
    paginated envelope (docs/api.md, Conventions). A page past the end is the same 404
    as on the ORM path: DRF's own pagination checks the number and builds the links."""
    paginator.paginate_queryset(cast("Any", _Counted(count)), request)
    links = json.dumps(paginator.get_next_link()), json.dumps(paginator.get_previous_link())
    return json_text(
        f'{{"count": {count}, "next": {links[0]}, "previous": {links[1]}, "results": {results}}}'
    )


class StrictCharField(serializers.CharField):
    """A CharField that accepts exactly what the schema says it does.

    DRF's own turns numbers into text (`{"code": 0}` becomes "0") and checks
    `max_length` only after trimming, so some bodies that the schema calls invalid
    would be acted on; here they are a 400 like any other bad field. What DRF refuses
    beyond the basic string schema (NUL characters; blank-after-trimming) is written
    into the schema as a `pattern` by `StrictCharFieldSchema` below.
    """

    default_error_messages = {"invalid": "Not a valid string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        value: str = super().to_internal_value(data)
        return value


class WordsField(StrictCharField):
    """A person's own words (an answer, a reply, a guess), as the pages take them.

    Line breaks count as one character: CRLF (and a lone CR) becomes LF before the
    length check, as on the pages (`nuzzle.lib.forms.normalise_newlines`), so a
    client that counts what the person sees is never refused for its line endings,
    and the stored text is the same whichever way it came. Over-long text is a 400
    saying by how much; nothing is cut and nothing is stored.
    """

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, str):
            data = normalise_newlines(data)
            if self.max_length is not None and len(data) > self.max_length:
                raise serializers.ValidationError(
                    too_long_message(limit=self.max_length, length=len(data)), code="max_length"
                )
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """JSON `true` / `false` only: DRF's own also takes 0, 1, "yes", "on"..., which the
    schema (type boolean) does not allow."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictIntegerField(serializers.IntegerField):
    """JSON integers only: DRF's own also takes "3", 3.0 and true (a bool is an int in
    Python), none of which the schema (type integer) allows."""

    default_error_messages = {"invalid": "A whole number is required."}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        value: int = super().to_internal_value(data)
        return value


class StrictEmailField(StrictCharField, serializers.EmailField):
    """An EmailField that accepts JSON strings only (see StrictCharField)."""

    default_error_messages = {"invalid": "Enter a valid email address."}


# Python `re` and ECMA-262 both read these; `\s` is what `str.strip()` removes.
_NO_NUL = r"^[^\u0000]*$"
_NOT_BLANK_NO_NUL = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
# One line (see `validate_single_line`) once the ends are trimmed, and not blank.
_BREAKING = r"\u0000-\u001f\u007f-\u009f\u2028\u2029"
_SINGLE_LINE = rf"^\s*[^{_BREAKING}]*[^\s{_BREAKING}][^{_BREAKING}]*\s*$"


class SingleLineCharField(StrictCharField):
    """One line of text, such as a display name: after trimming the ends, no line
    breaks, tabs or control characters anywhere, and not blank. The schema says so
    with a `pattern` (StrictCharFieldSchema)."""

    schema_pattern = _SINGLE_LINE

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(validate_single_line)


class StrictCharFieldSchema(OpenApiSerializerFieldExtension):
    """Document in the request schema what a strict string field refuses beyond type
    and length: NUL characters always (DRF), and whitespace-only values when it trims
    and does not allow blanks."""

    target_class = StrictCharField
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> Any:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        field = self.target
        if direction == "request" and isinstance(schema, dict) and "pattern" not in schema:
            refuses_blank = field.trim_whitespace and not field.allow_blank
            default = _NOT_BLANK_NO_NUL if refuses_blank else _NO_NUL
            schema["pattern"] = getattr(field, "schema_pattern", default)
        return schema


# Every name `validate_timezone` accepts (not only the shorter list a picker offers).
@extend_schema_field({"type": "string", "enum": sorted(accepted_timezone_names())})
class TimezoneField(StrictCharField):
    """An IANA time zone name, as input. The schema lists the names this server knows
    (the same set the models validate against), so clients and Schemathesis know which
    strings are accepted; whitespace is not trimmed, so only those exact names pass."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)
        # Checked here too, not only by the service: a bad name is a 400 before any
        # state is looked at (never a 409 about something else).
        self.validators.append(validate_timezone)


class ConflictError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This conflicts with the current state."
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def _translate(exc: Exception) -> Exception:
    if isinstance(exc, Conflict):
        return ConflictError(exc.message)
    if isinstance(exc, NotFound):
        return exceptions.NotFound(exc.message)
    if isinstance(exc, Invalid) and exc.errors is not None:
        # Messages by field, as Django's `message_dict` keys them (model validation, run
        # by services inside `as_invalid()`); those about no one field under "detail".
        return exceptions.ValidationError(
            {name or "detail": messages for name, messages in exc.errors.items()}
        )
    if isinstance(exc, Invalid | ServiceError):
        if exc.field:
            return exceptions.ValidationError({exc.field: [exc.message]})
        return exceptions.ValidationError({"detail": exc.message})
    # No Django ValidationError is translated: services raise only the errors above,
    # and the serializers turn a field validator's own into DRF's.
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    return exc


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus the errors services raise (`nuzzle.lib.errors`) as 4xx."""
    exc = _translate(exc)
    response = drf_exception_handler(exc, context)
    # A bare list ("non-field" errors) becomes {"detail": [...]} so every 400 is an object.
    if (
        response is not None
        and isinstance(exc, exceptions.ValidationError)
        and isinstance(response.data, list)
    ):
        response.data = {"detail": response.data}
    return response
