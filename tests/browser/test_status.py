"""The status page as people see it: a staff update appears live for a visitor; screenshots of the pages."""

import math
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from governance.deploy import deploy_all
from portal.health import demo, services
from portal.health.models import Check, Sample
from portal.health.services import checks_run_due, components_refresh, samples_roll_up

from .conftest import DESKTOP, PHONE, wait_for_socket

pytestmark = pytest.mark.browser


@pytest.fixture
def status_page(live_url, node, chain_snapshot, dev_accounts, settings):
    """The demo components and their history, with real samples from the test chain and its demo contracts."""
    settings.PORTAL = {**settings.PORTAL, "CONTRACTS": deploy_all(node, deployer_key=dev_accounts[0].key.hex())}
    components = demo.seed_components()
    demo.seed_history(components)
    checks_run_due(force=True)
    return {c.slug: c for c in components}


def test_a_staff_update_appears_live_for_a_visitor(live_url, status_page, new_page, signed_in_page, dev_accounts,
                                                  make_user, screenshot):
    staff_account = dev_accounts[0]
    staff = make_user(staff_account.address, groups=["admins"])
    incident = services.incident_create(
        user=staff, name="Slow votes", impact="minor", status="investigating", body="Votes take a minute to count.",
        component_codes=[status_page["ethereum-rpc"].code])

    visitor = new_page()
    visitor.goto(live_url + "/status/")
    card = visitor.locator(f"#incident-card-{incident.code}")
    expect(card).to_contain_text("Votes take a minute to count.")
    wait_for_socket(visitor)

    operator = signed_in_page(staff_account)
    operator.goto(live_url + f"/status/incidents/{incident.code}/")
    operator.select_option("#update-status", "identified")
    operator.fill("#update-body", "A slow RPC node; switching to the backup.")
    operator.get_by_role("button", name="Post update").click()
    expect(operator.get_by_test_id("incident-timeline")).to_contain_text("switching to the backup")
    screenshot(operator, "status-incident-staff")

    expect(card).to_contain_text("A slow RPC node; switching to the backup.", timeout=12_000)
    expect(card).to_contain_text("Identified")


def test_a_component_change_swaps_only_its_row_live(live_url, status_page, new_page, settings, screenshot):
    settings.PORTAL = {**settings.PORTAL, "HEALTH_WS_POLL_SECONDS": 60}  # the broadcast, not the catch-up poll
    rpc, database = status_page["ethereum-rpc"], status_page["database"]
    visitor = new_page()
    visitor.goto(live_url + "/status/")
    wait_for_socket(visitor)
    visitor.locator(f"#component-{database.code}").evaluate("row => { row.dataset.marker = 'kept' }")

    Check.objects.filter(component=rpc).update(status="major_outage")
    components_refresh(components=[rpc])

    row = visitor.locator(f"#component-{rpc.code}")
    expect(row).to_have_attribute("data-status", "major_outage")
    expect(row.locator(".status-badge")).to_have_text("Major outage")
    expect(row.locator(".uptime__day")).to_have_count(90)
    expect(visitor.get_by_test_id("status-banner")).to_contain_text("Major System Outage")
    # The other rows were not re-rendered: the mark set on one in the page is still there.
    expect(visitor.locator(f"#component-{database.code}")).to_have_attribute("data-marker", "kept")
    screenshot(visitor, "status-live-component")


def _fake_history(check: Check, *, base: float, wobble: float) -> None:
    """Samples for the charts: a day of readings and a week of hourly roll-ups (test data, drawn like real)."""
    now = timezone.now()
    Sample.objects.bulk_create([
        Sample(check_ref=check, at=now - timedelta(hours=hours), status="operational",
               value=base + wobble * math.sin(hours / 2.5) + wobble * 0.3 * math.sin(hours * 3))
        for hours in range(24 * 7, 0, -1)
    ])
    samples_roll_up()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_status_screenshots(live_url, status_page, new_page, make_user, screenshot, scheme, viewport):
    rpc = status_page["ethereum-rpc"]
    _fake_history(rpc.checks.get(slug="latency"), base=12, wobble=6)
    _fake_history(rpc.checks.get(slug="head-age"), base=40, wobble=30)
    staff = make_user(staff=True)
    services.incident_create(user=staff, name="Votes are slow to count", impact="minor", status="identified",
                             body="The RPC node answers slowly under load; votes still count, a little later.",
                             component_codes=[rpc.code])
    width = viewport["width"]
    page = new_page(viewport=viewport, color_scheme=scheme)
    page.goto(live_url + "/status/")
    expect(page.get_by_test_id("status-banner")).to_be_visible()
    bar = page.locator(f"#component-{rpc.code} .uptime__day").last
    bar.hover()
    expect(bar.locator(".uptime__tip")).to_be_visible()
    screenshot(page, f"status-{width}-{scheme}")

    page.goto(live_url + f"/status/components/{rpc.slug}/")
    expect(page.locator(".status-chart .uplot").first).to_be_visible()
    screenshot(page, f"status-component-{width}-{scheme}")
    page.get_by_role("button", name="7d").click()
    expect(page.locator(".status-charts")).to_have_attribute("data-loaded", "7d")
    if width == DESKTOP["width"] and scheme == "light":
        screenshot(page, "status-component-7d")
        page.goto(live_url + "/")
        expect(page.locator(".status-card")).to_contain_text("Votes are slow to count")
        screenshot(page, "status-home-card")
