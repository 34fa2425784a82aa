"""The delegate directory (/delegates/, GET /api/v1/delegates): who received delegation on the real chain, their power
now, how many delegate to them, participation in the last 10 closed proposals, statements; sorted and paginated."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from governance.deploy import contract
from governance.models import Proposal, Vote
from portal.people.models import DelegateStatement

pytestmark = pytest.mark.chain


@pytest.fixture
def token(contracts, node):
    return contract(node, "LoyaltyToken", contracts["LoyaltyToken"])


def _closed_proposal(number: int) -> Proposal:
    now = timezone.now()
    return Proposal.objects.create(
        number=number, title=f"Closed {number}", body="", start=now - timedelta(days=3), end=now - timedelta(days=1),
        activated_at=now - timedelta(days=3), snapshot_block=1,
    )


def test_the_directory_lists_delegates_by_power_with_delegators(contracts, dev_accounts, token, transact, chain_snapshot, make_user, client):
    transact(dev_accounts[3], token, "delegate", dev_accounts[2].address)
    transact(dev_accounts[4], token, "delegate", dev_accounts[2].address)
    owner = make_user(dev_accounts[2].address, display_name="Cleo")
    DelegateStatement.objects.create(address=dev_accounts[2].address, author=owner, body="Safety first.")
    answer = client.get("/api/v1/delegates").json()
    assert answer["count"] == 3  # #0, #1 self-delegated; #2 with #3 and #4
    assert [item["address"] for item in answer["items"]] == [a.address for a in dev_accounts[:3]]
    cleo = answer["items"][2]
    assert cleo == {
        "address": dev_accounts[2].address, "display_name": "Cleo", "power": "3950", "delegators": 2,
        "participation": None, "statement": "Safety first.",
    }
    page = client.get("/delegates/").text
    assert "Cleo" in page and "Safety first." in page and "no proposal has closed yet" in page


def test_participation_is_the_share_of_the_last_ten_closed_proposals(db, contracts, dev_accounts, client):
    proposals = [_closed_proposal(n) for n in range(1, 13)]
    for proposal in proposals[-4:]:  # #1 voted on 4 of the last 10
        Vote.objects.create(proposal=proposal, voter=dev_accounts[1].address, choice="1", timestamp=0, signature="0x",
                            receipt="0x", weight="1")
    Vote.objects.create(proposal=proposals[0], voter=dev_accounts[0].address, choice="1", timestamp=0, signature="0x",
                        receipt="0x", weight="1")  # the oldest: outside the window
    items = client.get("/api/v1/delegates?sort=participation").json()["items"]
    assert [(i["address"], i["participation"]) for i in items[:2]] == [
        (dev_accounts[1].address, 0.4), (dev_accounts[0].address, 0.0),
    ]
    assert "40% of the last 10 closed proposals" in client.get("/delegates/?sort=participation").text


def test_a_page_past_the_end_is_empty_and_a_bad_page_a_sentence(db, contracts, client):
    assert client.get("/api/v1/delegates?page=9").json() == {"items": [], "count": 5}
    for bad in ("0", "x", "-1", "1.5"):
        response = client.get(f"/api/v1/delegates?page={bad}")
        assert response.status_code == HTTPStatus.BAD_REQUEST and "positive whole number" in response.json()["error"]
        assert client.get(f"/delegates/?page={bad}").status_code == HTTPStatus.BAD_REQUEST
    wrong_sort = client.get("/api/v1/delegates?sort=age")
    assert wrong_sort.status_code == HTTPStatus.BAD_REQUEST and "Unknown sort" in wrong_sort.json()["error"]

