"""Record envelope and payloads: valid records, canonical forms, and every kind of bad input."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from credit_ledger_verify.records import (
    MAX_PAYLOAD_BYTES,
    PAYLOAD_CLASSES,
    RECORD_CLASSES,
    CreditRepairRecord,
    DataUpdatePayload,
    DataUpdateRecord,
    FinancingEventRecord,
    Record,
    RecordKind,
    ScoreChangeRecord,
    format_rfc3339_utc,
    new_record_id,
    parse_record,
    uscc_check_character,
    uscc_problem,
)

from ledger_service.errors import LedgerError, PayloadTooLarge, ValidationError

SUBJECT = "91350100M000100Y43"


def envelope(
    kind: str, payload: dict[str, Any], overrides: dict[str, Any], **defaults: Any
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "record_id": "r-17",
        "kind": kind,
        "subject": SUBJECT,
        "occurred_at": "2024-05-01T08:00:00+08:00",
        "source": "tax-bureau-feed",
        "actor": "platform-writer-1",
        "parents": [],
        "payload": payload,
    }
    data.update(defaults)
    data.update(overrides)
    return data


def data_update(**overrides: Any) -> dict[str, Any]:
    return envelope(
        "data_update",
        {
            "dataset": "tax",
            "fields_changed": {"vat_paid_2023": "125000.50", "filings_on_time": True, "staff": 42},
            "source_reference": "TAX-2024-05-0001",
        },
        overrides,
    )


def score_change(**overrides: Any) -> dict[str, Any]:
    return envelope(
        "score_change",
        {
            "model_id": "sme-credit",
            "model_version": "3.2.0",
            "score_before": "612.5",
            "score_after": "640",
            "grade_before": "BB",
            "grade_after": "BBB",
            "dimension_scores": {"tax": "81.25", "judicial": "90"},
            "reason_codes": ["TAX_ON_TIME", "NO_LITIGATION"],
        },
        overrides,
        parents=["r-1", "r-2"],
    )


def financing_event(**overrides: Any) -> dict[str, Any]:
    return envelope(
        "financing_event",
        {
            "loan_id": "L-2024-0042",
            "event": "disbursement",
            "amount": {"value": "1000000.00", "currency": "CNY"},
            "rate": "0.0435",
            "institution": "Bank of Example",
        },
        overrides,
        parents=["s-1"],
    )


def credit_repair(**overrides: Any) -> dict[str, Any]:
    return envelope(
        "credit_repair",
        {
            "action": "back_paid_social_insurance",
            "status": "approved",
            "affected_records": ["d-9"],
            "resulting_score_change": "s-2",
        },
        overrides,
    )


ALL_KINDS = {
    "data_update": data_update,
    "score_change": score_change,
    "financing_event": financing_event,
    "credit_repair": credit_repair,
}


def error_for(data: Any) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        parse_record(data)
    return caught.value


# ------------------------------------------------------------------ valid records


@pytest.mark.parametrize("kind", sorted(ALL_KINDS))
def test_each_kind_parses_to_its_class(kind: str) -> None:
    record = parse_record(ALL_KINDS[kind]())
    assert type(record) is RECORD_CLASSES[RecordKind(kind)]
    assert isinstance(record.payload, PAYLOAD_CLASSES[RecordKind(kind)])
    assert record.kind == kind
    assert record.occurred_at == datetime(2024, 5, 1, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("kind", sorted(ALL_KINDS))
def test_json_round_trip_is_stable(kind: str) -> None:
    record = parse_record(ALL_KINDS[kind]())
    again = parse_record(record.canonical_bytes())
    assert again == record
    assert again.canonical_bytes() == record.canonical_bytes()
    assert Record.model_validate_json(record.canonical_bytes()) == record
    assert Record.model_validate(record.to_json_dict()) == record


def test_canonical_bytes_exact_form() -> None:
    record = parse_record(financing_event())
    assert record.canonical_bytes() == (
        b'{"actor":"platform-writer-1","kind":"financing_event",'
        b'"occurred_at":"2024-05-01T00:00:00Z","parents":["s-1"],'
        b'"payload":{"amount":{"currency":"CNY","value":"1000000.00"},"event":"disbursement",'
        b'"institution":"Bank of Example","loan_id":"L-2024-0042","rate":"0.0435"},'
        b'"record_id":"r-17","source":"tax-bureau-feed","subject":"91350100M000100Y43"}'
    )


def test_signing_bytes_exclude_signature_canonical_bytes_include_it() -> None:
    unsigned = parse_record(data_update())
    signed = unsigned.with_signature("A" * 86 + "==")
    assert signed.signing_bytes() == unsigned.signing_bytes() == unsigned.canonical_bytes()
    assert b'"signature":"AAAA' in signed.canonical_bytes()
    assert b"signature" not in signed.signing_bytes()
    assert signed.without_signature() == unsigned


def test_decimals_are_decimal_and_serialise_as_plain_strings() -> None:
    record = parse_record(score_change())
    assert record.payload.score_after == Decimal("640")  # type: ignore[union-attr]
    dumped = record.to_json_dict()["payload"]
    assert dumped["score_before"] == "612.5"
    assert dumped["dimension_scores"] == {"tax": "81.25", "judicial": "90"}
    built = ScoreChangeRecord.model_validate(
        score_change(payload={**score_change()["payload"], "score_after": Decimal("6.4E+2")})
    )
    assert built.to_json_dict()["payload"]["score_after"] == "640"


def test_scale_is_preserved() -> None:
    record = parse_record(financing_event())
    assert record.to_json_dict()["payload"]["amount"]["value"] == "1000000.00"


def test_occurred_at_normalised_to_utc() -> None:
    record = parse_record(data_update(occurred_at="2024-02-29T23:59:59.250000-05:00"))
    assert record.to_json_dict()["occurred_at"] == "2024-03-01T04:59:59.250000Z"
    aware = datetime(2024, 1, 1, 8, tzinfo=timezone(timedelta(hours=8)))
    built = DataUpdateRecord.model_validate(data_update(occurred_at=aware))
    assert built.occurred_at == datetime(2024, 1, 1, tzinfo=UTC)
    assert format_rfc3339_utc(aware) == "2024-01-01T00:00:00Z"


def test_record_id_generated_when_absent() -> None:
    data = data_update()
    del data["record_id"]
    first, second = parse_record(data), parse_record(data)
    assert first.record_id.startswith("rec-")
    assert first.record_id != second.record_id
    assert new_record_id() != new_record_id()


def test_optional_fields_absent_from_canonical_form() -> None:
    record = parse_record(data_update())
    assert set(record.to_json_dict()) == {
        "record_id",
        "kind",
        "subject",
        "occurred_at",
        "source",
        "actor",
        "parents",
        "payload",
    }


def test_corrections_and_objections() -> None:
    correction = parse_record(data_update(record_id="r-18", supersedes="r-17"))
    objection = parse_record(
        credit_repair(
            record_id="r-19",
            disputes="r-17",
            payload={
                "action": "objection_correction",
                "status": "submitted",
                "affected_records": ["r-17"],
            },
        )
    )
    assert correction.supersedes == "r-17"
    assert objection.disputes == "r-17"


def test_first_score_has_no_before_values() -> None:
    payload = {k: v for k, v in score_change()["payload"].items() if not k.endswith("_before")}
    record = parse_record(score_change(payload=payload))
    assert record.payload.score_before is None  # type: ignore[union-attr]


def test_non_monetary_event_needs_no_amount() -> None:
    payload = {"loan_id": "L-1", "event": "application", "institution": "Bank"}
    record = parse_record(financing_event(payload=payload))
    assert record.payload.amount is None  # type: ignore[union-attr]


def test_records_are_immutable() -> None:
    record = parse_record(data_update())
    with pytest.raises(Exception, match="frozen"):
        record.actor = "someone-else"  # type: ignore[misc]


def test_concrete_constructors_and_abstract_base() -> None:
    data = financing_event()
    del data["kind"]
    record = FinancingEventRecord(**data)
    assert record.kind is RecordKind.FINANCING_EVENT
    with pytest.raises(TypeError, match="Record is the abstract envelope"):
        Record(**financing_event())
    assert isinstance(CreditRepairRecord.model_validate(credit_repair()), Record)


# ------------------------------------------------------------------ unified social credit codes


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000802100433B", "91440300708461136T"])
def test_real_uscc_codes_validate(code: str) -> None:
    assert uscc_problem(code) is None
    assert uscc_check_character(code[:17]) == code[17]


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("91350100M000100Y4", "18-character"),
        ("91350100M000100Y43X", "18-character"),
        ("9135010OM000100Y43", "18-character"),  # letter O
        ("91350100m000100Y43", "18-character"),  # lower case
        ("91A50100M000100Y43", "18-character"),  # division code must be digits
        ("91350100M000100Y44", "check character is '4', GB 32100-2015 gives '3'"),
    ],
)
def test_bad_uscc_codes(code: str, fragment: str) -> None:
    problem = uscc_problem(code)
    assert problem is not None
    assert fragment in problem
    error = error_for(data_update(subject=code))
    assert error.field == "subject"


def test_uscc_check_character_preconditions() -> None:
    with pytest.raises(ValueError, match="first 17 characters"):
        uscc_check_character("123")
    with pytest.raises(ValueError, match="not in the code alphabet"):
        uscc_check_character("9135010OM000100Y4")


# ------------------------------------------------------------------ bad input


def test_error_names_record_and_field_path() -> None:
    payload = copy.deepcopy(financing_event()["payload"])
    payload["amount"]["currency"] = "cny"
    error = error_for(financing_event(payload=payload))
    assert (
        str(error)
        == 'record "r-17": payload.amount.currency: must be 3 upper-case letters (ISO 4217)'
    )
    assert (error.record_id, error.field) == ("r-17", "payload.amount.currency")
    assert isinstance(error, LedgerError)


def test_unknown_kind() -> None:
    error = error_for(data_update(kind="loan_gossip"))
    assert error.field == "kind"
    assert "unknown kind 'loan_gossip'" in error.message
    assert "data_update, score_change, financing_event, credit_repair" in error.message


def test_missing_kind() -> None:
    data = data_update()
    del data["kind"]
    assert error_for(data).field == "kind"


def test_payload_of_another_kind_is_rejected() -> None:
    error = error_for(data_update(kind="score_change"))
    assert error.field.startswith("payload.")


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        (data_update(record_id="bad id!"), "record_id", "1-128 characters"),
        (data_update(record_id="x" * 129), "record_id", "1-128 characters"),
        (data_update(record_id=17), "record_id", "string"),
        (data_update(source=""), "source", "must not be empty"),
        (data_update(actor=" padded"), "actor", "whitespace"),
        (data_update(actor="a\nb"), "actor", "control characters"),
        (data_update(actor="x" * 257), "actor", "at most 256"),
        (data_update(parents=["a", "b", "a"]), "parents", "'a' appears more than once"),
        (data_update(parents=["ok", "not ok"]), "parents[1]", "1-128 characters"),
        (data_update(parents=["r-17"]), "parents", "own id"),
        (data_update(supersedes="r-17"), "supersedes", "cannot supersede itself"),
        (data_update(disputes="r-17"), "disputes", "cannot dispute itself"),
        (data_update(signature="not base64!"), "signature", "base64"),
        (data_update(signature="AAAA"), "signature", "64 bytes"),
        (data_update(colour="blue"), "colour", "not an allowed field"),
        (data_update(occurred_at="2024-05-01T08:00:00"), "occurred_at", "time zone"),
        (data_update(occurred_at="2024-05-01"), "occurred_at", "time zone"),
        (data_update(occurred_at=1714521600), "occurred_at", "not a number"),
        (data_update(occurred_at="yesterday"), "occurred_at", "datetime"),
        (data_update(occurred_at="0001-01-01T00:00:00+01:00"), "occurred_at", "in UTC"),
        (data_update(payload=None), "payload", ""),
    ],
)
def test_envelope_violations_name_the_field(data: Any, field: str, fragment: str) -> None:
    error = error_for(data)
    assert error.field == field, str(error)
    assert fragment in error.message, str(error)
    claimed = data["record_id"]
    label = f'record "{claimed}"' if isinstance(claimed, str) else "record"
    assert str(error).startswith(f"{label}: {field}: ")


def test_naive_datetime_object_rejected() -> None:
    with pytest.raises(ValidationError, match="occurred_at: must carry a time zone"):
        parse_record(data_update(occurred_at=datetime(2024, 5, 1, 8)))


def _with_payload(factory: Any, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = factory()
    payload = copy.deepcopy(data["payload"])
    for key, value in changes.items():
        if value is ...:
            payload.pop(key)
        else:
            payload[key] = value
    data["payload"] = payload
    return data


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        (_with_payload(data_update, dataset="gossip"), "payload.dataset", "'tax'"),
        (_with_payload(data_update, fields_changed={}), "payload.fields_changed", "at least 1"),
        (
            _with_payload(data_update, fields_changed={"rate": 0.5}),
            "payload.fields_changed.rate",
            "floats are not allowed",
        ),
        (_with_payload(data_update, fields_changed={"x": [1]}), "payload.fields_changed.x", ""),
        (_with_payload(data_update, fields_changed={"x": None}), "payload.fields_changed.x", ""),
        (
            _with_payload(data_update, fields_changed={"big": 2**60}),
            "payload.fields_changed.big",
            "decimal strings",
        ),
        (
            _with_payload(data_update, fields_changed={" x": "1"}),
            "payload.fields_changed",
            "field name",
        ),
        (
            _with_payload(data_update, source_reference=...),
            "payload.source_reference",
            "is required",
        ),
        (_with_payload(data_update, extra=1), "payload.extra", "not an allowed field"),
        (
            _with_payload(score_change, score_after=640.0),
            "payload.score_after",
            "floats are not allowed",
        ),
        (_with_payload(score_change, score_after="6.4e2"), "payload.score_after", "plain notation"),
        (_with_payload(score_change, score_after="NaN"), "payload.score_after", "plain notation"),
        (_with_payload(score_change, score_after=True), "payload.score_after", "boolean"),
        (_with_payload(score_change, score_after="1" * 65), "payload.score_after", "at most 64"),
        (_with_payload(score_change, grade_before=...), "payload.grade_before", "is required"),
        (
            _with_payload(score_change, dimension_scores={"tax": 1.5}),
            "payload.dimension_scores.tax",
            "floats",
        ),
        (
            _with_payload(score_change, reason_codes=["A", "A"]),
            "payload.reason_codes",
            "more than once",
        ),
        (_with_payload(financing_event, event="refinance"), "payload.event", "'application'"),
        (
            _with_payload(financing_event, amount=...),
            "payload.amount",
            "is required for a disbursement event",
        ),
        (
            _with_payload(financing_event, event="repayment", amount=None),
            "payload.amount",
            "is required for a repayment event",
        ),
        (
            _with_payload(financing_event, event="credit_line", amount=...),
            "payload.amount",
            "credit_line",
        ),
        (
            _with_payload(financing_event, amount={"value": "-5", "currency": "CNY"}),
            "payload.amount.value",
            "must not be negative",
        ),
        (
            _with_payload(financing_event, amount={"value": 5.0, "currency": "CNY"}),
            "payload.amount.value",
            "floats are not allowed",
        ),
        (
            _with_payload(financing_event, amount={"value": "5", "currency": "YUAN"}),
            "payload.amount.currency",
            "3 upper-case letters",
        ),
        (
            _with_payload(financing_event, amount={"value": "5"}),
            "payload.amount.currency",
            "is required",
        ),
        (_with_payload(financing_event, rate="-0.01"), "payload.rate", "must not be negative"),
        (_with_payload(financing_event, loan_id="loan 1"), "payload.loan_id", "1-128"),
        (_with_payload(credit_repair, action="prayer"), "payload.action", "'training'"),
        (_with_payload(credit_repair, status="pending"), "payload.status", "'submitted'"),
        (
            _with_payload(credit_repair, status="verified"),
            "payload.resulting_score_change",
            "only be set on an approved repair, not a verified one",
        ),
        (
            _with_payload(credit_repair, affected_records=["a", "a"]),
            "payload.affected_records",
            "more than once",
        ),
    ],
)
def test_payload_violations_name_the_field(data: Any, field: str, fragment: str) -> None:
    error = error_for(data)
    assert error.field == field, str(error)
    assert fragment in error.message, str(error)


def test_all_problems_are_reported() -> None:
    data = data_update(source="", actor="")
    error = error_for(data)
    assert [problem.field for problem in error.problems] == ["source", "actor"]
    assert str(error).endswith("(and 1 more problem)")


def test_oversize_payload() -> None:
    big = {f"field_{i:05d}": "x" * 200 for i in range(400)}
    error = error_for(_with_payload(data_update, fields_changed=big))
    assert isinstance(error, PayloadTooLarge)
    assert error.field == "payload"
    assert error.limit == MAX_PAYLOAD_BYTES
    assert error.size > MAX_PAYLOAD_BYTES
    assert f"more than the limit of {MAX_PAYLOAD_BYTES} bytes" in str(error)


def test_payload_just_under_the_limit_is_accepted() -> None:
    # 300 fields of 180 chars: ~60 KiB canonical, exercises the exact (slow) size check.
    fields = {f"f{i:04d}": "y" * 180 for i in range(300)}
    record = parse_record(_with_payload(data_update, fields_changed=fields))
    assert len(record.canonical_bytes()) > MAX_PAYLOAD_BYTES // 2


def test_json_text_input_and_error_id() -> None:
    text = json.dumps(data_update(record_id="r-json", source=""))
    error = error_for(text)
    assert error.record_id == "r-json"
    assert error_for(b"{not json").field == ""
    assert error_for("[1, 2]").message.startswith("must be")


def test_json_floats_rejected_from_text() -> None:
    text = json.dumps(data_update()).replace('"staff": 42', '"staff": 42.0')
    error = error_for(text)
    assert error.field == "payload.fields_changed.staff"
    assert "floats are not allowed" in error.message


def test_error_without_record_id() -> None:
    data = data_update(source="")
    del data["record_id"]
    error = error_for(data)
    assert error.record_id is None
    assert str(error).startswith("record: source: ")


def test_with_signature_checks_format() -> None:
    record = parse_record(data_update())
    with pytest.raises(ValidationError, match='record "r-17": signature: must encode 64 bytes'):
        record.with_signature("AAAA")


def test_payload_model_used_directly() -> None:
    payload = DataUpdatePayload(
        dataset="customs",  # type: ignore[arg-type]
        fields_changed={"exports_2023": "1.5"},
        source_reference="CUS-1",
    )
    record = DataUpdateRecord(
        subject=SUBJECT,
        occurred_at=datetime(2024, 1, 1, tzinfo=UTC),
        source="customs",
        actor="writer",
        payload=payload,
    )
    assert record.payload.dataset == "customs"


def test_concrete_class_rejects_other_kind_with_plain_message() -> None:
    import pydantic
    from credit_ledger_verify.records import to_validation_error

    with pytest.raises(pydantic.ValidationError) as caught:
        DataUpdateRecord.model_validate(score_change())
    error = to_validation_error(caught.value, "r-17")
    assert (error.field, error.message) == ("kind", "must be 'data_update', got 'score_change'")
    assert error_for(data_update(payload=None)).message == "must be a JSON object, got null"
