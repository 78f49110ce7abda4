"""credit-ledger-client: the credit ledger's REST API from Python.

    from credit_ledger_client import Client, Writer

    writer = Writer("platform-writer-1", seed)          # the writer's Ed25519 key
    record = writer.build("data_update", subject=..., occurred_at=..., source=..., payload=...)
    with Client(base_url="http://127.0.0.1:27058", api_key=token) as ledger:
        results = ledger.append([record], chunk_size=1000)

Sync :class:`Client` and :class:`AsyncClient` (``httpx``, injectable transport), records
signed by :class:`Writer` exactly as the service checks them, bulk append in chunks with
retries that are safe because record ids are idempotency keys, reads that declare a
purpose, evidence bundles verified offline by :func:`verify_evidence`
(``credit-ledger-verify``), and errors as typed exceptions (:class:`LedgerApiError` and
its subclasses). See sdk/README.md.
"""

from credit_ledger_verify.errors import LedgerError

from credit_ledger_client._async_client import AsyncClient
from credit_ledger_client._client import Client, ProgressCallback
from credit_ledger_client._errors import (
    Conflict,
    EvidenceUnavailable,
    Forbidden,
    Gone,
    IdempotencyConflict,
    InvalidInput,
    LedgerApiError,
    NotFound,
    RateLimited,
    RequestTooLarge,
    ServerError,
    TransportFailed,
    Unauthenticated,
    Unavailable,
)
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
from credit_ledger_client._signing import Writer
from credit_ledger_client._verify import verify_evidence

__version__ = "0.1.0"

__all__ = [
    "Anchor",
    "AppendProgress",
    "AppendResult",
    "AsyncClient",
    "Client",
    "Conflict",
    "EvidenceBundle",
    "EvidenceUnavailable",
    "Forbidden",
    "Gone",
    "IdempotencyConflict",
    "Identity",
    "InvalidInput",
    "LedgerApiError",
    "LedgerError",
    "NotFound",
    "ProgressCallback",
    "RateLimited",
    "RecordInfo",
    "RequestTooLarge",
    "RetryPolicy",
    "ServerError",
    "SignedCheckpoint",
    "TransportFailed",
    "Unauthenticated",
    "Unavailable",
    "Writer",
    "verify_evidence",
]
