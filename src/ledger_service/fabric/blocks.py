"""Reading a channel's blocks: ONE reader by block number, ONE stream by block range.

* :class:`BlockReader` — a committed block by number, serialized (the evidence builder puts
  blocks into bundles as they are); :class:`GatewayBlockReader` asks the gateway peer's
  ``qscc GetBlockByNumber``, :class:`CachingBlockReader` remembers what it fetched.
* :class:`BlockStream` — the channel's height and its blocks ``start..stop`` in order (chain
  sync replays them); :class:`DeliverBlockStream` reads the peer's Deliver service, ahead of
  the consumer on a background thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import ClassVar, Protocol, runtime_checkable

from fabric_gateway import BlockEvents, Gateway
from fabric_protos.common import common_pb2, ledger_pb2
from fabric_protos.peer import transaction_pb2

from ledger_service.errors import LedgerError

__all__ = [
    "BlockReader",
    "BlockStream",
    "BlockStreamError",
    "CachingBlockReader",
    "DeliverBlockStream",
    "GatewayBlockReader",
    "chain_height",
]


class BlockStreamError(LedgerError):
    """The peer did not deliver what was asked (the stream ended early, a transaction that is
    not VALID where a committed one was expected)."""

    code: ClassVar[str] = "block_stream"


@runtime_checkable
class BlockReader(Protocol):
    """Fetches a committed block of the channel by number (serialized ``common.Block``)."""

    def get_block(self, number: int) -> bytes: ...


class GatewayBlockReader:
    """Blocks from a peer's ledger: ``qscc GetBlockByNumber(channel, number)`` evaluated through
    a blocking :class:`fabric_gateway.Gateway` (the block is read from the gateway peer)."""

    def __init__(self, gateway: Gateway, channel: str) -> None:
        self._channel = channel
        self._qscc = gateway.get_network(channel).get_contract("qscc")

    def get_block(self, number: int) -> bytes:
        return self._qscc.evaluate("GetBlockByNumber", args=[self._channel, str(number)])


class CachingBlockReader:
    """Remembers the blocks it fetched (the evidence builder wraps its reader in one per build)."""

    def __init__(self, source: BlockReader) -> None:
        self._source = source
        self._blocks: dict[int, bytes] = {}
        self.fetched = 0

    def get_block(self, number: int) -> bytes:
        block = self._blocks.get(number)
        if block is None:
            block = self._source.get_block(number)
            self._blocks[number] = block
            self.fetched += 1
        return block


class BlockStream(Protocol):
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


class DeliverBlockStream:
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
            raise BlockStreamError(f"transaction {tx_id} was not committed as VALID")
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
            q.put(BlockStreamError(f"the block stream ended before block {stop}"))
            return
        q.put(_END)
    except BaseException as exc:  # handed to the consumer thread
        if not done.is_set():
            q.put(exc)
    finally:
        events.close()
