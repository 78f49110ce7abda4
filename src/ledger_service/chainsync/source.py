"""Where blocks come from: the peer's Deliver service, read ahead on a background thread."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Protocol

from fabric_gateway import BlockEvents, Gateway
from fabric_protos.common import common_pb2, ledger_pb2
from fabric_protos.peer import transaction_pb2

__all__ = ["BlockSource", "DeliverBlockSource", "chain_height"]


class BlockSource(Protocol):
    """A channel's blocks: its height, and the blocks ``start..stop`` (inclusive) in order."""

    def height(self) -> int:
        """Number of blocks on the channel (the next block's number)."""
        ...

    def blocks(self, start: int, stop: int) -> Iterator[common_pb2.Block]:
        """Blocks ``start`` to ``stop`` inclusive; closing the iterator ends the stream."""
        ...

    def envelope(self, tx_id: str) -> bytes:
        """The committed envelope of a VALID transaction (to restore ``batches.envelope``)."""
        ...


def chain_height(gateway: Gateway, channel: str) -> int:
    """The channel's height from ``qscc GetChainInfo`` (one query)."""
    raw = gateway.get_network(channel).get_contract("qscc").evaluate("GetChainInfo", args=[channel])
    return int(ledger_pb2.BlockchainInfo.FromString(raw).height)


_END = object()


class DeliverBlockSource:
    """Blocks from the peer's Deliver service (one stream per call, not one query per block).

    A reader thread pulls blocks from the gRPC stream into a bounded queue, so receiving and
    decoding the protobuf overlaps with the caller's parsing and database writes. The stream
    is opened at ``start`` and closed as soon as block ``stop`` has arrived.
    """

    def __init__(
        self, gateway: Gateway, channel: str, *, read_ahead: int = 32, timeout: float | None = None
    ) -> None:
        self._gateway = gateway
        self._channel = channel
        self._read_ahead = read_ahead
        self._timeout = timeout

    def height(self) -> int:
        return chain_height(self._gateway, self._channel)

    def envelope(self, tx_id: str) -> bytes:
        """One ``qscc GetTransactionByID`` query."""
        raw = (
            self._gateway.get_network(self._channel)
            .get_contract("qscc")
            .evaluate("GetTransactionByID", args=[self._channel, tx_id])
        )
        processed = transaction_pb2.ProcessedTransaction.FromString(raw)
        if processed.validationCode != transaction_pb2.VALID:
            raise ValueError(f"transaction {tx_id} was not committed as VALID")
        return bytes(processed.transactionEnvelope.SerializeToString())

    def blocks(self, start: int, stop: int) -> Iterator[common_pb2.Block]:
        if stop < start:
            return
        events = self._gateway.get_network(self._channel).block_events(
            start_block=start, timeout=self._timeout
        )
        q: queue.Queue[object] = queue.Queue(maxsize=self._read_ahead)
        done = threading.Event()
        reader = threading.Thread(
            target=_read, args=(events, stop, q, done), name="deliver-reader", daemon=True
        )
        reader.start()
        try:
            while True:
                item = q.get()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                assert isinstance(item, common_pb2.Block)
                yield item
        finally:
            done.set()
            events.close()
            # Unblock a reader waiting on a full queue, then let it finish.
            while reader.is_alive():
                try:
                    q.get_nowait()
                except queue.Empty:
                    reader.join(timeout=0.05)


def _read(
    events: BlockEvents[common_pb2.Block],
    stop: int,
    q: queue.Queue[object],
    done: threading.Event,
) -> None:
    try:
        for block in events:
            if done.is_set():
                return
            q.put(block)
            if block.header.number >= stop:
                break
        else:
            q.put(RuntimeError(f"the block stream ended before block {stop}"))
            return
        q.put(_END)
    except BaseException as exc:  # handed to the consumer thread
        if not done.is_set():
            q.put(exc)
    finally:
        events.close()
