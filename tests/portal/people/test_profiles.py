"""Profiles for every address at /u/<address>/ and GET /api/v1/accounts/{address}: chain facts from a real anvil
(voting power, badges, delegation in and out with its block), the rest from the database; bad addresses a sentence."""

from http import HTTPStatus

import pytest
from django.test import Client

from governance.delegation import ZERO_ADDRESS
from governance.deploy import contract
from portal.people.models import DelegateStatement

pytestmark = pytest.mark.chain


@pytest.fixture
def token(contracts, node):
    return contract(node, "LoyaltyToken", contracts["LoyaltyToken"])


def test_a_holder_profile_shows_power_badges_and_self_delegation(contracts, dev_accounts, make_user, client):
    holder = dev_accounts[1].address
    make_user(holder, display_name="Bea")
    answer = client.get(f"/api/v1/accounts/{holder}").json()
    assert answer["address"] == holder and answer["display_name"] == "Bea"
    assert answer["voting_power"] == "12200"  # 12,000 LOYAL + 2 badges x 100
    assert answer["badges"] == 2 and answer["tier"] == {"slug": "gold", "name": "Gold"}
    assert answer["delegates_to"]["address"] == holder and answer["delegates_to"]["since_block"] > 0
    assert answer["delegators"] == [] and answer["votes"] == []
    assert (answer["proposals"], answer["comments"], answer["feedback"]) == (0, 0, 0)
    page = client.get(f"/u/{holder}/")
    assert page.status_code == HTTPStatus.OK
    assert "Bea" in page.text and "themselves" in page.text and "12,200" in page.text


def test_delegating_moves_power_and_is_read_from_the_event(db, contracts, dev_accounts, token, transact, chain_snapshot, client):
    delegator, delegate = dev_accounts[3], dev_accounts[1]
    receipt = transact(delegator, token, "delegate", delegate.address)
    out = client.get(f"/api/v1/accounts/{delegator.address}").json()
    assert out["delegates_to"] == {"address": delegate.address, "since_block": receipt["blockNumber"]}
    into = client.get(f"/api/v1/accounts/{delegate.address}").json()
    assert into["delegators"] == [{"address": delegator.address, "since_block": receipt["blockNumber"]}]
    assert into["voting_power"] == "13000"  # 12,000 + 800 delegated + 2 badges x 100
    page = client.get(f"/u/{delegate.address}/").text
    assert "from 1 other holder" in page


def test_delegating_to_the_zero_address_reads_as_votes_removed(db, contracts, dev_accounts, token, transact, chain_snapshot, client):
    holder = dev_accounts[4]
    receipt = transact(holder, token, "delegate", ZERO_ADDRESS)
    answer = client.get(f"/api/v1/accounts/{holder.address}").json()
    assert answer["delegates_to"] == {"address": ZERO_ADDRESS, "since_block": receipt["blockNumber"]}
    assert answer["voting_power"] == "0"
    assert "the votes were removed" in client.get(f"/u/{holder.address}/").text


def test_an_address_without_account_or_tokens_has_a_profile(db, contracts, stranger, client):
    answer = client.get(f"/api/v1/accounts/{stranger.address}").json()
    assert answer["display_name"] is None and answer["voting_power"] == "0" and answer["delegates_to"] is None
    assert "no portal account yet" in client.get(f"/u/{stranger.address}/").text


def test_a_lower_case_address_redirects_to_its_checksummed_profile(db, contracts, dev_accounts, client):
    address = dev_accounts[2].address
    response = client.get(f"/u/{address.lower()}/")
    assert response.status_code == HTTPStatus.MOVED_PERMANENTLY and response["Location"] == f"/u/{address}/"


@pytest.mark.parametrize(
    "address",
    ["0xzz", "hello", "0x" + "g" * 40, "0x70997970c51812dc3a010c7d01b50e0d17dc79C8", "0x" + "a" * 10_000, "0x€"],
    ids=["short", "word", "not-hex", "wrong-checksum", "10000-chars", "unicode"],
)
def test_a_malformed_profile_address_is_a_sentence_never_a_500(db, address, client):
    api = client.get(f"/api/v1/accounts/{address}")
    assert api.status_code == HTTPStatus.BAD_REQUEST
    assert "is not a wallet address" in api.json()["error"] and len(api.json()["error"]) < 300
    page = client.get(f"/u/{address}/")
    assert page.status_code == HTTPStatus.BAD_REQUEST and "is not a wallet address" in page.text


def test_every_address_shown_links_to_its_profile(db, make_user, client):
    from portal.feedback import services

    author = make_user(display_name="Linda")
    services.post_create(author=author, kind="idea", title="Dark mode for the status page", body="", tag_slugs=[])
    page = Client().get("/feedback/").text
    assert f'href="/u/{author.username}/"' in page


def test_a_statement_is_saved_for_your_own_wallet_only(db, make_user, dev_accounts):
    client = Client()
    user = make_user(signed_in_client=client)
    client.post("/delegates/statement/", {"address": user.username, "body": "I vote for **safe** parameters."})
    assert DelegateStatement.objects.get(address=user.username).body == "I vote for **safe** parameters."
    refused = client.post("/delegates/statement/", {"address": dev_accounts[1].address, "body": "Not mine"}, follow=True)
    assert "only write the statement of a wallet linked to your account" in refused.text
    too_long = client.post("/delegates/statement/", {"address": user.username, "body": "x" * 5001}, follow=True)
    assert "too long" in too_long.text
    assert list(DelegateStatement.objects.values_list("body", flat=True)) == ["I vote for **safe** parameters."]
    client.post("/delegates/statement/", {"address": user.username, "body": "  "})
    assert not DelegateStatement.objects.exists()
