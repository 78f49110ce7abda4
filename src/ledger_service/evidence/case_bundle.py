"""The case file of an objection as one evidence bundle (docs/regulation.md "Objections").

The bundle is an ordinary multi-record bundle (docs/evidence-format.md) of the case file's
records, in order: the disputed record, the opening objection, the correction (for a
``corrected`` resolution) and the resolution. ``credit-ledger-verify`` checks each one
offline (content, signature, commitment, Merkle proof, anchoring transaction and block); how
they form a case is in their signed content — the opening's ``disputes``, the resolution's
``payload.case`` and ``payload.correction``, the correction's ``supersedes`` — which the
verifier's report shows per record. The builder has no query of its own: the case file is
:func:`ledger_service.queries.objections.case_steps`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ledger_service.evidence.builder import build_bundle
from ledger_service.fabric.blocks import BlockReader
from ledger_service.queries.objections import case_steps, find_case

__all__ = ["build_case_bundle", "case_record_ids"]


def case_record_ids(session: Session, case_id: str, *, as_of: dt.datetime) -> list[str]:
    """The case file's record ids, in order (raises ``UnknownObjectionCase``)."""
    case = find_case(session, case_id, as_of=as_of)
    return [step.record_id for step in case_steps(session, case)]


def build_case_bundle(
    session_factory: sessionmaker[Session],
    case_id: str,
    *,
    as_of: dt.datetime,
    block_source: BlockReader,
) -> dict[str, Any]:
    """The bundle of the case file as of ``as_of``.

    Raises:
        UnknownObjectionCase: no such case by then.
        EvidenceError: a record of the case is not anchored yet (or its content erased).
    """
    with session_factory() as session:
        ids = case_record_ids(session, case_id, as_of=as_of)
    return build_bundle(session_factory, ids, block_source=block_source, redact_erased=True)
