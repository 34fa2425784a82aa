"""Live events for `/ws/proposals/{number}/`: the tally and voter list as htmx out-of-band fragments (the same
partials the proposal page renders), sent to the proposal's channel-layer group through portal.live.broadcast, so
they leave only after the write commits and a down channel layer never fails the write."""

from __future__ import annotations

from typing import TypedDict

from django.template.loader import render_to_string

from governance import selectors
from governance.models import Proposal
from governance.tiers import standings_batch, standings_prefetch
from portal.conf import portal_settings
from portal.live import broadcast, broadcast_coalesced

VOTERS_SHOWN = 50


class TallyEvent(TypedDict):
    type: str  # "tally.update" → ProposalConsumer.tally_update
    html: str


def proposal_group(number: int) -> str:
    return f"governance.proposal.{number}"


def tally_context(*, proposal: Proposal) -> dict:
    """What the tally and voters partials show: results, the heaviest voters, how many more. A fixed number of
    queries however many votes."""
    results = selectors.proposal_results(proposal=proposal)
    voters = selectors.voters_shown(proposal=proposal, limit=VOTERS_SHOWN)
    # the voters' and the author's tier badges: one batched lookup, not one per {% wallet %}
    standings_prefetch([proposal.author_address, *(v.voter for v in voters)])
    return {
        "proposal": proposal, "results": results, "voters": voters,
        "voters_more": max(0, results.voters - len(voters)), "oob": False,
    }


def tally_fragments(*, number: int) -> str:
    """The tally and voter list of LIP-`number` as out-of-band fragments."""
    with standings_batch():
        context = {**tally_context(proposal=selectors.proposal_get(number=number)), "oob": True}
        return render_to_string("governance/detail.html#tally", context) + render_to_string(
            "governance/detail.html#voters", context
        )


def tally_broadcast(*, number: int) -> None:
    """After commit, send LIP-`number`'s current tally and voters to everyone watching it (rendered after commit,
    so watchers see the committed state)."""
    broadcast(proposal_group(number), lambda: TallyEvent(type="tally.update", html=tally_fragments(number=number)))


def tally_broadcast_coalesced(*, number: int) -> None:
    """After a vote commits: the tally and voters as `tally_broadcast` sends them, rendered at most once per
    PORTAL LIVE_TALLY_WINDOW_SECONDS per proposal, off the vote's request."""
    broadcast_coalesced(
        proposal_group(number), f"tally:{number}",
        lambda: TallyEvent(type="tally.update", html=tally_fragments(number=number)),
        window=portal_settings().live_tally_window_seconds,
    )
