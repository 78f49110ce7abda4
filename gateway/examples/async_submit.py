"""Submit many transactions concurrently with the asyncio API and follow chaincode events.

    python async_submit.py --peer 127.0.0.1:7051 --tls-ca tlsca-cert.pem \\
        --target peer0.org1.example.com --msp-dir .../msp --msp-id Org1MSP \\
        --channel mychannel --chaincode basic --fn Touch --count 20
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

import grpc.aio
from fabric_gateway import connect_async, load_msp


async def run(args: argparse.Namespace) -> None:
    creds = load_msp(args.msp_dir, msp_id=args.msp_id)
    options = [("grpc.ssl_target_name_override", args.target)] if args.target else []
    async with grpc.aio.secure_channel(
        args.peer, grpc.ssl_channel_credentials(args.tls_ca.read_bytes()), options=options
    ) as channel:
        gateway = connect_async(identity=creds.identity, signer=creds.signer, channel=channel)
        contract = gateway.get_network(args.channel).get_contract(args.chaincode)
        t0 = time.perf_counter()
        results = await asyncio.gather(
            *(contract.submit(args.fn, args=[f"example-{i}-{t0:.0f}"]) for i in range(args.count))
        )
        elapsed = time.perf_counter() - t0
        print(f"{len(results)} transactions committed in {elapsed:.2f}s")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--peer", required=True)
    p.add_argument("--tls-ca", required=True, type=Path)
    p.add_argument("--target", default=None)
    p.add_argument("--msp-dir", required=True, type=Path)
    p.add_argument("--msp-id", required=True)
    p.add_argument("--channel", required=True)
    p.add_argument("--chaincode", required=True)
    p.add_argument("--fn", default="Touch")
    p.add_argument("--count", type=int, default=20)
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
