"""The one place proposals and votes are written, split along the domain:

- proposals.py: drafts — create, edit, open for voting, and which of those a person may do now;
- votes.py: counting a signed vote;
- closing.py: recording a close, cancelling, marking executed;
- risk.py: a risk proposal's parameter change, checked against the market and, once executed, on-chain;
- timeline.py: the lifecycle log every write above adds to.

Every check lives in them, so pages, the API and the demo refuse the same things with the same sentence (a
portal.errors.Refusal), and live events leave only after commit (governance/live.py). The public services are
importable from here.
"""

from governance.services.closing import (
    proposal_cancel,
    proposal_close_if_due,
    proposal_mark_executed,
    proposals_close_due,
    proposals_remind_closing,
)
from governance.services.proposals import (
    ProposalActions,
    proposal_actions,
    proposal_activate,
    proposal_create,
    proposal_update,
)
from governance.services.risk import risk_change_check, risk_change_of, risk_changes_check_due
from governance.services.votes import vote_cast

__all__ = [
    "ProposalActions",
    "proposal_actions",
    "proposal_activate",
    "proposal_cancel",
    "proposal_close_if_due",
    "proposal_create",
    "proposal_mark_executed",
    "proposal_update",
    "proposals_close_due",
    "risk_change_check",
    "risk_change_of",
    "risk_changes_check_due",
    "proposals_remind_closing",
    "vote_cast",
]
