"""Signed votes (EIP-712): the domain, the `Vote` type, the receipt hash; the signer check is governance.signers.

What `GET /api/v1/eip712` returns is exactly what the wallet signs: `{"domain", "types", "primaryType": "Vote"}`.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
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
        return "0x" + _hash_eip191_message(encode_typed_data(full_message=typed_data(domain=domain, message=self.message()))).hex()

    def verify(self, *, domain: dict) -> str:
        """Return the receipt when `voter` signed this message under `domain`; raise BadSignature otherwise.

        The one signer check of governance.signers, as at sign-in: an EOA (low-s only), an EIP-1271 contract
        wallet (including `0x` for a vote it approved on-chain) or an EIP-6492 wallet not deployed yet.
        """
        return self.check(domain=domain)[0]

    def check(self, *, domain: dict, at_block: int | None = None) -> tuple[str, SignerProof]:
        """`verify`, also returning how the voter proved it (for a contract wallet: the block it answered at).
        A recount passes that block as `at_block` to ask the wallet again where it answered before."""
        signable = encode_typed_data(full_message=typed_data(domain=domain, message=self.message()))
        digest = _hash_eip191_message(signable)
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
