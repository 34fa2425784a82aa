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
