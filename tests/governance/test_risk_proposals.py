"""A risk proposal's structured change: saved only when the market allows it, carried by the API and the recount
file, previewed on the proposal page from the loans on-chain (at the snapshot block and at the head), and checked
on-chain once executed. Every number is compared with getUserAccountData read directly from the pool."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal
from http import HTTPStatus

import pytest
import time_machine
from django.utils import timezone

from governance import services
from governance.impact import proposal_impact
from governance.models import Proposal, ProposalEvent, RiskParameterChange
from portal.lending.impact import BUCKETS
from portal.lending.models import Position
from portal.lending.services import positions_tick

pytestmark = [pytest.mark.django_db, pytest.mark.chain]

WETH_PRICE = Decimal(3_150)


@pytest.fixture
def risk_proposal(admin_user, settled_chain, chain_snapshot):
    """`risk_proposal(parameter, value, activate=True)`: an admin's basic risk proposal on WETH, voting open."""

    def make(parameter: str, value: str, *, activate: bool = True, hours: int = 24):
        now = timezone.now()
        proposal = services.proposal_create(
            author=admin_user, title=f"WETH {parameter} to {value}", body="A parameter change.", category="risk",
            start=now - timedelta(minutes=1), end=now + timedelta(hours=hours),
            risk_change={"asset": "WETH", "parameter": parameter, "value": value},
        )
        return services.proposal_activate(proposal=proposal, actor=admin_user) if activate else proposal

    return make


def known_addresses() -> list[str]:
    positions_tick(force=True)
    return list(Position.objects.values_list("address", flat=True))


def chain_reading(pool, addresses, block="latest") -> dict[str, tuple[int, int]]:
    """address -> (debt in base units, health factor 1e18) straight from getUserAccountData, for loans with debt."""
    answers = {a: pool.functions.getUserAccountData(a).call(block_identifier=block) for a in addresses}
    return {a: (d[1], d[5]) for a, d in answers.items() if d[1]}


def histogram(readings) -> list[int]:
    counts = [0] * (len(BUCKETS) + 1)
    for _debt, hf in readings.values():
        value = Decimal(hf) / 10**18
        counts[next((i for i, edge in enumerate(BUCKETS) if value < edge), len(BUCKETS))] += 1
    return counts


def assert_equals_chain(impact, before, after):
    """The preview's numbers against the pool's own answers before and after the change is really made."""
    liquidatable = sorted(a for a, (_d, hf) in after.items() if hf < 10**18)
    newly = sorted(a for a in liquidatable if before[a][1] >= 10**18)
    assert impact.positions == len(before) == len(after)
    assert impact.liquidatable_before == sum(hf < 10**18 for _d, hf in before.values())
    assert impact.liquidatable_after == len(liquidatable)
    assert sorted(impact.newly_liquidatable) == newly
    assert impact.debt_newly_liquidatable == sum(Decimal(after[a][0]) for a in newly) / 10**8
    assert impact.debt_liquidatable_after == sum(Decimal(after[a][0]) for a in liquidatable) / 10**8
    assert impact.histogram_before == histogram(before)
    assert impact.histogram_after == histogram(after)


def test_the_change_is_in_the_proposal_api_and_the_recount_file(risk_proposal, client, get_export):
    proposal = risk_proposal("liquidation_threshold", "0.81")
    expected = {"market": proposal.risk_change.market, "asset": proposal.risk_change.asset, "symbol": "WETH",
                "parameter": "liquidation_threshold", "old": "0.825", "new": "0.81", "checked_block": None,
                "onchain_value": None, "onchain_matches": None}
    assert client.get(f"/api/v1/proposals/{proposal.number}").json()["risk_change"] == expected
    listed = client.get("/api/v1/proposals").json()["items"]
    assert [p["risk_change"] for p in listed if p["number"] == proposal.number] == [expected]
    export = json.loads(get_export(proposal.number)[1])
    assert export["proposal"]["risk_change"] == expected


def test_a_proposal_without_a_change_says_null(make_proposal, client):
    proposal = make_proposal("basic")
    assert client.get(f"/api/v1/proposals/{proposal.number}").json()["risk_change"] is None


def test_an_admin_writes_the_change_in_the_draft_form_in_percent(settled_chain, admin_user, client, chain_snapshot):
    client.force_login(admin_user)
    form = client.get("/proposals/new/").content.decode()
    assert "WETH liquidation threshold 82.5 %, LTV 80 %" in form and "WBTC liquidation threshold 75 %, LTV 70 %" in form
    response = client.post("/proposals/new/", FORM | {"change_parameter": "ltv", "change_asset": "weth",
                                                      "change_value": "72.5"})
    assert response.status_code == HTTPStatus.FOUND
    change = Proposal.objects.get(title="WETH LTV").risk_change
    assert (change.symbol, change.parameter, change.old_value, change.new_value) == ("WETH", "ltv", "0.8", "0.725")
    edit = client.get(f"/proposals/{change.proposal.number}/edit/").content.decode()
    assert 'value="72.5"' in edit
    client.post(f"/proposals/{change.proposal.number}/edit/", FORM | {"change_parameter": "", "change_asset": "",
                                                                       "change_value": ""})
    assert not RiskParameterChange.objects.exists()  # emptied fields remove the change


FORM = {"title": "WETH LTV", "body": "Lower it.", "category": "risk", "voting_type": "basic", "choices": "",
        "start": "2030-01-01T10:00", "end": "2030-01-03T10:00", "quorum_kind": "amount", "quorum_value": "0"}


@pytest.mark.parametrize(("fields", "sentence"), [
    ({"change_parameter": "ltv", "change_asset": "DOGE", "change_value": "50"},
     "“DOGE” is not a collateral asset of this lending market (it lists WETH, WBTC)."),
    ({"change_parameter": "ltv", "change_asset": "WETH", "change_value": "120"},
     "An LTV cannot be above 100 % (120 % asked)"),
    ({"change_parameter": "ltv", "change_asset": "WETH", "change_value": "90"},
     "An LTV of 90 % would be above WETH&#x27;s liquidation threshold of 82.5 %"),
    ({"change_parameter": "liquidation_threshold", "change_asset": "WBTC", "change_value": "101"},
     "A liquidation threshold cannot be above 100 % (101 % asked)"),
    ({"change_parameter": "price_shock", "change_asset": "WETH", "change_value": "-100"},
     "A price shock of -100 % would leave no price at all"),
    ({"change_parameter": "price_shock", "change_asset": "WETH", "change_value": "-250"},
     "A price shock of -250 % would leave no price at all"),
    ({"change_parameter": "", "change_asset": "WETH", "change_value": "50"},
     "Choose which parameter the change sets"),
    ({"change_parameter": "ltv", "change_asset": "WETH", "change_value": "50", "category": "treasury"},
     "Only a proposal in the “Risk parameters” category can carry a parameter change"),
])
def test_bad_changes_are_refused_with_a_sentence_and_nothing_is_saved(settled_chain, admin_user, client, fields,
                                                                      sentence):
    client.force_login(admin_user)
    response = client.post("/proposals/new/", FORM | fields)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert sentence in response.content.decode()
    assert not Proposal.objects.exists() and not RiskParameterChange.objects.exists()


def test_an_unknown_market_is_refused_by_the_service(settled_chain, admin_user):
    from portal.errors import Refusal

    now = timezone.now()
    with pytest.raises(Refusal, match="There is no lending market “0x000000000000000000000000000000000000dEaD”"):
        services.proposal_create(
            author=admin_user, title="Elsewhere", body="x", category="risk", start=now, end=now + timedelta(days=1),
            risk_change={"market": "0x000000000000000000000000000000000000dEaD", "asset": "WETH", "parameter": "ltv",
                         "value": "0.5"},
        )
    assert not Proposal.objects.exists()


def test_the_preview_at_the_snapshot_and_now_equals_the_chain(risk_proposal, pool, weth_feed, set_price, node,
                                                              client, django_assert_max_num_queries):
    addresses = known_addresses()
    proposal = risk_proposal("price_shock", "-0.2")
    snapshot_state = node.w3.provider.make_request("evm_snapshot", [])["result"]  # the chain as at the snapshot
    set_price(weth_feed, WETH_PRICE * Decimal("0.95"))  # the head moves on: WETH 5 % lower than at the snapshot
    impact = proposal_impact(proposal=proposal)
    at_snapshot, now = (column.impact for column in impact.columns)
    assert at_snapshot.block == proposal.snapshot_block and now.block == node.block_number()

    head_before = chain_reading(pool, addresses)
    set_price(weth_feed, WETH_PRICE * Decimal("0.95") * Decimal("0.8"))  # the shock, made for real at the head
    assert_equals_chain(now, head_before, chain_reading(pool, addresses))

    node.w3.provider.make_request("evm_revert", [snapshot_state])
    snapshot_before = chain_reading(pool, addresses, block=proposal.snapshot_block)
    assert snapshot_before == chain_reading(pool, addresses)
    set_price(weth_feed, WETH_PRICE * Decimal("0.8"))
    assert_equals_chain(at_snapshot, snapshot_before, chain_reading(pool, addresses))
    assert at_snapshot.newly_liquidatable  # the demo's near-liquidation loan falls

    page = client.get(proposal.get_absolute_url()).content.decode()
    assert "What this change would do" in page and "WETH price shock: -20 %" in page
    with django_assert_max_num_queries(8):
        fragment = client.get(proposal.get_absolute_url() + "?fragment=impact").content.decode()
    headline = re.search(r'data-testid="impact-headline">(.*?)</p>', fragment, re.S).group(1)
    assert re.sub(r"<[^>]+>", "", headline) == (
        f"{len(at_snapshot.newly_liquidatable)} of {at_snapshot.positions} loans would become liquidatable, with "
        f"${at_snapshot.debt_newly_liquidatable:,.0f} of debt."
    )
    assert f"When voting opened (block {proposal.snapshot_block})" in fragment


def test_a_threshold_preview_equals_the_pool_after_the_parameter_is_set(risk_proposal, pool, minter, transact,
                                                                        settled_chain):
    addresses = known_addresses()
    transact(minter, pool, "setRiskParameters", settled_chain["WETH"], 6_500, 8_250, 500)  # room below the LTV
    proposal = risk_proposal("liquidation_threshold", "0.67")
    (_snapshot, now) = proposal_impact(proposal=proposal).columns
    before = chain_reading(pool, addresses)
    transact(minter, pool, "setRiskParameters", settled_chain["WETH"], 6_500, 6_700, 500)
    assert_equals_chain(now.impact, before, chain_reading(pool, addresses))
    assert now.impact.newly_liquidatable


def test_node_down_the_preview_says_so_and_the_page_still_serves(risk_proposal, client, monkeypatch):
    from django.conf import settings as django_settings

    proposal = risk_proposal("ltv", "0.75")
    monkeypatch.setitem(django_settings.PORTAL, "CHAIN_RPC_URL", "http://127.0.0.1:9")
    fragment = client.get(proposal.get_absolute_url() + "?fragment=impact")
    assert fragment.status_code == HTTPStatus.OK
    assert "The blockchain node cannot be reached right now" in fragment.content.decode()
    assert 'data-testid="impact-headline"' not in fragment.content.decode()


def _pass_and_close(proposal, admin_user, ballot, post_vote, dev_accounts):
    assert post_vote(proposal.number, ballot(dev_accounts[0], proposal, 1)).status_code == HTTPStatus.CREATED
    return time_machine.travel(proposal.end + timedelta(minutes=1), tick=False)


def test_after_execution_the_timeline_says_the_pool_has_the_voted_value(
    risk_proposal, admin_user, ballot, post_vote, dev_accounts, pool, minter, transact, settled_chain, client,
    django_capture_on_commit_callbacks,
):
    proposal = risk_proposal("liquidation_threshold", "0.81")
    with _pass_and_close(proposal, admin_user, ballot, post_vote, dev_accounts):
        receipt = transact(minter, pool, "setRiskParameters", settled_chain["WETH"], 8_000, 8_100, 500)
        client.force_login(admin_user)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(f"/proposals/{proposal.number}/execute/", {"tx_hash": receipt["transactionHash"].to_0x_hex()})
        head = pool.w3.eth.block_number
        config = pool.functions.configOf(settled_chain["WETH"]).call()
        assert config[3] == 8_100  # liquidationThreshold, read directly
        note = ProposalEvent.objects.get(proposal=proposal, kind="checked").note
        assert note == f"At block {head} the pool's WETH liquidation threshold is 81 %: the voted value."
        body = client.get(f"/api/v1/proposals/{proposal.number}").json()["risk_change"]
        assert (body["checked_block"], body["onchain_value"], body["onchain_matches"]) == (head, "0.81", True)
        page = client.get(proposal.get_absolute_url()).content.decode()
        assert "Checked on-chain" in page and "the pool has the voted value" in page
        assert services.risk_changes_check_due() == 0  # confirmed: not read again


def test_an_execution_not_on_chain_yet_is_said_and_confirmed_later(
    risk_proposal, admin_user, ballot, post_vote, dev_accounts, pool, minter, transact, settled_chain,
):
    proposal = risk_proposal("ltv", "0.75")
    with _pass_and_close(proposal, admin_user, ballot, post_vote, dev_accounts):
        services.proposal_mark_executed(proposal=proposal, actor=admin_user, tx_hash="0x" + "ab" * 32)
        assert services.risk_change_check(proposal=Proposal.objects.get(pk=proposal.pk)) is False
        assert services.risk_changes_check_due() == 0  # still 80 %: no second entry for the same answer
        transact(minter, pool, "setRiskParameters", settled_chain["WETH"], 7_500, 8_250, 500)
        assert services.risk_changes_check_due() == 1
    notes = list(ProposalEvent.objects.filter(proposal=proposal, kind="checked").values_list("note", flat=True))
    assert len(notes) == 2
    assert notes[0].endswith("the pool's WETH LTV is 80 %, not the voted 75 %: the change is not on-chain.")
    assert notes[1].endswith("the pool's WETH LTV is 75 %: the voted value.")


def test_a_price_shock_scenario_has_nothing_to_check_on_chain(risk_proposal, admin_user, ballot, post_vote,
                                                              dev_accounts):
    proposal = risk_proposal("price_shock", "-0.3")
    with _pass_and_close(proposal, admin_user, ballot, post_vote, dev_accounts):
        services.proposal_mark_executed(proposal=proposal, actor=admin_user, tx_hash="0x" + "cd" * 32)
        assert services.risk_change_check(proposal=Proposal.objects.get(pk=proposal.pk)) is None
        services.risk_changes_check_due()
    (note,) = ProposalEvent.objects.filter(proposal=proposal, kind="checked").values_list("note", flat=True)
    assert note == "WETH price shock: -30 % is a scenario, not a parameter: there is nothing to check on-chain."


def test_a_later_on_chain_check_refreshes_the_stored_recount_file(
    risk_proposal, admin_user, ballot, post_vote, dev_accounts, pool, minter, transact, settled_chain, get_export,
    django_capture_on_commit_callbacks,
):
    from governance.models import ProposalExport

    proposal = risk_proposal("ltv", "0.75")
    with _pass_and_close(proposal, admin_user, ballot, post_vote, dev_accounts):
        assert services.proposals_close_due() == 1
        services.proposal_mark_executed(proposal=Proposal.objects.get(pk=proposal.pk), actor=admin_user,
                                        tx_hash="0x" + "ab" * 32)
        assert services.risk_change_check(proposal=Proposal.objects.get(pk=proposal.pk)) is False
        _, not_yet = get_export(proposal.number)
        transact(minter, pool, "setRiskParameters", settled_chain["WETH"], 7_500, 8_250, 500)
        with django_capture_on_commit_callbacks(execute=True):  # the file is stored by the check's own effect
            assert services.risk_changes_check_due() == 1
        served, confirmed = get_export(proposal.number)
    assert not served.streaming
    assert json.loads(not_yet)["proposal"]["risk_change"]["onchain_matches"] is False
    change = json.loads(confirmed)["proposal"]["risk_change"]
    assert (change["onchain_value"], change["onchain_matches"]) == ("0.75", True)
    assert [bytes(row.body) for row in ProposalExport.objects.filter(proposal=proposal)] == [confirmed]
