"""Credit-repair cases in the index (issue 12 item 2, docs/regulation.md "Credit repair").

A case is the chain of ``credit_repair`` records linked by ``supersedes``, starting with a
``submitted`` record (the case id is that record's id). Intake fills both tables in the
transaction that writes the records (:mod:`ledger_service.intake.repairs`); they are derived
from signed record content, so anyone can recompute them.

``repair_steps``
    One row per record of a case: its case, status, action, subject, when the index recorded
    it (``recorded_at``, the "as of" clock), and, for an approval, the ``score_change`` it names.
``repair_affected``
    The negative records a case concerns (the submission's ``affected_records``). "Is record
    X repaired as of T" = one of its cases has an ``approved`` step recorded by T: an
    index-only join from ``(record_id, case_id)`` to ``(case_id, status, recorded_at)``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger_service.index.models import ID_LENGTH, Base

__all__ = ["RepairAffected", "RepairStep"]


class RepairStep(Base):
    __tablename__ = "repair_steps"

    record_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("records.record_id"), primary_key=True
    )
    #: the record id of the case's submission
    case_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("records.record_id"))
    subject: Mapped[str] = mapped_column(String(ID_LENGTH))
    action: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[datetime]
    #: an approval's ``resulting_score_change`` (NULL otherwise)
    score_change_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("records.record_id")
    )

    __table_args__ = (
        Index(None, "case_id", "status", "recorded_at"),
        Index(None, "status", "recorded_at"),
        Index(None, "subject", "recorded_at"),
    )


class RepairAffected(Base):
    """Case ``case_id`` concerns negative record ``record_id``."""

    __tablename__ = "repair_affected"

    case_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("records.record_id"), primary_key=True
    )
    record_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("records.record_id"), primary_key=True
    )

    __table_args__ = (Index(None, "record_id", "case_id"),)
