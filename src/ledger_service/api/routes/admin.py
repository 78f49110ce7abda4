"""API keys and writer keys (admins only): create (the token is shown once), list, revoke."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from ledger_service.api.auth import DEFAULT_KEY_LIFETIME, ApiKey, ApiKeys, Role
from ledger_service.api.deps import Caller, Context
from ledger_service.api.problems import PROBLEM_RESPONSES
from ledger_service.intake.writers import WriterKeyInfo

router = APIRouter(prefix="/v1", tags=["keys"], responses=PROBLEM_RESPONSES)


class ApiKeyRequest(BaseModel):
    role: Role
    org: str = Field(min_length=1, max_length=256)
    name: str = Field(min_length=1, max_length=256)
    actors: list[str] = Field(default_factory=list, max_length=100)
    lifetime_days: int = Field(DEFAULT_KEY_LIFETIME.days, ge=1, le=730)


class WriterKeyRequest(BaseModel):
    actor: str = Field(min_length=1, max_length=256)
    public_key: str = Field(description="Raw 32-byte Ed25519 public key, base64.")


def _key_json(key: ApiKey) -> dict[str, Any]:
    return {
        "key_id": key.key_id,
        "role": key.role.value,
        "org": key.org,
        "name": key.name,
        "actors": list(key.actors),
        "created_at": key.created_at.isoformat(),
        "expires_at": key.expires_at.isoformat(),
        "revoked_at": None if key.revoked_at is None else key.revoked_at.isoformat(),
    }


def _writer_json(info: WriterKeyInfo) -> dict[str, Any]:
    return {
        "actor": info.actor,
        "public_key": base64.b64encode(info.public_key).decode(),
        "created_at": info.created_at.isoformat(),
        "revoked_at": None if info.revoked_at is None else info.revoked_at.isoformat(),
    }


def _keys(request: Request) -> ApiKeys:
    keys: ApiKeys = request.app.state.api_keys
    return keys


@router.post(
    "/api-keys",
    name="create_api_key",
    status_code=201,
    summary="Create an API key; the token is in this answer and nowhere else",
)
def create_api_key(body: ApiKeyRequest, caller: Caller, request: Request) -> dict[str, Any]:
    key, token = _keys(request).create(
        role=body.role,
        org=body.org,
        name=body.name,
        actors=body.actors,
        lifetime=timedelta(days=body.lifetime_days),
    )
    return {**_key_json(key), "token": token}


@router.get("/api-keys", name="list_api_keys", summary="Every API key (never its token)")
def list_api_keys(caller: Caller, request: Request) -> dict[str, Any]:
    return {"items": [_key_json(k) for k in _keys(request).list()]}


@router.delete("/api-keys/{key_id}", name="revoke_api_key", summary="Revoke an API key")
def revoke_api_key(key_id: str, caller: Caller, request: Request) -> dict[str, Any]:
    return _key_json(_keys(request).revoke(key_id))


@router.post(
    "/writer-keys",
    name="register_writer_key",
    status_code=201,
    summary="Register a writer's Ed25519 public key (idempotent)",
)
def register_writer_key(body: WriterKeyRequest, caller: Caller, context: Context) -> dict[str, Any]:
    return _writer_json(context.intake.register_writer(body.actor, body.public_key))


@router.post(
    "/writer-keys/revoke",
    name="revoke_writer_key",
    summary="Revoke a writer's key: it verifies no new record",
)
def revoke_writer_key(body: WriterKeyRequest, caller: Caller, context: Context) -> dict[str, Any]:
    return _writer_json(context.intake.revoke_writer(body.actor, body.public_key))
