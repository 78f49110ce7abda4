"""Problem details become typed exceptions (401/403/404/409/422/429), carrying status, code,
record, field and request id; and the SDK's error tree is drawn in its docstring."""

from __future__ import annotations

import re
from pathlib import Path

import credit_ledger_client
import pytest
from credit_ledger_client import (
    Conflict,
    EvidenceUnavailable,
    Forbidden,
    InvalidInput,
    LedgerApiError,
    LedgerError,
    NotFound,
    RateLimited,
    RetryPolicy,
    Unauthenticated,
)
from credit_ledger_client import _errors as sdk_errors
from sdk_testutil import InProcessLedger, data_updates, in_process_ledger


def test_401_for_an_unknown_key(ledger: InProcessLedger) -> None:
    ledger.tokens["auditor"] = "clk_unknown_000"
    with ledger.client("auditor") as client, pytest.raises(Unauthenticated) as caught:
        client.whoami()
    assert (caught.value.status, caught.value.problem_code) == (401, "unauthenticated")
    assert caught.value.request_id


def test_403_for_a_role_that_may_not(ledger: InProcessLedger) -> None:
    with ledger.client("verifier") as bank, pytest.raises(Forbidden, match="append_records"):
        bank.append(data_updates(ledger.writer, 1))


def test_404_names_the_unknown_record(ledger: InProcessLedger) -> None:
    with ledger.client("auditor") as client, pytest.raises(NotFound) as caught:
        client.record("no-such-record", purpose="loan_review")
    assert (caught.value.problem_code, caught.value.record_id) == (
        "unknown_record",
        "no-such-record",
    )


def test_422_names_the_field(ledger: InProcessLedger) -> None:
    with ledger.client("auditor") as client, pytest.raises(InvalidInput) as caught:
        client.record("x", purpose="curiosity")
    assert caught.value.field == "query.purpose"


def test_evidence_of_an_unanchored_record_is_a_conflict(ledger: InProcessLedger) -> None:
    records = data_updates(ledger.writer, 1)
    with ledger.client() as writer:
        writer.append(records)
    with ledger.client("verifier") as bank, pytest.raises(EvidenceUnavailable) as caught:
        bank.evidence([records[0].record_id], purpose="loan_review")
    assert isinstance(caught.value, Conflict)
    assert caught.value.status == 409
    assert "not anchored" in caught.value.detail
    # the compact form is asked for by the same call (no Fabric here: refused the same way)
    with ledger.client("verifier") as bank, pytest.raises(EvidenceUnavailable):
        bank.evidence([records[0].record_id], purpose="loan_review", form="checkpoint")
    with ledger.client("verifier") as bank, pytest.raises(ValueError, match="form must be"):
        bank.evidence([records[0].record_id], purpose="loan_review", form="compact")


def test_429_once_retries_are_spent_carries_retry_after(tmp_path: Path) -> None:
    with in_process_ledger(tmp_path, rate=0.01, burst=1) as ledger:
        single = RetryPolicy(attempts=1)
        with ledger.client("auditor", retries=single) as client:
            client.whoami()
            with pytest.raises(RateLimited) as caught:
                client.whoami()
    assert caught.value.status == 429
    assert caught.value.retry_after is not None
    assert caught.value.retry_after >= 1


def test_errors_derive_from_the_one_root() -> None:
    assert issubclass(LedgerApiError, LedgerError)
    assert LedgerError is credit_ledger_client.LedgerError


def _classes() -> list[type[LedgerApiError]]:
    found: list[type[LedgerApiError]] = [LedgerApiError]
    stack = list(LedgerApiError.__subclasses__())
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return [c for c in found if c.__module__.startswith("credit_ledger_client")]


def test_every_sdk_error_is_drawn_with_its_own_unique_code_and_exported() -> None:
    drawn = {
        m.group(1): m.group(2)
        for m in re.finditer(r"[├└]── (\w+)(?:\([^)]*\))?\s+(\w+)", sdk_errors.__doc__ or "")
    }
    classes = _classes()
    assert len(classes) >= 14
    for cls in classes:
        assert "code" in vars(cls), cls
        assert drawn.get(cls.__name__) == cls.code, f"{cls.__name__} not drawn with {cls.code}"
        assert cls.__name__ in credit_ledger_client.__all__
    assert len({c.code for c in classes}) == len(classes)
    assert set(drawn) == {c.__name__ for c in classes}


def test_a_record_signed_by_an_unregistered_key_is_invalid_input_not_retried(
    ledger: InProcessLedger,
) -> None:
    from credit_ledger_client import Writer
    from sdk_testutil import ACTOR, FlakyTransport

    impostor = Writer(ACTOR, bytes(32))
    records = [*data_updates(ledger.writer, 2, prefix="ok"), *data_updates(impostor, 1)]
    flaky = FlakyTransport(ledger.sync_transport(), [])
    with ledger.client(transport=flaky) as client, pytest.raises(InvalidInput) as caught:
        client.append(records)
    error = caught.value
    assert (error.status, error.problem_code, error.record_index) == (422, "bad_signature", 2)
    assert (error.record_id, error.field, flaky.calls) == ("sdk-000000", "signature", 1)
    assert ledger.stored_count() == 0


def test_the_compact_form_is_a_query_parameter() -> None:
    from credit_ledger_client import _wire as wire

    compact = wire.evidence_call(["r-1"], "loan_review", None, False, "checkpoint")
    assert dict(compact.params) == {"purpose": "loan_review", "form": "checkpoint"}
    assert "form" not in wire.evidence_call(["r-1"], "loan_review", None, False).params
