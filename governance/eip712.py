"""Signed votes (EIP-712): the domain, the `Vote` type, the receipt hash; the signer check is governance.signers.

What `GET /api/v1/eip712` returns is exactly what the wallet signs: `{"domain", "types", "primaryType": "Vote"}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_hash.auto import keccak
from eth_utils import is_hex_address, to_checksum_address

from governance.chain import home_chain_id
from governance.signers import MalleableSignature, SignatureRefused, SignerProof, signer_check
from portal.conf import portal_settings
from portal.errors import Refusal

MAX_REASON_LENGTH = 2000
MAX_CHOICE_LENGTH = 2000
UINT64_MAX = 2**64 - 1

VOTE_TYPES = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
    ],
    "Vote": [
        {"name": "from", "type": "address"},
        {"name": "proposal", "type": "uint256"},
        {"name": "choice", "type": "string"},
        {"name": "reason", "type": "string"},
        {"name": "timestamp", "type": "uint64"},
    ],
}


def _type_hash(primary: str) -> bytes:
    fields = ",".join(f"{field['type']} {field['name']}" for field in VOTE_TYPES[primary])
    return keccak(f"{primary}({fields})".encode())


# Both structs hold only atomic fields, so each type hash is its own type string's keccak (EIP-712 encodeType).
DOMAIN_TYPE_HASH = _type_hash("EIP712Domain")
VOTE_TYPE_HASH = _type_hash("Vote")


class BadSignature(Refusal):
    """The signature does not prove that `from` signed this vote (or the envelope is malformed): a 400 sentence."""


def eip712_domain(*, chain_id: int | None = None, name: str | None = None) -> dict:
    """CONTRACT's domain: `{"name": GOVERNANCE_NAME, "version": "1", "chainId": CHAIN_ID}`."""
    if chain_id is None:
        chain_id = home_chain_id()
    return {"name": name or portal_settings().governance_name, "version": "1", "chainId": int(chain_id)}


def typed_data(*, domain: dict, message: dict | None = None) -> dict:
    """The full EIP-712 structure (without message when `message` is None, as the API publishes it)."""
    data = {"domain": domain, "types": VOTE_TYPES, "primaryType": "Vote"}
    if message is not None:
        data["message"] = message
    return data


@lru_cache(maxsize=16)
def _domain_separator(name: str, version: str, chain_id: int) -> bytes:
    return keccak(DOMAIN_TYPE_HASH + keccak(name.encode()) + keccak(version.encode()) + chain_id.to_bytes(32, "big"))


def _plain_domain(domain: dict) -> bool:
    return (
        isinstance(domain, dict) and domain.keys() == {"name", "version", "chainId"}
        and _utf8(domain["name"]) and _utf8(domain["version"])
        and type(domain["chainId"]) is int and 0 <= domain["chainId"] < 2**256
    )


def _utf8(text) -> bool:
    if not isinstance(text, str):
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _text_hash(text: str, what: str) -> bytes:
    try:
        return keccak(text.encode())
    except UnicodeEncodeError:  # a lone surrogate from JSON's \ud800: no wallet can sign it as UTF-8
        raise BadSignature(f"The {what} is not valid Unicode text.") from None


def vote_digest(*, domain: dict, message: dict) -> bytes:
    """The EIP-712 digest of a `Vote` under CONTRACT's domain: keccak(0x1901 ‖ domainSeparator ‖ hashStruct),
    hashed field by field with the constant type hashes (the same bytes as eth_account's generic encoder and viem's
    hashTypedData, which the tests compare with). Raises BadSignature for a field the type cannot hold.

    A domain of another shape (a recount file may hold anything) goes through eth_account's generic encoder."""
    if not _plain_domain(domain):
        return _hash_eip191_message(encode_typed_data(full_message=typed_data(domain=domain, message=message)))
    proposal, timestamp = message["proposal"], message["timestamp"]
    if not 0 <= proposal < 2**256 or not 0 <= timestamp <= UINT64_MAX:
        raise BadSignature("The proposal number or the timestamp is out of range for the signed vote.")
    struct = keccak(
        VOTE_TYPE_HASH
        + bytes(12) + bytes.fromhex(message["from"][2:])
        + proposal.to_bytes(32, "big")
        + _text_hash(message["choice"], "choice")
        + _text_hash(message["reason"], "reason")
        + timestamp.to_bytes(32, "big")
    )
    separator = _domain_separator(domain["name"], domain["version"], domain["chainId"])
    return keccak(b"\x19\x01" + separator + struct)


@dataclass(frozen=True)
class SignedBallot:
    """A vote as the voter signed it: the `Vote` message fields plus the signature."""

    voter: str
    proposal: int
    choice: str
    reason: str
    timestamp: int
    signature: str

    @classmethod
    def from_fields(cls, *, voter, proposal, choice, reason, timestamp, signature) -> SignedBallot:
        """Check shapes (not the signature yet); raises BadSignature with a sentence."""
        if not isinstance(voter, str) or not is_hex_address(voter):
            raise BadSignature("The voter must be a 0x-prefixed Ethereum address.")
        if not isinstance(choice, str) or len(choice) > MAX_CHOICE_LENGTH:
            raise BadSignature("The choice must be JSON text of at most 2000 characters.")
        if not isinstance(reason, str) or len(reason) > MAX_REASON_LENGTH:
            raise BadSignature(f"The reason must be text of at most {MAX_REASON_LENGTH} characters.")
        if isinstance(timestamp, bool) or not isinstance(timestamp, int) or not 0 <= timestamp <= UINT64_MAX:
            raise BadSignature("The timestamp must be unix seconds (a whole number).")
        if not isinstance(signature, str) or not signature.startswith("0x") or len(signature) > 2 + 2 * 4096:
            raise BadSignature("The signature must be 0x-prefixed hex.")
        try:
            bytes.fromhex(signature[2:])
        except ValueError:
            raise BadSignature("The signature must be 0x-prefixed hex.") from None
        return cls(
            voter=to_checksum_address(voter),
            proposal=int(proposal),
            choice=choice,
            reason=reason,
            timestamp=timestamp,
            signature=signature.lower(),
        )

    def message(self) -> dict:
        return {
            "from": self.voter,
            "proposal": self.proposal,
            "choice": self.choice,
            "reason": self.reason,
            "timestamp": self.timestamp,
        }

    def receipt(self, *, domain: dict) -> str:
        """The EIP-712 hash of the signed message: `0x` + 64 hex."""
        return "0x" + vote_digest(domain=domain, message=self.message()).hex()

    def verify(self, *, domain: dict) -> str:
        """Return the receipt when `voter` signed this message under `domain`; raise BadSignature otherwise.

        The one signer check of governance.signers, as at sign-in: an EOA (low-s only), an EIP-1271 contract
        wallet (including `0x` for a vote it approved on-chain) or an EIP-6492 wallet not deployed yet.
        """
        return self.check(domain=domain)[0]

    def check(self, *, domain: dict, at_block: int | None = None) -> tuple[str, SignerProof]:
        """`verify`, also returning how the voter proved it (for a contract wallet: the block it answered at).
        A recount passes that block as `at_block` to ask the wallet again where it answered before."""
        digest = vote_digest(domain=domain, message=self.message())
        try:
            proof = signer_check(
                address=self.voter, digest=digest, signature=bytes.fromhex(self.signature[2:]), at_block=at_block
            )
        except MalleableSignature as exc:
            raise BadSignature(str(exc)) from None
        except SignatureRefused:
            raise BadSignature(
                "The signature does not match the voter: sign this exact vote with the wallet that casts it "
                "(same proposal, choice, reason, timestamp and network)."
            ) from None
        return "0x" + digest.hex(), proof


def sign_vote(*, private_key: str, domain: dict, voter: str, proposal: int, choice: str, reason: str = "", timestamp: int) -> str:
    """Sign a vote with a local key (demo seeding and tests): `0x` + 65-byte signature."""
    message = {"from": voter, "proposal": proposal, "choice": choice, "reason": reason, "timestamp": timestamp}
    signed = Account.sign_message(encode_typed_data(full_message=typed_data(domain=domain, message=message)), private_key)
    return "0x" + signed.signature.hex().removeprefix("0x")
