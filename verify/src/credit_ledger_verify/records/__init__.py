"""Ledger records: the signed envelope shared by all kinds and the kind-specific payloads.

Typical use::

    from credit_ledger_verify.records import DataUpdateRecord, Record, parse_record

    record = parse_record(untrusted_json)       # -> concrete Record subclass, or ValidationError
    record.signing_bytes()                      # what the writer signs
    record.canonical_bytes()                    # what is committed
"""

from credit_ledger_verify.records.envelope import (
    MAX_PAYLOAD_BYTES,
    PAYLOAD_CLASSES,
    RECORD_CLASSES,
    AnyRecord,
    CreditRepairRecord,
    DataUpdateRecord,
    ErasureRecord,
    FinancingEventRecord,
    ObjectionRecord,
    Payload,
    Record,
    RecordKind,
    ScoreChangeRecord,
    parse_record,
    to_validation_error,
)
from credit_ledger_verify.records.payloads import (
    MONETARY_EVENTS,
    OBJECTION_RESOLUTIONS,
    REPAIR_STATUS_TRANSITIONS,
    CreditRepairAction,
    CreditRepairPayload,
    Dataset,
    DataUpdatePayload,
    ErasureBasis,
    ErasurePayload,
    FinancingEventPayload,
    FinancingEventType,
    Money,
    ObjectionPayload,
    ObjectionStep,
    RepairStatus,
    ScoreChangePayload,
)
from credit_ledger_verify.records.types import (
    RECORD_ID_PATTERN,
    DecimalString,
    RecordId,
    UtcDatetime,
    format_rfc3339_utc,
    new_record_id,
)
from credit_ledger_verify.records.uscc import uscc_check_character, uscc_problem

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "MONETARY_EVENTS",
    "OBJECTION_RESOLUTIONS",
    "PAYLOAD_CLASSES",
    "RECORD_CLASSES",
    "RECORD_ID_PATTERN",
    "REPAIR_STATUS_TRANSITIONS",
    "AnyRecord",
    "CreditRepairAction",
    "CreditRepairPayload",
    "CreditRepairRecord",
    "DataUpdatePayload",
    "DataUpdateRecord",
    "Dataset",
    "DecimalString",
    "ErasureBasis",
    "ErasurePayload",
    "ErasureRecord",
    "FinancingEventPayload",
    "FinancingEventRecord",
    "FinancingEventType",
    "Money",
    "ObjectionPayload",
    "ObjectionRecord",
    "ObjectionStep",
    "Payload",
    "Record",
    "RecordId",
    "RecordKind",
    "RepairStatus",
    "ScoreChangePayload",
    "ScoreChangeRecord",
    "UtcDatetime",
    "format_rfc3339_utc",
    "new_record_id",
    "parse_record",
    "to_validation_error",
    "uscc_check_character",
    "uscc_problem",
]
