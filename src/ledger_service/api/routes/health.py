"""Liveness, readiness (index and Fabric peer reachable), metrics, and who-am-I."""

from __future__ import annotations

import socket
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from ledger_service.api.deps import Caller, Context

router = APIRouter()


@router.get("/healthz", tags=["operations"], summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    tags=["operations"],
    summary="The index and the Fabric peer are reachable",
    responses={503: {"description": "Something it needs is unreachable"}},
)
def readyz(context: Context) -> JSONResponse:
    checks: dict[str, Any] = {}
    try:
        with context.session_factory() as session:
            session.execute(text("SELECT 1"))
        checks["index"] = "ok"
    except Exception as exc:
        checks["index"] = f"unreachable: {type(exc).__name__}"
    checks["fabric"] = _peer_reachable(context)
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


def _peer_reachable(context: Any) -> str:
    try:
        address = context.topology.peer_of(context.config.writer_msp).address
    except Exception as exc:
        return f"not configured: {type(exc).__name__}"
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1.0):
            return "ok"
    except OSError as exc:
        return f"unreachable: {exc.strerror or type(exc).__name__}"


@router.get(
    "/metrics",
    tags=["operations"],
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def metrics(request: Request) -> Response:
    body = request.app.state.metrics.exposition()
    return Response(body, media_type="text/plain; version=0.0.4")


@router.get("/v1/whoami", name="whoami", tags=["keys"], summary="The calling key's identity")
def whoami(caller: Caller) -> dict[str, Any]:
    return {
        "key_id": caller.key_id,
        "role": caller.role.value,
        "org": caller.org,
        "name": caller.name,
        "actors": list(caller.actors),
    }
