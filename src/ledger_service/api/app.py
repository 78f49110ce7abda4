"""The one place the REST API is wired: settings → app with problem handlers, limits,
metrics and routes, over one :class:`LedgerContext` (docs/api.md)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from ledger_service.api.auth import ApiKeys
from ledger_service.api.examples import add_examples
from ledger_service.api.limits import RateLimiter
from ledger_service.api.metrics import ApiMetrics
from ledger_service.api.middleware import RequestMiddleware
from ledger_service.api.problems import Problem, install_problem_handlers
from ledger_service.api.routes import (
    access,
    admin,
    checkpoints,
    evidence,
    health,
    lineage,
    objections,
    records,
    repairs,
    retention,
    verification,
)
from ledger_service.api.ui import mount_web
from ledger_service.context import LedgerContext
from ledger_service.intake.checks import DEFAULT_MAX_REQUEST_BYTES

__all__ = ["API_VERSION", "ApiSettings", "create_app"]

API_VERSION = "1.0.0"
log = logging.getLogger("ledger_service.api")


@dataclass(frozen=True, kw_only=True)
class ApiSettings:
    #: largest request body accepted, checked before it is read (records' JSON is larger
    #: than their canonical form, which intake limits to 32 MiB per request)
    max_body_bytes: int = 2 * DEFAULT_MAX_REQUEST_BYTES
    #: per-key requests per second, and the burst allowed above it
    rate: float = 200.0
    burst: int = 400


def create_app(context: LedgerContext, settings: ApiSettings | None = None) -> FastAPI:
    settings = settings or ApiSettings()
    app = FastAPI(
        title="Credit ledger API",
        version=API_VERSION,
        description=(
            "Records in, lineage and offline-verifiable evidence out. Authenticate with "
            "`Authorization: Bearer <API key>`; every read of enterprise data declares a "
            "`purpose` and is logged. Errors are RFC 9457 problem details."
        ),
        openapi_url="/v1/openapi.json",
        # operation ids are the route names: the role table (deps.PERMISSIONS), docs/api.md
        # and the SDK all use them
        generate_unique_id_function=lambda route: route.name,
        docs_url="/v1/docs",
        redoc_url=None,
    )
    app.state.context = context
    app.state.settings = settings
    app.state.api_keys = ApiKeys(context.session_factory)
    app.state.limiter = RateLimiter(rate=settings.rate, burst=settings.burst)
    app.state.metrics = metrics = ApiMetrics(context)
    install_problem_handlers(app)
    _register_problem_schema(app)

    app.add_middleware(RequestMiddleware, metrics=metrics, max_body_bytes=settings.max_body_bytes)
    for module in (
        health,
        records,
        evidence,
        access,
        lineage,
        repairs,
        objections,
        admin,
        verification,
        checkpoints,
        retention,
    ):
        app.include_router(module.router)
    mount_web(app)  # the regulator's page at /ui/ (docs/web.md)
    return app


def _register_problem_schema(app: FastAPI) -> None:
    """Put the Problem schema into the OpenAPI components the routes' responses refer to,
    and the schemas of the request bodies routes read as bytes (``records.BODY_MODELS``)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas["Problem"] = Problem.model_json_schema()
            for model in records.BODY_MODELS:
                schemas[model.__name__] = model.model_json_schema()
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
            add_examples(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
