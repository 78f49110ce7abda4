"""JSON request bodies read by a route itself (raw bytes, parsed once, off the event loop),
with the same 422 answers FastAPI gives for a body parameter: a route that reads its body
this way still documents the model with :func:`json_body_openapi`."""

from __future__ import annotations

import json
from email.message import Message
from typing import Any, TypeVar

import pydantic
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from ledger_service.intake.checks import RequestTooLarge

__all__ = ["json_body_openapi", "parse_json_body"]

ModelT = TypeVar("ModelT", bound=BaseModel)


def parse_json_body(
    body: bytes, content_type: str | None, model: type[ModelT], *, max_bytes: int
) -> ModelT:
    """``body`` validated as ``model``: JSON parsed once, then the model's checks.

    Raises:
        RequestTooLarge: more than ``max_bytes`` (HTTP 413; a body sent without a
            Content-Length, which the app's middleware cannot check before it is read).
        RequestValidationError: as FastAPI raises it for a body parameter (strict content
            type, ``json_invalid``, the model's errors under ``body``).
    """
    if len(body) > max_bytes:
        raise RequestTooLarge(f"request body of {len(body)} bytes; the limit is {max_bytes}")
    if not body:
        raise RequestValidationError(
            [{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}]
        )
    data: Any = body
    if _is_json(content_type):
        try:
            data = json.loads(body)
        except json.JSONDecodeError as exc:
            raise RequestValidationError(
                [
                    {
                        "type": "json_invalid",
                        "loc": ("body", exc.pos),
                        "msg": "JSON decode error",
                        "input": {},
                        "ctx": {"error": exc.msg},
                    }
                ]
            ) from exc
        except UnicodeDecodeError as exc:
            raise RequestValidationError(
                [
                    {
                        "type": "json_invalid",
                        "loc": ("body", exc.start),
                        "msg": "JSON decode error",
                        "input": {},
                        "ctx": {"error": "not UTF-8"},
                    }
                ]
            ) from exc
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(errors) from exc


def _is_json(content_type: str | None) -> bool:
    # FastAPI's rule (strict content type): no header, or another type, is not JSON
    if not content_type:
        return False
    message = Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def json_body_openapi(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting a required JSON body of ``model`` (the schema itself is
    put into the components by the app, see ``create_app``)."""
    return {
        "requestBody": {
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
            },
            "required": True,
        }
    }
