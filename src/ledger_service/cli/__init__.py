"""`ledgerctl`: the operator's command line."""

from __future__ import annotations

import typer

from ledger_service.cli import api as api_cmds
from ledger_service.cli import chaincode as chaincode_cmds
from ledger_service.cli import checkpoint as checkpoint_cmds
from ledger_service.cli import erasure as erasure_cmds
from ledger_service.cli import evidence as evidence_cmds
from ledger_service.cli import index as index_cmds
from ledger_service.cli import lineage as lineage_cmds
from ledger_service.cli import listings as listing_cmds
from ledger_service.cli import network as network_cmds
from ledger_service.cli import objections as objection_cmds
from ledger_service.cli import repairs as repairs_cmds
from ledger_service.cli import retention as retention_cmds
from ledger_service.cli import service as service_cmds
from ledger_service.cli import witness as witness_cmds
from ledger_service.cli.worker import worker

app = typer.Typer(
    name="ledgerctl",
    help="Operate the credit ledger: Fabric network, chaincode, index, evidence.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(network_cmds.app, name="network")
app.add_typer(chaincode_cmds.app, name="chaincode")
app.add_typer(index_cmds.app, name="index")
app.add_typer(checkpoint_cmds.app, name="checkpoint")
app.add_typer(retention_cmds.app, name="retention")
app.add_typer(witness_cmds.app, name="witness")
app.add_typer(witness_cmds.keys_app, name="witness-keys")
app.add_typer(repairs_cmds.app, name="repairs")
app.add_typer(objection_cmds.app, name="objections")
app.command()(worker)
evidence_cmds.register(app)
lineage_cmds.register(app)
listing_cmds.register(app)
erasure_cmds.register(app)
app.add_typer(service_cmds.app, name="service")
app.add_typer(api_cmds.app, name="api")
app.add_typer(api_cmds.keys_app, name="keys")
app.command()(service_cmds.demo)


def main() -> None:
    app()
