"""A deterministic generator of realistic ledgers, for the lineage benchmark (issue 9, Scale).

Per enterprise, over 36 months from 2023-01 (each enterprise joins at a random month and
stays to the end): data updates from several data sets, each with its own monthly
probability; a monthly score whenever new data arrived since the last one, relying on the
*current* version of the latest update of every data set and on repairs approved since;
loans (application → approval or rejection → credit line → disbursement → monthly repayments,
now and then an overdue, then settlement), each event relying on the latest score and/or the
loan's previous event; credit repairs (submitted → verified → approved/rejected, each step a
correction of the previous one); a few percent of data updates corrected (``supersedes``)
and about one percent disputed (an objection: a ``credit_repair`` with ``disputes``).

Everything intake checks holds by construction, and ``tests/unit/samples/test_generator.py``
proves it by feeding generated records through ``LedgerService.append``: payloads per the
schemas, references (parents, supersedes, disputes) always to earlier records of the same
subject, one correction per record, repair corrections following the status machine, ids per
the id pattern (keyed hashes, as in :mod:`.data`), content in canonical form, signed with the
writer's Ed25519 key. The hot path builds the canonical bytes directly (JSON with sorted keys
and no whitespace is RFC 8785 for the ASCII keys and string/int values used here) instead of
building pydantic models: that is what makes 10 million records a matter of minutes.

The same ``seed`` gives the same ledger, byte for byte, including salts: each enterprise has
its own random stream (so ranges of enterprises can be generated independently), and salts
come from it. Generated salts are therefore *not secret* — fine for a benchmark, never for
real records (intake draws them from the OS).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from credit_ledger_verify.records.types import format_rfc3339_utc
from nacl.signing import SigningKey

from ledger_service.samples.data import enterprise_code

__all__ = [
    "MONTHS",
    "START",
    "GeneratedRecord",
    "LedgerGenerator",
    "Writer",
]

#: First month of the generated history, and its length in months.
START = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
MONTHS = 36

# (dataset, source, monthly probability, share of enterprises that report it at all)
_DATASETS = (
    ("tax", "state-tax-bureau", 0.45, 1.0),
    ("social_insurance", "social-insurance-agency", 0.35, 1.0),
    ("utilities", "municipal-utilities", 0.20, 1.0),
    ("customs", "customs-administration", 0.30, 0.3),
    ("judicial", "court-judgments", 0.02, 1.0),
    ("environmental", "environment-bureau", 0.03, 1.0),
    ("ip_patents", "patent-office", 0.02, 1.0),
)
_CORRECTION_RATE = 0.03  # data updates corrected later
_DISPUTE_RATE = 0.04  # data updates disputed by an objection (of those not corrected)
_LOAN_RATE = 0.045  # new loans per enterprise-month (with a score, no loan in progress)
_REPAIR_RATE = 0.015  # repairs started per enterprise-month (with judicial/SI data)
_GRADES = ("CCC", "B", "BB", "BBB", "A", "AA", "AAA")
_REASON_CODES = ("TAX_ON_TIME", "SI_ARREARS", "GROWTH", "LITIGATION", "UTILITY_OK")
_INSTITUTIONS = ("Example Commercial Bank", "Harbour Rural Bank", "Coastal City Bank")

_encode = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
).encode


class GeneratedRecord(NamedTuple):
    """One generated record: what intake would insert for it (``records`` columns) plus its
    lineage edges. ``superseded_by`` / ``disputed_by`` are filled as intake would have them
    after every record of the ledger was accepted."""

    record_id: str
    kind: str
    subject: str
    occurred_at: dt.datetime
    recorded_at: dt.datetime
    source: str
    actor: str
    content: bytes
    salt: bytes
    commitment: bytes
    content_sha256: bytes
    supersedes: str | None
    disputes: str | None
    superseded_by: str | None
    disputed_by: str | None
    loan_id: str | None
    loan_event: str | None
    parents: tuple[str, ...]


@dataclass(frozen=True)
class Writer:
    """A writer identity: actor name and Ed25519 key (derived from the seed)."""

    actor: str
    signing_key: SigningKey

    @property
    def public_key(self) -> bytes:
        return bytes(self.signing_key.verify_key)


def _writer(seed: int, actor: str) -> Writer:
    material = hashlib.sha256(f"gen-ledger\x00{seed}\x00{actor}".encode()).digest()
    return Writer(actor, SigningKey(material))


@dataclass
class _Loan:
    loan_id: str
    institution: str
    amount: int
    rate: str
    stage: str  # "applied", "repaying"
    last_event: str
    repayments_left: int = 0


@dataclass
class _Enterprise:
    """The state of one enterprise while its history is generated."""

    n: int
    subject: str
    rng: random.Random
    records: list[GeneratedRecord] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    latest: dict[str, str] = field(default_factory=dict)  # dataset -> current update id
    new_data: bool = False
    score: tuple[str, int, str] | None = None  # (record id, score, grade)
    repairs_for_score: list[str] = field(default_factory=list)
    loan: _Loan | None = None
    loans: int = 0
    clock: dt.datetime = START
    recorded: dt.datetime = START


class LedgerGenerator:
    """Generates ledgers of ``records`` records, enterprise after enterprise.

    ``enterprises()`` yields each enterprise's records (parents first, in ``recorded_at``
    order); :meth:`records` flattens them and stops at exactly ``records``.
    """

    def __init__(self, records: int, *, seed: int = 1, prefix: str = "") -> None:
        if records < 1:
            raise ValueError(f"records must be at least 1, got {records}")
        self.total = records
        self.seed = seed
        self.prefix = prefix
        self.data_writer = _writer(seed, "platform-writer-1")
        self.score_writer = _writer(seed, "scoring-engine-1")
        self.bank_writer = _writer(seed, "bank-writer-1")
        self._id_key = hmac.new(bytes(self.data_writer.signing_key), digestmod=hashlib.sha256)

    @property
    def writers(self) -> tuple[Writer, ...]:
        return (self.data_writer, self.score_writer, self.bank_writer)

    def records(self) -> Iterator[GeneratedRecord]:
        emitted = 0
        for batch in self.enterprises():
            for record in batch:
                if emitted == self.total:
                    return
                yield record
                emitted += 1

    def enterprises(self, start: int = 0) -> Iterator[list[GeneratedRecord]]:
        n = start
        while True:
            yield self.enterprise(n)
            n += 1

    # ------------------------------------------------------------------ one enterprise

    def enterprise(self, n: int) -> list[GeneratedRecord]:
        """The whole history of enterprise ``n``, parents first, in recorded order."""
        # Deterministic by design (benchmark data): the salts it draws are not secret.
        rng = random.Random(f"{self.seed}:{n}")  # noqa: S311
        e = _Enterprise(n, enterprise_code(n), rng)
        reports = [d for d in _DATASETS if rng.random() < d[3]]
        first = rng.randrange(0, MONTHS - 12)
        for month in range(first, MONTHS):
            base = START + dt.timedelta(days=30.4375 * month)
            updates: list[str] = []
            for dataset, source, probability, _share in reports:
                if rng.random() < probability:
                    day = dt.timedelta(days=rng.randrange(0, 19), hours=rng.randrange(8, 18))
                    when = base + day
                    updates.append(self._data_update(e, when, dataset, source))
            fixes = base + dt.timedelta(days=21)
            for rid in updates:
                if rng.random() < _CORRECTION_RATE:
                    self._correction(e, fixes, rid)
                elif rng.random() < _DISPUTE_RATE:
                    self._objection(e, fixes, rid)
            self._repair_step(e, base + dt.timedelta(days=24))
            if e.new_data:
                self._score(e, base + dt.timedelta(days=26))
            self._loan_step(e, base + dt.timedelta(days=27), month)
        return e.records

    def _id(self, e: _Enterprise) -> str:
        mac = self._id_key.copy()
        mac.update(f"{self.prefix}\x00{e.n}\x00{len(e.records)}".encode())
        token = mac.hexdigest()[:32]
        return f"{self.prefix}-{token}" if self.prefix else token

    def _emit(
        self,
        e: _Enterprise,
        writer: Writer,
        when: dt.datetime,
        kind: str,
        source: str,
        payload: dict[str, Any],
        parents: list[str],
        *,
        supersedes: str | None = None,
        disputes: str | None = None,
    ) -> str:
        rng = e.rng
        e.clock = max(when, e.clock + dt.timedelta(minutes=1)).replace(microsecond=0)
        # The index accepts a record a few seconds to an hour after it happened; never
        # before a record it references.
        lag = dt.timedelta(seconds=rng.randrange(2, 3600), microseconds=rng.randrange(10**6))
        e.recorded = max(e.clock + lag, e.recorded + dt.timedelta(milliseconds=1))
        record_id = self._id(e)
        body: dict[str, Any] = {
            "actor": writer.actor,
            "kind": kind,
            "occurred_at": format_rfc3339_utc(e.clock),
            "parents": parents,
            "payload": payload,
            "record_id": record_id,
            "source": source,
            "subject": e.subject,
        }
        if supersedes is not None:
            body["supersedes"] = supersedes
        if disputes is not None:
            body["disputes"] = disputes
        signing = _encode(body).encode()
        signature = writer.signing_key.sign(signing).signature
        body["signature"] = base64.b64encode(signature).decode("ascii")
        content = _encode(body).encode()
        salt = rng.randbytes(32)
        loan_id = payload.get("loan_id") if kind == "financing_event" else None
        loan_event = payload.get("event") if kind == "financing_event" else None
        e.index[record_id] = len(e.records)
        e.records.append(
            GeneratedRecord(
                record_id=record_id,
                kind=kind,
                subject=e.subject,
                occurred_at=e.clock,
                recorded_at=e.recorded,
                source=source,
                actor=writer.actor,
                content=content,
                salt=salt,
                commitment=hashlib.sha256(salt + content).digest(),
                content_sha256=hashlib.sha256(content).digest(),
                supersedes=supersedes,
                disputes=disputes,
                superseded_by=None,
                disputed_by=None,
                loan_id=loan_id,
                loan_event=loan_event,
                parents=tuple(parents),
            )
        )
        # The targets' denormalised status, as intake's UPDATE would leave it.
        if supersedes is not None:
            position = e.index[supersedes]
            e.records[position] = e.records[position]._replace(superseded_by=record_id)
        if disputes is not None:
            position = e.index[disputes]
            e.records[position] = e.records[position]._replace(disputed_by=record_id)
        return record_id

    # ------------------------------------------------------------------ kinds

    def _data_update(self, e: _Enterprise, when: dt.datetime, dataset: str, source: str) -> str:
        payload = {
            "dataset": dataset,
            "fields_changed": _fields(e.rng, dataset),
            "source_reference": f"{dataset[:3].upper()}-{e.n:07d}-{len(e.records):04d}",
        }
        rid = self._emit(e, self.data_writer, when, "data_update", source, payload, [])
        e.latest[dataset] = rid
        e.new_data = True
        return rid

    def _correction(self, e: _Enterprise, when: dt.datetime, target: str) -> None:
        original = e.records[e.index[target]]
        dataset = json.loads(original.content)["payload"]["dataset"]
        payload = {
            "dataset": dataset,
            "fields_changed": _fields(e.rng, dataset),
            "source_reference": f"{dataset[:3].upper()}-{e.n:07d}-{len(e.records):04d}-C",
        }
        rid = self._emit(
            e, self.data_writer, when, "data_update", original.source, payload, [],
            supersedes=target,
        )  # fmt: skip
        if e.latest.get(dataset) == target:
            e.latest[dataset] = rid
            e.new_data = True

    def _objection(self, e: _Enterprise, when: dt.datetime, target: str) -> None:
        payload = {
            "action": "objection_correction",
            "status": "submitted",
            "affected_records": [target],
        }
        self._emit(
            e, self.data_writer, when, "credit_repair", "credit-repair-desk", payload, [],
            disputes=target,
        )  # fmt: skip

    def _repair_step(self, e: _Enterprise, when: dt.datetime) -> None:
        """Start a repair now and then; walk it submitted → verified → approved/rejected over
        the following months, each step correcting the previous record."""
        rng = e.rng
        # only negative information can be repaired (intake.repairs): of the generated data
        # sets, court data is the one the retention rules recognise
        target = e.latest.get("judicial")
        if target is None or rng.random() >= _REPAIR_RATE:
            return
        action = "fulfilled_judgment"
        previous = None
        for status in ("submitted", "verified", "approved" if rng.random() < 0.8 else "rejected"):
            payload = {"action": action, "status": status, "affected_records": [target]}
            previous = self._emit(
                e, self.data_writer, when, "credit_repair", "credit-repair-desk", payload,
                [target], supersedes=previous,
            )  # fmt: skip
            when += dt.timedelta(hours=rng.randrange(1, 20))
            if status == "approved":
                e.repairs_for_score.append(previous)
                e.new_data = True

    def _score(self, e: _Enterprise, when: dt.datetime) -> None:
        rng = e.rng
        value = 600 if e.score is None else e.score[1]
        value = max(350, min(950, value + rng.randrange(-40, 45)))
        grade = _GRADES[min(len(_GRADES) - 1, max(0, (value - 450) // 70))]
        payload: dict[str, Any] = {
            "model_id": "sme-credit",
            "model_version": "4.1.0" if when.year < 2025 else "5.0.0",
            "score_after": str(value),
            "grade_after": grade,
            "dimension_scores": {
                d: f"{rng.randrange(300, 1000) / 10:.1f}" for d in sorted(e.latest)
            },
            "reason_codes": sorted(rng.sample(_REASON_CODES, 2)),
        }
        if e.score is not None:
            payload["score_before"] = str(e.score[1])
            payload["grade_before"] = e.score[2]
        parents = sorted(e.latest.values()) + e.repairs_for_score
        writer = self.score_writer
        rid = self._emit(e, writer, when, "score_change", "scoring-engine", payload, parents)
        e.score = (rid, value, grade)
        e.repairs_for_score = []
        e.new_data = False

    def _loan_step(self, e: _Enterprise, when: dt.datetime, month: int) -> None:
        rng = e.rng
        loan = e.loan
        if loan is None:
            if e.score is None or month >= MONTHS - 1 or rng.random() >= _LOAN_RATE:
                return
            amount = rng.randrange(10, 500) * 10_000
            loan = _Loan(
                loan_id=f"loan-{e.n:07d}-{e.loans}",
                institution=_INSTITUTIONS[rng.randrange(len(_INSTITUTIONS))],
                amount=amount,
                rate=f"0.0{rng.randrange(300, 700)}",
                stage="applied",
                last_event="",
            )
            e.loans += 1
            e.loan = loan
            loan.last_event = self._loan_event(e, loan, when, "application", [e.score[0]],
                                               amount=amount)  # fmt: skip
            return
        if loan.stage == "applied":
            assert e.score is not None
            parents = [e.score[0], loan.last_event]
            if rng.random() < 0.2:
                self._loan_event(e, loan, when, "rejection", parents)
                e.loan = None
                return
            approval = self._loan_event(e, loan, when, "approval", parents, amount=loan.amount)
            line = self._loan_event(e, loan, when, "credit_line", [approval], amount=loan.amount)
            loan.last_event = self._loan_event(
                e, loan, when, "disbursement", [line], amount=loan.amount
            )
            loan.stage = "repaying"
            loan.repayments_left = rng.randrange(3, 13)
            return
        parents = [loan.last_event]
        if loan.repayments_left == 0:
            self._loan_event(e, loan, when, "settlement", parents)
            e.loan = None
        elif rng.random() < 0.04:
            loan.last_event = self._loan_event(e, loan, when, "overdue", parents)
        else:
            installment = loan.amount // 10
            loan.last_event = self._loan_event(e, loan, when, "repayment", parents,
                                               amount=installment)  # fmt: skip
            loan.repayments_left -= 1

    def _loan_event(
        self,
        e: _Enterprise,
        loan: _Loan,
        when: dt.datetime,
        event: str,
        parents: list[str],
        *,
        amount: int | None = None,
    ) -> str:
        payload: dict[str, Any] = {
            "loan_id": loan.loan_id,
            "event": event,
            "institution": loan.institution,
        }
        if amount is not None:
            payload["amount"] = {"value": f"{amount}.00", "currency": "CNY"}
        if event in ("approval", "credit_line", "disbursement"):
            payload["rate"] = loan.rate
        source = "lending-platform" if event == "application" else "bank-credit-system"
        return self._emit(e, self.bank_writer, when, "financing_event", source, payload, parents)


def _fields(rng: random.Random, dataset: str) -> dict[str, Any]:
    """A data set's changed fields: strings (decimals as strings), booleans, safe integers."""
    if dataset == "tax":
        return {"vat_paid": f"{rng.randrange(1000, 9_000_000)}.{rng.randrange(100):02d}",
                "tax_credit_grade": "ABCDM"[rng.randrange(5)]}  # fmt: skip
    if dataset == "social_insurance":
        return {"insured_employees": rng.randrange(1, 900), "arrears_months": rng.randrange(0, 4)}
    if dataset == "utilities":
        return {"electricity_kwh": rng.randrange(1000, 2_000_000), "arrears": rng.random() < 0.05}
    if dataset == "customs":
        return {"export_value": f"{rng.randrange(10_000, 50_000_000)}.00", "aeo_certified": True}
    if dataset == "judicial":
        return {"case_type": "contract_dispute", "judgment_unfulfilled": rng.random() < 0.5}
    if dataset == "environmental":
        return {"penalty": f"{rng.randrange(1000, 200_000)}.00", "rectified": rng.random() < 0.7}
    return {"patents_granted": rng.randrange(1, 40)}
