"""`seed_demo` shows the whole portal (CONTRACT, Demo chain) and a second run changes nothing."""

import io

import pytest
from django.core.management import call_command

from governance.models import Proposal, Vote
from portal.conf import DEV_ACCOUNTS
from portal.discussion.models import Comment, Thread
from portal.feedback.models import Post
from portal.health.models import Component, Incident

pytestmark = pytest.mark.django_db(transaction=True)


def counts() -> dict[str, int]:
    models = {"proposals": Proposal, "votes": Vote, "threads": Thread, "comments": Comment, "posts": Post,
              "components": Component, "incidents": Incident}
    return {name: model.objects.count() for name, model in models.items()}


def test_seed_demo_shows_every_capability_and_is_idempotent(contracts, chain_snapshot):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "Demo content is ready." in out.getvalue()

    active = [p for p in Proposal.objects.all() if p.state == "active"]
    assert len(active) >= 2 and len({p.voting_type for p in active}) >= 2
    assert any(p.state == "closed" for p in Proposal.objects.all())
    for proposal in Proposal.objects.all():
        assert proposal.thread is not None, proposal.label
    assert Comment.objects.filter(thread__in=[p.thread for p in active]).count() >= 2
    assert Component.objects.count() >= 4 and Incident.objects.exists()
    assert Post.objects.count() >= 3
    # delegates and profiles: anvil #5 and #6 delegate to #1 and #2 on the chain; both wrote statements
    from portal.people.selectors import delegate_list, profile_get
    from portal.search.selectors import search
    from portal.discussion.selectors import Viewer

    rows = {row.address: row for row in delegate_list().rows}
    bea, cleo = (rows[a] for a in DEV_ACCOUNTS[1:3])
    assert (bea.delegators, bea.display_name, cleo.delegators) == (1, "Bea", 1) and bea.statement and cleo.statement
    assert profile_get(address=DEV_ACCOUNTS[1]).delegators_total == 1
    assert search(query="proposal", viewer=Viewer()).count > 0  # the index holds the seeded content

    first = counts()
    call_command("seed_demo", stdout=io.StringIO())
    assert counts() == first
