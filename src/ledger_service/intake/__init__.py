"""Record intake: request checks → signatures → write plan → insert, one DB transaction.

:class:`LedgerService` (in :mod:`.service`) orchestrates the stages and also holds writer
admin (:mod:`.writers`, the key registry) and erasure.
"""

from ledger_service.intake.checks import (
    DEFAULT_MAX_RECORDS,
    DEFAULT_MAX_REQUEST_BYTES,
    RequestTooLarge,
)
from ledger_service.intake.plan import AppendResult
from ledger_service.intake.service import LedgerService
from ledger_service.intake.writers import WriterKeyError, WriterKeyInfo

__all__ = [
    "DEFAULT_MAX_RECORDS",
    "DEFAULT_MAX_REQUEST_BYTES",
    "AppendResult",
    "LedgerService",
    "RequestTooLarge",
    "WriterKeyError",
    "WriterKeyInfo",
]
