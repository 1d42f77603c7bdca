"""OpenAPI schema tweaks (drf-spectacular)."""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular import openapi


class AutoSchema(openapi.AutoSchema):
    """Name nested serializers after their view: `AuthSignupApi.InputSerializer`
    becomes the component `AuthSignupInput`, so the many `InputSerializer`s of the
    house style never collide."""

    def get_serializer_name(
        self, serializer: Any, direction: Literal["request", "response"]
    ) -> str:
        outer, _, inner = type(serializer).__qualname__.rpartition(".")
        if outer:
            return outer.removesuffix("Api") + inner
        name: str = super().get_serializer_name(serializer, direction)
        return name


_ERROR_SCHEMA = {
    "type": "object",
    "description": 'Either {"detail": "..."} or {"field": ["message", ...]}.',
    "additionalProperties": True,
}

_ERRORS = {
    "400": "Invalid input; field errors or a detail message.",
    "401": "Not authenticated.",
    "403": "CSRF check failed (browser-session requests only; tokens need no CSRF token).",
    "404": "Not found, or not yours.",
    "405": "Method not allowed.",
    "406": "Not acceptable: the API only answers in JSON.",
    "409": "Conflicts with the current state.",
    "413": "Request body too large.",
    "415": "Unsupported content type (send JSON).",
    "429": "Too many requests; slow down.",
}
_BODY_ONLY = {"400", "413", "415"}


def add_error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook: document the contract's error statuses (docs/api.md,
    Conventions) on every operation, so clients and Schemathesis know them."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = _ERROR_SCHEMA
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            has_body = method in {"post", "put", "patch"}
            for code, description in _ERRORS.items():
                if code in _BODY_ONLY and not has_body and code != "400":
                    continue
                operation.setdefault("responses", {}).setdefault(
                    code,
                    {
                        "description": description,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    },
                )
    return result
