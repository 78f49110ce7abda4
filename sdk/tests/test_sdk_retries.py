"""Retries: connection errors, lost answers, 5xx and 429 (its Retry-After honoured) are sent
again and every record ends up written exactly once; other 4xx are raised at once."""

from __future__ import annotations

import httpx
import pytest
from credit_ledger_client import RetryPolicy, TransportFailed, Unauthenticated, Unavailable
from sdk_testutil import AsyncFlakyTransport, FlakyTransport, InProcessLedger, data_updates


def test_failed_calls_are_retried_and_every_record_is_written_once(
    ledger: InProcessLedger,
) -> None:
    records = data_updates(ledger.writer, 30)
    flaky = FlakyTransport(ledger.sync_transport(), ["503", "connect", "lost_answer", "500"])
    sleeps: list[float] = []
    policy = RetryPolicy(attempts=5, backoff=0.0)
    with ledger.client(transport=flaky, sleep=sleeps.append, retries=policy) as client:
        results = client.append(records, chunk_size=10)
    assert [r.record_id for r in results] == [r.record_id for r in records]
    # the chunk whose answer was lost had been committed: its retry answers "existing"
    assert sum(r.status == "existing" for r in results) == 10
    assert (ledger.stored_count(), ledger.outbox_count()) == (30, 30)
    assert len(sleeps) == 4
    assert flaky.calls == 5 + 2


def test_429_waits_for_retry_after(ledger: InProcessLedger) -> None:
    flaky = FlakyTransport(ledger.sync_transport(), ["429"])
    sleeps: list[float] = []
    with ledger.client(transport=flaky, sleep=sleeps.append) as client:
        client.append(data_updates(ledger.writer, 2))
    assert sleeps == [3.0]


def test_backoff_grows_between_attempts(ledger: InProcessLedger) -> None:
    flaky = FlakyTransport(ledger.sync_transport(), ["503", "503", "503"])
    sleeps: list[float] = []
    policy = RetryPolicy(attempts=4, backoff=1.0, max_backoff=3.0)
    with ledger.client(transport=flaky, sleep=sleeps.append, retries=policy) as client:
        client.whoami()
    assert len(sleeps) == 3
    assert 0.75 <= sleeps[0] <= 1.25
    assert 1.5 <= sleeps[1] <= 2.5
    assert 2.25 <= sleeps[2] <= 3.75


def test_when_retries_are_spent_the_last_failure_is_raised(ledger: InProcessLedger) -> None:
    with (
        ledger.client(transport=FlakyTransport(ledger.sync_transport(), ["503"] * 4)) as client,
        pytest.raises(Unavailable) as caught,
    ):
        client.append(data_updates(ledger.writer, 1))
    assert caught.value.status == 503
    with (
        ledger.client(transport=FlakyTransport(ledger.sync_transport(), ["connect"] * 4)) as c,
        pytest.raises(TransportFailed, match="after 4 attempt"),
    ):
        c.whoami()
    assert ledger.stored_count() == 0


def test_other_4xx_are_not_retried(ledger: InProcessLedger) -> None:
    flaky = FlakyTransport(ledger.sync_transport(), [])
    ledger.tokens["writer"] = "clk_nobody_secret"
    with ledger.client(transport=flaky) as client, pytest.raises(Unauthenticated):
        client.append(data_updates(ledger.writer, 1))
    assert flaky.calls == 1


async def test_async_client_retries_too(ledger: InProcessLedger) -> None:
    records = data_updates(ledger.writer, 9)
    inner = httpx.ASGITransport(app=ledger.app)
    flaky = AsyncFlakyTransport(inner, ["lost_answer", "502", "connect"])

    async def no_wait(_: float) -> None:
        return None

    async with ledger.async_client(transport=flaky, sleep=no_wait) as client:
        results = await client.append(records, chunk_size=4)
    assert [r.record_id for r in results] == [r.record_id for r in records]
    assert (ledger.stored_count(), ledger.outbox_count()) == (9, 9)
