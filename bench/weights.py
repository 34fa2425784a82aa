"""Benchmark: voting weights of 1,000 and 10,000 funded addresses at a fixed block on a fresh local anvil.

The batched path (governance.strategies.voting_weights: aggregate3 in concurrent chunks) against a naive loop of one
eth_call per address, in the same run. Prints seconds and the ratio.

    DEBUG=1 .venv/bin/python bench/weights.py [--sizes 1000,10000] [--chunk-size 500] [--repeat 3]

Two naive loops: `raw`, bare JSON-RPC eth_calls through governance.chain (the fair, fast naive loop; the ratio is
against it), and `web3`, what most code does (contract.functions.balanceOf(a).call(block_identifier=…)), run only up to
--web3-max addresses because it is slow. Batched timings are the best of --repeat runs, each from a cold address
cache; naive loops run once.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from decimal import Decimal

import _django  # noqa: E402,F401  (sys.path, settings, a throw-away DEVCHAIN_DIR, django.setup())

from django.conf import settings  # noqa: E402
from eth_utils import keccak  # noqa: E402
from web3 import Web3  # noqa: E402

from governance import chain as chain_module  # noqa: E402
from governance.batch import selector, word  # noqa: E402
from governance.deploy import contract, deploy_all  # noqa: E402
from governance.devchain import DEV_KEYS, free_port, start_anvil, stop_anvil  # noqa: E402
from governance.strategies import Strategy, _eip55, voting_weights  # noqa: E402

TOKEN = 10**18
MINT_BATCH = 2_500  # holders per mintBatch transaction (each first mint also writes a delegation checkpoint)


def holders(count: int) -> list[str]:
    return [Web3.to_checksum_address(keccak(b"bench holder %d" % i)[:20]) for i in range(count)]


def amount_of(index: int) -> int:
    return (index % 5_000 + 1) * TOKEN + index  # odd wei on purpose: the weights must stay exact


def fund(node, token, addresses: list[str]) -> None:
    node.w3.provider.make_request("evm_setBlockGasLimit", [hex(1_000_000_000)])
    admin = node.w3.eth.account.from_key(DEV_KEYS[0]).address
    nonce = node.w3.eth.get_transaction_count(admin)
    hashes = []
    for start in range(0, len(addresses), MINT_BATCH):
        batch = addresses[start : start + MINT_BATCH]
        data = token.encode_abi("mintBatch", args=[batch, [amount_of(start + i) for i in range(len(batch))]])
        hashes.append(
            node.send_transaction(
                key=DEV_KEYS[0],
                tx={"to": token.address, "data": data, "nonce": nonce, "gas": 150_000 * len(batch)},
                wait=False,
            )
        )
        nonce += 1
    for tx_hash in hashes:
        assert node.w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 1


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def naive_web3(token, addresses, block):
    return {
        a: Decimal(token.functions.balanceOf(a).call(block_identifier=block)).scaleb(-18) for a in addresses
    }


def naive_raw(node, token_address, addresses, block):
    balance_of = selector("balanceOf(address)")
    return {
        a: Decimal(
            int.from_bytes(node.call_raw(to=token_address, data=balance_of + word(a), block=block), "big")
        ).scaleb(-18)
        for a in addresses
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--web3-max", type=int, default=1_000)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still stop anvil in `finally`

    port = free_port()
    anvil = start_anvil(port=port)
    try:
        settings.PORTAL["CHAIN_RPC_URL"] = f"http://127.0.0.1:{port}"
        settings.PORTAL["CHAIN_ID"] = None
        chain_module._nodes.clear()
        node = chain_module.chain()
        addresses = deploy_all(node, deployer_key=DEV_KEYS[0])
        settings.PORTAL["CONTRACTS"] = addresses
        token = contract(node, "LoyaltyToken", addresses["LoyaltyToken"])
        everyone = holders(max(sizes))
        setup, _ = timed(lambda: fund(node, token, everyone))
        node.w3.provider.make_request("anvil_mine", ["0x2"])
        block = node.block_number() - 1
        print(
            f"anvil on :{port}, {len(everyone):,} holders funded in {setup:.1f} s; weights at block {block}"
        )
        print(f"cpu cores: {os.cpu_count()}, chunk size: {args.chunk_size or 'default'}\n")

        strategy_of = {
            kind: Strategy(kind=kind, chain_id=node.chain_id, address=token.address)
            for kind in ("erc20-balance-of", "erc20-votes")
        }
        header = f"{'addresses':>9}  {'path':<34} {'seconds':>8}  {'naive / batched balance-of':>10}"
        print(header)
        print("-" * len(header))
        for size in sizes:
            group = everyone[:size]
            expected = {a: Decimal(amount_of(i)).scaleb(-18) for i, a in enumerate(group)}
            batched = {}
            for kind, strategy in strategy_of.items():
                voting_weights(
                    strategies=[strategy], snapshot_block=block, addresses=group[:50]
                )  # warm the sessions
                runs = []
                for _ in range(args.repeat):
                    _eip55.cache_clear()  # include the checksumming a cold recount pays
                    seconds, weights = timed(
                        lambda strategy=strategy, group=group: voting_weights(
                            strategies=[strategy],
                            snapshot_block=block,
                            addresses=group,
                            chunk_size=args.chunk_size,
                        )
                    )
                    assert weights == expected, f"batched {kind} weights differ from what was minted"
                    runs.append(seconds)
                batched[kind] = min(runs)
                print(
                    f"{size:>9,}  {'batched aggregate3, ' + kind:<34} {min(runs):>8.3f}  {'':>10}  "
                    f"(runs: {', '.join(f'{r:.3f}' for r in runs)})"
                )
            naive = [
                (
                    "naive raw eth_call per address",
                    lambda group=group: naive_raw(node, token.address, group, block),
                )
            ]
            if size <= args.web3_max:
                naive.append(
                    ("naive web3 call per address", lambda group=group: naive_web3(token, group, block))
                )
            for label, loop in naive:
                seconds, weights = timed(loop)
                assert weights == expected, f"{label}: weights differ"
                ratio = seconds / batched["erc20-balance-of"]
                print(f"{size:>9,}  {label:<34} {seconds:>8.3f}  {ratio:>9.1f}x")
            print()
    finally:
        stop_anvil(anvil)
    return 0


if __name__ == "__main__":
    sys.exit(main())
