"""The one place proposals and votes are written, split along the domain:

- proposals.py: drafts — create, edit, open for voting, and which of those a person may do now;
- votes.py: counting a signed vote;
- closing.py: recording a close, cancelling, marking executed.

Every check lives in them, so pages, the API and the demo refuse the same things with the same sentence (a
portal.errors.Refusal), and live events leave only after commit (governance/live.py). The public services are
importable from here.
"""

from governance.services.closing import (
    proposal_cancel,
    proposal_close_if_due,
    proposal_mark_executed,
    proposals_close_due,
)
from governance.services.proposals import (
    ProposalActions,
    proposal_actions,
    proposal_activate,
    proposal_create,
    proposal_update,
)
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
    "vote_cast",
]
