"""Reads about people: an address's public profile and the delegate directory.

Chain facts (voting power, badges, delegation in and out, since which block) come from governance.delegation and
the loyalty tiers, which read the real chain; everything else (name, votes with reasons, counts, statements) from
the database. When the chain cannot be read, the chain facts are None and the rest still shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from allauth.socialaccount.models import SocialAccount
from django.db.models import Count, Q

from governance import delegation
from governance.chain import ChainUnavailable
from governance.models import Proposal, ProposalState, Vote
from governance.selectors import state_filter, vote_words
from governance.strategies import checksum
from governance.tiers import Standing, loyalty_standings
from portal.discussion.models import Comment
from portal.errors import Refusal
from portal.feedback.models import Post
from portal.parsing import page_slice

from .models import DelegateStatement

PARTICIPATION_WINDOW = 10  # closed proposals
PROFILE_VOTES = 20
PROFILE_DELEGATORS = 100
DIRECTORY_PAGE_SIZE = 20
SORTS = ("power", "participation")
_SHOWN_INPUT = 60


def address_parse(raw: object) -> str:
    """A wallet address from outside (a URL, a query value, a form): its checksummed form, or a Refusal (400) whose
    sentence shows what was given (shortened) and what an address looks like."""
    try:
        return checksum(raw)
    except ValueError:
        shown = str(raw)
        shown = shown if len(shown) <= _SHOWN_INPUT else shown[: _SHOWN_INPUT - 1] + "…"
        raise Refusal(
            f"“{shown}” is not a wallet address. An address is 0x followed by 40 hexadecimal characters "
            "(0–9, a–f), like 0x70997970C51812dc3A010C7d01b50e0d17dc79C8."
        ) from None


def accounts_by_address(addresses: list[str]) -> dict[str, object]:
    """Checksummed address -> the portal account holding that wallet (one query); unknown addresses are left out."""
    rows = SocialAccount.objects.filter(provider="siwe", uid__in=list(addresses)).select_related("user")
    return {row.uid: row.user for row in rows}


def participation(addresses: list[str]) -> tuple[dict[str, float | None], int]:
    """Share of the last PARTICIPATION_WINDOW closed proposals each address voted on, and how many closed proposals
    that window holds (None for everyone while none has closed). Two queries."""
    closed = list(
        Proposal.objects.filter(state_filter(ProposalState.CLOSED) | state_filter(ProposalState.EXECUTED))
        .order_by("-end")
        .values_list("pk", flat=True)[:PARTICIPATION_WINDOW]
    )
    if not closed:
        return dict.fromkeys(addresses), 0
    voted = dict(
        Vote.objects.filter(proposal_id__in=closed, voter__in=list(addresses))
        .values("voter")
        .annotate(n=Count("id"))
        .values_list("voter", "n")
    )
    return {address: round(voted.get(address, 0) / len(closed), 4) for address in addresses}, len(closed)


@dataclass
class Profile:
    address: str
    user: object | None
    standing: Standing | None  # None when the chain cannot be read
    badges: int | None
    delegates_to: delegation.Delegation | None
    delegators: list[delegation.Delegation] = field(default_factory=list)
    delegators_total: int = 0
    delegated_power: Decimal | None = None  # getVotes: the votes delegated to this address now
    votes: list[Vote] = field(default_factory=list)
    proposals: int = 0
    comments: int = 0
    feedback: int = 0
    statement: DelegateStatement | None = None
    chain_error: str = ""

    @property
    def display_name(self) -> str | None:
        return (getattr(self.user, "display_name", "") or None) if self.user else None

    @property
    def voting_power(self) -> Decimal | None:
        return self.standing.weight if self.standing else None

    @property
    def tier(self):
        return self.standing.tier if self.standing else None

    @property
    def removed_votes(self) -> bool:
        return self.delegates_to is not None and self.delegates_to.delegate == delegation.ZERO_ADDRESS


def profile_get(*, address: str) -> Profile:
    """The public profile of `address` (already parsed by address_parse). Any address has one, with or without an
    account; a fixed number of queries however many votes or delegators."""
    user = accounts_by_address([address]).get(address)
    profile = Profile(address=address, user=user, standing=None, badges=None, delegates_to=None)
    try:
        index = delegation.delegation_index()
        received = delegation.delegators_of(index).get(address, [])
        profile.delegates_to = index.get(address)
        profile.delegators_total = len(received)
        profile.delegators = received[:PROFILE_DELEGATORS]
        profile.delegated_power = delegation.votes_now([address]).get(address)
        profile.badges = delegation.badges_of([address]).get(address)
        profile.standing = loyalty_standings([address]).get(address)
        if profile.standing is not None and profile.standing.weight is None:
            profile.standing = None
    except ChainUnavailable as exc:
        profile.chain_error = exc.message
    votes = list(Vote.objects.filter(voter=address).select_related("proposal").order_by("-created", "-id")[:PROFILE_VOTES])
    for vote in votes:
        vote.choice_words = vote_words(proposal=vote.proposal, vote=vote)
    profile.votes = votes
    profile.proposals = Proposal.objects.filter(
        Q(author_address=address) | (Q(author=user) if user else Q(pk__in=[]))
    ).exclude(activated_at__isnull=True).count()
    if user is not None:
        profile.comments = Comment.objects.filter(
            author=user, hidden=False, deleted__isnull=True, thread__hidden=False
        ).count()
        profile.feedback = Post.objects.filter(author=user).count()
    profile.statement = DelegateStatement.objects.filter(address=address).first()
    return profile


@dataclass(frozen=True)
class DelegateRow:
    address: str
    user: object | None
    power: Decimal | None
    delegators: int
    participation: float | None
    statement: DelegateStatement | None

    @property
    def display_name(self) -> str | None:
        return (getattr(self.user, "display_name", "") or None) if self.user else None


@dataclass(frozen=True)
class Directory:
    rows: list[DelegateRow]
    count: int
    closed_window: int  # how many closed proposals participation is measured over


def delegate_list(*, sort: str = "power", page: int = 1) -> Directory:
    """Addresses that received delegation (their own included), by voting power now or by participation, heaviest
    first; one page of DIRECTORY_PAGE_SIZE. Raises ChainUnavailable."""
    received = delegation.delegators_of(delegation.delegation_index())
    addresses = list(received)
    power = delegation.votes_now(addresses)
    shares, window = participation(addresses)

    def order(address):
        weight = power.get(address) or Decimal(0)
        share = shares.get(address) or 0.0
        return (-share, -weight, address) if sort == "participation" else (-weight, -share, address)

    ordered = sorted(addresses, key=order)
    shown = ordered[page_slice(page=page, per_page=DIRECTORY_PAGE_SIZE)]
    accounts = accounts_by_address(shown)
    statements = {s.address: s for s in DelegateStatement.objects.filter(address__in=shown)}
    rows = [
        DelegateRow(
            address=address, user=accounts.get(address), power=power.get(address),
            delegators=len(received[address]), participation=shares.get(address), statement=statements.get(address),
        )
        for address in shown
    ]
    return Directory(rows=rows, count=len(ordered), closed_window=window)


@dataclass(frozen=True)
class WalletDelegation:
    """A signed-in holder's wallet on the account page: whom it delegates to now, since which block."""

    address: str
    delegation: delegation.Delegation | None

    @property
    def to_self(self) -> bool:
        return self.delegation is not None and self.delegation.delegate == self.address

    @property
    def removed(self) -> bool:
        return self.delegation is not None and self.delegation.delegate == delegation.ZERO_ADDRESS


def wallet_delegations(*, addresses: list[str]) -> tuple[list[WalletDelegation], str]:
    """Each wallet's current delegation, and a sentence when the chain cannot be read (then the list is empty)."""
    try:
        index = delegation.delegation_index()
    except ChainUnavailable as exc:
        return [], exc.message
    return [WalletDelegation(address=a, delegation=index.get(a)) for a in addresses], ""
