"""The chain node stopped and restarted under the portal (a private anvil with its state file, never the session's):
a vote meanwhile is a 503 sentence and writes nothing; once the node is back the same vote counts, and the vote
taken before the outage is still there."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.conf import settings as django_settings

from governance import chain as chain_module
from governance.devchain import free_port, start_anvil, stop_anvil
from governance.models import Vote

pytestmark = pytest.mark.chain


@pytest.fixture
def private_node(node, settled_chain, tmp_path, monkeypatch):
    """A private anvil holding the session chain's state (its contracts and balances), with its own state file so
    a restart keeps its blocks; the portal points at it for the test. Yields a restart control."""
    dump = node.w3.provider.make_request("anvil_dumpState", [])["result"]
    port, state = free_port(), tmp_path / "state.json"

    class PrivateNode:
        url = f"http://127.0.0.1:{port}"
        process = start_anvil(port=port, state_file=state)

        def stop(self):
            stop_anvil(self.process)

        def start(self):
            self.process = start_anvil(port=port, state_file=state)

    private = PrivateNode()
    monkeypatch.setitem(django_settings.PORTAL, "CHAIN_RPC_URL", private.url)
    chain_module._nodes.clear()
    chain_module.chain().w3.provider.make_request("anvil_loadState", [dump])
    chain_module.chain().w3.provider.make_request("anvil_mine", ["0x2"])
    yield private
    private.stop()
    chain_module._nodes.clear()


def test_chain_node_stopped_a_vote_is_a_503_sentence_then_counts_once_the_node_is_back(
    private_node, make_proposal, ballot, post_vote, dev_accounts, client
):
    proposal = make_proposal("basic")  # opened on the private node: its snapshot block is one of that node's
    assert post_vote(proposal.number, ballot(dev_accounts[1], proposal, 1)).status_code == HTTPStatus.CREATED

    private_node.stop()
    refused = post_vote(proposal.number, ballot(dev_accounts[2], proposal, 2))
    assert refused.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert refused.json()["error"].startswith("The blockchain node cannot be reached right now")
    assert Vote.objects.filter(proposal=proposal).count() == 1
    assert client.get(f"/proposals/{proposal.number}/").status_code == HTTPStatus.OK  # the page still serves

    private_node.start()
    counted = post_vote(proposal.number, ballot(dev_accounts[2], proposal, 2))
    assert counted.status_code == HTTPStatus.CREATED, counted.content
    assert set(Vote.objects.filter(proposal=proposal).values_list("voter", flat=True)) == {
        dev_accounts[1].address, dev_accounts[2].address
    }
    assert client.get(f"/api/v1/proposals/{proposal.number}/results").json()["voters"] == 2
