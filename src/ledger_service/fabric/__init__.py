"""The service's link to Fabric: which peer and identity (:mod:`.target`), and reading blocks
(:mod:`.blocks`: one reader by number, one stream by range)."""

from ledger_service.fabric.blocks import (
    BlockReader,
    BlockStream,
    BlockStreamError,
    CachingBlockReader,
    DeliverBlockStream,
    GatewayBlockReader,
    chain_height,
)
from ledger_service.fabric.target import FabricTarget

__all__ = [
    "BlockReader",
    "BlockStream",
    "BlockStreamError",
    "CachingBlockReader",
    "DeliverBlockStream",
    "FabricTarget",
    "GatewayBlockReader",
    "chain_height",
]
