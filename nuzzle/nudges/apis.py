"""JSON API for nudges (docs/api.md: `GET/PATCH /api/v1/me/preferences`, `GET /api/v1/nudges`).

One view per path; each method parses input, calls one service or selector, and
formats the output. The rules (nudge time outside quiet hours, known kinds, the cap's
range) live in `services.preferences_update`, which reports them keyed by field.

Parsing is strict, like the rest of the API (`nuzzle.lib.api`): a field accepts exactly
the JSON type its schema names — no "3" for 3, no 1 for true — so Schemathesis's
negative cases are refused and its positive ones understood.
"""

from __future__ import annotations

import re
from datetime import UTC, date, time
from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from nuzzle.couples.auth import requester
from nuzzle.lib.api import (
    Output,
    PageQuerySerializer,
    Pagination,
    SingleLineCharField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    paginated,
)
from nuzzle.nudges import selectors, services, webpush
from nuzzle.nudges.kinds import CATALOGUE, Kind
from nuzzle.nudges.models import MAX_DAILY_CAP, Channels, Nudge
from nuzzle.nudges.selectors import PreferencesView

# ECMA-262 and Python `re` read this alike; Python matching uses `fullmatch`, so a
# trailing newline (which Python's `$` would let through) is refused too.
HH_MM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
_HH_MM = re.compile(HH_MM.removeprefix("^").removesuffix("$"), re.ASCII)
# YYYY-MM-DD; which days may end a pause (today to a year ahead) is the service's rule.
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


@extend_schema_field(
    {"type": "string", "pattern": HH_MM, "description": '24-hour HH:MM, e.g. "19:00".'}
)
class HourMinuteField(serializers.Field):
    """A local wall-clock time as "HH:MM" (24-hour), both ways."""

    default_error_messages = {"invalid": 'Use the 24-hour "HH:MM" form, e.g. "19:00".'}

    def to_internal_value(self, data: Any) -> time:
        match = _HH_MM.fullmatch(data) if isinstance(data, str) else None
        if match is None:
            self.fail("invalid")
        hour, minute = data.split(":")
        return time(int(hour), int(minute))

    def to_representation(self, value: time) -> str:
        return value.strftime("%H:%M")


_DAYS_SCHEMA = {
    "type": "array",
    "items": {"type": "integer", "minimum": 0, "maximum": 6},
    "uniqueItems": True,
    "maxItems": 7,
    "description": "Nudge days, 0 = Monday … 6 = Sunday. Empty: no nudge days.",
    "example": [0, 1, 2, 3, 4, 5, 6],
}


@extend_schema_field(_DAYS_SCHEMA)
class DaysField(serializers.Field):
    """Weekdays as a list of distinct numbers 0 (Monday) to 6 (Sunday)."""

    default_error_messages = {
        "invalid": "A list of weekday numbers is required.",
        "day": "Days are numbers from 0 (Monday) to 6 (Sunday).",
        "unique": "Each day may appear once.",
    }

    def to_internal_value(self, data: Any) -> list[int]:
        if not isinstance(data, list):
            self.fail("invalid")
        if any(isinstance(day, bool) or not isinstance(day, int) for day in data):
            self.fail("day")
        if any(not 0 <= day <= 6 for day in data):
            self.fail("day")
        if len(set(data)) != len(data):
            self.fail("unique")
        return list(data)

    def to_representation(self, value: list[int]) -> list[int]:
        return sorted(value)


@extend_schema_field(
    {
        "type": "string",
        "format": "date",
        "pattern": DATE_PATTERN,
        "nullable": True,
        "description": "No nudges up to and including this local date (today to a year "
        "ahead); null: not paused.",
    }
)
class PauseDateField(serializers.Field):
    """`YYYY-MM-DD` or null (not paused)."""

    default_error_messages = {"invalid": 'Use a date like "2025-06-30", or null.'}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> date:
        if not isinstance(data, str) or not _DATE.fullmatch(data):
            self.fail("invalid")
        try:
            return date.fromisoformat(data)
        except ValueError:
            self.fail("invalid")

    def to_representation(self, value: date) -> str:
        return value.isoformat()


def _kinds_schema(*, every_kind: bool) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            spec.kind.value: {"type": "boolean", "description": spec.description}
            for spec in CATALOGUE
        },
        "additionalProperties": False,
    }
    if every_kind:
        schema["required"] = [spec.kind.value for spec in CATALOGUE]
        schema["description"] = "Every kind: on (true) or off (false)."
    else:
        schema["description"] = "Kinds to turn on (true) or off (false); others stay as they are."
    return schema


class BooleanMapField(serializers.Field):
    """{name: bool}, JSON booleans only; `names`, when set, are the only keys allowed."""

    names: frozenset[str] | None = None

    def to_internal_value(self, data: Any) -> dict[str, bool]:
        if not isinstance(data, dict) or (self.names is not None and not set(data) <= self.names):
            self.fail("invalid")
        child = StrictBooleanField()
        try:
            return {str(name): child.to_internal_value(value) for name, value in data.items()}
        except serializers.ValidationError:
            self.fail("invalid")


@extend_schema_field(_kinds_schema(every_kind=False))
class KindsInputField(BooleanMapField):
    """{kind: bool} for some kinds. Which names are kinds is the service's to say (an
    unknown one is a 400 keyed `kinds`); here only the shape is checked."""

    default_error_messages = {"invalid": "An object of kind names to true or false is required."}


@extend_schema_field(_kinds_schema(every_kind=True))
class KindsOutputField(serializers.Field):
    def to_representation(self, value: dict[str, bool]) -> dict[str, bool]:
        return dict(value)


@extend_schema_field(
    {"type": "string", "enum": [kind.value for kind in Kind]}, component_name="NudgeKindEnum"
)
class NudgeKindField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Kind.choices, **kwargs)


@extend_schema_field(
    {"type": "string", "enum": [status.value for status in Nudge.Status]},
    component_name="NudgeStatusEnum",
)
class NudgeStatusField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Nudge.Status.choices, **kwargs)


_CHANNELS_SCHEMA = {
    "type": "object",
    "properties": {"email": {"type": "boolean"}, "push": {"type": "boolean"}},
    "additionalProperties": False,
}


@extend_schema_field({**_CHANNELS_SCHEMA, "required": ["email", "push"]})
class ChannelsOutputField(serializers.Field):
    def to_representation(self, value: dict[str, bool]) -> dict[str, bool]:
        return dict(value)


@extend_schema_field(
    {**_CHANNELS_SCHEMA, "description": "Either or both; a key left out keeps its value."}
)
class ChannelsInputField(BooleanMapField):
    names = frozenset({"email", "push"})
    default_error_messages = {
        "invalid": 'An object like {{"email": true, "push": false}} is required.'
    }


# Written once (nuzzle.lib.api.Output): the schema, and the plain payload that the
# serializer made from it then formats (`.data`: "HH:MM" times, sorted days, dates).
PREFERENCES_OUTPUT = Output[PreferencesView, None](
    "PreferencesApi.OutputSerializer",
    nudge_time=(HourMinuteField(), "nudge_time"),
    days=(DaysField(), "days"),
    quiet_start=(HourMinuteField(), "quiet_start"),
    quiet_end=(HourMinuteField(), "quiet_end"),
    paused_until=(serializers.DateField(allow_null=True), "paused_until"),
    kinds=(KindsOutputField(), "kinds"),
    daily_cap=(serializers.IntegerField(min_value=1, max_value=MAX_DAILY_CAP), "daily_cap"),
    timezone=(
        serializers.CharField(help_text="My time zone (change it on /api/v1/me)."),
        "timezone",
    ),
    suppressed=(
        serializers.BooleanField(
            help_text="The mail server refused my address; nothing is sent until I save "
            "my preferences again."
        ),
        lambda view, _: view.suppressed_at is not None,
    ),
    channels=(
        ChannelsOutputField(
            help_text="The channels I chose; while automatic, where a nudge goes now."
        ),
        "channels",
    ),
    channels_now=(
        ChannelsOutputField(
            help_text="Where a nudge goes now: push chosen with no device goes by email."
        ),
        "channels_now",
    ),
    channels_automatic=(
        serializers.BooleanField(
            help_text="True until I choose: push when I have a device, else email."
        ),
        lambda view, _: view.channels_choice == Channels.AUTO,
    ),
)


class PreferencesApi(APIView):
    class InputSerializer(serializers.Serializer):
        nudge_time = HourMinuteField(required=False, help_text="Local time, 24-hour HH:MM.")
        days = DaysField(required=False)
        quiet_start = HourMinuteField(required=False)
        quiet_end = HourMinuteField(required=False, help_text="Equal to quiet_start: none.")
        paused_until = PauseDateField(required=False)
        kinds = KindsInputField(required=False)
        daily_cap = StrictIntegerField(min_value=1, max_value=MAX_DAILY_CAP, required=False)
        channels = ChannelsInputField(required=False)
        channels_automatic = StrictBooleanField(
            required=False, help_text="true: back to push when I have a device, else email."
        )

    OutputSerializer = PREFERENCES_OUTPUT.serializer

    @extend_schema(responses={200: OutputSerializer}, summary="My nudge preferences")
    def get(self, request: Request) -> Response:
        view = selectors.preferences_get(user=requester(request))
        return Response(self.OutputSerializer(PREFERENCES_OUTPUT.render(view, None)).data)

    @extend_schema(
        request=InputSerializer,
        responses={200: OutputSerializer},
        summary="Change my nudge preferences (any subset of the fields)",
    )
    def patch(self, request: Request) -> Response:
        user = requester(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data:  # nothing given: nothing to change (nor to un-suppress)
            # The field names are the service's keyword names; a field not sent is
            # not passed, so `paused_until: null` (resume) differs from "not sent".
            given = dict(data.validated_data)
            if "channels" in given or "channels_automatic" in given:
                choice = services.channels_choice(
                    user=user,
                    chosen=given.pop("channels", None),
                    automatic=given.pop("channels_automatic", None),
                )
                if choice is not None:
                    given["channels"] = choice
            services.preferences_update(user=user, **given)
        view = selectors.preferences_get(user=user)
        return Response(self.OutputSerializer(PREFERENCES_OUTPUT.render(view, None)).data)


class NudgeListApi(APIView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        kind = NudgeKindField()
        # UTC whoever asks (docs/api.md): not the zone a browser session activates.
        scheduled_for = serializers.DateTimeField(default_timezone=UTC)
        sent_at = serializers.DateTimeField(default_timezone=UTC, allow_null=True)
        status = NudgeStatusField()
        reason = serializers.CharField(
            allow_blank=True, help_text="Why it was skipped or failed; empty otherwise."
        )

    @extend_schema(
        parameters=[PageQuerySerializer],
        responses={200: paginated(OutputSerializer, name="PaginatedNudgeList")},
        summary="My own nudges, newest first",
    )
    def get(self, request: Request) -> Response:
        PageQuerySerializer(data=request.query_params).is_valid(raise_exception=True)
        paginator = Pagination()
        queryset = selectors.nudge_list(user=requester(request))
        page = paginator.paginate_queryset(queryset, request, view=self) or []
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class PushKeyApi(APIView):
    """The server's VAPID public key: what a browser subscribes with. Public, and the
    same for everyone."""

    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        public_key = serializers.CharField(
            help_text="The VAPID application-server key (base64url, uncompressed P-256)."
        )

    @extend_schema(responses={200: OutputSerializer}, summary="The key to subscribe to push with")
    def get(self, request: Request) -> Response:
        return Response({"public_key": webpush.public_key()})


class DeviceOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(allow_blank=True)
    service = serializers.CharField(help_text="The push service's host name.")
    # UTC whoever asks (docs/api.md).
    created_at = serializers.DateTimeField(default_timezone=UTC)


class DeviceListApi(APIView):
    class InputSerializer(serializers.Serializer):
        class KeysSerializer(serializers.Serializer):
            p256dh = StrictCharField(max_length=100, trim_whitespace=False)
            auth = StrictCharField(max_length=40, trim_whitespace=False)

        endpoint = StrictCharField(max_length=1000, trim_whitespace=False)
        keys = KeysSerializer()
        name = SingleLineCharField(max_length=60, required=False, allow_blank=True)

    @extend_schema(
        responses={200: DeviceOutputSerializer(many=True)},
        summary="My devices with notifications on",
    )
    def get(self, request: Request) -> Response:
        devices = selectors.device_list(user=requester(request))
        return Response(DeviceOutputSerializer(devices, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={201: DeviceOutputSerializer, 200: DeviceOutputSerializer},
        summary="Turn notifications on for a device (a browser's push subscription)",
    )
    def post(self, request: Request) -> Response:
        user = requester(request)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        device, created = services.device_register(
            user=user,
            endpoint=given["endpoint"],
            p256dh=given["keys"]["p256dh"],
            auth=given["keys"]["auth"],
            name=given.get("name", ""),
        )
        if request.auth is None and hasattr(request._request, "session"):
            # This browser's own device: signing out here turns it off (signals.py).
            request._request.session[services.SESSION_DEVICE_KEY] = device.pk
        return Response(
            DeviceOutputSerializer(selectors.DeviceView.of(device)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class DeviceDetailApi(APIView):
    @extend_schema(responses={204: None}, summary="Turn notifications off for one device")
    def delete(self, request: Request, device_id: int) -> Response:
        if not services.device_remove(user=requester(request), device_id=device_id):
            raise NotFound("No such device of yours.")
        return Response(status=status.HTTP_204_NO_CONTENT)
