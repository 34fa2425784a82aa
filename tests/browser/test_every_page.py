"""Every main page (tests/browser/main_pages.py), held to what a person needs: axe-core finds no serious or critical
violation in light or dark, nothing is logged to the console, and on a 390 px phone nothing scrolls sideways and the
page's main action starts within the first 1.5 screens.

One walk serves all of it: the demo content is seeded once for the module, one browser context per colour scheme
visits each page once (the light one again at phone width), and each test reads that walk's findings for its page.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from eth_account import Account
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from governance.devchain import DEV_KEYS
from portal.accounts.models import User

from .conftest import DESKTOP, PHONE, SCREENSHOTS, _server_quiet
from .main_pages import MAIN_PAGES

# The marker is what tells pytest-django to create the test database: the tests themselves only read the walk's
# findings, and a module fixture (seeded_site) cannot ask for the function-scoped `db`. Without it, run on its own,
# the module seeded whatever database the settings name (the developer's own) instead of the test database.
pytestmark = [pytest.mark.browser, pytest.mark.chain, pytest.mark.django_db]

AXE_JS = (Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js").read_text()
# axe runs through the DevTools protocol (page.evaluate), which the site's CSP does not govern: no inline script is
# added to the page, so the CSP stays the one visitors get, and a CSP refusal still shows up as a console error.
AXE_RUN = """() => axe.run(document, {resultTypes: ["violations"]}).then(result => result.violations
  .filter(v => v.impact === "serious" || v.impact === "critical")
  .map(v => ({id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " — " + n.failureSummary)})))"""
PAGE_BOX = """(selector) => {
  const action = document.querySelector(selector);
  const box = action && action.getBoundingClientRect();
  return {scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth,
          actionTop: box ? box.top + window.scrollY : null, screen: window.innerHeight};
}"""


@pytest.fixture(scope="module")
def seeded_site(django_db_setup, django_db_blocker, contracts, anvil_url, _asgi_server):
    """`seed_demo` once for the module, the demo admin's session, and each main page's URL; the database is
    emptied and the chain reverted afterwards, as the transactional tests that follow expect."""
    from governance import chain as chain_module

    node = chain_module.chain()
    snapshot = node.w3.provider.make_request("evm_snapshot", [])["result"]
    # The server thread reads the database all through the walk, so access stays open for the module.
    with django_db_blocker.unblock():
        try:
            call_command("seed_demo", stdout=io.StringIO())
            admin = User.objects.get(username=Account.from_key(DEV_KEYS[0]).address)
            client = Client()
            client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
            urls = {page.name: page.url() for page in MAIN_PAGES}
            yield {"base": _asgi_server, "session": client.cookies["sessionid"].value, "urls": urls}
        finally:
            _server_quiet()  # the walk's last requests end before the tables are emptied (a TRUNCATE can deadlock)
            call_command("flush", interactive=False, verbosity=0)
            node.w3.provider.make_request("evm_revert", [snapshot])


def _visit(page, url: str, action: str) -> list[str]:
    """Open `url` and wait until it has settled and shows its main `action` (pages that build themselves from a
    fetch, such as the API docs, have it only then); the console errors, uncaught exceptions and failed loads."""
    errors: list[str] = []
    on_console = lambda message: errors.append(message.text) if message.type == "error" else None  # noqa: E731
    on_error = lambda error: errors.append(f"uncaught: {error}")  # noqa: E731
    # The console says only "Failed to load resource"; the address says which.
    on_response = lambda response: errors.append(f"{response.status} {response.url}") if response.status >= 400 else None  # noqa: E731
    page.on("console", on_console)
    page.on("pageerror", on_error)
    page.on("response", on_response)
    try:
        page.goto(url, wait_until="networkidle")
        page.locator(action).first.wait_for(state="attached", timeout=5_000)
    except PlaywrightTimeout:
        pass  # the phone test names the missing action
    finally:
        page.remove_listener("console", on_console)
        page.remove_listener("pageerror", on_error)
        page.remove_listener("response", on_response)
    return errors


@pytest.fixture(scope="module")
def walk(seeded_site, browser):
    """{"axe": {(scheme, page): violations}, "console": {(view, page): errors}, "phone": {page: box}}."""
    found: dict = {"axe": {}, "console": {}, "phone": {}}
    SCREENSHOTS.mkdir(exist_ok=True)
    for scheme in ("light", "dark"):
        context = browser.new_context(viewport=DESKTOP, color_scheme=scheme)
        context.set_default_timeout(15_000)
        context.add_cookies([{"name": "sessionid", "value": seeded_site["session"], "url": seeded_site["base"]}])
        page = context.new_page()
        views = [("desktop", DESKTOP)] + ([("phone", PHONE)] if scheme == "light" else [])
        try:
            for view, viewport in views:
                page.set_viewport_size(viewport)
                for main_page in MAIN_PAGES:
                    url = seeded_site["base"] + seeded_site["urls"][main_page.name]
                    found["console"][(f"{scheme} {view}", main_page.name)] = _visit(page, url, main_page.action)
                    if view == "phone":
                        found["phone"][main_page.name] = page.evaluate(PAGE_BOX, main_page.action)
                        page.screenshot(path=str(SCREENSHOTS / f"every-page-{main_page.name}-phone.png"))
                    else:
                        page.evaluate(AXE_JS)
                        found["axe"][(scheme, main_page.name)] = page.evaluate(AXE_RUN)
        finally:
            context.close()
    return found


PAGE_NAMES = [page.name for page in MAIN_PAGES]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", PAGE_NAMES)
def test_axe_finds_no_serious_or_critical_violation(walk, name, scheme):
    violations = walk["axe"][(scheme, name)]
    assert violations == [], f"{name} ({scheme}):\n" + json.dumps(violations, indent=1)


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_the_console_stays_clean(walk, name):
    errors = {view: logged for (view, page), logged in walk["console"].items() if page == name and logged}
    assert errors == {}, f"{name}: {errors}"


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_on_a_phone_nothing_scrolls_sideways_and_the_main_action_is_within_reach(walk, name):
    box = walk["phone"][name]
    assert box["scrollWidth"] <= box["clientWidth"], f"{name} is {box['scrollWidth']} px wide on a 390 px phone"
    page = next(p for p in MAIN_PAGES if p.name == name)
    assert box["actionTop"] is not None, f"{name}: no main action ({page.action}) on the page"
    assert box["actionTop"] < 1.5 * box["screen"], (
        f"{name}: the main action ({page.action}) starts {box['actionTop']:.0f} px down a {box['screen']} px screen"
    )
