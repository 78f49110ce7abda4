"""`ledgerctl chaincode deploy | upgrade`."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger_service.cli._common import StateDir, console, run_or_fail
from ledger_service.ops import chaincode as cc_ops
from ledger_service.ops.fabric import FabricToolError, find_fabric
from ledger_service.ops.network import NetworkError
from ledger_service.ops.processes import ProcessError
from ledger_service.ops.topology import Topology

app = typer.Typer(
    help="Deploy and upgrade the ledger chaincode (chaincode-as-a-service).", no_args_is_help=True
)
ERRORS = (NetworkError, FabricToolError, ProcessError)


def _run(state_dir: StateDir, *, version: str | None, upgrade: bool) -> None:
    fabric = run_or_fail(find_fabric)
    topo = run_or_fail(lambda: Topology.load(state_dir))
    with console.status("deploying chaincode") as st:
        result = run_or_fail(
            lambda: cc_ops.deploy(
                topo, fabric, version=version, upgrade=upgrade, progress=lambda m: st.update(m)
            ),
            *ERRORS,
        )
    console.print(
        f"[green]chaincode {topo.chaincode!r} committed[/]: version {result['version']}, "
        f"sequence {result['sequence']}, approvals {result['approvals']}"
    )


@app.command()
def deploy(
    state_dir: StateDir,
    version: Annotated[
        str | None, typer.Option(help="Version label (default: <sequence>.0).")
    ] = None,
) -> None:
    """Package, install on every peer, approve for every org, commit, start the servers."""
    _run(state_dir, version=version, upgrade=False)


@app.command()
def upgrade(
    state_dir: StateDir,
    version: Annotated[
        str | None, typer.Option(help="New version label (default: <sequence>.0).")
    ] = None,
) -> None:
    """Rebuild and redeploy under the next sequence number."""
    _run(state_dir, version=version, upgrade=True)
