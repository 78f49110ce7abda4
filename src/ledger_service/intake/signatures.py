"""Intake stage 2: writer signatures.

The record's ``actor`` must hold a registered, unrevoked Ed25519 key and the signature (over
``Record.signing_bytes()``) must verify under one of them. A signature that verifies under
*another* writer's key is reported as an actor mismatch. With ``threads`` > 1 a large request's
signatures are verified on that many threads at once (libsodium releases the GIL); the
verdicts are still applied record by record in request order, so errors are identical.
"""

from __future__ import annotations

import base64
import threading
import weakref
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import cast

from credit_ledger_verify.records import Record
from nacl.exceptions import BadSignatureError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.errors import SignatureError, ValidationError
from ledger_service.index.bulk import select_in
from ledger_service.index.models import WriterKey
from ledger_service.intake.checks import Candidate
from ledger_service.intake.writers import ActiveWriterKey, active_writer_keys, list_writer_keys

__all__ = ["SignatureVerifier", "check_keys_still_active"]


class SignatureVerifier:
    """Checks the writer signatures of a request's candidates against the key registry."""

    def __init__(self, session_factory: sessionmaker[Session], *, threads: int = 1) -> None:
        if threads < 1:
            raise ValueError(f"verify_threads must be at least 1, got {threads}")
        self._session_factory = session_factory
        self.threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def verify(self, candidates: list[Candidate]) -> None:
        """Find, for every candidate, the registered key of its actor its signature verifies
        under (``Candidate.key_id``), in request order.

        Raises:
            SignatureError: unsigned, or the signature verifies under no key of the actor.
            ValidationError: on ``actor``: no active key, or signed with another writer's key.
        """
        with self._session_factory() as session:
            keys = active_writer_keys(session, {c.record.actor for c in candidates})
            # Verdicts under the writers' own keys, computed on several threads for a large
            # request; the loop below still decides record by record, in request order.
            verdicts = self._parallel_verdicts(candidates, keys)
            all_keys: dict[str, list[ActiveWriterKey]] | None = None
            for position, candidate in enumerate(candidates):
                record = candidate.record
                if record.signature is None:
                    raise SignatureError(record.record_id, "record is not signed")
                signature = _signature_bytes(record)
                own_keys = keys.get(record.actor, [])
                if not own_keys:
                    revoked = bool(list_writer_keys(session, record.actor))
                    raise ValidationError(
                        record.record_id,
                        "actor",
                        f"writer {record.actor!r} "
                        + ("has only revoked keys" if revoked else "has no registered key"),
                    )
                verdict = _UNDECIDED if verdicts is None else verdicts[position]
                if verdict is _UNDECIDED:
                    key = _first_verifying(own_keys, candidate.signing_bytes, signature)
                else:
                    key = cast(ActiveWriterKey | None, verdict)
                if key is not None:
                    candidate.key_id = key.key_id
                    continue
                if all_keys is None:
                    all_keys = active_writer_keys(session)
                others = [k for actor, ks in all_keys.items() if actor != record.actor for k in ks]
                impostor = _first_verifying(others, candidate.signing_bytes, signature)
                if impostor is not None:
                    raise ValidationError(
                        record.record_id,
                        "actor",
                        f"the signature was made with a key of writer {impostor.actor!r}, "
                        f"not of {record.actor!r}",
                    )
                raise SignatureError(
                    record.record_id,
                    f"does not verify under any registered key of writer {record.actor!r} "
                    "(wrong key, or the record was altered after signing)",
                )

    def _parallel_verdicts(
        self, candidates: list[Candidate], keys: dict[str, list[ActiveWriterKey]]
    ) -> list[object] | None:
        """Per candidate: the first own key its signature verifies under, ``None`` if none,
        or ``_UNDECIDED`` (left to the in-order loop: unsigned, no keys, or anything odd).
        ``None`` overall when the request is verified in the calling thread only."""
        threads = self.threads
        if threads <= 1 or len(candidates) < _PARALLEL_VERIFY_MIN_RECORDS:
            return None
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=threads - 1, thread_name_prefix="ledger-verify"
                )
                weakref.finalize(self, self._pool.shutdown, wait=False)
            pool = self._pool
        size = -(-len(candidates) // threads)
        chunks = [candidates[i : i + size] for i in range(0, len(candidates), size)]
        futures = [pool.submit(_own_key_verdicts, chunk, keys) for chunk in chunks[1:]]
        verdicts = _own_key_verdicts(chunks[0], keys)  # this thread takes the first chunk
        for future in futures:
            verdicts.extend(future.result())
        return verdicts


def _signature_bytes(record: Record) -> bytes:
    assert record.signature is not None
    return base64.b64decode(record.signature, validate=True)


# Requests smaller than this are verified in the calling thread (handing work to threads
# costs more than it saves).
_PARALLEL_VERIFY_MIN_RECORDS = 64
# A verdict the parallel pass leaves to the in-order loop.
_UNDECIDED = object()


def _own_key_verdicts(
    candidates: list[Candidate], keys: dict[str, list[ActiveWriterKey]]
) -> list[object]:
    verdicts: list[object] = []
    for candidate in candidates:
        record = candidate.record
        own_keys = keys.get(record.actor)
        if record.signature is None or not own_keys:
            verdicts.append(_UNDECIDED)
            continue
        try:
            signature = _signature_bytes(record)
            verdicts.append(_first_verifying(own_keys, candidate.signing_bytes, signature))
        except Exception:  # the in-order loop meets it again, at its place in the request
            verdicts.append(_UNDECIDED)
    return verdicts


def _first_verifying(
    keys: Iterable[ActiveWriterKey], message: bytes, signature: bytes
) -> ActiveWriterKey | None:
    for key in keys:
        try:
            key.verify_key.verify(message, signature)
        except BadSignatureError:
            continue
        return key
    return None


def check_keys_still_active(session: Session, candidates: list[Candidate]) -> None:
    """Inside the write transaction: no key used to verify was revoked meanwhile."""
    used = {c.key_id for c in candidates if c.key_id is not None}
    revoked = {
        key_id
        for (key_id,) in select_in(
            session,
            select(WriterKey.id).where(WriterKey.revoked_at.is_not(None)),
            WriterKey.id,
            sorted(used),
        )
    }
    for candidate in candidates:
        if candidate.key_id in revoked:
            raise SignatureError(
                candidate.record.record_id, "the writer key was revoked while the request ran"
            )
