"""The synchronous client."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, Literal, overload

import httpx
from credit_ledger_verify.records import Record
from credit_ledger_verify.tlog import AddCheckpointRequest

from credit_ledger_client import _wire as wire
from credit_ledger_client._errors import TransportFailed, error_from_response, retry_after_seconds
from credit_ledger_client._models import (
    Anchor,
    AppendProgress,
    AppendResult,
    EvidenceBundle,
    Identity,
    RecordInfo,
    SignedCheckpoint,
)
from credit_ledger_client._retry import RetryPolicy

__all__ = ["DEFAULT_TIMEOUT", "Client", "ProgressCallback"]

#: Seconds per request: a 10,000-record append is verified and committed within it.
DEFAULT_TIMEOUT = 120.0
ProgressCallback = Callable[[AppendProgress], None]
ExportFormat = Literal["prov-json", "dot", "svg", "png"]


class Client:
    """The credit ledger's REST API over HTTP (``httpx``), for one API key.

    ``transport``: an ``httpx.BaseTransport`` to send through instead of the network (tests
    drive the app in-process with one); ``retries``: how failed requests are sent again
    (:class:`RetryPolicy`); ``sleep``: how to wait between attempts (tests pass a recorder).
    Use it as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        transport: httpx.BaseTransport | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retries: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            transport=transport,
            timeout=timeout,
        )
        self.retry_policy = retries or RetryPolicy()
        self._sleep = sleep

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- writing -------------------------------------------------------------------------

    def append(
        self,
        records: Iterable[Record | Mapping[str, Any]],
        *,
        chunk_size: int = 1000,
        progress: ProgressCallback | None = None,
    ) -> list[AppendResult]:
        """Append signed records, ``chunk_size`` per request, in order (parents before
        children); return one result per record, in the order given.

        A record is acknowledged only once durable in the service's index. Each chunk is
        all-or-nothing. Failed requests are retried (connection errors, timeouts, 429 after
        its ``Retry-After``, 5xx) — safe because a record id is its idempotency key: a chunk
        that was committed before its answer was lost comes back ``existing``, never twice.
        Other 4xx answers are raised at once; chunks before the failing one stay written.

        Raises:
            InvalidInput, IdempotencyConflict, Forbidden…: naming the record
                (``record_index`` is its position in ``records``) and field.
            TransportFailed, ServerError, RateLimited: when the retries are spent.
        """
        encoded = wire.encode_records(records)
        results: list[AppendResult] = []
        for span in wire.chunked(len(encoded), chunk_size):
            response = self._send(wire.append_call(encoded, span))
            chunk = wire.append_results(response, span)
            wire.check_ids(chunk, encoded)
            results.extend(chunk)
            if progress is not None:
                progress(AppendProgress(done=len(results), total=len(encoded), chunk=chunk))
        return results

    # -- reading -------------------------------------------------------------------------

    def record(
        self, record_id: str, *, purpose: str, purpose_detail: str | None = None
    ) -> RecordInfo:
        """A record's envelope, status and anchoring (content for auditors and its writer)."""
        return wire.record_info(self._send(wire.record_call(record_id, purpose, purpose_detail)))

    def anchor(self, record_id: str) -> Anchor | None:
        """Where the record is anchored; ``None`` until it is in a batch."""
        return wire.anchor_of(self._send(wire.anchor_call(record_id)))

    def evidence(
        self,
        record_ids: str | Iterable[str],
        *,
        purpose: str,
        purpose_detail: str | None = None,
        redact: bool = False,
        form: str = "batch",
    ) -> EvidenceBundle:
        """The evidence bundle for the records named (``redact``: commitments only;
        ``form="checkpoint"``: the compact form, ~4 KB per record, under the newest checkpoint
        anchored on the chain — verify it with the log key).

        Raises:
            EvidenceUnavailable: a record is not anchored yet (or, compact form, not yet
                covered by an anchored checkpoint).
        """
        call = wire.evidence_call(record_ids, purpose, purpose_detail, redact, form)
        return EvidenceBundle(self._send(call).content)

    def lineage_bundle(
        self,
        start: str | Iterable[str],
        *,
        purpose: str,
        purpose_detail: str | None = None,
        depth: int | None = None,
        as_of: datetime | str | None = None,
    ) -> EvidenceBundle:
        """A lineage bundle (auditors): every node's evidence and the edges."""
        call = wire.lineage_bundle_call(start, purpose, purpose_detail, depth, as_of)
        return EvidenceBundle(self._send(call).content)

    @overload
    def lineage(
        self,
        name: str,
        *,
        purpose: str,
        purpose_detail: str | None = ...,
        direction: Literal["up", "down"] = ...,
        depth: int | None = ...,
        as_of: datetime | str | None = ...,
        format: Literal["json"] = ...,
    ) -> dict[str, Any]: ...

    @overload
    def lineage(
        self,
        name: str,
        *,
        purpose: str,
        purpose_detail: str | None = ...,
        direction: Literal["up", "down"] = ...,
        depth: int | None = ...,
        as_of: datetime | str | None = ...,
        format: ExportFormat,
    ) -> bytes: ...

    def lineage(
        self,
        name: str,
        *,
        purpose: str,
        purpose_detail: str | None = None,
        direction: Literal["up", "down"] = "up",
        depth: int | None = None,
        as_of: datetime | str | None = None,
        format: Literal["json"] | ExportFormat = "json",
    ) -> dict[str, Any] | bytes:
        """A loan's or record's lineage (auditors), as of a time or ``"decision"``: the JSON
        graph, or an export's bytes (PROV-JSON, DOT, SVG, PNG)."""
        call = wire.lineage_call(name, purpose, purpose_detail, direction, depth, as_of, format)
        return wire.lineage_answer(self._send(call), format)

    # -- the global log's checkpoints (every role; docs/transparency.md) --------------------

    def checkpoint(self, size: int | None = None) -> SignedCheckpoint:
        """The signed checkpoint of ``size`` (default: the latest) with the witnesses'
        cosignatures collected so far, as the exact note bytes.

        Raises:
            NotFound: no checkpoint of that size (or none issued yet).
        """
        return wire.signed_checkpoint(self._send(wire.checkpoint_call(size)))

    def consistency_proof(self, old: int, new: int) -> AddCheckpointRequest:
        """The RFC 6962 consistency proof from the checkpoint of size ``old`` (0: the empty
        tree) to that of ``new``, with the latter's signed note: a tlog-witness
        ``add-checkpoint`` request."""
        return wire.consistency_proof(self._send(wire.proof_call(old, new)))

    def submit_cosignature(self, size: int, line: str) -> None:
        """Submit this witness's cosignature line of the checkpoint of ``size`` (witness keys,
        under their own witness name); refused (``InvalidInput``) unless it verifies under
        the witness's registered key."""
        self._send(wire.cosignature_call(size, line))

    def whoami(self) -> Identity:
        return wire.identity(self._send(wire.WHOAMI))

    # -- sending -------------------------------------------------------------------------

    def _send(self, call: wire.Call) -> httpx.Response:
        """Send ``call``, again on a retryable failure; the answer, or its error raised."""
        policy = self.retry_policy
        request_id = uuid.uuid4().hex  # the same on every attempt: one request in the logs
        for attempt in range(1, policy.attempts + 1):
            last = attempt == policy.attempts
            try:
                response = self._http.send(call.build(self._http, request_id))
            except httpx.TransportError as exc:
                if last or not policy.retries_exception(exc):
                    raise TransportFailed(
                        f"{call.method} {call.path}: {type(exc).__name__}: {exc} "
                        f"(after {attempt} attempt(s))",
                        request_id=request_id,
                    ) from exc
                self._sleep(policy.delay(attempt))
                continue
            if response.status_code < 400:
                return response
            if last or not policy.retries_status(response.status_code):
                raise error_from_response(response, index_offset=call.index_offset)
            self._sleep(policy.delay(attempt, retry_after_seconds(response)))
        raise AssertionError("unreachable: the last attempt returns or raises")
