"""Evaluate, submit step by step, sign offline, and read the block: fabric_gateway in one go.

    python quickstart.py --peer 127.0.0.1:7051 --tls-ca tlsca-cert.pem \\
        --target peer0.org1.example.com --msp-dir .../users/User1@org1.example.com/msp \\
        --msp-id Org1MSP --channel mychannel --chaincode basic \\
        --evaluate Ping --submit Touch key1
"""

from __future__ import annotations

import argparse
from pathlib import Path

import grpc
from credit_ledger_verify.fabric import blocks
from fabric_gateway import EndorseError, connect, load_msp


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--peer", required=True, help="gateway peer host:port")
    p.add_argument("--tls-ca", required=True, type=Path, help="peer TLS CA certificate (PEM)")
    p.add_argument("--target", default=None, help="TLS server name, if not the host")
    p.add_argument("--msp-dir", required=True, type=Path)
    p.add_argument("--msp-id", required=True)
    p.add_argument("--channel", required=True)
    p.add_argument("--chaincode", required=True)
    p.add_argument("--evaluate", nargs="+", metavar=("FN", "ARG"), default=None)
    p.add_argument("--submit", nargs="+", metavar=("FN", "ARG"), default=None)
    args = p.parse_args()

    creds = load_msp(args.msp_dir, msp_id=args.msp_id)
    options = [("grpc.ssl_target_name_override", args.target)] if args.target else []
    with grpc.secure_channel(
        args.peer, grpc.ssl_channel_credentials(args.tls_ca.read_bytes()), options=options
    ) as channel:
        gateway = connect(identity=creds.identity, signer=creds.signer, channel=channel)
        network = gateway.get_network(args.channel)
        contract = network.get_contract(args.chaincode)

        if args.evaluate:
            fn, *fn_args = args.evaluate
            print(f"evaluate {fn}: {contract.evaluate(fn, args=fn_args)!r}")

        if args.submit:
            fn, *fn_args = args.submit
            try:
                transaction = contract.new_proposal(fn, args=fn_args).endorse()
            except EndorseError as exc:
                raise SystemExit(str(exc)) from exc
            print(f"endorsed {transaction.transaction_id}: result {transaction.result!r}")
            status = transaction.submit().status()
            print(f"committed: {status.code_name} in block {status.block_number}")

            # the same again, signed "offline" (here with the same key)
            offline = connect(identity=creds.identity, channel=channel)
            unsigned = offline.get_network(args.channel).get_contract(args.chaincode)
            proposal = unsigned.new_proposal(fn, args=fn_args)
            signed = offline.new_signed_proposal(proposal.bytes(), creds.signer(proposal.digest()))
            tx = signed.endorse()
            tx = offline.new_signed_transaction(tx.bytes(), creds.signer(tx.digest()))
            commit = tx.submit()
            commit = offline.new_signed_commit(commit.bytes(), creds.signer(commit.digest()))
            print(f"offline-signed {commit.transaction_id}: {commit.status().code_name}")

            # read the block holding the first transaction back
            with network.block_events(start_block=status.block_number) as stream:
                block = next(iter(stream))
            for info in blocks.parse_block(block).transactions:
                if info.transaction_id == transaction.transaction_id:
                    print(
                        f"block {block.header.number}: {info.validation_code_name}, "
                        f"creator {info.creator_msp_id}, endorsed by "
                        f"{sorted(e.msp_id for e in info.endorsements)}, "
                        f"writes {info.writes()}"
                    )


if __name__ == "__main__":
    main()
