"""A dev-key wallet signs a vote in a real Chromium; another page's result bar moves without a reload."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from playwright.sync_api import expect

from .conftest import wait_for_socket

pytestmark = [pytest.mark.browser, pytest.mark.chain]


@pytest.fixture
def proposals(live_url, contracts, node, dev_accounts, monkeypatch, make_user):
    """An admin, an open basic proposal and an open ranked-choice one, on the seeded test chain."""
    from governance import services

    monkeypatch.setitem(django_settings.PORTAL, "SNAPSHOT_CONFIRMATIONS", 0)
    node.w3.provider.make_request("anvil_mine", ["0x2"])
    admin = make_user(dev_accounts[0].address, staff=True)
    now = timezone.now()
    made = []
    for title, voting_type, choices in (
        ("Lower the USDC reserve factor to 10%", "basic", None),
        ("Which collateral should be listed next?", "ranked-choice", ["wstETH", "rETH", "cbBTC"]),
    ):
        draft = services.proposal_create(
            author=admin, title=title, body="## Why\nLenders earn more; reserves stay **above target**.",
            category="risk", voting_type=voting_type, choices=choices, start=now, end=now + timedelta(days=3),
            quorum_value="1000",
        )
        made.append(services.proposal_activate(proposal=draft, actor=admin))
    return made


def test_a_signed_vote_moves_the_bar_in_another_page_without_reload(proposals, signed_in_page, new_page, live_url,
                                                                   dev_accounts):
    proposal = proposals[0]
    url = f"{live_url}{proposal.get_absolute_url()}"
    watcher = new_page()
    watcher.goto(url)
    expect(watcher.get_by_test_id("bar-1")).to_have_attribute("style", re.compile(r"width: 0"))
    wait_for_socket(watcher, '[ws-connect^="/ws/proposals/"]')

    voter = signed_in_page(dev_accounts[1])
    voter.goto(url)
    voter.get_by_label("For").check()
    voter.get_by_label("Reason").fill("Lenders first.")
    voter.get_by_test_id("vote-submit").click()
    expect(voter.locator("[data-vote-status]")).to_contain_text("Your vote is counted")
    expect(voter.locator("[data-receipt-hash]")).to_have_text(re.compile(r"^0x[0-9a-f]{64}$"))

    expect(watcher.get_by_test_id("bar-1")).to_have_attribute("style", re.compile(r"width: 100"), timeout=5000)
    expect(watcher.get_by_test_id("voter-count")).to_have_text("1")
    expect(watcher.get_by_test_id("voters")).to_contain_text("Lenders first.")


def test_a_ranked_vote_is_signed_in_the_chosen_order(proposals, signed_in_page, live_url, dev_accounts):
    from governance.models import Vote

    proposal = proposals[1]
    page = signed_in_page(dev_accounts[2])
    page.goto(f"{live_url}{proposal.get_absolute_url()}")
    page.get_by_role("button", name="Move cbBTC up").click()
    page.get_by_role("button", name="Move cbBTC up").click()
    page.get_by_test_id("vote-submit").click()
    expect(page.locator("[data-vote-status]")).to_contain_text("Your vote is counted")
    assert Vote.objects.get(proposal=proposal).choice == "[3,1,2]"


def test_a_refused_signature_shows_a_sentence(proposals, signed_in_page, live_url, dev_accounts):
    page = signed_in_page(dev_accounts[1], reject=True)
    page.goto(f"{live_url}{proposals[0].get_absolute_url()}")
    page.get_by_label("Against").check()
    page.get_by_test_id("vote-submit").click()
    expect(page.locator("[data-vote-status]")).to_contain_text("cancelled")


def test_signed_out_a_visitor_is_asked_to_sign_in_to_vote_instead_of_shown_a_form(proposals, new_page, live_url):
    proposal = proposals[0]
    page = new_page()
    page.goto(f"{live_url}{proposal.get_absolute_url()}")
    vote = page.locator("#vote")
    expect(vote.get_by_test_id("sign-in-to-vote")).to_have_text("Sign in to vote")
    expect(vote.locator("[data-vote-form]")).to_have_count(0)
    measured = f"Your voting power was measured at block {proposal.snapshot_block} ({proposal.snapshot_time:%-d %b, %H:%M} UTC)"
    expect(vote.get_by_test_id("measured")).to_contain_text(measured)
    expect(vote.get_by_role("link", name="What is this?")).to_have_attribute("href", "/help/#snapshot")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_governance_screenshots(proposals, signed_in_page, live_url, dev_accounts, screenshot, scheme, viewport):
    from governance.demo import _votes
    from tests.browser.conftest import DESKTOP, PHONE

    _votes(proposals[0], [(dev_accounts[1], 1, "More yield for lenders."), (dev_accounts[2], 2, ""), (dev_accounts[4], 3, "")])
    size = DESKTOP if viewport == "desktop" else PHONE
    page = signed_in_page(dev_accounts[0], viewport=size, color_scheme=scheme)
    page.goto(f"{live_url}/proposals/")
    expect(page.get_by_test_id("proposal-list")).to_be_visible()
    screenshot(page, f"governance-list-{viewport}-{scheme}")
    page.goto(f"{live_url}{proposals[0].get_absolute_url()}")
    expect(page.get_by_test_id("tally")).to_be_visible()
    screenshot(page, f"governance-proposal-{viewport}-{scheme}")
    page.goto(f"{live_url}/proposals/new/")
    page.get_by_label("Body").fill("## Summary\nRaise the **DUSD** borrow cap.\n\n- safer\n- simpler")
    expect(page.get_by_test_id("preview")).to_contain_text("Summary")
    screenshot(page, f"governance-form-{viewport}-{scheme}")


def test_closed_proposal_screenshot(proposals, new_page, live_url, dev_accounts, screenshot):
    import time_machine

    from governance.demo import _votes

    _votes(proposals[1], [(dev_accounts[1], [2, 1, 3], ""), (dev_accounts[2], [1, 2, 3], ""), (dev_accounts[3], [3, 1, 2], "")])
    page = new_page()
    with time_machine.travel(proposals[1].end.timestamp() + 3600, tick=True):
        page.goto(f"{live_url}{proposals[1].get_absolute_url()}")
        expect(page.get_by_test_id("outcome")).to_contain_text("won")
        assert page.locator("[data-vote-form]").count() == 0
        screenshot(page, "governance-proposal-closed-desktop-light")


def test_a_signed_in_person_votes_with_their_own_wallet(proposals, signed_in_page, live_url, dev_accounts):
    from governance.models import Vote

    page = signed_in_page(dev_accounts[3])
    page.goto(f"{live_url}{proposals[0].get_absolute_url()}")
    page.get_by_label("Abstain").check()
    page.get_by_test_id("vote-submit").click()
    expect(page.locator("[data-vote-status]")).to_contain_text("Your vote is counted")
    assert Vote.objects.get(proposal=proposals[0]).voter == dev_accounts[3].address


def test_a_wallet_offering_another_address_than_the_signed_in_one_gets_a_sentence(
    proposals, signed_in_page, wallet_page, live_url, dev_accounts
):
    from governance.models import Vote

    signed_in, other = dev_accounts[1], dev_accounts[2]
    session = signed_in_page(signed_in).context.cookies()
    # Signed in as #1, but the wallet in this browser now offers #2: a person who switched accounts in the wallet.
    page = wallet_page(other)
    page.context.add_cookies(session)
    page.goto(f"{live_url}{proposals[0].get_absolute_url()}")
    page.get_by_label("For").check()
    page.get_by_test_id("vote-submit").click()
    # Wallets hand out addresses in lower case; the sentence shows them as the wallet did.
    expect(page.locator("[data-vote-status]")).to_contain_text(re.compile(
        re.escape(f"Your wallet offers {other.address[:6]}…{other.address[-4:]}, but you are signed in with ")
        + re.escape(f"{signed_in.address[:6]}…{signed_in.address[-4:]}"),
        re.IGNORECASE,
    ))
    assert not Vote.objects.filter(proposal=proposals[0]).exists()


def test_redis_down_a_proposal_page_shows_the_votes_cast_meanwhile_when_its_socket_returns(
    proposals, new_page, live_url, redis_channel_layer, dev_accounts, monkeypatch
):
    """The thread page's outage test (test_live_paused.py) for the proposal page: votes counted while its socket
    was down reach the tally and the voter list once the socket is back, without a reload."""
    from governance.eip712 import eip712_domain, sign_vote

    # Each vote's live update is sent inside its own request, so it has failed (Redis is down) when the POST answers:
    # only the page's catch-up can show these votes.
    monkeypatch.setitem(django_settings.PORTAL, "LIVE_TALLY_WINDOW_SECONDS", 0)
    proposal = proposals[0]
    page = new_page()
    page.goto(f"{live_url}{proposal.get_absolute_url()}")
    wait_for_socket(page, "#proposal-live")
    expect(page.get_by_test_id("voter-count")).to_have_text("0")

    redis_channel_layer.stop()
    expect(page.get_by_test_id("live-paused")).to_be_visible(timeout=5_000)
    now = int(time.time())
    for account, choice, reason in ((dev_accounts[1], "1", "Lenders first."), (dev_accounts[2], "2", "Too soon.")):
        signature = sign_vote(private_key=account.key.to_0x_hex(), domain=eip712_domain(), voter=account.address,
                              proposal=proposal.number, choice=choice, reason=reason, timestamp=now)
        body = {"voter": account.address, "choice": choice, "reason": reason, "timestamp": now, "signature": signature}
        answer = page.request.post(f"{live_url}/api/v1/proposals/{proposal.number}/votes", data=json.dumps(body),
                                   headers={"Content-Type": "application/json"})
        assert answer.status == HTTPStatus.CREATED, answer.text()
    expect(page.get_by_test_id("voter-count")).to_have_text("0")

    redis_channel_layer.start()
    wait_for_socket(page, "#proposal-live", opened=2, timeout=5_000)
    expect(page.get_by_test_id("live-paused")).to_be_hidden()
    expect(page.get_by_test_id("voter-count")).to_have_text("2", timeout=3_000)
    expect(page.get_by_test_id("bar-1")).not_to_have_attribute("style", re.compile(r"width: 0"))
    expect(page.get_by_test_id("bar-2")).not_to_have_attribute("style", re.compile(r"width: 0"))
    expect(page.get_by_test_id("voters")).to_contain_text("Lenders first.")
    expect(page.get_by_test_id("voters")).to_contain_text("Too soon.")
