"""The verifier's memory of checked blocks, across bundles.

A :class:`~credit_ledger_verify.evidence.fabric_checks.BlockCheck` depends only on the block
entry (and the verifier's trust store and policy), so many single-record bundles anchored
in the same transactions pay for the block once. Entries are keyed by
:meth:`BlockEntry.cache_key` (header and metadata fields) and confirmed by comparing the
data entries in full — a ``memcmp``, cheaper than hashing them again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from credit_ledger_verify.evidence.bundle import BlockEntry
from credit_ledger_verify.evidence.fabric_checks import BlockCheck

__all__ = ["BlockCache"]


class BlockCache:
    """Least-recently-used checks of up to ``max_blocks`` distinct block entries."""

    def __init__(self, max_blocks: int = 16) -> None:
        self._entries: OrderedDict[bytes, list[BlockCheck]] = OrderedDict()
        self._max = max_blocks
        self.hits = 0

    def get_or_check(self, entry: BlockEntry, check: Callable[[], BlockCheck]) -> BlockCheck:
        """The remembered check of exactly this entry, else ``check()`` (remembered)."""
        if entry.format_error is not None:
            return check()  # nothing to share: the entry's own shape is wrong
        key = entry.cache_key()
        candidates = self._entries.get(key)
        if candidates is not None:
            self._entries.move_to_end(key)
            for cached in candidates:
                if cached.data == entry.data:  # length + memcmp of each entry: exact match
                    self.hits += 1
                    return cached
        fresh = check()
        if candidates is None:
            self._entries[key] = [fresh]
            if len(self._entries) > self._max:
                self._entries.popitem(last=False)
        else:  # same header, other data (a forgery, or a fork): keep the newest two
            candidates[:] = [fresh, *candidates[:1]]
        return fresh
