"""JSON API for accounts and couples (docs/api.md: Account, Couple).

One view per path; each method parses input, calls one service or selector, and
formats the output. Validation lives in the services and the models.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, logout
from django.contrib.auth.signals import user_logged_in
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from knox.models import AuthToken
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from nuzzle.couples import selectors, services
from nuzzle.couples.auth import requester
from nuzzle.couples.models import Invite, User
from nuzzle.couples.scoping import CoupleContext, couple_context
from nuzzle.lib.api import (
    Output,
    SingleLineCharField,
    StrictBooleanField,
    StrictCharField,
    StrictEmailField,
    TimezoneField,
)
from nuzzle.lib.errors import Invalid, NotFound
from nuzzle.lib.ratelimit import ScopedLimitThrottle
from nuzzle.lib.schema import AutoSchema

# Each output is written once (nuzzle.lib.api.Output): its schema, and the plain payload
# that the serializer made from it then formats (`.data`).
PARTNER_OUTPUT = Output[User, None](
    "PartnerSerializer",
    display_name=(serializers.CharField(), "display_name"),
    timezone=(serializers.CharField(), "timezone"),
)
COUPLE_OUTPUT = Output[CoupleContext, None](
    "CoupleOutputSerializer",
    id=(serializers.IntegerField(), "couple.pk"),
    partner=(
        PARTNER_OUTPUT.serializer(),
        lambda context, _: PARTNER_OUTPUT.render(context.partner, None),
    ),
    since=(serializers.DateTimeField(), "couple.created_at"),
    timezone=(serializers.CharField(), "couple.timezone"),
)
CoupleOutputSerializer = COUPLE_OUTPUT.serializer


def couple_payload(context: CoupleContext) -> dict[str, Any]:
    return COUPLE_OUTPUT.render(context, None)


USER_OUTPUT = Output[User, None](
    "UserOutputSerializer",
    id=(serializers.IntegerField(), "pk"),
    email=(serializers.EmailField(), "email"),
    display_name=(serializers.CharField(), "display_name"),
    timezone=(serializers.CharField(), "timezone"),
    allow_sensitive_questions=(serializers.BooleanField(), "allow_sensitive_questions"),
    couple=(
        CoupleOutputSerializer(allow_null=True),
        lambda user, _: couple_payload(context) if (context := couple_context(user)) else None,
    ),
)
UserOutputSerializer = USER_OUTPUT.serializer


def user_payload(user: User) -> dict[str, Any]:
    return USER_OUTPUT.render(user, None)


# A new account's token (the context) and the account.
SIGNUP_OUTPUT = Output[User, str](
    "AuthSignupApi.OutputSerializer",
    token=(serializers.CharField(), lambda _, token: token),
    user=(UserOutputSerializer(), lambda user, _: user_payload(user)),
)
TOKEN_OUTPUT = Output[str, None](
    "AuthTokenApi.OutputSerializer",
    token=(serializers.CharField(), lambda token, _: token),
)


def _token_for(user: User) -> str:
    _, token = AuthToken.objects.create(user=user)
    return token


class AuthSignupApi(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [ScopedLimitThrottle]
    throttle_scope = "signup"

    class InputSerializer(serializers.Serializer):
        email = StrictEmailField(max_length=254)
        password = StrictCharField(max_length=128, trim_whitespace=False)
        display_name = SingleLineCharField(max_length=50)
        timezone = TimezoneField()

    OutputSerializer = SIGNUP_OUTPUT.serializer

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer},
        auth=[],
        summary="Create an account",
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_signup(
            email=data.validated_data["email"],
            password=data.validated_data["password"],
            display_name=data.validated_data["display_name"],
            timezone_name=data.validated_data["timezone"],
        )
        body = SIGNUP_OUTPUT.render(user, _token_for(user))
        return Response(self.OutputSerializer(body).data, status=status.HTTP_201_CREATED)


class AuthTokenApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[type] = []
    throttle_classes = [ScopedLimitThrottle]
    throttle_scope = "auth"

    class InputSerializer(serializers.Serializer):
        email = StrictCharField(max_length=254)
        password = StrictCharField(max_length=128, trim_whitespace=False)

    OutputSerializer = TOKEN_OUTPUT.serializer

    @extend_schema(
        request=InputSerializer,
        responses={200: OutputSerializer},
        auth=[],
        summary="Log in: get an API token",
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request, username=data.validated_data["email"], password=data.validated_data["password"]
        )
        if user is None:
            # The same words whether or not the email has an account (no enumeration).
            raise Invalid("Email or password is incorrect.")
        # A token log-in is a log-in, as a session one is (django.contrib.auth.login sends
        # this): receivers such as last_login and the nudges' activity mark see it too.
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        return Response(TOKEN_OUTPUT.render(_token_for(user), None))


class AuthLogoutApi(APIView):
    @extend_schema(request=None, responses={204: None}, summary="Log out: revoke this token")
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, AuthToken):
            request.auth.delete()
        else:
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class _BodyOnDeleteSchema(AutoSchema):
    """Document the request body of DELETE too. drf-spectacular documents bodies for
    PUT, PATCH and POST only, but `DELETE /me` carries the password (docs/api.md)."""

    def _get_request_body(self, direction: str = "request") -> Any:
        if self.method != "DELETE":
            return super()._get_request_body(direction)
        self.method = "POST"  # the same body rules as any unsafe method
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"


class MeApi(APIView):
    schema = _BodyOnDeleteSchema()

    class UpdateSerializer(serializers.Serializer):
        display_name = SingleLineCharField(max_length=50, required=False)
        timezone = TimezoneField(required=False)
        allow_sensitive_questions = StrictBooleanField(required=False)

    class DeleteSerializer(serializers.Serializer):
        password = StrictCharField(max_length=128, trim_whitespace=False)

    # Only deletion is rate limited: it takes the password, so a borrowed session or
    # token must not be able to guess it at speed.
    throttle_scope = "account_delete"

    def get_throttles(self) -> list[BaseThrottle]:
        if self.request.method == "DELETE":
            return [ScopedLimitThrottle()]
        return []

    @extend_schema(responses={200: UserOutputSerializer}, summary="Who am I")
    def get(self, request: Request) -> Response:
        return Response(UserOutputSerializer(user_payload(requester(request))).data)

    @extend_schema(
        request=UpdateSerializer, responses={200: UserOutputSerializer}, summary="Update me"
    )
    def patch(self, request: Request) -> Response:
        data = self.UpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_update(
            user=requester(request),
            display_name=data.validated_data.get("display_name"),
            timezone_name=data.validated_data.get("timezone"),
            allow_sensitive_questions=data.validated_data.get("allow_sensitive_questions"),
        )
        return Response(UserOutputSerializer(user_payload(user)).data)

    @extend_schema(
        request=DeleteSerializer,
        responses={
            204: None,
            # Documented for bodies of PUT, PATCH and POST by the schema hook; this
            # DELETE has a body too.
            413: OpenApiResponse(OpenApiTypes.OBJECT, description="Request body too large."),
            415: OpenApiResponse(
                OpenApiTypes.OBJECT, description="Unsupported content type (send JSON)."
            ),
        },
        summary="Delete my account",
        description="Needs my password (a wrong or missing one is a 400 keyed `password`, "
        "and nothing changes). Ends my couple (my partner is unpaired at once and "
        "told by email), deletes everything I wrote, and ends every session and API token "
        "of mine, effective on the next request. Cannot be undone.",
    )
    def delete(self, request: Request) -> Response:
        data = self.DeleteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_delete(user=requester(request), password=data.validated_data["password"])
        if not isinstance(request.auth, AuthToken):
            logout(request._request)  # a browser session: its cookie ends here too
        return Response(status=status.HTTP_204_NO_CONTENT)


INVITE_OUTPUT = Output[Invite, None](
    "InviteOutputSerializer",
    code=(serializers.CharField(), "display_code"),
    url=(serializers.URLField(), lambda invite, _: invite.share_url()),
    expires_at=(serializers.DateTimeField(), "expires_at"),
)
InviteOutputSerializer = INVITE_OUTPUT.serializer


def invite_payload(invite: Invite) -> dict[str, Any]:
    return INVITE_OUTPUT.render(invite, None)


class CoupleInviteCreateApi(APIView):
    @extend_schema(
        request=None,
        responses={201: InviteOutputSerializer, 409: OpenApiResponse(description="Already paired")},
        summary="Create an invite link",
    )
    def post(self, request: Request) -> Response:
        invite = services.invite_create(user=requester(request))
        return Response(
            InviteOutputSerializer(invite_payload(invite)).data, status=status.HTTP_201_CREATED
        )


class CoupleInviteRevokeApi(APIView):
    @extend_schema(request=None, responses={204: None}, summary="Revoke my invite")
    def delete(self, request: Request, code: str) -> Response:
        services.invite_revoke(user=requester(request), code=code)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CoupleJoinApi(APIView):
    throttle_classes = [ScopedLimitThrottle]
    throttle_scope = "invite_accept"

    class InputSerializer(serializers.Serializer):
        code = StrictCharField(max_length=64)
        timezone = TimezoneField(
            required=False,
            help_text="The couple's shared zone, confirmed or chosen by the person "
            "accepting (docs/days.md). By default the inviter's.",
        )

    @extend_schema(
        request=InputSerializer,
        responses={201: CoupleOutputSerializer, 409: OpenApiResponse(description="Already paired")},
        summary="Accept an invite",
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.invite_accept(
            user=requester(request),
            code=data.validated_data["code"],
            timezone_name=data.validated_data.get("timezone"),
        )
        context = couple_context(requester(request))
        assert context is not None  # noqa: S101  (just formed)
        return Response(
            CoupleOutputSerializer(couple_payload(context)).data, status=status.HTTP_201_CREATED
        )


class CoupleApi(APIView):
    class UpdateSerializer(serializers.Serializer):
        timezone = TimezoneField(required=False)

    def _context(self, request: Request) -> CoupleContext:
        context = selectors.couple_get(user=requester(request))
        if context is None:
            raise NotFound("You are not paired.")
        return context

    @extend_schema(responses={200: CoupleOutputSerializer}, summary="My couple")
    def get(self, request: Request) -> Response:
        return Response(CoupleOutputSerializer(couple_payload(self._context(request))).data)

    @extend_schema(
        request=UpdateSerializer, responses={200: CoupleOutputSerializer}, summary="Update couple"
    )
    def patch(self, request: Request) -> Response:
        data = self.UpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        context = self._context(request)
        if "timezone" in data.validated_data:
            services.couple_update(
                user=requester(request), timezone_name=data.validated_data["timezone"]
            )
        return Response(CoupleOutputSerializer(couple_payload(context)).data)

    @extend_schema(request=None, responses={204: None}, summary="Unpair (immediate for both)")
    def delete(self, request: Request) -> Response:
        services.couple_end(user=requester(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
