"""The shapes of the governance part of `/api/v1/` (CONTRACT: JSON API, Signed votes, Recount file), so OpenAPI names
CONTRACT's fields exactly. Fields are declared in the order the API has always written them; amounts are decimal
strings (`governance.voting.amount_text`), never numbers."""

from __future__ import annotations

from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict

from governance.eip712 import MAX_CHOICE_LENGTH, MAX_REASON_LENGTH, UINT64_MAX
from portal.api_types import ADDRESS_PATTERN

VotingType = Literal["basic", "single-choice", "approval", "weighted", "quadratic", "ranked-choice", "copeland"]
StrategyKind = Literal["erc20-balance-of", "erc20-votes", "erc721-balance-of"]
Amount = str  # a decimal string in token units: "0", "12.5", never exponent notation


class StrategyOut(Schema):
    kind: StrategyKind
    chain_id: int
    address: str
    multiplier: str
    decimals: int | None = None


class RiskChangeOut(Schema):
    """A risk proposal's structured change (docs/recount-format.md): one collateral's parameter in one market."""

    market: str = Field(..., description="The lending pool's address")
    asset: str = Field(..., description="The collateral's address")
    symbol: str
    parameter: Literal["liquidation_threshold", "ltv", "price_shock"]
    old: Amount = Field(..., description="A fraction (0.825 = 82.5 %) when the draft was saved; 0 for a price shock")
    new: Amount = Field(..., description="A fraction; for a price shock the relative change (-0.3 = a 30 % fall)")
    checked_block: int | None = Field(None, description="Once executed: the block the pool was read at")
    onchain_value: Amount | None = Field(None, description="What the pool answered there")
    onchain_matches: bool | None = Field(None, description="Whether that is the voted value")


class ProposalOut(Schema):
    number: int
    label: str
    title: str
    body: str
    author: str | None
    category: str
    voting_type: VotingType
    choices: list[str]
    start: str = Field(..., description="ISO 8601")
    end: str = Field(..., description="ISO 8601")
    snapshot_block: int | None
    quorum: Amount
    strategies: list[StrategyOut]
    state: str
    outcome: str | None
    thread: int | None
    risk_change: RiskChangeOut | None = Field(None, description="Risk proposals only: the change voted on")


class ProposalListOut(Schema):
    items: list[ProposalOut]
    count: int


class ChoiceWeightOut(Schema):
    number: int
    choice: str
    weight: Amount


class ResultsOut(Schema):
    number: int
    state: str
    outcome: str | None
    winner: int | None
    choices: list[ChoiceWeightOut]
    total_weight: Amount
    voters: int
    quorum: Amount
    quorum_weight: Amount
    quorum_reached: bool


class VoteRecordOut(Schema):
    voter: str
    choice: str = Field(..., description="JSON text as signed (CONTRACT: Signed votes)")
    reason: str
    timestamp: int
    weight: Amount
    signature: str
    receipt: str


class VoteListOut(Schema):
    items: list[VoteRecordOut]
    count: int


class VoteIn(Schema):
    """A signed `Vote` message (CONTRACT: Signed votes); the checks and their sentences are SignedBallot's, the
    bounds here only document them."""

    voter: str = Field(..., json_schema_extra={"pattern": ADDRESS_PATTERN}, description="The signer's address")
    choice: str = Field(
        ..., json_schema_extra={"maxLength": MAX_CHOICE_LENGTH}, description='JSON text as signed: "2", "[1,3]"'
    )
    reason: str = Field("", json_schema_extra={"maxLength": MAX_REASON_LENGTH})
    timestamp: int = Field(
        ..., json_schema_extra={"minimum": 0, "maximum": UINT64_MAX}, description="Unix seconds, as signed"
    )
    signature: str = Field(
        ..., json_schema_extra={"pattern": "^0x([0-9a-fA-F]{2})*$", "maxLength": 2 + 2 * 4096},
        description="0x-prefixed hex; empty (0x) for a message a contract wallet approved on-chain",
    )


class VoteReceiptOut(Schema):
    receipt: str
    weight: Amount


class TypedField(Schema):
    name: str
    type: str


class Eip712DomainOut(Schema):
    model_config = ConfigDict(extra="allow")

    name: str
    version: str
    chainId: int


class Eip712Out(Schema):
    domain: Eip712DomainOut
    types: dict[str, list[TypedField]]
    primaryType: Literal["Vote"]


class RecountVoteOut(Schema):
    """One signed vote of the recount file; for a contract wallet the block (number and hash) its signature was
    verified at, so a recount asks the wallet again there (docs/recount-format.md)."""

    voter: str
    choice: str
    reason: str
    timestamp: int
    signature: str
    receipt: str
    weight: Amount
    signer: Literal["eoa", "eip1271", "eip6492"] | None = Field(
        None, description="How the signature was proven; null in votes recorded before the portal kept it"
    )
    verified_block: int | None = Field(None, description="Contract wallets: the block the wallet answered at")
    verified_block_hash: str | None = Field(None, description="That block's hash")


class RecountFileOut(Schema):
    """docs/recount-format.md; the proposal, domain and result are free-form here so the file's own format stays the
    one truth; the votes are typed."""

    model_config = ConfigDict(extra="allow")

    format: str
    exported_at: str
    proposal: dict[str, Any]
    eip712: dict[str, Any]
    result: dict[str, Any]
    votes: list[RecountVoteOut]
