"""On-chain reads of the lending market, through governance's chain interface and Multicall3 batches.

`getUserAccountData(address)` is Aave v3 IPool's view (LENDING_POOL_KIND = "aave-v3"): every number of a position
comes from it. The per-asset views (`getReservesList`, `getAssetPrice`, `configOf`, `collateralBalanceOf`) add what
a liquidation price needs; a pool without them still gives every position, only without liquidation prices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from eth_abi import decode
from web3 import Web3

from governance.batch import Call, aggregate3, selector, word
from governance.chain import CallReverted, chain
from governance.deploy import contract_address
from portal.conf import portal_settings
from portal.errors import Unavailable

BASE_DECIMALS = 8
BPS = Decimal(10_000)
WAD = Decimal(10**18)
NO_DEBT_HEALTH = 2**256 - 1
KINDS = ("aave-v3",)

GET_USER_ACCOUNT_DATA = selector("getUserAccountData(address)")
GET_RESERVES_LIST = selector("getReservesList()")
GET_ASSET_PRICE = selector("getAssetPrice(address)")
CONFIG_OF = selector("configOf(address)")
COLLATERAL_BALANCE_OF = selector("collateralBalanceOf(address,address)")
BORROWED_BY = selector("borrowedBy(address)")
SYMBOL = selector("symbol()")
TOTAL_SUPPLIED = selector("totalSupplied()")
TOTAL_BORROWED = selector("totalBorrowed()")
ASSET = selector("asset()")
ACCOUNT_DATA_TYPES = ["uint256"] * 6
CONFIG_TYPES = ["address", "uint32", "uint16", "uint16", "uint16", "uint8", "bool"]


class PoolMisconfigured(Unavailable):
    """LENDING_POOL_ADDRESS names no lending pool this portal can read; the sentence says what is wrong."""


@dataclass(frozen=True, slots=True)
class AccountData:
    """getUserAccountData as the pool returned it: base currency with 8 decimals, bps, health factor 1e18."""

    collateral_base: int
    debt_base: int
    available_base: int
    liquidation_threshold_bps: int
    ltv_bps: int
    health_factor_wad: int

    @classmethod
    def decode(cls, raw: bytes) -> AccountData:
        return cls(*decode(ACCOUNT_DATA_TYPES, raw))

    @property
    def health_factor(self) -> Decimal | None:
        """None without debt (the pool answers type(uint256).max)."""
        if self.debt_base == 0 or self.health_factor_wad == NO_DEBT_HEALTH:
            return None
        return Decimal(self.health_factor_wad) / WAD


@dataclass(frozen=True, slots=True)
class Asset:
    address: str
    symbol: str
    decimals: int
    price_base: int  # one whole token in the base currency (8 decimals)
    ltv_bps: int
    threshold_bps: int
    bonus_bps: int
    feed: str
    collateral: bool

    @property
    def price(self) -> Decimal:
        return Decimal(self.price_base).scaleb(-BASE_DECIMALS)


@dataclass(frozen=True)
class Market:
    pool: str
    block: int
    borrow_asset: str
    assets: tuple[Asset, ...]  # empty when the pool has no per-asset views
    total_supplied: int | None
    total_borrowed: int | None

    def asset(self, address_or_symbol: str) -> Asset | None:
        key = address_or_symbol.lower()
        return next((a for a in self.assets if key in (a.address.lower(), a.symbol.lower())), None)

    @property
    def collaterals(self) -> tuple[Asset, ...]:
        return tuple(a for a in self.assets if a.collateral)


def pool_address() -> str:
    """LENDING_POOL_ADDRESS, else the demo pool the dev chain recorded. Raises PoolMisconfigured when there is none."""
    conf = portal_settings()
    if conf.lending_pool_kind not in KINDS:
        raise PoolMisconfigured(
            f"LENDING_POOL_KIND is “{conf.lending_pool_kind}”, but this portal reads only {', '.join(KINDS)} pools."
        )
    address = conf.lending_pool_address or contract_address("LendingPool")
    if not address:
        raise PoolMisconfigured("No lending pool is configured (LENDING_POOL_ADDRESS), so loans cannot be read.")
    if not Web3.is_address(address):
        raise PoolMisconfigured(f"LENDING_POOL_ADDRESS “{address}” is not an Ethereum address.")
    return Web3.to_checksum_address(address)


def check_pool(address: str, *, block: int | str = "latest") -> None:
    """Refuse an address with no code, or whose code does not answer getUserAccountData like an Aave v3 pool."""
    node = chain()
    if not node.retrying("reading contract code", node.w3.eth.get_code, address, block):
        raise PoolMisconfigured(
            f"There is no contract at {address} on this chain, so it cannot be the lending pool. "
            "Check LENDING_POOL_ADDRESS."
        )
    try:
        raw = node.call_raw(to=address, data=GET_USER_ACCOUNT_DATA + word(0), block=block)
        AccountData.decode(raw)
    except (CallReverted, ValueError, TypeError, OverflowError) as exc:
        raise PoolMisconfigured(
            f"The contract at {address} does not answer getUserAccountData(address) like an Aave v3 pool, "
            "so it cannot be the lending pool. Check LENDING_POOL_ADDRESS and LENDING_POOL_KIND."
        ) from exc


def head_block() -> int:
    return chain().block_number()


def account_data(addresses: Sequence[str], *, pool: str, block: int) -> list[AccountData | None]:
    """getUserAccountData for each address in Multicall3 batches; None where the pool reverted for that account."""
    calls = [Call(pool, GET_USER_ACCOUNT_DATA + word(a)) for a in addresses]
    return [_decoded(raw) for raw in aggregate3(calls, block=block)]


def account_data_naive(addresses: Sequence[str], *, pool: str, block: int) -> list[AccountData | None]:
    """The same, one eth_call per address (the benchmark's baseline)."""
    node = chain()
    results = []
    for address in addresses:
        try:
            results.append(_decoded(node.call_raw(to=pool, data=GET_USER_ACCOUNT_DATA + word(address), block=block)))
        except CallReverted:
            results.append(None)
    return results


def _decoded(raw: bytes | None) -> AccountData | None:
    if not raw or len(raw) < 6 * 32:
        return None
    return AccountData.decode(raw)


def market(*, pool: str, block: int) -> Market:
    """The pool's assets with prices and risk parameters at `block`, read in two batches."""
    first = aggregate3(
        [Call(pool, GET_RESERVES_LIST), Call(pool, ASSET), Call(pool, TOTAL_SUPPLIED), Call(pool, TOTAL_BORROWED)],
        block=block,
    )
    reserves = [Web3.to_checksum_address(a) for a in decode(["address[]"], first[0])[0]] if first[0] else []
    borrow_asset = Web3.to_checksum_address(decode(["address"], first[1])[0]) if first[1] else ""
    totals = [decode(["uint256"], raw)[0] if raw else None for raw in first[2:]]
    calls = []
    for address in reserves:
        calls += [Call(pool, CONFIG_OF + word(address)), Call(pool, GET_ASSET_PRICE + word(address)), Call(address, SYMBOL)]
    answers = aggregate3(calls, block=block)
    assets = []
    for at, address in enumerate(reserves):
        config_raw, price_raw, symbol_raw = answers[3 * at : 3 * at + 3]
        if not config_raw:
            continue
        feed, _age, ltv, threshold, bonus, decimals, collateral = decode(CONFIG_TYPES, config_raw)
        assets.append(Asset(
            address=address, symbol=_symbol(symbol_raw) or address[:8], decimals=decimals,
            price_base=decode(["uint256"], price_raw)[0] if price_raw else 0, ltv_bps=ltv, threshold_bps=threshold,
            bonus_bps=bonus, feed=Web3.to_checksum_address(feed), collateral=collateral,
        ))
    return Market(pool=pool, block=block, borrow_asset=borrow_asset, assets=tuple(assets),
                  total_supplied=totals[0], total_borrowed=totals[1])


def _symbol(raw: bytes | None) -> str:
    if not raw:
        return ""
    try:
        return str(decode(["string"], raw)[0])[:16]
    except Exception:  # noqa: BLE001 — a token with a bytes32 or no symbol: shown by its address
        return ""


def collateral_balances(addresses: Sequence[str], *, market: Market) -> list[dict[str, int]]:
    """Per address, {collateral asset address: amount held in the pool}, one batch."""
    collaterals = market.collaterals
    if not collaterals:
        return [{} for _ in addresses]
    calls = [Call(market.pool, COLLATERAL_BALANCE_OF + word(c.address) + word(a)) for a in addresses for c in collaterals]
    answers = aggregate3(calls, block=market.block)
    width = len(collaterals)
    return [
        {c.address: int.from_bytes(answers[row * width + col] or b"\0", "big") for col, c in enumerate(collaterals)}
        for row in range(len(addresses))
    ]


@dataclass(frozen=True, slots=True)
class Holding:
    """What the pool stores for one account: its debt in the borrow asset's units and each collateral's amount."""

    debt: int
    collateral: dict[str, int]


def holdings(addresses: Sequence[str], *, market: Market) -> list[Holding | None]:
    """Per address, the pool's stored debt (`borrowedBy`) and collateral (`collateralBalanceOf`), in one batch of
    plain storage reads (no price feed is called, unlike getUserAccountData); None where the pool did not answer.
    Raises PoolMisconfigured for a pool without those views (an Aave v3 pool keeps them in its aTokens)."""
    collaterals = market.collaterals
    if not collaterals:
        raise PoolMisconfigured(f"The pool at {market.pool} lists no collateral it reports balances of, so a change "
                                "of its parameters cannot be previewed.")
    width = len(collaterals) + 1
    calls = []
    for address in addresses:
        calls.append(Call(market.pool, BORROWED_BY + word(address)))
        calls += [Call(market.pool, COLLATERAL_BALANCE_OF + word(c.address) + word(address)) for c in collaterals]
    answers = aggregate3(calls, block=market.block)
    result: list[Holding | None] = []
    for row in range(len(addresses)):
        debt, *amounts = answers[row * width : row * width + width]
        if debt is None or any(a is None for a in amounts):
            result.append(None)
            continue
        result.append(Holding(int.from_bytes(debt, "big"), {
            c.address: int.from_bytes(a, "big") for c, a in zip(collaterals, amounts, strict=True)}))
    if addresses and all(h is None for h in result):
        raise PoolMisconfigured(f"The pool at {market.pool} does not answer borrowedBy and collateralBalanceOf, so a "
                                "change of its parameters cannot be previewed.")
    return result


_checked: set[tuple[str, str]] = set()


def require_readable() -> str:
    """The pool address, checked once per process and node; raises PoolMisconfigured or ChainUnavailable."""
    address = pool_address()
    key = (chain().rpc_url, address)
    if key not in _checked:
        check_pool(address)
        _checked.add(key)
    return address
