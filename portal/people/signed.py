"""Signed delegation: the loyalty token's EIP-712 `Delegation(address delegatee,uint256 nonce,uint256 expiry)`, which
a holder signs with no gas and anyone may send as `delegateBySig(delegatee, nonce, expiry, v, r, s)`
(OpenZeppelin Votes).

The token's own domain comes from the chain through ERC-5267 `eip712Domain()`, the holder's next nonce from
`nonces(holder)`, and the time the contract will compare the expiry with from the head block — one Multicall3 read.
The portal prepares what to sign and checks a signed delegation before a wallet is asked to send it; it never sends
one itself (CONTRACT names no relayer, so the portal holds no key that pays gas).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from eth_abi import decode, encode
from eth_abi.exceptions import DecodingError
from eth_account.messages import _hash_eip191_message, encode_typed_data

from governance.batch import Call, aggregate3, selector, word
from governance.chain import chain
from governance.delegation import token_address
from governance.deploy import multicall_address
from governance.signers import EIP7702_PREFIX, SignatureRefused, ecdsa_signer
from portal.errors import Conflict, Refusal
from portal.parsing import parse_int

from .selectors import address_parse

EIP712_DOMAIN = selector("eip712Domain()")
NONCES = selector("nonces(address)")
BLOCK_TIMESTAMP = selector("getCurrentBlockTimestamp()")
DELEGATE_BY_SIG = selector("delegateBySig(address,uint256,uint256,uint8,bytes32,bytes32)")
DELEGATION_TYPE = [
    {"name": "delegatee", "type": "address"},
    {"name": "nonce", "type": "uint256"},
    {"name": "expiry", "type": "uint256"},
]
# ERC-5267: bit i of `fields` says the domain has field i.
DOMAIN_FIELDS = (("name", "string"), ("version", "string"), ("chainId", "uint256"),
                 ("verifyingContract", "address"), ("salt", "bytes32"))
VALID_DAYS_MAX = 365
DAY = 86_400


class ExpiredSignature(Refusal):
    status = 410  # Gone: it can never be sent again


@dataclass(frozen=True)
class TokenState:
    """What the chain says right now about the token and one holder."""

    token: str
    domain: dict
    domain_types: list[dict]
    nonce: int  # the holder's next unused nonce
    chain_time: int  # the head block's timestamp: what `block.timestamp > expiry` compares with


@dataclass(frozen=True)
class SignedDelegation:
    """A delegation as signed, and what sending it takes: `calldata` for the token (`to`)."""

    chain_id: int
    token: str
    holder: str
    delegatee: str
    nonce: int
    expiry: int
    v: int
    r: str
    s: str
    digest: str

    @property
    def calldata(self) -> str:
        args = encode(
            ["address", "uint256", "uint256", "uint8", "bytes32", "bytes32"],
            [self.delegatee, self.nonce, self.expiry, self.v, bytes.fromhex(self.r[2:]), bytes.fromhex(self.s[2:])],
        )
        return "0x" + (DELEGATE_BY_SIG + args).hex()

    @property
    def valid_until(self) -> datetime:
        return datetime.fromtimestamp(self.expiry, tz=UTC)

    def payload(self) -> dict:
        """The copyable form: everything another wallet, Etherscan's "write contract" or `cast send` needs."""
        return {
            "chain_id": self.chain_id, "token": self.token, "holder": self.holder, "delegatee": self.delegatee,
            "nonce": self.nonce, "expiry": self.expiry, "v": self.v, "r": self.r, "s": self.s,
            "calldata": self.calldata,
        }


def token_state(*, holder: str) -> TokenState:
    """The token's EIP-712 domain (ERC-5267), `nonces(holder)` and the head block's time, in one read. Raises
    Refusal when there is no token or it has no usable domain, ChainUnavailable when the node cannot answer."""
    token = token_address()
    if not token:
        raise Conflict("There is no loyalty token on this chain yet, so there is nothing to delegate.")
    domain_raw, nonce_raw, time_raw = aggregate3([
        Call(token, EIP712_DOMAIN), Call(token, NONCES + word(holder)), Call(multicall_address(), BLOCK_TIMESTAMP),
    ])
    if domain_raw is None or nonce_raw is None or time_raw is None:
        raise Conflict("The loyalty token does not offer signed delegation (ERC-5267 eip712Domain and nonces).")
    try:
        fields, name, version, chain_id, verifying, salt, extensions = decode(
            ["bytes1", "string", "string", "uint256", "address", "bytes32", "uint256[]"], domain_raw
        )
    except DecodingError:
        raise Conflict("The loyalty token answered eip712Domain() with something that is not an EIP-712 domain.") from None
    if extensions:
        raise Conflict("The loyalty token's EIP-712 domain uses extensions the portal does not know.")
    values = {"name": name, "version": version, "chainId": chain_id, "verifyingContract": address_parse(verifying),
              "salt": "0x" + salt.hex()}
    present = [(key, kind) for bit, (key, kind) in enumerate(DOMAIN_FIELDS) if fields[0] >> bit & 1]
    return TokenState(
        token=token,
        domain={key: values[key] for key, _ in present},
        domain_types=[{"name": key, "type": kind} for key, kind in present],
        nonce=int.from_bytes(nonce_raw[:32], "big"),
        chain_time=int.from_bytes(time_raw[:32], "big"),
    )


def typed_data(*, state: TokenState, message: dict) -> dict:
    """The full EIP-712 structure for eth_signTypedData_v4."""
    return {
        "types": {"EIP712Domain": state.domain_types, "Delegation": DELEGATION_TYPE},
        "domain": state.domain,
        "primaryType": "Delegation",
        "message": message,
    }


def _now(state: TokenState) -> int:
    # A signature is dead once the chain's clock or ours has passed its expiry, whichever is later.
    return max(int(time.time()), state.chain_time)


def delegation_prepare(*, holder: str, delegatee: str, days: int) -> dict:
    """What `holder` signs to delegate to `delegatee` for `days` (1–365): the token's domain as the chain reports it,
    the holder's current nonce, an expiry `days` from now. Raises Refusal (bad address, bad days, a contract wallet,
    no token) or ChainUnavailable."""
    holder, delegatee = address_parse(holder), address_parse(delegatee)
    days = parse_int(days, what="The number of days the signature stays valid", minimum=1, maximum=VALID_DAYS_MAX)
    code = chain().get_code(holder)
    if code and not bytes(code).startswith(EIP7702_PREFIX):
        raise Refusal(
            f"{holder} is a contract wallet (a Safe or another smart account): only a wallet with its own key can "
            "sign a delegation. Send the delegation as a transaction from that wallet instead."
        )
    state = token_state(holder=holder)
    message = {"delegatee": delegatee, "nonce": state.nonce, "expiry": _now(state) + days * DAY}
    return typed_data(state=state, message=message)


def _hex32(raw: object, *, what: str) -> str:
    text = raw if isinstance(raw, str) else ""
    try:
        if len(text) == 66 and text[:2] in ("0x", "0X"):
            return "0x" + bytes.fromhex(text[2:]).hex()
    except ValueError:
        pass
    raise Refusal(f"{what} of the signature must be 0x followed by 64 hexadecimal characters.")


def delegation_check(*, payload: dict) -> SignedDelegation:
    """Check a signed delegation against the chain now, before any wallet is asked to send it: the portal's chain
    and token, the signature made by `holder` (low-s ECDSA, as the contract requires) over this delegatee, nonce and
    expiry, an expiry still ahead, and the nonce the one the chain expects next. Returns it with the calldata;
    raises Refusal with the sentence of the first thing wrong, or ChainUnavailable."""
    holder = address_parse(payload.get("holder"))
    delegatee = address_parse(payload.get("delegatee"))
    chain_id = parse_int(payload.get("chain_id"), what="The chain id", minimum=1)
    token = address_parse(payload.get("token"))
    nonce = parse_int(payload.get("nonce"), what="The signature's number (nonce)", minimum=0)
    expiry = parse_int(payload.get("expiry"), what="The expiry", minimum=0)
    v = parse_int(payload.get("v"), what="v of the signature", minimum=0, maximum=28)
    r, s = _hex32(payload.get("r"), what="r"), _hex32(payload.get("s"), what="s")
    v = v + 27 if v in (0, 1) else v
    if v not in (27, 28):
        raise Refusal("v of the signature must be 27 or 28 (or 0 or 1).")
    state = token_state(holder=holder)
    home = state.domain.get("chainId")
    if home is not None and chain_id != home:
        raise Refusal(
            f"This delegation was signed for chain {chain_id}, but the portal's loyalty token is on chain {home}: "
            "it cannot be sent here.", status=422,
        )
    if token != state.token:
        raise Refusal(
            f"This delegation was signed for another token ({token}), not the portal's loyalty token "
            f"({state.token}).", status=422,
        )
    message = {"delegatee": delegatee, "nonce": nonce, "expiry": expiry}
    digest = _hash_eip191_message(encode_typed_data(full_message=typed_data(state=state, message=message)))
    signature = bytes.fromhex(r[2:] + s[2:]) + bytes([v])
    try:
        signer = ecdsa_signer(digest, signature)
    except SignatureRefused as refused:
        raise Refusal(str(refused), status=422) from None
    if signer != holder:
        raise Refusal(
            f"This signature was not made by {holder} for this delegation (to {delegatee}, number {nonce}, "
            "with this expiry): ask the holder to sign it again with their own wallet.", status=422,
        )
    if expiry <= _now(state):
        when = datetime.fromtimestamp(min(expiry, 253402300799), tz=UTC).strftime("%-d %b %Y, %H:%M UTC")
        raise ExpiredSignature(
            f"This signed delegation expired on {when}, so the chain will no longer accept it. Ask the holder to "
            "sign a new one."
        )
    if nonce < state.nonce:
        raise Conflict(
            "This signed delegation has already been sent, or the holder has used a newer signature since, so the "
            f"chain will not accept it again (it is number {nonce}; the holder's next is {state.nonce})."
        )
    if nonce > state.nonce:
        raise Conflict(
            f"This signed delegation cannot be sent yet: it is number {nonce}, and the chain expects number "
            f"{state.nonce} from this holder first. Ask the holder to sign a new one."
        )
    return SignedDelegation(
        chain_id=chain_id, token=token, holder=holder, delegatee=delegatee, nonce=nonce, expiry=expiry,
        v=v, r=r, s=s, digest="0x" + digest.hex(),
    )
