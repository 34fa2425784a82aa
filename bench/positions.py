"""Benchmark: health factors of 10,000 positions at one block on a fresh local anvil.

The batched path (portal.lending.reader.account_data: getUserAccountData through Multicall3 aggregate3 in
concurrent chunks) against a naive loop of one eth_call per position, in the same run; then the whole loan read the
pages and the sampler use (portal.lending.selectors.loans_read: account data, collateral balances, liquidation
prices) and the impact preview of a 20 % WETH fall (portal.lending.impact: the pool's stored debts and collateral in
one batch, health factors before and after with the pool's own arithmetic), checked against getUserAccountData.
Prints seconds and the ratio.

    DEBUG=1 .venv/bin/python bench/positions.py [--positions 10000] [--repeat 3]

The positions are written straight into the pool's storage (anvil_setStorageAt, in JSON-RPC batches) — 10,000
wallets each with WETH collateral and a DUSD debt of its own size — and checked against getUserAccountData before
timing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import _django  # noqa: E402,F401  (sys.path, settings, a throw-away DEVCHAIN_DIR, django.setup())

import requests  # noqa: E402
from django.conf import settings  # noqa: E402
from eth_account import Account  # noqa: E402
from eth_utils import keccak  # noqa: E402
from web3 import Web3  # noqa: E402

from governance import chain as chain_module  # noqa: E402
from governance.deploy import contract, deploy_all  # noqa: E402
from governance.devchain import DEV_KEYS, free_port, start_anvil, stop_anvil  # noqa: E402
from portal.lending import reader, selectors  # noqa: E402
from portal.lending.impact import impact_preview, risk_change_parse  # noqa: E402
from portal.lending.demo import seed_lending  # noqa: E402

TOKEN = 10**18
BORROWED_BY_SLOT = 4  # LendingPool storage: Ownable._owner 0, totalSupplied 1, totalBorrowed 2, suppliedBy 3, …
COLLATERAL_SLOT = 6  # collateralBalanceOf[token][account]
RPC_BATCH = 1_000


def wallets(count: int) -> list[str]:
    return [Web3.to_checksum_address(keccak(b"bench borrower %d" % i)[:20]) for i in range(count)]


def mapping_slot(key: str, slot: int) -> bytes:
    return keccak(bytes.fromhex(key[2:].lower().rjust(64, "0")) + slot.to_bytes(32, "big"))


def open_positions(url: str, pool: str, weth: str, addresses: list[str]) -> None:
    """Each wallet i: (1 + i % 50) WETH of collateral and a debt between 10 % and 85 % of it (some liquidatable)."""
    writes = []
    for i, address in enumerate(addresses):
        collateral = (1 + i % 50) * TOKEN
        debt = collateral * 3_150 * (10 + i % 76) // 100
        outer = int.from_bytes(mapping_slot(weth, COLLATERAL_SLOT), "big")
        writes.append((mapping_slot(address, outer), collateral))
        writes.append((mapping_slot(address, BORROWED_BY_SLOT), debt))
    for start in range(0, len(writes), RPC_BATCH):
        body = [
            {"jsonrpc": "2.0", "id": n, "method": "anvil_setStorageAt",
             "params": [pool, "0x" + slot.hex(), "0x" + value.to_bytes(32, "big").hex()]}
            for n, (slot, value) in enumerate(writes[start : start + RPC_BATCH])
        ]
        answers = requests.post(url, json=body, timeout=60).json()
        assert all("error" not in a for a in answers), answers[:3]


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--positions", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    port = free_port()
    process = start_anvil(port=port)
    url = f"http://127.0.0.1:{port}"
    try:
        settings.PORTAL["CHAIN_RPC_URL"] = url
        settings.PORTAL["CHAIN_ID"] = None
        chain_module._nodes.clear()
        node = chain_module.chain()
        addresses = deploy_all(node, deployer_key=DEV_KEYS[0])
        settings.PORTAL["CONTRACTS"] = addresses
        seed_lending(node, addresses, [Account.from_key(k) for k in DEV_KEYS], stdout=open(os.devnull, "w"))
        borrowers = wallets(args.positions)
        open_positions(url, addresses["LendingPool"], addresses["WETH"], borrowers)
        pool_address = addresses["LendingPool"]
        block = node.block_number()
        pool = contract(node, "LendingPool", pool_address)
        assert pool.functions.getUserAccountData(borrowers[7]).call()[0] == 8 * 3_150 * 10**8, "storage layout moved"

        batched = []
        for _ in range(args.repeat):
            seconds, data = timed(lambda: reader.account_data(borrowers, pool=pool_address, block=block))
            batched.append(seconds)
        naive_seconds, naive = timed(lambda: reader.account_data_naive(borrowers, pool=pool_address, block=block))
        assert data == naive and all(d is not None for d in data)
        full_seconds, (_market, loans) = timed(lambda: selectors.loans_read(addresses=borrowers, block=block))
        liquidatable = sum(1 for loan in loans if loan.health_factor is not None and loan.health_factor < 1)
        market = reader.market(pool=pool_address, block=block)
        change = risk_change_parse(market=market, asset="WETH", parameter="price_shock", value="-0.2")
        impact_seconds, impact = timed(lambda: impact_preview(change=change, market=market, addresses=borrowers))
        assert impact.liquidatable_before == liquidatable and impact.positions == args.positions
        best = min(batched)
        print(f"{args.positions:,} positions at block {block} ({liquidatable:,} liquidatable)")
        print(f"  batched getUserAccountData (aggregate3): {best:.3f} s (best of {args.repeat})")
        print(f"  naive: one eth_call each:                {naive_seconds:.3f} s")
        print(f"  ratio:                                   {naive_seconds / best:.0f}x")
        print(f"  whole loan read with liquidation prices: {full_seconds:.3f} s")
        print(f"  impact preview, WETH -20 %:              {impact_seconds:.3f} s "
              f"({impact.liquidatable_before:,} -> {impact.liquidatable_after:,} liquidatable)")
    finally:
        stop_anvil(process)


if __name__ == "__main__":
    main()
