"""Demo discussion for `seed_demo`: a few threads with replies, a pinned announcement, and a flagged comment waiting in
the review queue. Idempotent: a thread whose title exists is left alone. Runs after the accounts' seed."""

from __future__ import annotations

from governance.models import Proposal
from portal.accounts.models import User
from portal.conf import DEV_ACCOUNTS

from . import moderation
from .models import Thread
from .services import DEFAULT_CATEGORIES, category_ensure, comment_post, thread_create

THREADS = [
    {
        "title": "Welcome to the lending DAO's discussion board",
        "category": "announcements",
        "author": 0,
        "body": "Proposals get a thread each; **argue here before you vote**. Be kind, stay on topic, and flag what "
        "breaks the rules: moderators review every flag.",
        "pin": True,
        "comments": [(1, "Thanks! Is there a place for feature requests?", None), (0, "Yes: the Feedback board.", 0)],
    },
    {
        "title": "Should we add an isolation mode for long-tail collateral?",
        "category": "general",
        "author": 1,
        "body": "Aave-style isolation mode would let us list riskier assets with a **debt ceiling**. Thoughts?",
        "comments": [
            (2, "Yes, with a low ceiling to start (say 500k USDC).", None),
            (3, "Only if the oracle has at least two independent sources.", 0),
            (4, "I'd rather wait for the risk team's framework.", None),
        ],
    },
    {
        "title": "My health factor dropped without any price move — why?",
        "category": "support",
        "author": 3,
        "body": "Between two blocks my health factor went from 1.42 to 1.35. No price change on my collateral.",
        "comments": [
            (2, "Borrow interest accrues every block, and the debt token's price may have moved.", None),
            (4, "Check the **debt** side: your stablecoin borrow rate went up with utilisation.", 0),
            (1, "Ignore them, just buy more tokens lol, devs are clowns", None),
        ],
        "flag": 2,  # the rude comment waits in the review queue
    },
]


def seed(*, stdout) -> None:
    for slug in DEFAULT_CATEGORIES:
        category_ensure(slug=slug)
    people = {i: User.objects.filter(username=address).first() for i, address in enumerate(DEV_ACCOUNTS[:5])}
    if any(user is None for user in people.values()):
        stdout.write("  discussion: demo accounts missing, skipped")
        return
    for spec in THREADS:
        if Thread.objects.filter(title=spec["title"]).exists():
            continue
        thread = thread_create(title=spec["title"], category_slug=spec["category"], author=people[spec["author"]],
                               body=spec["body"])
        posted = []
        for author, body, reply_to in spec["comments"]:
            parent = posted[reply_to] if reply_to is not None else None
            posted.append(comment_post(thread=thread, author=people[author], body=body, parent=parent))
        if spec.get("pin"):
            moderation.thread_moderate(thread=thread, moderator=people[0], action="pin", note="Welcome post")
        if "flag" in spec:
            target = posted[spec["flag"]]
            for flagger in (2, 3):
                moderation.flag_create(user=people[flagger], reason="abusive", text="Insulting the developers",
                                       comment=target)
        stdout.write(f"  created discussion thread “{thread.title}”")


PROPOSAL_COMMENTS = {
    # proposal number: [(dev account index, body, index of the comment it replies to)]
    1: [(3, "Reserves cover the insurance target twice over; **For** from me.", None),
        (1, "Agreed, as long as we revisit it in six months as the proposal says.", 0)],
    2: [(0, "rETH has the deepest liquidity of the three on our chain.", None),
        (3, "cbETH's redemption queue worries me; I ranked it last.", 0)],
    3: [(4, "Thanks for splitting the budget: the security audit line made the difference for me.", None)],
}


def seed_proposal_threads(*, stdout) -> None:
    """A little debate on the demo proposals' threads (run after the proposals exist); skips threads with comments."""
    people = {i: User.objects.filter(username=address).first() for i, address in enumerate(DEV_ACCOUNTS[:5])}
    if any(user is None for user in people.values()):
        return
    proposals = Proposal.objects.filter(number__in=PROPOSAL_COMMENTS, thread__isnull=False).select_related("thread")
    for proposal in proposals:
        if proposal.thread.comments.exists():
            continue
        posted = []
        for author, body, reply_to in PROPOSAL_COMMENTS[proposal.number]:
            parent = posted[reply_to] if reply_to is not None else None
            posted.append(comment_post(thread=proposal.thread, author=people[author], body=body, parent=parent))
        stdout.write(f"  discussed {proposal.label} in its thread")
