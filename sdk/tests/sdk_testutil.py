"""Helpers of the SDK's tests: the service's app in-process, and transports that fail.

The async client drives the app with ``httpx.ASGITransport``. The sync client needs a sync
transport; :class:`SyncASGITransport` runs that same ``ASGITransport`` on an event loop in a
helper thread (an anyio blocking portal), so both clients go through exactly the app's
ASGI interface, with no network (the choice the brief leaves open; Starlette's TestClient
transport would also do, but is private API).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal
from credit_ledger_client import AsyncClient, Client, RetryPolicy, Writer
from credit_ledger_verify.records import Record, uscc_check_character
from fastapi import FastAPI
from sqlalchemy import func, select

from ledger_service.api import ApiSettings, Role, create_app
from ledger_service.config import ServiceConfig
from ledger_service.context import LedgerContext
from ledger_service.index import models as m
from ledger_service.index import sqlite_url

#: No waiting between attempts in tests (delays are recorded instead, see ``sleeps``).
FAST_RETRIES = RetryPolicy(attempts=4, backoff=0.0, max_backoff=0.0)
ACTOR = "platform-sdk"
SEED = hashlib.sha256(b"sdk tests writer").digest()


class SyncASGITransport(httpx.BaseTransport):
    """A sync transport that hands each request to an ASGI app (see the module docstring)."""

    def __init__(self, app: Any) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self._portal_cm = start_blocking_portal()
        self._portal: BlockingPortal = self._portal_cm.__enter__()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        return self._portal.call(self._send, request, body)

    async def _send(self, request: httpx.Request, body: bytes) -> httpx.Response:
        forwarded = httpx.Request(
            request.method, request.url, headers=request.headers, content=body
        )
        response = await self._inner.handle_async_request(forwarded)
        content = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=content)

    def close(self) -> None:
        self._portal_cm.__exit__(None, None, None)


Failure = Literal["500", "502", "503", "429", "connect", "lost_answer"]


class FlakyTransport(httpx.BaseTransport):
    """Fails the first calls as scripted, then passes everything to ``inner``.

    ``503`` / ``429``: answered by the "server" without reaching the app; ``connect``: a
    connection error before the app sees anything; ``lost_answer``: the app handles the
    request (and commits), then the answer is lost (a read error) — the case where a retry
    must not write twice.
    """

    def __init__(self, inner: httpx.BaseTransport, failures: list[Failure]) -> None:
        self.inner = inner
        self.failures = list(failures)
        self.calls = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if not self.failures:
            return self.inner.handle_request(request)
        failure = self.failures.pop(0)
        if failure == "connect":
            raise httpx.ConnectError("connection refused", request=request)
        if failure == "lost_answer":
            self.inner.handle_request(request).read()
            raise httpx.ReadError("connection reset by peer", request=request)
        status = int(failure)
        headers = {"Retry-After": "3"} if status == 429 else {}
        return httpx.Response(status, headers=headers, text="unavailable", request=request)


class AsyncFlakyTransport(httpx.AsyncBaseTransport):
    """:class:`FlakyTransport` for the async client."""

    def __init__(self, inner: httpx.AsyncBaseTransport, failures: list[Failure]) -> None:
        self.inner = inner
        self.failures = list(failures)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self.failures:
            return await self.inner.handle_async_request(request)
        failure = self.failures.pop(0)
        if failure == "connect":
            raise httpx.ConnectError("connection refused", request=request)
        if failure == "lost_answer":
            await (await self.inner.handle_async_request(request)).aread()
            raise httpx.ReadError("connection reset by peer", request=request)
        return httpx.Response(int(failure), text="unavailable", request=request)


def enterprise_code(n: int) -> str:
    first17 = f"91310000MA{n % 10**7:07d}"
    return first17 + uscc_check_character(first17)


def data_updates(writer: Writer, count: int, *, prefix: str = "sdk") -> list[Record]:
    """``count`` signed data updates with stable ids ``<prefix>-<n>``."""
    at = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    return [
        writer.build(
            "data_update",
            record_id=f"{prefix}-{n:06d}",
            subject=enterprise_code(n % 50),
            occurred_at=at + dt.timedelta(minutes=n),
            source="state-tax-bureau",
            payload={
                "dataset": "tax",
                "fields_changed": {"vat_paid_2025": f"{1000 + n}.00"},
                "source_reference": f"STB-{n:07d}",
            },
        )
        for n in range(count)
    ]


@dataclass
class InProcessLedger:
    """The service's app over a fresh SQLite index, with one API key per role."""

    app: FastAPI
    context: LedgerContext
    tokens: dict[str, str]
    writer: Writer
    base_url: str = "http://ledger.test"

    def sync_transport(self) -> SyncASGITransport:
        return SyncASGITransport(self.app)

    def client(
        self, role: str = "writer", *, transport: httpx.BaseTransport | None = None, **kw: Any
    ) -> Client:
        kw.setdefault("retries", FAST_RETRIES)
        return Client(
            base_url=self.base_url,
            api_key=self.tokens[role],
            transport=transport or self.sync_transport(),
            **kw,
        )

    def async_client(
        self, role: str = "writer", *, transport: httpx.AsyncBaseTransport | None = None, **kw: Any
    ) -> AsyncClient:
        kw.setdefault("retries", FAST_RETRIES)
        return AsyncClient(
            base_url=self.base_url,
            api_key=self.tokens[role],
            transport=transport or httpx.ASGITransport(app=self.app),
            **kw,
        )

    def stored_count(self) -> int:
        with self.context.session_factory() as s:
            return int(s.scalar(select(func.count()).select_from(m.Record)) or 0)

    def outbox_count(self) -> int:
        with self.context.session_factory() as s:
            return int(s.scalar(select(func.count()).select_from(m.OutboxEntry)) or 0)


@contextlib.contextmanager
def in_process_ledger(state_dir: Path, **settings: Any) -> Iterator[InProcessLedger]:
    config = ServiceConfig(state_dir=state_dir, db_url=sqlite_url(state_dir))
    context = LedgerContext(config)
    writer = Writer(ACTOR, SEED)
    context.intake.register_writer(ACTOR, writer.public_key)
    settings.setdefault("rate", 10_000)
    settings.setdefault("burst", 10_000)
    app = create_app(context, ApiSettings(**settings))
    keys = app.state.api_keys
    tokens = {}
    for role in Role:
        actors = [ACTOR] if role is Role.WRITER else []
        tokens[role.value] = keys.create(
            role=role, org=f"{role.value}-org", name="sdk", actors=actors
        )[1]
    try:
        yield InProcessLedger(app=app, context=context, tokens=tokens, writer=writer)
    finally:
        context.close()
