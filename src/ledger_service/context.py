"""The one composition root: configuration → index engine and sessions (migrated) → Fabric
target (only when something needs the network) → services.

Everything that runs the service builds through :class:`LedgerContext`: the CLI (``cli/*``),
the worker, the demo, the sample ledger, the scripts and the test fixtures. Services are
made on first use and shared; nothing touches the network until :attr:`fabric_target` (or a
method taking a gateway) is used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import Any

from fabric_gateway import AsyncGateway, Gateway
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ledger_service.anchoring import AnchoringStore, AnchoringWorker, WorkerSettings
from ledger_service.anchoring.checkpointer import Checkpointer, CheckpointerSettings
from ledger_service.chainsync import ReplayResult, replay
from ledger_service.config import ServiceConfig
from ledger_service.evidence import (
    TrustStore,
    build_access_bundle,
    build_bundle,
    build_checkpoint_bundle,
)
from ledger_service.fabric.blocks import BlockReader, BlockStream
from ledger_service.fabric.checkpoints import AnchoredCheckpoints, GatewayAnchoredCheckpoints
from ledger_service.fabric.target import FabricTarget
from ledger_service.index import make_engine, make_session_factory, upgrade
from ledger_service.intake import LedgerService
from ledger_service.ops.topology import Topology
from ledger_service.queries import AccessLog, RecordQueries
from ledger_service.retention.erasure import Erasures
from ledger_service.tlog.checkpoints import load_or_create_log_key, platform_origin

__all__ = ["LedgerContext"]


class LedgerContext:
    """Configuration, the index database and the services over it, for one process."""

    def __init__(
        self,
        config: ServiceConfig,
        *,
        engine: Engine | None = None,
        topology: Topology | None = None,
        migrate: bool = True,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        """``engine``: use this engine instead of making one from ``config.db_url`` (it is not
        disposed by :meth:`close`). ``topology``: an already loaded network description
        (default: loaded from ``config.state_dir`` when first needed). ``migrate``: bring the
        schema to the newest revision when the engine is first used (as every entry point
        did before). ``clock``: the services' clock (tests pin it)."""
        self.config = config
        self._given_engine = engine
        self._given_topology = topology
        self._migrate = migrate
        self._clock = clock

    @classmethod
    def from_env(cls, state_dir: Path | None = None, db_url: str | None = None) -> LedgerContext:
        """The context the CLI uses: ``LEDGER_*`` environment over the defaults."""
        return cls(ServiceConfig.from_env(state_dir, db_url))

    def now(self) -> dt.datetime:
        """The services' clock: what "now" means for reads without an as-of time."""
        return self._clock() if self._clock is not None else dt.datetime.now(dt.UTC)

    # -- index ---------------------------------------------------------------------------

    @cached_property
    def engine(self) -> Engine:
        engine = self._given_engine or make_engine(self.config.db_url)
        if self._migrate:
            upgrade(engine)
        return engine

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    # -- Fabric (lazy: reading the topology needs a network description on disk) ----------

    @cached_property
    def topology(self) -> Topology:
        """The network description. Raises ``FileNotFoundError`` when there is none."""
        return self._given_topology or self.config.topology()

    @cached_property
    def fabric_target(self) -> FabricTarget:
        """The peer and client identity the service writes and reads through."""
        return FabricTarget.from_topology(self.topology, msp_id=self.config.writer_msp)

    # -- services ------------------------------------------------------------------------

    @cached_property
    def intake(self) -> LedgerService:
        """Record intake, writer admin and erasure."""
        return self.make_intake()

    def make_intake(self, **options: Any) -> LedgerService:
        """A separate intake service with its own options (``verify_threads``,
        ``max_records``, ``max_request_bytes``, ``clock``)."""
        if self._clock is not None:
            options.setdefault("clock", self._clock)
        options.setdefault("objection_days", self.config.objection_days)
        return LedgerService(session_factory=self.session_factory, **options)

    @cached_property
    def erasures(self) -> Erasures:
        """Erasure with an anchored erasure record (expiry, request), signed by the service
        key in the state directory."""
        return Erasures(self.intake, self.session_factory, self.config.state_dir, clock=self._clock)

    @cached_property
    def records(self) -> RecordQueries:
        """Record reads with anchor facts."""
        return RecordQueries(self.session_factory)

    @cached_property
    def access_log(self) -> AccessLog:
        if self._clock is not None:
            return AccessLog(self.session_factory, clock=self._clock)
        return AccessLog(self.session_factory)

    @cached_property
    def anchoring_store(self) -> AnchoringStore:
        if self._clock is not None:
            return AnchoringStore(session_factory=self.session_factory, clock=self._clock)
        return AnchoringStore(session_factory=self.session_factory)

    def anchoring_worker(
        self, gateway: AsyncGateway, settings: WorkerSettings | None = None
    ) -> AnchoringWorker:
        """The anchoring worker on ``gateway`` (from ``fabric_target.gateway_async()``)."""
        target = self.fabric_target
        return AnchoringWorker(
            store=self.anchoring_store,
            gateway=gateway,
            channel=target.channel,
            chaincode=target.chaincode,
            settings=settings,
        )

    def checkpointer(
        self, gateway: Gateway, settings: CheckpointerSettings | None = None
    ) -> Checkpointer:
        """The checkpointer on ``gateway`` (a synchronous one, from
        ``fabric_target.gateway()``), signing with the log key of the state directory."""
        target = self.fabric_target
        origin = platform_origin(target.channel, target.chaincode)
        key = load_or_create_log_key(self.config.state_dir, origin)
        options: dict[str, Any] = {} if self._clock is None else {"clock": self._clock}
        return Checkpointer(
            sessions=self.session_factory,
            gateway=gateway,
            channel=target.channel,
            chaincode=target.chaincode,
            key=key,
            settings=settings,
            **options,
        )

    def build_bundle(
        self, record_ids: Iterable[str], *, block_reader: BlockReader, redact: bool = False
    ) -> dict[str, Any]:
        """An evidence bundle for ``record_ids`` (see
        :func:`ledger_service.evidence.build_bundle`)."""
        return build_bundle(
            self.session_factory, record_ids, block_source=block_reader, redact=redact
        )

    def build_checkpoint_bundle(
        self, record_ids: Iterable[str], *, chain: AnchoredCheckpoints, redact: bool = False
    ) -> dict[str, Any]:
        """A checkpoint-form (compact) bundle for ``record_ids`` under the newest checkpoint
        anchored on ``chain`` (see :func:`ledger_service.evidence.build_checkpoint_bundle`)."""
        return build_checkpoint_bundle(
            self.session_factory,
            record_ids,
            chain=chain,
            trust=TrustStore.from_topology(self.topology),
            redact=redact,
        )

    def anchored_checkpoints(self, gateway: Gateway) -> GatewayAnchoredCheckpoints:
        """The chain's anchored checkpoints, read through ``gateway``."""
        target = self.fabric_target
        return GatewayAnchoredCheckpoints(gateway, target.channel, target.chaincode)

    def build_access_bundle(
        self, entry_ids: Iterable[int], *, block_reader: BlockReader
    ) -> dict[str, Any]:
        """An access-log bundle for ``entry_ids`` (see
        :func:`ledger_service.evidence.build_access_bundle`)."""
        return build_access_bundle(self.session_factory, entry_ids, block_source=block_reader)

    def replay(self, block_stream: BlockStream, **options: Any) -> ReplayResult:
        """Chain sync: replay the channel's blocks into the index (see
        :func:`ledger_service.chainsync.replay`)."""
        target = self.fabric_target
        return replay(
            self.session_factory,
            block_stream,
            channel=target.channel,
            chaincode=target.chaincode,
            **options,
        )

    # -- lifetime ------------------------------------------------------------------------

    def close(self) -> None:
        """Dispose of the engine this context made (not of one it was given)."""
        if "engine" in self.__dict__ and self._given_engine is None:
            self.engine.dispose()

    def __enter__(self) -> LedgerContext:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
