"""Demo proposals and votes for `seed_demo`: idempotent (a proposal whose title exists is left alone).

Three proposals are open (basic, ranked-choice, and a risk proposal whose WETH price-shock scenario the page previews
on the demo loans) and one is closed (weighted, passed), each with a discussion thread and votes signed by anvil's
public dev keys through the same `vote_cast` as everyone else's.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from eth_account import Account

from governance import services
from governance.chain import ChainUnavailable, chain
from governance.devchain import DEV_KEYS
from governance.eip712 import SignedBallot, eip712_domain, sign_vote
from governance.models import Proposal
from governance.voting import VotingType
from portal.accounts.models import User
from portal.errors import Refusal

LOWER_RESERVE = "Lower the USDC reserve factor from 15% to 10%"
NEXT_COLLATERAL = "Which collateral should the pool list next?"
GRANTS_SPLIT = "Split the Q1 community grants budget"
WETH_STRESS = "Keep WETH's 80 % LTV through a 15 % price fall?"

BODY_RESERVE = """## Summary
Lower the USDC **reserve factor** from 15% to 10% for six months.

## Why
Utilisation has stayed between 70% and 85% for a quarter while the reserve already covers the insurance target.
A lower reserve factor passes more of the interest to lenders and makes USDC supply more competitive.

## Risks
- Reserves grow more slowly; we revisit in six months.
- No change to borrow rates or collateral factors.
"""

BODY_COLLATERAL = """Rank the candidates for the next collateral listing. The risk team has reviewed each one's liquidity,
oracle quality and concentration. The winner goes to a parameter proposal next month."""

BODY_GRANTS = """Split the 120,000 DUSD grants budget across the three tracks. Give each track a share:
the tally splits your weight in the same proportions."""


BODY_STRESS = """## Summary
The risk team stress-tested the WETH market: what happens to today's loans if WETH falls **15 %**?
The preview on this page answers from the loans on-chain, when voting opened and now.

## The vote
- **For**: keep WETH's LTV at 80 % and its liquidation threshold at 82.5 %.
- **Against**: ask the risk team for a lower LTV in a follow-up proposal.
"""


def seed(*, stdout) -> None:
    try:
        chain().block_number()
    except ChainUnavailable as exc:
        stdout.write(f"Proposals: skipped, {exc}\n")
        return
    admin = User.objects.filter(username=Account.from_key(DEV_KEYS[0]).address).first()
    if admin is None:
        stdout.write("Proposals: skipped, the demo admin account does not exist yet.\n")
        return
    _settle_chain()
    accounts = [Account.from_key(key) for key in DEV_KEYS]
    now = timezone.now()

    def ensure(title, **fields) -> Proposal | None:
        existing = Proposal.objects.filter(title=title).first()
        if existing is not None:
            return None
        proposal = services.proposal_create(author=admin, title=title, **fields)
        return services.proposal_activate(proposal=proposal, actor=admin)

    try:
        basic = ensure(
            LOWER_RESERVE, body=BODY_RESERVE, category="risk", voting_type=VotingType.BASIC,
            start=now, end=now + timedelta(days=4), quorum_kind="percent", quorum_value="5",
        )
        if basic:
            _votes(basic, [(accounts[1], 1, "More yield for lenders."), (accounts[2], 2, "Reserves first."),
                           (accounts[3], 1, ""), (accounts[4], 3, "")])
            stdout.write(f"  {basic.label}: basic vote, open\n")
        ranked = ensure(
            NEXT_COLLATERAL, body=BODY_COLLATERAL, category="protocol", voting_type=VotingType.RANKED_CHOICE,
            choices=["wstETH", "rETH", "cbBTC", "ARB"], start=now, end=now + timedelta(days=6), quorum_value="1000",
        )
        if ranked:
            _votes(ranked, [(accounts[1], [2, 1, 3, 4], ""), (accounts[2], [1, 2, 4, 3], "Deepest liquidity."),
                            (accounts[3], [3, 1, 2, 4], ""), (accounts[4], [1, 3, 2, 4], "")])
            stdout.write(f"  {ranked.label}: ranked-choice vote, open\n")
        stress = ensure(
            WETH_STRESS, body=BODY_STRESS, category="risk", voting_type=VotingType.BASIC, start=now,
            end=now + timedelta(days=5), quorum_value="1000",
            risk_change={"asset": "WETH", "parameter": "price_shock", "value": "-0.15"},
        )
        if stress:
            _votes(stress, [(accounts[2], 1, "My loan holds."), (accounts[3], 2, "Mine would not.")])
            stdout.write(f"  {stress.label}: risk proposal with an impact preview (WETH -15 %), open\n")
        closed = ensure(
            GRANTS_SPLIT, body=BODY_GRANTS, category="treasury", voting_type=VotingType.WEIGHTED,
            choices=["Developer tooling", "Education", "Security audits"], start=now,
            end=now + timedelta(days=3), quorum_value="5000",
        )
        if closed:
            _votes(closed, [(accounts[0], {"1": 2, "3": 1}, ""), (accounts[1], {"3": 1}, "Audits protect everyone."),
                            (accounts[2], {"1": 1, "2": 1, "3": 1}, "")])
            _move_into_the_past(closed, days=5)
            # Seeding writes anyway: record the close now rather than on the sampler's first tick.
            services.proposal_close_if_due(proposal=Proposal.objects.get(pk=closed.pk))
            stdout.write(f"  {closed.label}: weighted vote, closed\n")
    except Refusal as exc:  # ChainUnavailable included: the demo stops with the sentence
        stdout.write(f"Proposals: stopped, {exc}\n")
        return
    stdout.write(f"Proposals: {Proposal.objects.count()} in total.\n")


def _settle_chain() -> None:
    """The snapshot sits a few blocks behind the head: mine past the seeding transactions on the dev chain."""
    try:
        chain().w3.provider.make_request("anvil_mine", ["0x4"])
    except Exception:  # noqa: BLE001 — not an anvil: its blocks come by themselves
        pass


def _votes(proposal: Proposal, ballots) -> None:
    domain = eip712_domain()
    for account, choice, reason in ballots:
        choice_text = json.dumps(choice, separators=(",", ":"))
        timestamp = int(time.time())
        signature = sign_vote(
            private_key=account.key.to_0x_hex(), domain=domain, voter=account.address, proposal=proposal.number,
            choice=choice_text, reason=reason, timestamp=timestamp,
        )
        ballot = SignedBallot.from_fields(
            voter=account.address, proposal=proposal.number, choice=choice_text, reason=reason, timestamp=timestamp,
            signature=signature,
        )
        services.vote_cast(proposal=proposal, ballot=ballot)


@transaction.atomic
def _move_into_the_past(proposal: Proposal, *, days: int) -> None:
    """Demo history: shift a just-voted proposal's window (and its votes' rows) back so it shows as closed.

    The signed timestamps stay as signed: the recount file still verifies."""
    shift = timedelta(days=days)
    Proposal.objects.filter(pk=proposal.pk).update(
        start=proposal.start - shift, end=proposal.start - shift + timedelta(days=3), created=proposal.created - shift,
        activated_at=proposal.activated_at - shift,
    )
    for event in proposal.events.all():
        event.at -= shift
        event.save(update_fields=["at"])
