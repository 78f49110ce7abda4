"""Record intake (LedgerService.append) on real SQLite and real PostgreSQL."""

from __future__ import annotations

import hashlib

import pytest
from credit_ledger_verify.records import Record
from nacl.signing import SigningKey
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.errors import (
    CyclicLineage,
    DanglingParent,
    IdempotencyConflict,
    SignatureError,
    ValidationError,
)
from ledger_service.index.models import LineageEdge, OutboxEntry
from ledger_service.index.models import Record as RecordRow
from ledger_service.intake import AppendResult, LedgerService, RequestTooLarge
from ledger_service.intake.writers import WriterKeyError
from ledger_service.queries import RecordQueries
from tests.db.factories import RecordFactory, table_counts, uscc
from tests.unit.conftest import NOW


def lineage_fixture(f: RecordFactory) -> list[Record]:
    """Two data updates, a repair, a score relying on them, a loan event relying on it."""
    return [
        f.data_update("du-1"),
        f.data_update("du-2", dataset="judicial"),
        f.credit_repair("cr-1", parents=["du-2"]),
        f.score_change("sc-1", parents=["du-1", "cr-1"]),
        f.financing_event("fe-1", parents=["sc-1"]),
    ]


def edges(session_factory: sessionmaker[Session]) -> set[tuple[str, str]]:
    with session_factory() as session:
        return {
            (row.child_id, row.parent_id)
            for row in session.execute(select(LineageEdge.child_id, LineageEdge.parent_id))
        }


def assert_rejected(
    service: LedgerService,
    session_factory: sessionmaker[Session],
    records: list[Record],
    error: type[Exception],
    *,
    record_id: str | None,
    field: str | None = None,
    match: str | None = None,
) -> Exception:
    before = table_counts(session_factory)
    with pytest.raises(error, match=match) as caught:
        service.append(records)
    assert table_counts(session_factory) == before, "a rejected request must write nothing"
    exc = caught.value
    assert getattr(exc, "record_id", None) == record_id
    if field is not None:
        assert isinstance(exc, ValidationError)
        assert exc.field == field
    if record_id is not None:
        assert f'record "{record_id}"' in str(exc)
    return exc


# --------------------------------------------------------------------------- happy path


def test_append_all_four_kinds_with_lineage(
    service: LedgerService,
    queries: RecordQueries,
    platform: RecordFactory,
    session_factory: sessionmaker[Session],
) -> None:
    records = lineage_fixture(platform)
    results = service.append(records)

    assert [r.record_id for r in results] == ["du-1", "du-2", "cr-1", "sc-1", "fe-1"]
    assert {r.status for r in results} == {"created"}
    assert edges(session_factory) == {
        ("cr-1", "du-2"),
        ("sc-1", "du-1"),
        ("sc-1", "cr-1"),
        ("fe-1", "sc-1"),
    }
    stored = queries.get_records(r.record_id for r in records)
    for record, result in zip(records, results, strict=True):
        row = stored[record.record_id]
        assert row.kind == record.kind.value
        assert row.subject == record.subject
        assert row.occurred_at == record.occurred_at
        assert row.recorded_at == NOW
        assert row.actor == "platform"
        assert row.content == record.canonical_bytes()
        assert row.salt is not None
        assert row.content is not None
        assert len(row.salt) == 32
        assert row.commitment == hashlib.sha256(row.salt + row.content).digest()
        assert result.commitment == row.commitment.hex()
        assert row.parents == tuple(sorted(record.parents))
        assert row.anchor is None
        assert row.record() == record
    # Salts are fresh per record.
    assert len({row.salt for row in stored.values()}) == len(records)
    # Every new record waits in the outbox, in request order.
    assert [p.record_id for p in queries.pending_records(100)] == [r.record_id for r in records]
    assert [p.commitment.hex() for p in queries.pending_records(2)] == [
        r.commitment for r in results[:2]
    ]


def test_later_requests_build_on_earlier_ones(
    service: LedgerService,
    queries: RecordQueries,
    platform: RecordFactory,
    session_factory: sessionmaker[Session],
) -> None:
    service.append([platform.data_update("du-1")])
    service.append([platform.score_change("sc-1", parents=["du-1"])])
    service.append([platform.financing_event("fe-1", parents=["sc-1"])])
    assert edges(session_factory) == {("sc-1", "du-1"), ("fe-1", "sc-1")}
    pending = queries.pending_records(10)
    assert [p.record_id for p in pending] == ["du-1", "sc-1", "fe-1"]
    assert pending[0].seq < pending[1].seq < pending[2].seq


def test_empty_request_writes_nothing(
    service: LedgerService, session_factory: sessionmaker[Session]
) -> None:
    before = table_counts(session_factory)
    assert service.append([]) == []
    assert table_counts(session_factory) == before


# --------------------------------------------------------------------------- idempotency


def test_replay_returns_the_same_answer_and_writes_nothing(
    service: LedgerService,
    queries: RecordQueries,
    platform: RecordFactory,
    session_factory: sessionmaker[Session],
) -> None:
    records = lineage_fixture(platform)
    first = service.append(records)
    after_first = table_counts(session_factory)

    replay = service.append(records)

    assert replay == [AppendResult(r.record_id, r.commitment, "existing") for r in first]
    assert table_counts(session_factory) == after_first
    assert len(queries.pending_records(100)) == len(records)  # no second anchoring


def test_replay_mixed_with_new_records(
    service: LedgerService, platform: RecordFactory, session_factory: sessionmaker[Session]
) -> None:
    du1 = platform.data_update("du-1")
    [created] = service.append([du1])
    results = service.append([du1, platform.score_change("sc-1", parents=["du-1"])])
    assert results[0] == AppendResult("du-1", created.commitment, "existing")
    assert results[1].status == "created"
    with session_factory() as session:
        outbox = session.scalars(select(OutboxEntry.record_id).order_by(OutboxEntry.seq)).all()
    assert outbox == ["du-1", "sc-1"]


def test_replay_of_a_record_signed_again_is_idempotent(
    service: LedgerService, platform: RecordFactory
) -> None:
    # Ed25519 signatures are deterministic: re-signing identical content gives identical bytes.
    du1 = platform.data_update("du-1")
    service.append([du1])
    [again] = service.append([platform.sign(du1)])
    assert again.status == "existing"


def test_record_id_reused_with_different_content(
    service: LedgerService, platform: RecordFactory, session_factory: sessionmaker[Session]
) -> None:
    service.append([platform.data_update("du-1", fields_changed={"tax_paid": "1"})])
    different = platform.data_update("du-1", fields_changed={"tax_paid": "2"})
    exc = assert_rejected(
        service,
        session_factory,
        [platform.data_update("du-new"), different],
        IdempotencyConflict,
        record_id="du-1",
        field="record_id",
    )
    assert "already used" in str(exc)
    assert "different content" in str(exc)


def test_duplicate_record_ids_in_one_request(
    service: LedgerService, platform: RecordFactory, session_factory: sessionmaker[Session]
) -> None:
    assert_rejected(
        service,
        session_factory,
        [platform.data_update("du-1"), platform.data_update("du-2"), platform.data_update("du-1")],
        ValidationError,
        record_id="du-1",
        field="record_id",
        match="more than once",
    )


# --------------------------------------------------------------------------- writers


def test_unknown_writer(
    service: LedgerService, platform: RecordFactory, session_factory: sessionmaker[Session]
) -> None:
    stranger = RecordFactory("stranger")
    assert_rejected(
        service,
        session_factory,
        [platform.data_update("du-1"), stranger.data_update("du-2")],
        ValidationError,
        record_id="du-2",
        field="actor",
        match="no registered key",
    )


def test_revoked_writer_key(
    service: LedgerService, platform: RecordFactory, session_factory: sessionmaker[Session]
) -> None:
    service.append([platform.data_update("du-1")])
    service.revoke_writer("platform", platform.public_key)
    assert_rejected(
        service,
        session_factory,
        [platform.data_update("du-2")],
        ValidationError,
        record_id="du-2",
        field="actor",
        match="only revoked keys",
    )


def test_key_rotation(service: LedgerService, platform: RecordFactory) -> None:
    service.append([platform.data_update("du-1")])
    rotated = RecordFactory("platform")
    service.register_writer("platform", rotated.public_key)
    service.revoke_writer("platform", platform.public_key)
    assert service.append([rotated.data_update("du-2")])[0].status == "created"
    keys = service.writer_keys("platform")
    assert [k.active for k in keys] == [False, True]


def test_bad_signature(
    service: LedgerService, platform: RecordFactory, session_factory: sessionmaker[Session]
) -> None:
    signed = platform.data_update("du-1")
    tampered = signed.model_copy(update={"source": "somewhere-else"})
    exc = assert_rejected(service, session_factory, [tampered], SignatureError, record_id="du-1")
    assert "signature" in str(exc)


def test_unsigned_record(
    service: LedgerService, platform: RecordFactory, session_factory: sessionmaker[Session]
) -> None:
    unsigned = platform.data_update("du-1").without_signature()
    assert_rejected(
        service, session_factory, [unsigned], SignatureError, record_id="du-1", match="not signed"
    )


def test_signature_by_another_writer(
    service: LedgerService,
    platform: RecordFactory,
    bank: RecordFactory,
    session_factory: sessionmaker[Session],
) -> None:
    # Claims to be the platform, signed with the bank's (valid, registered) key.
    impostor = RecordFactory("platform", bank.signing_key)
    assert_rejected(
        service,
        session_factory,
        [impostor.data_update("du-1")],
        ValidationError,
        record_id="du-1",
        field="actor",
        match="key of writer 'bank', not of 'platform'",
    )


def test_register_writer_rules(service: LedgerService) -> None:
    key = SigningKey.generate().verify_key
    first = service.register_writer("platform", bytes(key))
    assert service.register_writer("platform", bytes(key)) == first  # idempotent
    with pytest.raises(WriterKeyError, match="already registered to writer 'platform'"):
        service.register_writer("bank", bytes(key))
    with pytest.raises(WriterKeyError, match="32 bytes"):
        service.register_writer("bank", b"short")
    with pytest.raises(WriterKeyError, match="actor"):
        service.register_writer(" padded ", bytes(SigningKey.generate().verify_key))
    service.revoke_writer("platform", bytes(key))
    with pytest.raises(WriterKeyError, match="revoked"):
        service.register_writer("platform", bytes(key))
    with pytest.raises(WriterKeyError, match="no such key"):
        service.revoke_writer("bank", bytes(key))


# --------------------------------------------------------------------------- lineage


def test_dangling_parent(
    service: LedgerService, platform: RecordFactory, session_factory: sessionmaker[Session]
) -> None:
    service.append([platform.data_update("du-1")])
    exc = assert_rejected(
        service,
        session_factory,
        [platform.data_update("du-2"), platform.score_change("sc-1", parents=["du-1", "ghost"])],
        DanglingParent,
        record_id="sc-1",
        field="parents[1]",
        match="ghost",
    )
    assert isinstance(exc, DanglingParent)
    assert exc.missing_id == "ghost"


def test_parent_later_in_the_same_request(
    service: LedgerService, platform: RecordFactory, session_factory: sessionmaker[Session]
) -> None:
    assert_rejected(
        service,
        session_factory,
        [platform.score_change("sc-1", parents=["du-1"]), platform.data_update("du-1")],
        ValidationError,
        record_id="sc-1",
        field="parents[0]",
        match="comes later in the same request",
    )


def test_cycle_within_a_request(
    service: LedgerService, platform: RecordFactory, session_factory: sessionmaker[Session]
) -> None:
    exc = assert_rejected(
        service,
        session_factory,
        [
            platform.score_change("a", parents=["c"]),
            platform.score_change("b", parents=["a"]),
            platform.score_change("c", parents=["b"]),
        ],
        CyclicLineage,
        record_id="a",
        field="parents",
    )
    assert isinstance(exc, CyclicLineage)
    assert exc.cycle == ("a", "c", "b", "a")


def test_record_listing_itself_as_parent(
    service: LedgerService, platform: RecordFactory, session_factory: sessionmaker[Session]
) -> None:
    # The model refuses this at construction; model_copy skips validation, the service
    # must still refuse it.
    selfish = platform.sign(platform.data_update("du-1").model_copy(update={"parents": ["du-1"]}))
    assert_rejected(
        service, session_factory, [selfish], CyclicLineage, record_id="du-1", field="parents"
    )


def test_cycle_cannot_be_closed_across_requests(
    service: LedgerService, platform: RecordFactory, session_factory: sessionmaker[Session]
) -> None:
    # "a" is accepted first, so it cannot name "b" (which does not exist yet); "b" may name
    # "a"; and "a" can never be rewritten to name "b": same id, different content.
    service.append([platform.data_update("a")])
    service.append([platform.score_change("b", parents=["a"])])
    assert_rejected(
        service,
        session_factory,
        [platform.score_change("a", parents=["b"])],
        IdempotencyConflict,
        record_id="a",
        field="record_id",
    )


# --------------------------------------------------------------------------- corrections


def test_supersedes_chain(
    service: LedgerService,
    queries: RecordQueries,
    platform: RecordFactory,
    session_factory: sessionmaker[Session],
) -> None:
    service.append([platform.data_update("du-1")])
    service.append(
        [
            platform.data_update("du-1-fix", supersedes="du-1"),
            platform.data_update("du-1-fix2", supersedes="du-1-fix"),
        ]
    )
    stored = queries.get_records(["du-1", "du-1-fix", "du-1-fix2"])
    assert stored["du-1"].superseded_by == "du-1-fix"
    assert stored["du-1-fix"].supersedes == "du-1"
    assert stored["du-1-fix"].superseded_by == "du-1-fix2"
    assert stored["du-1-fix2"].superseded_by is None


def test_supersedes_unknown_record(
    service: LedgerService, platform: RecordFactory, session_factory: sessionmaker[Session]
) -> None:
    assert_rejected(
        service,
        session_factory,
        [platform.data_update("du-fix", supersedes="ghost")],
        DanglingParent,
        record_id="du-fix",
        field="supersedes",
        match="ghost",
    )


def test_correction_cannot_fork(
    service: LedgerService, platform: RecordFactory, session_factory: sessionmaker[Session]
) -> None:
    service.append([platform.data_update("du-1"), platform.data_update("fix-a", supersedes="du-1")])
    assert_rejected(
        service,
        session_factory,
        [platform.data_update("fix-b", supersedes="du-1")],
        ValidationError,
        record_id="fix-b",
        field="supersedes",
        match="already superseded by 'fix-a'",
    )
    # ... not even within one request.
    service.append([platform.data_update("du-2")])
    assert_rejected(
        service,
        session_factory,
        [
            platform.data_update("fix-c", supersedes="du-2"),
            platform.data_update("fix-d", supersedes="du-2"),
        ],
        ValidationError,
        record_id="fix-d",
        field="supersedes",
        match="already superseded by 'fix-c'",
    )


def test_correction_must_match_kind_and_subject(
    service: LedgerService, platform: RecordFactory, session_factory: sessionmaker[Session]
) -> None:
    service.append([platform.data_update("du-1")])
    assert_rejected(
        service,
        session_factory,
        [platform.score_change("sc-fix", supersedes="du-1")],
        ValidationError,
        record_id="sc-fix",
        field="supersedes",
        match="same kind and subject",
    )
    assert_rejected(
        service,
        session_factory,
        [platform.data_update("du-fix", supersedes="du-1", subject=uscc(2))],
        ValidationError,
        record_id="du-fix",
        field="supersedes",
        match="same kind and subject",
    )


def test_repair_corrections_follow_the_status_machine(
    service: LedgerService, platform: RecordFactory, session_factory: sessionmaker[Session]
) -> None:
    service.append(
        [
            platform.data_update("court-1", dataset="judicial"),
            platform.credit_repair("cr-1", status="submitted", parents=["court-1"]),
            platform.credit_repair("cr-1-v", status="verified", supersedes="cr-1"),
        ]
    )
    service.append([platform.credit_repair("cr-1-a", status="approved", supersedes="cr-1-v")])
    assert_rejected(
        service,
        session_factory,
        [platform.credit_repair("cr-1-x", status="submitted", supersedes="cr-1-a")],
        ValidationError,
        record_id="cr-1-x",
        field="payload.status",
        match="approved repair can only become nothing",
    )


def test_disputes(
    service: LedgerService,
    queries: RecordQueries,
    platform: RecordFactory,
    session_factory: sessionmaker[Session],
) -> None:
    service.append([platform.data_update("du-1")])
    service.append(
        [platform.credit_repair("obj-1", disputes="du-1", action="objection_correction")]
    )
    assert queries.get_records(["du-1"])["du-1"].disputed_by == "obj-1"
    assert queries.get_records(["obj-1"])["obj-1"].disputes == "du-1"
    assert_rejected(
        service,
        session_factory,
        [platform.credit_repair("obj-2", disputes="ghost")],
        DanglingParent,
        record_id="obj-2",
        field="disputes",
    )
    assert_rejected(
        service,
        session_factory,
        [platform.credit_repair("obj-3", disputes="du-1", subject=uscc(3))],
        ValidationError,
        record_id="obj-3",
        field="disputes",
        match="same subject",
    )


# --------------------------------------------------------------------------- limits


def test_too_many_records(
    service: LedgerService, platform: RecordFactory, session_factory: sessionmaker[Session]
) -> None:
    record = platform.data_update("du-1")
    assert_rejected(
        service,
        session_factory,
        [record] * 10_001,
        RequestTooLarge,
        record_id=None,
        match="10001 records in one request; the limit is 10000",
    )


def test_too_many_bytes(
    session_factory: sessionmaker[Session], platform: RecordFactory, service: LedgerService
) -> None:
    small = LedgerService(session_factory=session_factory, max_request_bytes=2_000)
    records = [platform.data_update(f"du-{i}") for i in range(10)]
    assert_rejected(small, session_factory, records, RequestTooLarge, record_id=None, match="bytes")


# --------------------------------------------------------------------------- erasure


def test_crypto_shredding_keeps_the_commitment(
    service: LedgerService,
    queries: RecordQueries,
    platform: RecordFactory,
    session_factory: sessionmaker[Session],
) -> None:
    du1 = platform.data_update("du-1")
    [result] = service.append([du1, platform.score_change("sc-1", parents=["du-1"])])[:1]
    service.erase_record_content("du-1")
    service.erase_record_content("du-1")  # idempotent
    stored = queries.get_record("du-1")
    assert stored is not None
    assert stored.content is None
    assert stored.salt is None
    assert stored.erased
    assert stored.erased_at == NOW
    assert stored.commitment.hex() == result.commitment
    assert edges(session_factory) == {("sc-1", "du-1")}
    with session_factory() as session:
        row = session.get(RecordRow, "du-1")
        assert row is not None
        assert row.content_sha256 is None
    assert_rejected(
        service,
        session_factory,
        [du1],
        ValidationError,
        record_id="du-1",
        field="record_id",
        match="erased",
    )
