"""The shapes of `/api/v1/delegates` and `/api/v1/accounts/{address}` (CONTRACT: JSON API). Amounts are decimal
strings in token units; chain facts are null when the chain cannot be read right now."""

from __future__ import annotations

from ninja import Field, Schema

Amount = str


class DelegateOut(Schema):
    address: str
    display_name: str | None
    power: Amount | None = Field(..., description="Votes delegated to this address now (getVotes), token units")
    delegators: int = Field(..., description="Other holders delegating to this address")
    participation: float | None = Field(
        ..., description="Share (0–1) of the last 10 closed proposals this address voted on; null before any closed"
    )
    statement: str = Field(..., description="The delegate's statement, markdown")


class DelegateListOut(Schema):
    items: list[DelegateOut]
    count: int


class TierOut(Schema):
    slug: str
    name: str


class DelegationOut(Schema):
    address: str = Field(..., description="The delegate; 0x000…000 when the votes were removed")
    since_block: int


class ProfileVoteOut(Schema):
    proposal: int
    title: str
    choice: str = Field(..., description="JSON text exactly as signed")
    choice_words: str
    reason: str
    weight: Amount
    timestamp: int


class AccountOut(Schema):
    address: str
    display_name: str | None
    tier: TierOut | None
    badges: int | None
    voting_power: Amount | None = Field(..., description="Weight now through the default strategies")
    delegates_to: DelegationOut | None
    delegators: list[DelegationOut] = Field(..., description="Others delegating to this address, oldest first")
    votes: list[ProfileVoteOut] = Field(..., description="The latest votes, with reasons")
    proposals: int
    comments: int
    feedback: int


class TypedFieldOut(Schema):
    name: str
    type: str


class DelegationMessageOut(Schema):
    delegatee: str
    nonce: int = Field(..., description="The holder's next nonce on the token (nonces(holder))")
    expiry: int = Field(..., description="Unix seconds; the token refuses the signature after it")


class DelegationTypedDataOut(Schema):
    domain: dict = Field(..., description="The token's own EIP-712 domain, as its eip712Domain() (ERC-5267) reports it")
    types: dict[str, list[TypedFieldOut]]
    primaryType: str
    message: DelegationMessageOut


class SignedDelegationOut(Schema):
    chain_id: int
    token: str
    holder: str
    delegatee: str
    nonce: int
    expiry: int
    v: int
    r: str
    s: str
    calldata: str = Field(..., description="delegateBySig(delegatee, nonce, expiry, v, r, s) for the token, 0x-hex")
    digest: str = Field(..., description="The EIP-712 hash the holder signed")
    valid_until: str = Field(..., description="The expiry, ISO 8601")
