"""Run one check and measure one number. Failure to measure is a result too (`value=None`, `error` says why)."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from governance.chain import Chain, ChainUnavailable, chain
from governance.deploy import contract_address
from portal.conf import portal_settings
from portal.errors import Refusal
from portal.lending.risk import risk_metric

from .models import Check, CheckKind

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Measurement:
    value: float | None
    error: str = ""

    @property
    def failed(self) -> bool:
        return self.value is None


class CheckFailed(Exception):
    """The check could not run; the message is a sentence for the status page."""


def measure(check: Check) -> Measurement:
    """Run `check` once. Never raises: anything that stops the check is a failed measurement."""
    runner = RUNNERS.get(check.kind)
    try:
        if runner is None:
            raise CheckFailed(f"This portal does not know how to run a “{check.kind}” check.")
        return Measurement(float(runner(check)))
    except CheckFailed as exc:
        return Measurement(None, str(exc))
    except ChainUnavailable as exc:
        return Measurement(None, str(exc))
    except Exception as exc:  # a check that cannot run is an outage, never a crashed sampler
        log.warning("check %s failed: %r", check.pk, exc)
        return Measurement(None, f"The check could not run: {type(exc).__name__}: {str(exc)[:160]}")


_probes: dict[str, Chain] = {}


def probe() -> Chain:
    """The portal's home chain with a short timeout and one retry: a probe must not hang the sampler when a node
    accepts connections but stops answering."""
    url = chain().rpc_url
    if url not in _probes:
        timeout = portal_settings().health_rpc_timeout_seconds
        node = Chain(url, timeout=timeout, retries=2)
        node.provider.exception_retry_configuration = None  # web3's own retries would multiply ours
        _probes[url] = node
    return _probes[url]


def _rpc_latency(check: Check) -> float:
    node = probe()
    started = time.perf_counter()
    node.block_number()
    return (time.perf_counter() - started) * 1000


def _rpc_head_age(check: Check) -> float:
    block = probe().get_block("latest")
    return max(0.0, time.time() - float(block["timestamp"]))


def _rpc_head_lag(check: Check) -> float:
    reference_url = check.config.get("reference_rpc_url") or portal_settings().health_reference_rpc_url
    if not reference_url:
        raise CheckFailed("No reference node is configured to compare the head block with.")
    ours = probe().block_number()
    theirs = Chain(reference_url, timeout=5, retries=2).block_number()
    return max(0, theirs - ours)


def _database(check: Check) -> float:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return (time.perf_counter() - started) * 1000


def _channel_layer(check: Check) -> float:
    layer = get_channel_layer()
    if layer is None:
        raise CheckFailed("No channel layer is configured, so live updates cannot be delivered.")

    async def round_trip() -> float:
        channel = await layer.new_channel("health.")
        started = time.perf_counter()
        await layer.send(channel, {"type": "health.ping"})
        await asyncio.wait_for(layer.receive(channel), timeout=5)
        return (time.perf_counter() - started) * 1000

    try:
        # A thread of its own: async_to_sync refuses a thread that already runs a loop (e.g. Playwright's sync API).
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(async_to_sync(round_trip)).result()
    except asyncio.TimeoutError:
        raise CheckFailed("A message sent through the channel layer did not come back within 5 seconds.") from None


# --- contract views ---------------------------------------------------------------------------------------------


def split_types(text: str) -> list[str]:
    """`"uint80,int256,(uint256,bool)"` → the top-level types."""
    types, depth, current = [], 0, ""
    for char in text:
        if char == "," and depth == 0:
            types.append(current.strip())
            current = ""
            continue
        depth += (char == "(") - (char == ")")
        current += char
    if current.strip():
        types.append(current.strip())
    return types


@dataclass(frozen=True)
class ViewSignature:
    name: str
    inputs: list[str]
    outputs: list[str]

    @classmethod
    def parse(cls, signature: str) -> ViewSignature:
        """`"latestRoundData()(uint80,int256,uint256,uint256,uint80)"` — the inputs, then the outputs in brackets."""
        text = signature.replace(" ", "")
        open_at = text.find("(")
        depth, close_at = 0, -1
        for index in range(open_at, len(text)) if open_at > 0 else ():
            depth += (text[index] == "(") - (text[index] == ")")
            if depth == 0:
                close_at = index
                break
        rest = text[close_at + 1:] if close_at > 0 else ""
        if close_at < 0 or not (rest.startswith("(") and rest.endswith(")")) or len(rest) < 3:
            raise CheckFailed(
                f"“{signature}” is not a function signature with outputs, e.g. utilization()(uint256)."
            )
        return cls(text[:open_at], split_types(text[open_at + 1:close_at]), split_types(rest[1:-1]))

    @property
    def selector(self) -> bytes:
        return function_signature_to_4byte_selector(f"{self.name}({','.join(self.inputs)})")


def _coerce_arg(abi_type: str, value):
    if abi_type.startswith(("uint", "int")):
        return int(value)
    if abi_type == "address":
        return to_checksum_address(value)
    if abi_type == "bool":
        return bool(value)
    return value


def contract_address_of(config: dict) -> str:
    if config.get("address"):
        return to_checksum_address(config["address"])
    name = config.get("contract", "")
    address = contract_address(name)
    if not address:
        raise CheckFailed(f"The {name} contract is not deployed on this chain, so its metric cannot be read.")
    return address


def read_view(config: dict) -> float:
    """Call the configured view, pick the result at `result_index`, scale by `decimals`, optionally take its age."""
    signature = ViewSignature.parse(config.get("signature", ""))
    args = config.get("args") or []
    if len(args) != len(signature.inputs):
        raise CheckFailed(f"{signature.name} takes {len(signature.inputs)} arguments but {len(args)} are configured.")
    address = contract_address_of(config)
    node = probe()
    calldata = signature.selector + encode(signature.inputs, [_coerce_arg(t, a) for t, a in zip(signature.inputs, args, strict=True)])
    raw = node.call({"to": address, "data": "0x" + calldata.hex()})
    if not raw:
        if not node.get_code(address):
            raise CheckFailed(f"There is no contract at {address} on this chain.")
        raise CheckFailed(f"{signature.name} at {address} returned nothing.")
    try:
        results = decode(signature.outputs, bytes(raw))
    except Exception:
        raise CheckFailed(f"{signature.name} at {address} did not return ({','.join(signature.outputs)}).") from None
    index = int(config.get("result_index", 0))
    if not 0 <= index < len(results):
        raise CheckFailed(f"{signature.name} returns {len(results)} values; there is no value number {index}.")
    value = results[index]
    if isinstance(value, bool):
        value = int(value)
    if not isinstance(value, int):
        raise CheckFailed(f"Value {index} of {signature.name} is not a number.")
    if config.get("transform") == "age":
        # Age against the chain's own clock (the head block), the clock the contract itself sees.
        return float(max(0, int(node.get_block("latest")["timestamp"]) - value))
    return float(Decimal(value).scaleb(-int(config.get("decimals", 0))))


def _contract_view(check: Check) -> float:
    return read_view(check.config)


def _lending_risk(check: Check) -> float:
    try:
        value = risk_metric(check.config.get("metric", ""))
    except Refusal as exc:  # no pool configured, a pool of the wrong kind, an unknown metric
        raise CheckFailed(exc.message) from None
    if value is None:
        raise CheckFailed("The lending market has no value for this metric right now.")
    return value


RUNNERS = {
    CheckKind.RPC_LATENCY: _rpc_latency,
    CheckKind.RPC_HEAD_AGE: _rpc_head_age,
    CheckKind.RPC_HEAD_LAG: _rpc_head_lag,
    CheckKind.DATABASE: _database,
    CheckKind.CHANNEL_LAYER: _channel_layer,
    CheckKind.CONTRACT_VIEW: _contract_view,
    CheckKind.LENDING_RISK: _lending_risk,
}
