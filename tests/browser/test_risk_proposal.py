"""An admin writes a risk proposal with a parameter change in the draft form of a real Chromium, opens it for voting,
and its page previews, from the loans on-chain, which ones the change would make liquidatable — with the chart of
health factors before and after drawn. Screenshots: desktop and phone, light and dark."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from playwright.sync_api import expect

from governance.impact import proposal_impact
from governance.models import Proposal
from portal.lending.services import positions_tick

from .conftest import DESKTOP, PHONE, SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.chain]


def test_an_admin_previews_which_loans_a_risk_proposal_would_liquidate(
    live_url, contracts, node, chain_snapshot, dev_accounts, monkeypatch, signed_in_page, new_page, screenshot
):
    monkeypatch.setitem(django_settings.PORTAL, "SNAPSHOT_CONFIRMATIONS", 0)
    node.w3.provider.make_request("anvil_mine", ["0x2"])
    positions_tick(force=True)  # the portal learns the pool's borrowers, as the sampler does
    admin = dev_accounts[0]
    page = signed_in_page(admin)
    from portal.accounts.models import User

    User.objects.filter(username=admin.address).update(is_staff=True)
    page.goto(live_url + "/proposals/new/")
    expect(page.get_by_test_id("collaterals")).to_contain_text("WETH liquidation threshold 82.5 %, LTV 80 %")
    page.fill("#id_title", "Can WETH loans take a 20 % fall?")
    page.fill("#id_body", "The risk team's stress test: what would a **20 %** WETH fall liquidate?")
    page.select_option("#id_category", "risk")
    end = (timezone.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    page.fill("#id_end", end)
    page.select_option("#id_change_parameter", "price_shock")
    page.fill("#id_change_asset", "WETH")
    page.fill("#id_change_value", "-20")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "risk-proposal-form")
    page.get_by_test_id("save-draft").click()
    page.get_by_test_id("activate").click()
    expect(page.get_by_test_id("risk-change")).to_have_text("WETH price shock: -20 %")

    proposal = Proposal.objects.get(title="Can WETH loans take a 20 % fall?")
    at_snapshot, now = (column.impact for column in proposal_impact(proposal=proposal).columns)
    assert at_snapshot.newly_liquidatable == [dev_accounts[3].address] == now.newly_liquidatable
    headline = page.get_by_test_id("impact-headline").first
    expect(headline).to_have_text(
        f"1 of {at_snapshot.positions} loans would become liquidatable, with "
        f"${at_snapshot.debt_newly_liquidatable:,.0f} of debt."
    )
    expect(page.locator(".impact__chart--drawn canvas")).to_have_count(2)  # uPlot drew both charts
    url = page.url
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        for scheme in ("light", "dark"):
            view = new_page(viewport=viewport, color_scheme=scheme)
            view.goto(url)
            expect(view.locator(".impact__chart--drawn canvas")).to_have_count(2)
            assert view.evaluate("document.documentElement.scrollWidth") == viewport["width"]  # nothing overflows
            screenshot(view, f"risk-proposal-{name}-{scheme}")
            view.locator("#impact").screenshot(path=str(SCREENSHOTS / f"risk-proposal-{name}-{scheme}-impact.png"))
