"""Who signed a hash: the one signer check for sign-in (EIP-4361) and votes (EIP-712).

`signer_check(address=, digest=, signature=)` proves that `address` signed the 32-byte `digest`, or raises
`SignatureRefused` with a sentence. Three kinds of signer, in this order:

- EIP-6492 (the signature ends with the 6492 magic suffix): a wallet not deployed yet. Its deployment is simulated
  with `eth_call` through the EIP-6492 reference validator (never sent), then asked EIP-1271.
- A contract at the address: EIP-1271 `isValidSignature(digest, signature)` before any ecrecover attempt, so smart
  wallets whose signatures are not ECDSA (WebAuthn passkeys) are asked, not guessed at. An empty `0x` signature is
  passed as it is: a Safe answers it from the messages its owners approved on-chain (SignMessageLib).
- Otherwise an EOA: a 65-byte ECDSA signature whose s is in the lower half of the curve order (EIP-2), so one
  signature has one form only; ecrecover must give the address.

An EIP-7702 account (code 0xef0100 ‖ delegate) is both: its key signs as an EOA, and its delegate may answer EIP-1271.
When the node cannot be reached, an EOA signature that recovers to the address is still proof (the key signed);
anything else raises ChainUnavailable, because only the node knows whether the address is a contract.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import coincurve
from eth_abi import decode, encode
from eth_abi.exceptions import DecodingError
from eth_hash.auto import keccak
from eth_utils import to_checksum_address
from siwe.siwe import EIP6492_VALIDATOR_BYTECODE

from governance.chain import CallReverted, Chain, ChainUnavailable, chain

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
EIP1271_MAGIC = bytes.fromhex("1626ba7e")  # isValidSignature(bytes32,bytes)
EIP6492_SUFFIX = bytes.fromhex("6492" * 16)
EIP7702_PREFIX = bytes.fromhex("ef0100")
# The reference validator from EIP-6492 (as shipped by the siwe library): deployless, answers 0x01 when valid.
EIP6492_VALIDATOR = bytes.fromhex(EIP6492_VALIDATOR_BYTECODE.removeprefix("0x"))

EOA, EIP1271, EIP6492 = "eoa", "eip1271", "eip6492"
HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


class SignatureRefused(Exception):
    """The signature does not prove that the address signed; `str()` is a sentence."""


class NotSignedBy(SignatureRefused):
    """Not an ECDSA signature by that key (another key signed, or it is no signature at all)."""


class WalletRefused(SignatureRefused):
    """A contract wallet (deployed or counterfactual) answered that it does not approve this signature."""


class MalleableSignature(SignatureRefused):
    """An ECDSA signature in its high-s form (EIP-2)."""


@dataclass(frozen=True)
class SignerProof:
    """How the address proved it signed: `kind` is eoa, eip1271 or eip6492; for a contract wallet the block
    (number and hash) at which it answered, so a recount can ask it again at that same block."""

    kind: str
    block_number: int | None = None
    block_hash: str | None = None


def is_eip6492(signature: bytes) -> bool:
    return len(signature) > len(EIP6492_SUFFIX) and signature.endswith(EIP6492_SUFFIX)


def eip55(address: str) -> str:
    """The EIP-55 (checksummed) spelling of a `0x` + 40 hex digits address, whatever its case; raises ValueError
    for anything else. One keccak: eth_utils' to_checksum_address, which accepts many input types, cost a sign-in
    about 100 µs a call under load, and a sign-in needed it three times."""
    if not HEX_ADDRESS.fullmatch(address):
        raise ValueError(f"{address!r} is not a 0x-prefixed 40-hex-digit address.")
    lower = address[2:].lower()
    digits = keccak(lower.encode("ascii")).hex()
    # A letter is upper-case where the hash's hex digit at the same place is 8 or more ("a"-"f" sort after "8").
    return "0x" + "".join(c.upper() if d >= "8" else c for c, d in zip(lower, digits))


def _key_address(digest: bytes, signature: bytes) -> bytes:
    """The 20 bytes of the address whose key made this 65-byte low-s signature of `digest`: the public key is
    recovered once (coincurve, libsecp256k1) and hashed; raises SignatureRefused. The low-s check is a comparison
    of s with n/2, before any recovery."""
    if len(signature) != 65:
        raise NotSignedBy("The signature is not a 65-byte ECDSA signature.")
    r, s, v = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big"), signature[64]
    if s > SECP256K1_N // 2:
        raise MalleableSignature(
            "The signature uses the high-s form that EIP-2 forbids (s greater than half the curve order). "
            "Sign again with a current wallet, which produces the standard low-s form."
        )
    if v >= 27:
        v -= 27
    if v not in (0, 1) or not (0 < r < SECP256K1_N and 0 < s):
        raise NotSignedBy("The signature is not a valid ECDSA signature.")
    try:
        key = coincurve.PublicKey.from_signature_and_message(signature[:64] + bytes([v]), digest, hasher=None)
    except ValueError:  # no point of the curve has this r, or the digest is not 32 bytes
        raise NotSignedBy("The signature is not a valid ECDSA signature.") from None
    return keccak(key.format(compressed=False)[1:])[12:]


def ecdsa_signer(digest: bytes, signature: bytes) -> str:
    """The checksummed address whose key made this 65-byte low-s signature of `digest`; raises SignatureRefused."""
    return eip55("0x" + _key_address(digest, signature).hex())


def _pinned_block(node: Chain, at: int | None) -> tuple[int, str]:
    block = node.get_block("latest" if at is None else at)
    return block["number"], block["hash"].to_0x_hex()


def _eip1271(node: Chain, address: str, digest: bytes, signature: bytes, block: int) -> bool:
    calldata = EIP1271_MAGIC + encode(["bytes32", "bytes"], [digest, signature])
    try:
        answer = node.call_raw(to=address, data=calldata, block=block)
    except CallReverted:  # a wallet that reverts says no
        return False
    return answer[:4] == EIP1271_MAGIC


def _eip6492(node: Chain, address: str, digest: bytes, signature: bytes, block: int) -> bool:
    """Simulate the factory deployment and ask the new wallet, all inside one eth_call (nothing is sent)."""
    deployless = EIP6492_VALIDATOR + encode(["address", "bytes32", "bytes"], [address, digest, signature])
    tag = hex(block)
    response = node.retrying(
        "simulating a wallet deployment", node.provider.make_request, "eth_call", [{"data": "0x" + deployless.hex()}, tag]
    )
    if "error" in response:  # the validator reverts when the deployment fails or the signature is malformed
        return False
    return response["result"][-2:] == "01"


def _ecdsa_matches(key_address: bytes, digest: bytes, signature: bytes) -> bool:
    try:
        return _key_address(digest, signature) == key_address
    except MalleableSignature:
        raise
    except SignatureRefused:
        return False


def signer_check(
    *, address: str, digest: bytes, signature: bytes, node: Chain | None = None, at_block: int | None = None
) -> SignerProof:
    """Prove that `address` signed `digest` with `signature` (an EOA, EIP-1271 or EIP-6492 wallet), or raise
    SignatureRefused (NotSignedBy, WalletRefused, MalleableSignature) with a sentence. Raises ChainUnavailable
    when the answer needs the node and the node is down (or cannot serve `at_block`).

    A contract wallet is asked at the head block, or at `at_block` when a recount repeats an earlier check."""
    if isinstance(address, str) and HEX_ADDRESS.fullmatch(address):
        key_address = bytes.fromhex(address[2:])  # compared as bytes: no checksum needed to match a key
    else:
        key_address = bytes.fromhex(to_checksum_address(address)[2:])  # other spellings, as before; raises ValueError
    if not is_eip6492(signature):
        # A valid low-s signature that recovers to the address is its key's: no contract can sit at a key's
        # address (short of a keccak collision), and a key's EIP-7702 delegation is accepted by its key anyway.
        # So the node is asked only when the key did not sign (a contract wallet) — not once per sign-in or vote.
        try:
            if _ecdsa_matches(key_address, digest, signature):
                return SignerProof(EOA)
        except MalleableSignature:
            pass  # a contract wallet may still accept it; an address without code is refused below
    address = eip55("0x" + key_address.hex())
    node = node or chain()
    try:
        code = node.get_code(address, "latest" if at_block is None else at_block)
    except ChainUnavailable:
        # Without the node only a key's own signature can be proven; a contract wallet must wait for the node.
        if _ecdsa_matches(key_address, digest, signature):
            return SignerProof(EOA)
        raise
    if is_eip6492(signature):
        try:
            _factory, _calldata, inner = decode(["address", "bytes", "bytes"], signature[: -len(EIP6492_SUFFIX)])
        except DecodingError:
            raise NotSignedBy("The EIP-6492 signature is not (factory, calldata, signature) ABI-encoded.") from None
        number, block_hash = _pinned_block(node, at_block)
        if code and _eip1271(node, address, digest, inner, number):
            return SignerProof(EIP1271, number, block_hash)
        if _eip6492(node, address, digest, signature, number):
            return SignerProof(EIP6492, number, block_hash)
        raise WalletRefused("The wallet's contract did not accept this signature.")
    delegated = code.startswith(EIP7702_PREFIX) and len(code) == 23
    if not code or delegated:
        if _ecdsa_matches(key_address, digest, signature):
            return SignerProof(EOA)
        if not code:
            raise NotSignedBy("The signature was not made by this address's key.")
    number, block_hash = _pinned_block(node, at_block)
    if _eip1271(node, address, digest, signature, number):
        return SignerProof(EIP1271, number, block_hash)
    raise WalletRefused("The wallet's contract did not accept this signature.")
