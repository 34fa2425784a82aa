"""Voting strategies: how much an address weighs at a proposal's snapshot, read on-chain in batches.

A proposal copies its strategies when voting opens (as Snapshot does), so later configuration changes never move a live
vote. Weight = sum over strategies of (on-chain amount / 10**decimals) x multiplier, exact (Decimal, never floats).

- `erc20-votes`: `getPastVotes(voter, block)`: delegation-aware checkpoints, read at the head so any full node serves it.
- `erc20-balance-of`: `balanceOf(voter)` at the snapshot block: old blocks need an archive node.
- `erc721-balance-of`: `balanceOf(voter)` (number of badges) at the snapshot block: also archive for old blocks.

A strategy on another chain (multichain) is read at that chain's last block at or before the snapshot's timestamp.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from decimal import Context, Decimal, InvalidOperation
from functools import lru_cache

from eth_hash.auto import keccak

from governance.batch import Call, aggregate3, selector, word
from governance.chain import CallReverted, ChainUnavailable, chain, home_chain_id
from governance.blocks import block_at_time, block_time
from governance.deploy import contract_address
from portal.conf import portal_settings

log = logging.getLogger(__name__)

ERC20_BALANCE_OF = "erc20-balance-of"
ERC20_VOTES = "erc20-votes"
ERC721_BALANCE_OF = "erc721-balance-of"
KINDS = (ERC20_BALANCE_OF, ERC20_VOTES, ERC721_BALANCE_OF)
MAX_STRATEGIES = 10
MAX_DECIMALS = 36
MAX_MULTIPLIER = Decimal(10) ** 18
OVERLAP_FROM = 200  # from this many addresses, checksums are checked while the chain answers
_FIELDS = {"kind", "chain_id", "address", "multiplier", "decimals"}

# Plenty of digits: 10**30 wei x a multiplier stays exact (the default context keeps only 28).
EXACT = Context(prec=200)

BALANCE_OF = selector("balanceOf(address)")
GET_PAST_VOTES = selector("getPastVotes(address,uint256)")
GET_VOTES = selector("getVotes(address)")
TOTAL_SUPPLY = selector("totalSupply()")
GET_PAST_TOTAL_SUPPLY = selector("getPastTotalSupply(uint256)")


@dataclass(frozen=True)
class Strategy:
    kind: str
    chain_id: int
    address: str
    multiplier: Decimal = Decimal(1)
    decimals: int = 18

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Unknown strategy kind {self.kind!r}; use one of {', '.join(KINDS)}.")
        if isinstance(self.chain_id, bool) or not isinstance(self.chain_id, int) or self.chain_id <= 0:
            raise ValueError(f"A strategy's chain id must be a positive whole number, not {self.chain_id!r}.")
        object.__setattr__(self, "address", checksum(self.address, what="A strategy's contract address"))
        object.__setattr__(self, "multiplier", _multiplier(self.multiplier))
        if (
            isinstance(self.decimals, bool)
            or not isinstance(self.decimals, int)
            or not 0 <= self.decimals <= MAX_DECIMALS
        ):
            raise ValueError(f"A strategy's decimals must be a whole number from 0 to {MAX_DECIMALS}.")
        if self.kind == ERC721_BALANCE_OF and self.decimals != 0:
            raise ValueError("An erc721-balance-of strategy counts whole tokens: its decimals must be 0.")

    @property
    def plain_words(self) -> str:
        """What this strategy counts, as a holder reads it: "tokens delegated to you: 1 vote each"."""
        each = f"{self.multiplier:,f}"
        each = each.rstrip("0").rstrip(".") if "." in each else each
        what = {
            ERC20_VOTES: "Tokens delegated to you (yourself included)",
            ERC20_BALANCE_OF: "Tokens in your wallet",
            ERC721_BALANCE_OF: "Badges (NFTs) in your wallet",
        }[self.kind]
        return f"{what}: {each} vote{'' if each == '1' else 's'} each"

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "chain_id": self.chain_id,
            "address": self.address,
            "multiplier": str(self.multiplier),
            "decimals": self.decimals,
        }

    @classmethod
    def from_json(cls, data: dict) -> Strategy:
        """A strategy from its JSON form; raises ValueError with a sentence naming what is wrong."""
        if not isinstance(data, dict):
            raise ValueError("A strategy must be an object with kind, chain_id, address and multiplier.")
        unknown = sorted(set(data) - _FIELDS)
        if unknown:
            raise ValueError(
                f"Unknown strategy field {unknown[0]!r}; a strategy has {', '.join(sorted(_FIELDS))}."
            )
        missing = [name for name in ("kind", "chain_id", "address") if name not in data]
        if missing:
            raise ValueError(f"A strategy needs a {missing[0]}.")
        kind = data["kind"]
        default_decimals = 0 if kind == ERC721_BALANCE_OF else 18
        return cls(
            kind=kind,
            chain_id=data["chain_id"],
            address=data["address"],
            multiplier=data.get("multiplier", Decimal(1)),
            decimals=data.get("decimals", default_decimals),
        )


def strategies_from_json(items) -> list[Strategy]:
    """A proposal's strategy list: 1 to MAX_STRATEGIES valid, distinct strategies; ValueError otherwise."""
    if not isinstance(items, list) or not items:
        raise ValueError("A proposal needs at least one voting strategy.")
    if len(items) > MAX_STRATEGIES:
        raise ValueError(f"A proposal may have at most {MAX_STRATEGIES} voting strategies, not {len(items)}.")
    strategies = [Strategy.from_json(item) for item in items]
    seen = set()
    for strategy in strategies:
        key = (strategy.kind, strategy.chain_id, strategy.address)
        if key in seen:
            raise ValueError(
                f"The strategy {strategy.kind} on {strategy.address} (chain {strategy.chain_id}) is listed twice."
            )
        seen.add(key)
    return strategies


_HEX_ADDRESS = re.compile(r"0[xX][0-9a-fA-F]{40}")


def checksum(address, *, what: str = "The address") -> str:
    """The EIP-55 form of `address`; ValueError for anything else, or for mixed case with a wrong checksum."""
    if not isinstance(address, str) or not _HEX_ADDRESS.fullmatch(address):
        raise ValueError(f"{what} {address!r} is not a valid Ethereum address.")
    digits = address[2:]
    checksummed = _eip55(digits.lower())
    if digits not in (digits.lower(), digits.upper()) and address != checksummed:
        raise ValueError(
            f"{what} {address!r} is not a valid Ethereum address: its checksum (mixed case) is wrong."
        )
    return checksummed


@lru_cache(maxsize=100_000)
def _eip55(lower: str) -> str:
    # One keccak per address, cached: web3's to_checksum_address costs four times as much, and a recount of 10,000
    # voters would spend more time there than on the chain.
    digest = keccak(lower.encode()).hex()
    return "0x" + "".join(c.upper() if d >= "8" else c for c, d in zip(lower, digest[:40], strict=True))


def _multiplier(value) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("A strategy's multiplier must be a number.")
    try:
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(f"A strategy's multiplier must be a number, not {value!r}.") from None
    if not number.is_finite() or number <= 0 or number > MAX_MULTIPLIER:
        raise ValueError(f"A strategy's multiplier must be greater than 0 and at most 10^18, not {value!r}.")
    return tidy(number)


def default_strategies() -> list[Strategy]:
    """What a new proposal weighs votes by: PORTAL["DEFAULT_STRATEGIES"] (JSON list) when set, else the home chain's
    LoyaltyToken (erc20-votes, x1) and AchievementBadge (erc721-balance-of, x PORTAL["BADGE_WEIGHT"], default 100
    tokens per badge). Contracts that are not deployed are left out."""
    configured = portal_settings().default_strategies
    if configured:
        return strategies_from_json(list(configured))
    home = home_chain_id()
    strategies = []
    token = contract_address("LoyaltyToken")
    if token:
        strategies.append(Strategy(kind=ERC20_VOTES, chain_id=home, address=token))
    badge = contract_address("AchievementBadge")
    if badge:
        badge_weight = portal_settings().badge_weight
        strategies.append(
            Strategy(
                kind=ERC721_BALANCE_OF, chain_id=home, address=badge, multiplier=badge_weight, decimals=0
            )
        )
    return strategies


@dataclass
class _Read:
    """How one strategy is read: which chain, at which block, with which calldata per voter."""

    strategy: Strategy
    block: int  # the strategy's snapshot block on its own chain
    read_at: int | str
    prefix: bytes
    suffix: bytes = b""

    def calldata(self, voter: str) -> bytes:
        return self.prefix + word(voter) + self.suffix


def _plan(
    strategy: Strategy,
    *,
    home: int,
    snapshot_block: int,
    snapshot_time: datetime | None,
    heads: dict[int, int],
) -> _Read:
    chain_id = strategy.chain_id
    node = chain(chain_id)
    if chain_id == home:
        block = snapshot_block
    else:
        block = block_at_time(chain_id=chain_id, when=snapshot_time)
    if chain_id not in heads:  # one head read per chain, however many strategies it has
        heads[chain_id] = node.block_number()
    head = heads[chain_id]
    if block > head:
        raise ChainUnavailable(
            f"The node for chain {chain_id} is at block {head}, before the snapshot block {block}; it may still be "
            "syncing. Please try again later."
        )
    if strategy.kind != ERC20_VOTES:
        return _Read(strategy, block, block, BALANCE_OF)
    if block == head:  # getPastVotes only answers for blocks before the current one
        return _Read(strategy, block, block, GET_VOTES)
    # Checkpoints are kept on-chain: read them at the head, which any full node serves.
    return _Read(strategy, block, "latest", GET_PAST_VOTES, word(block))


def _resolve_time(
    strategies, *, home: int, snapshot_block: int, snapshot_time: datetime | None
) -> datetime | None:
    """The snapshot's timestamp, read once, when a strategy on another chain needs it."""
    if snapshot_time is None and any(strategy.chain_id != home for strategy in strategies):
        return block_time(chain(home), snapshot_block)
    return snapshot_time


def to_units(raw: int, *, decimals: int, multiplier: Decimal = Decimal(1)) -> Decimal:
    """`raw` base units as exact token units times `multiplier`."""
    return EXACT.multiply(Decimal(raw).scaleb(-decimals, EXACT), multiplier)


def tidy(amount: Decimal) -> Decimal:
    """Without trailing zeros, and whole amounts without an exponent (str(tidy(x)) reads like a person writes it)."""
    if amount == amount.to_integral_value():
        return amount.quantize(Decimal(1), context=EXACT)
    return amount.normalize(EXACT)


def voting_weights(
    *,
    strategies: list[Strategy],
    snapshot_block: int,
    snapshot_time: datetime | None = None,
    addresses: Iterable[str],
    chunk_size: int | None = None,
) -> dict[str, Decimal | None]:
    """Checksummed address -> weight in token units at the snapshot, exact; None where a read failed for that address
    (a reverting contract, empty return data). The same code serves one voter at vote time and every voter at recount.

    Raises ChainUnavailable when a node cannot be reached, ValueError for an address that is not one.
    """
    given = list(addresses)
    lowers = list(dict.fromkeys(_lower(address) for address in given))
    if not lowers or not strategies:
        return {checksum(address): Decimal(0) for address in given}
    if len(given) < OVERLAP_FROM:  # a voter or a page of them: no thread needed
        for address in given:
            checksum(address)  # a wrong mixed-case checksum is refused before any read
        amounts = _read_amounts(
            strategies,
            lowers,
            snapshot_block=snapshot_block,
            snapshot_time=snapshot_time,
            chunk_size=chunk_size,
        )
        return _sum_weights(strategies, lowers, amounts, snapshot_block=snapshot_block)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="weights") as reader:
        # The chain answers while this thread checks the addresses' EIP-55 checksums: a keccak each, which for a
        # 10,000-voter recount costs as much as the reads themselves.
        reading = reader.submit(
            _read_amounts,
            strategies,
            lowers,
            snapshot_block=snapshot_block,
            snapshot_time=snapshot_time,
            chunk_size=chunk_size,
        )
        try:
            for address in given:
                checksum(address)
        except ValueError:
            reading.cancel()
            raise
        amounts = reading.result()
    return _sum_weights(strategies, lowers, amounts, snapshot_block=snapshot_block)


def _sum_weights(strategies, lowers, amounts, *, snapshot_block) -> dict[str, Decimal | None]:
    totals: dict[str, Decimal | None] = {}
    for index, lower in enumerate(lowers):
        total = Decimal(0)
        for strategy, raws in zip(strategies, amounts, strict=True):
            raw = raws[index]
            if raw is None:
                total = None
                break
            total = EXACT.add(
                total, to_units(raw, decimals=strategy.decimals, multiplier=strategy.multiplier)
            )
        totals[_eip55(lower[2:])] = total
    failed = sum(1 for weight in totals.values() if weight is None)
    if failed:
        log.warning(
            "weight read failed for %d of %d addresses at block %s", failed, len(totals), snapshot_block
        )
    return {voter: None if weight is None else tidy(weight) for voter, weight in totals.items()}


def voting_weight(
    *, strategies: list[Strategy], snapshot_block: int, snapshot_time: datetime | None = None, address: str
) -> Decimal:
    """One address's weight at the snapshot. Raises ChainUnavailable (with a sentence) when it cannot be read."""
    voter = checksum(address)
    weight = voting_weights(
        strategies=strategies, snapshot_block=snapshot_block, snapshot_time=snapshot_time, addresses=[voter]
    )[voter]
    if weight is None:
        raise ChainUnavailable(
            f"The voting weight of {voter} at block {snapshot_block} could not be read: a strategy contract did not "
            "answer. Please try again later."
        )
    return weight


@dataclass(frozen=True)
class WeightPart:
    """One strategy's share of a voter's weight: the amount read (token units, or badges) and what it adds."""

    strategy: Strategy
    amount: Decimal | None  # None where that strategy's read failed
    weight: Decimal | None


def weight_parts(
    *, strategies: list[Strategy], snapshot_block: int, snapshot_time: datetime | None = None, address: str
) -> list[WeightPart]:
    """`address`'s weight strategy by strategy (the amounts `voting_weight` sums), read in the same batches.
    Raises ChainUnavailable, ValueError for an address that is not one."""
    lower = _lower(checksum(address))
    if not strategies:
        return []
    amounts = _read_amounts(
        strategies, [lower], snapshot_block=snapshot_block, snapshot_time=snapshot_time, chunk_size=None
    )
    parts = []
    for strategy, raws in zip(strategies, amounts, strict=True):
        raw = raws[0]
        if raw is None:
            parts.append(WeightPart(strategy, None, None))
            continue
        amount = to_units(raw, decimals=strategy.decimals)
        parts.append(WeightPart(strategy, tidy(amount), tidy(EXACT.multiply(amount, strategy.multiplier))))
    return parts


def _read_amounts(
    strategies: list[Strategy], lowers: list[str], *, snapshot_block: int, snapshot_time, chunk_size
) -> list[list[int | None]]:
    """Per strategy, the raw on-chain amount of each address (None where its call failed)."""
    home = home_chain_id()
    heads: dict[int, int] = {}
    snapshot_time = _resolve_time(
        strategies, home=home, snapshot_block=snapshot_block, snapshot_time=snapshot_time
    )
    amounts = []
    for strategy in strategies:
        read = _plan(
            strategy, home=home, snapshot_block=snapshot_block, snapshot_time=snapshot_time, heads=heads
        )
        calls = [Call(strategy.address, read.calldata(lower)) for lower in lowers]
        results = aggregate3(calls, chain_id=strategy.chain_id, block=read.read_at, chunk_size=chunk_size)
        amounts.append(
            [
                None if returned is None or len(returned) < 32 else int.from_bytes(returned[:32], "big")
                for returned in results
            ]
        )
    return amounts


def _lower(address) -> str:
    """The lower-case form of something shaped like an address (checksums are checked separately)."""
    if not isinstance(address, str) or not _HEX_ADDRESS.fullmatch(address):
        raise ValueError(f"The address {address!r} is not a valid Ethereum address.")
    return "0x" + address[2:].lower()


def total_supply_at(
    *, strategies: list[Strategy], snapshot_block: int, snapshot_time: datetime | None = None
) -> Decimal:
    """The most weight there could be at the snapshot (for quorum as a share): getPastTotalSupply for erc20-votes,
    totalSupply() at the block for the others, times the multipliers. Raises ChainUnavailable."""
    total = Decimal(0)
    home = home_chain_id() if strategies else None
    heads: dict[int, int] = {}
    snapshot_time = _resolve_time(
        strategies, home=home, snapshot_block=snapshot_block, snapshot_time=snapshot_time
    )
    for strategy in strategies:
        read = _plan(
            strategy, home=home, snapshot_block=snapshot_block, snapshot_time=snapshot_time, heads=heads
        )
        if read.prefix == GET_PAST_VOTES:
            data, at = GET_PAST_TOTAL_SUPPLY + word(read.block), "latest"
        else:
            data, at = TOTAL_SUPPLY, read.block
        try:
            returned = chain(strategy.chain_id).call_raw(to=strategy.address, data=data, block=at)
        except CallReverted as exc:
            raise ChainUnavailable(
                f"The total supply of {strategy.address} on chain {strategy.chain_id} could not be read ({exc})."
            ) from exc
        if len(returned) < 32:
            raise ChainUnavailable(
                f"The total supply of {strategy.address} on chain {strategy.chain_id} could not be read: no answer."
            )
        raw = int.from_bytes(returned[:32], "big")
        total = EXACT.add(total, to_units(raw, decimals=strategy.decimals, multiplier=strategy.multiplier))
    return tidy(total)
