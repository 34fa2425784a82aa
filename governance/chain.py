"""The one door to the blockchain. Nothing else in the code knows an RPC URL.

`chain()` gives the portal's home chain (CHAIN_RPC_URL); `chain(chain_id=N)` another configured chain. Tests point
the settings at a real anvil; nothing here is mocked.
"""

from __future__ import annotations

import logging
import time
from functools import cached_property

import requests
from eth_account import Account
from web3 import Web3
from web3.exceptions import BlockNotFound, ContractLogicError, Web3RPCError
from web3.providers.rpc import HTTPProvider

from portal.conf import portal_settings
from portal.errors import Unavailable

log = logging.getLogger(__name__)

RPC_TIMEOUT_SECONDS = 10
RPC_RETRIES = 3
TRANSIENT_ERRORS = (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError, OSError)


class ChainUnavailable(Unavailable):
    """The node could not be reached or did not answer; the message is a sentence a person can read."""


class CallReverted(Exception):
    """A contract call reverted (the node answered; the contract said no)."""


class TransactionFailed(Exception):
    """A transaction reverted or would revert."""


# What nodes say when they no longer hold a past block's state (geth, erigon, nethermind, anvil, hosted RPCs).
_MISSING_STATE_HINTS = (
    "missing trie node", "header not found", "unknown block", "pruned", "out of range", "outofrange",
    "block height is", "historical state", "state is not available", "state not available", "state histories",
    "not available", "archive",
)


def archive_node_sentence(block) -> str:
    """The one sentence for 'the node cannot read that block', whatever the node's own words were."""
    return (
        f"The blockchain node cannot read the state at block {block}: it does not keep old blocks. "
        "Point CHAIN_RPC_URL at an archive node."
    )


def _node_error_sentence(message: str, *, block) -> str:
    lowered = message.lower()
    if block != "latest" and any(hint in lowered for hint in _MISSING_STATE_HINTS):
        log.warning("node cannot serve block %s: %s", block, message)
        return archive_node_sentence(block)
    return f"The blockchain node refused the read: {message}"


class Chain:
    """A JSON-RPC endpoint with timeouts, retries with backoff, and a clear error when the node is gone."""

    def __init__(self, rpc_url: str, *, timeout: float = RPC_TIMEOUT_SECONDS, retries: int = RPC_RETRIES):
        self.rpc_url = rpc_url
        self.retries = retries
        # Our own retries (retrying()) are the only ones: web3's would multiply them and stall callers for minutes.
        self.provider = HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None)
        self.w3 = Web3(self.provider)

    def __repr__(self) -> str:
        return f"<Chain {self.rpc_url}>"

    def retrying(self, what: str, fn, *args, **kwargs):
        """Run `fn` and retry transient network errors with exponential backoff; then raise ChainUnavailable."""
        delay = 0.1
        for attempt in range(1, self.retries + 1):
            try:
                return fn(*args, **kwargs)
            except TRANSIENT_ERRORS as exc:
                if attempt == self.retries:
                    log.warning("chain %s unreachable while %s: %s", self.rpc_url, what, exc)
                    raise ChainUnavailable(
                        "The blockchain node cannot be reached right now, so on-chain data could not be read. "
                        "Please try again in a minute."
                    ) from exc
                time.sleep(delay)
                delay *= 3
            except Web3RPCError as exc:
                if "timeout" in str(exc).lower() and attempt < self.retries:
                    time.sleep(delay)
                    delay *= 3
                    continue
                raise

    @cached_property
    def chain_id(self) -> int:
        """Read once per node (a failed read is not cached)."""
        return self.retrying("reading the chain id", lambda: self.w3.eth.chain_id)

    def block_number(self) -> int:
        return self.retrying("reading the head block", lambda: self.w3.eth.block_number)

    def get_block(self, block: int | str = "latest"):
        return self._answered(block, f"reading block {block}", self.w3.eth.get_block, block)

    def get_code(self, address: str, block: int | str = "latest") -> bytes:
        return self._answered(
            block, "reading contract code", self.w3.eth.get_code, Web3.to_checksum_address(address), block
        )

    def _answered(self, block, what: str, fn, *args):
        """`retrying`, with the node's refusal of a past block as the archive-node sentence (ChainUnavailable)."""
        try:
            return self.retrying(what, fn, *args)
        except (Web3RPCError, BlockNotFound) as exc:
            raise ChainUnavailable(_node_error_sentence(str(exc), block=block)) from exc

    def call(self, tx: dict, block: int | str = "latest") -> bytes:
        return self.retrying("calling a contract", self.w3.eth.call, tx, block)

    def call_raw(
        self, *, to: str, data: bytes, block: int | str = "latest", state_override: dict | None = None
    ) -> bytes:
        """One `eth_call` without web3's formatters (batched reads send megabytes). Raises CallReverted on a revert.
        `state_override` is eth_call's third parameter ({address: {"code": "0x…"}})."""
        tag = hex(block) if isinstance(block, int) else block
        params = [{"to": to, "data": "0x" + data.hex()}, tag]
        if state_override:
            params.append(state_override)
        response = self.retrying("calling a contract", self.provider.make_request, "eth_call", params)
        if "error" in response:
            message = str(response["error"].get("message", response["error"]))
            if "revert" in message.lower():
                raise CallReverted(message)
            raise ChainUnavailable(_node_error_sentence(message, block=block))
        return bytes.fromhex(response["result"][2:])

    def get_logs(self, *, address: str, topics: list, from_block: int, to_block: int) -> list[dict]:
        """`eth_getLogs` of one contract between two blocks (inclusive), raw: each log's `topics`, `data`,
        `blockNumber` as the node sent them. Raises ChainUnavailable when the node cannot answer."""
        params = [{"address": address, "topics": topics, "fromBlock": hex(from_block), "toBlock": hex(to_block)}]
        response = self.retrying("reading contract events", self.provider.make_request, "eth_getLogs", params)
        if "error" in response:
            message = str(response["error"].get("message", response["error"]))
            raise ChainUnavailable(f"The blockchain node refused to list contract events: {message}")
        return response["result"]

    def send_transaction(self, *, key: str, tx: dict, wait: bool = True) -> dict | str:
        """Sign `tx` (to, data, value …; nonce, gas and fees are filled in) with `key`, send it, and wait for the
        receipt. Raises TransactionFailed when it reverts. For the dev chain, scripts and tests."""
        account = Account.from_key(key)
        tx = {"from": account.address, "chainId": self.chain_id, **tx}
        tx.setdefault(
            "nonce",
            self.retrying("reading a nonce", self.w3.eth.get_transaction_count, account.address, "pending"),
        )
        if "gas" not in tx:
            try:
                # Generous: anvil under-estimates calls whose refunds matter (a burn); unused gas is not charged.
                tx["gas"] = int(self.retrying("estimating gas", self.w3.eth.estimate_gas, tx) * 1.5) + 50_000
            except (ContractLogicError, Web3RPCError) as exc:
                raise TransactionFailed(f"The transaction would revert: {exc}") from exc
        if "maxFeePerGas" not in tx and "gasPrice" not in tx:
            base = self.get_block("latest").get("baseFeePerGas", 0)
            tx["maxPriorityFeePerGas"] = 10**9
            tx["maxFeePerGas"] = 2 * base + 10**9
        signed = account.sign_transaction(tx)
        tx_hash = self.retrying(
            "sending a transaction", self.w3.eth.send_raw_transaction, signed.raw_transaction
        )
        if not wait:
            return tx_hash
        receipt = self.retrying(
            "waiting for a receipt", self.w3.eth.wait_for_transaction_receipt, tx_hash, 60
        )
        if receipt["status"] != 1:
            raise TransactionFailed(f"Transaction {tx_hash.to_0x_hex()} reverted.")
        return receipt

    def is_reachable(self) -> bool:
        try:
            self.block_number()
        except ChainUnavailable:
            return False
        return True


_nodes: dict[str, Chain] = {}


def chain(chain_id: int | None = None) -> Chain:
    """The node for `chain_id` (default: the portal's home chain). Raises ChainUnavailable for an unknown chain."""
    conf = portal_settings()
    if chain_id is None or (conf.chain_id is not None and chain_id == conf.chain_id):
        url = conf.chain_rpc_url
    elif chain_id in conf.chain_rpc_urls:
        url = conf.chain_rpc_urls[chain_id]
    elif chain_id == home_chain_id():
        url = conf.chain_rpc_url
    else:
        raise ChainUnavailable(f"The portal has no RPC endpoint configured for chain {chain_id}.")
    if url not in _nodes:
        _nodes[url] = Chain(url)
    return _nodes[url]


def home_chain_id() -> int:
    """CHAIN_ID when set, otherwise read from the node (cached per URL)."""
    conf = portal_settings()
    if conf.chain_id is not None:
        return conf.chain_id
    return chain().chain_id
