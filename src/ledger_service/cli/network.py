"""`ledgerctl network up | down | status | logs`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ledger_service.cli._common import StateDir, console, fail, run_or_fail
from ledger_service.ops import chaincode as cc_ops
from ledger_service.ops import network as net
from ledger_service.ops.fabric import FabricToolError, find_fabric
from ledger_service.ops.processes import ManagedProcess, ProcessError
from ledger_service.ops.topology import Topology

app = typer.Typer(
    help="Bring the Fabric network up and down; show its state.", no_args_is_help=True
)

ERRORS = (net.NetworkError, FabricToolError, ProcessError)


@app.command()
def up(
    state_dir: StateDir,
    base_port: Annotated[
        int | None,
        typer.Option(
            help="First of 60 consecutive loopback ports (new networks only; default 27000)."
        ),
    ] = None,
) -> None:
    """Start 3 Raft orderers and 3 peers, create and join the channel. Safe to run again."""
    fabric = run_or_fail(find_fabric)
    started = time.monotonic()
    with console.status("bringing the network up") as st:
        topo = run_or_fail(
            lambda: net.up(state_dir, fabric, base_port=base_port, progress=lambda m: st.update(m)),
            *ERRORS,
        )
        # Chaincode servers that were deployed before but died (crash, reboot) come back too.
        run_or_fail(lambda: cc_ops.restart_servers(topo), *ERRORS)
    console.print(
        f"[green]network up[/] in {time.monotonic() - started:.1f}s: "
        f"{len(topo.orderers)} orderers, {len(topo.peers)} peers, channel {topo.channel!r} "
        f"(Fabric {topo.fabric_version}); state in {topo.root}"
    )


@app.command()
def down(
    state_dir: StateDir,
    purge: Annotated[
        bool, typer.Option(help="Also delete all state: crypto, ledgers, logs.")
    ] = False,
) -> None:
    """Stop the processes this tool started (by pid); --purge also deletes the state."""
    stopped = run_or_fail(lambda: net.down(state_dir, purge=purge), *ERRORS)
    console.print(
        f"stopped {len(stopped)} process(es)" + (f"; deleted {state_dir}" if purge else "")
    )


@app.command()
def status(state_dir: StateDir) -> None:
    """Every node's pid, ports, health and block height, and the committed chaincode."""
    fabric = run_or_fail(find_fabric)
    topo = run_or_fail(lambda: Topology.load(state_dir))
    rows = net.status(topo, fabric)
    table = Table(title=f"channel {topo.channel} — Fabric {topo.fabric_version}")
    for col in ("node", "role", "org", "pid", "ports (listen/ops/cc or admin)", "health", "height"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r.name,
            r.role,
            r.org,
            str(r.pid or "-"),
            r.ports,
            "[green]OK[/]" if r.healthy else f"[red]{r.health}[/]",
            "-" if r.height is None else str(r.height),
        )
    console.print(table)
    definition = cc_ops.committed_definition(topo, fabric)
    if definition is None:
        console.print(f"chaincode {topo.chaincode!r}: [yellow]not committed[/]")
    else:
        servers = cc_ops.server_states(topo)
        console.print(
            f"chaincode {topo.chaincode!r}: version {definition['version']} sequence "
            f"{definition['sequence']}, approvals {definition['approvals']}; servers: "
            + ", ".join(f"{k}={'up' if v else 'down'}" for k, v in servers.items())
        )
    if not all(r.healthy for r in rows):
        raise typer.Exit(1)


@app.command()
def logs(
    state_dir: StateDir,
    node: Annotated[
        str | None, typer.Argument(help="Node name (prefix is enough); all if omitted.")
    ] = None,
    lines: Annotated[int, typer.Option("-n", help="Lines per node.")] = 30,
) -> None:
    """Show the tail of node logs."""
    log_dir = state_dir / "logs"
    files = sorted(log_dir.glob("*.log")) if log_dir.exists() else []
    if node:
        files = [f for f in files if f.stem.startswith(node)]
    if not files:
        fail(f"no logs{' for ' + node if node else ''} in {log_dir}")
    for f in files:
        proc = ManagedProcess(name=f.stem, run_dir=state_dir / "run", log_dir=log_dir)
        console.rule(f"{f.stem} ({'running' if proc.pid() else 'stopped'}) {Path(f)}")
        console.print(proc.log_tail(lines), highlight=False, markup=False)
