"""Index tables of the retention workflows (docs/regulation.md): one row per retention run.

Erasures themselves need no table: an erasure is an ``erasure`` record (signed by the
service, anchored like any record) and the erased record's ``records.erased_by`` names it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger_service.index.models import LABEL_LENGTH, Base, BigIntegerKey

__all__ = ["RetentionRun"]


class RetentionRun(Base):
    """One ``ledgerctl retention run`` (or scheduled run) that erased expired records.

    ``finished_at`` is NULL while the run goes on (or if it stopped half-way: every erasure
    it made is its own committed transaction, so a rerun picks up the rest)."""

    __tablename__ = "retention_runs"

    run_id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True, autoincrement=True)
    #: the day (China time) the records were checked against
    as_of: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    #: who started it: an operator's name, ``scheduler``, ``demo``
    started_by: Mapped[str] = mapped_column(String(LABEL_LENGTH))
    #: expired records found, erased by this run, kept (conduct ended < 5 years ago), and
    #: kept because the conduct has not ended
    expired: Mapped[int] = mapped_column(Integer, default=0)
    erased: Mapped[int] = mapped_column(Integer, default=0)
    kept: Mapped[int] = mapped_column(Integer, default=0)
    not_ended: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index(None, "started_at"),
        CheckConstraint("erased <= expired", name="erased_at_most_expired"),
    )
