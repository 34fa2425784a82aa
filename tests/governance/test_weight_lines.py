"""Voting power explained on the proposal page: the signed-in voter's weight at the snapshot, strategy by strategy
(loyalty-token votes, badges x 100), read on the real test chain; the lines add up to the weight a vote gets."""

from decimal import Decimal

import pytest
from django.test import Client

from governance.selectors import snapshot_weight, snapshot_weight_lines

pytestmark = pytest.mark.chain


def test_the_weight_is_broken_down_per_strategy(make_proposal, make_user, dev_accounts):
    proposal = make_proposal()
    lines = snapshot_weight_lines(proposal=proposal, address=dev_accounts[1].address)
    assert [(line.label, line.amount, line.multiplier, line.weight) for line in lines] == [
        ("loyalty-token votes", Decimal(12000), Decimal(1), Decimal(12000)),
        ("badges", Decimal(2), Decimal(100), Decimal(200)),
    ]
    assert sum(line.weight for line in lines) == snapshot_weight(proposal=proposal, address=dev_accounts[1].address)
    client = Client()
    make_user(dev_accounts[1].address, signed_in_client=client)
    page = client.get(proposal.get_absolute_url()).text
    assert "How your voting power is counted" in page
    assert "12,000 loyalty-token votes" in page and "2 badges" in page and "× 100" in page and "12,200" in page
