"""The retention run (征信业管理条例 Art. 16): erase every negative record expired by a day,
each with its anchored erasure record, and keep a row in ``retention_runs``.

The expired records are those of :func:`.report.expiry_report` (the same rules as the dry
run); each is erased in its own transaction (:meth:`.erasure.Erasures.erase_expired`), so a
run stopped half-way leaves only whole erasures, and the next run erases the rest: a record
already erased is no longer a candidate. The day may not lie after today: a run "as of" a
future day would delete what is still to be kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.errors import RecordErased, ValidationError
from ledger_service.index.retention_models import RetentionRun
from ledger_service.index.session import write_session
from ledger_service.retention.erasure import ErasureDone, Erasures
from ledger_service.retention.report import ExpiryReport, expiry_report

__all__ = ["RunResult", "run_result_to_json", "run_retention"]


@dataclass
class RunResult:
    run_id: int
    report: ExpiryReport
    erased: list[ErasureDone] = field(default_factory=list)
    #: expired records another run erased first (nothing done here)
    already_erased: list[str] = field(default_factory=list)


def run_retention(
    session_factory: sessionmaker[Session],
    erasures: Erasures,
    as_of: date,
    *,
    started_by: str,
    clock: Callable[[], datetime] | None = None,
) -> RunResult:
    """Erase every record expired by ``as_of`` (China time); record the run.

    Raises:
        ValidationError: ``as_of`` is after today.
    """
    now = clock or (lambda: datetime.now(UTC))
    today = erasures.today()
    if as_of > today:
        raise ValidationError(
            None,
            "as_of",
            f"{as_of.isoformat()} is after today ({today.isoformat()}): a run may not "
            "erase what is still to be kept",
        )
    with write_session(session_factory) as session:
        run = RetentionRun(
            as_of=as_of,
            started_at=now(),
            finished_at=None,
            started_by=started_by,
            expired=0,
            erased=0,
            kept=0,
            not_ended=0,
        )
        session.add(run)
        session.flush()
        run_id = run.run_id
    with session_factory() as session:
        report = expiry_report(session, as_of)
    result = RunResult(run_id=run_id, report=report)
    for expired in report.expired:
        try:
            result.erased.append(erasures.erase_expired(expired))
        except RecordErased:
            result.already_erased.append(expired.record_id)
    with write_session(session_factory) as session:
        session.execute(
            update(RetentionRun)
            .where(RetentionRun.run_id == run_id)
            .values(
                finished_at=now(),
                expired=len(report.expired),
                erased=len(result.erased),
                kept=report.kept,
                not_ended=report.not_ended,
            )
        )
    return result


def run_result_to_json(result: RunResult) -> dict[str, Any]:
    report = result.report
    by_id = {a.record_id: a for a in report.expired}
    return {
        "run_id": result.run_id,
        "as_of": report.as_of.isoformat(),
        "dry_run": False,
        "erased": [
            {
                "record_id": done.record_id,
                "subject": by_id[done.record_id].subject,
                "rule": done.rule,
                "conduct_ended": _day(by_id[done.record_id].conduct_ended),
                "expires_on": _day(by_id[done.record_id].expires),
                "erasure_record": done.erasure_record_id,
            }
            for done in result.erased
        ],
        "already_erased": result.already_erased,
        "kept": report.kept,
        "not_ended": report.not_ended,
    }


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()
