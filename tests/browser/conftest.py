"""Real-browser fixtures: an ASGI server (HTTP + websockets) in a thread, Debian's Chromium through Playwright, and
an injected EIP-1193 / EIP-6963 test wallet that signs with an eth_account key."""

from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path

import pytest
from django.test import Client

SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"
WALLET_JS = (Path(__file__).resolve().parent / "wallet.js").read_text()
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
# Every socket element htmx's ws extension opens gets data-ws-opened="1", then "1 2" after a reconnect …, so a test
# waits on the DOM through Playwright's selector engine. (A polling page.wait_for_function with a string predicate
# needs eval, which the site's CSP, script-src 'self', refuses.)
WS_OPENED_MARKER = """document.addEventListener('htmx:wsOpen', (event) => {
  const opened = (event.target.dataset.wsOpened || '').split(' ').filter(Boolean);
  opened.push(String(opened.length + 1));
  event.target.dataset.wsOpened = opened.join(' ');
});"""
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.browser


class ServerWork:
    """What the live server is busy with, read from uvicorn's own accounting: its open connections and running ASGI
    tasks (request handlers, socket consumers) are kept in sets that notify one condition variable when they change,
    and the coalesced live renders it has scheduled (portal.live) are counted under the same condition."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.connections = _NotifyingSet(self.changed)
        self.tasks = _NotifyingSet(self.changed)
        self.coalesced = 0

    def attach(self, server) -> None:
        """Before the server starts: its protocols take these sets from its state when a connection is made."""
        server.server_state.connections = self.connections
        server.server_state.tasks = self.tasks

    def counting(self, send_later):
        """`portal.live._send_later` counted from the moment a commit schedules it (in the request's thread, while
        the request is still counted) until the render has been sent."""

        def scheduled(*args, **kwargs):
            with self.changed:
                self.coalesced += 1

            async def run():
                try:
                    await send_later(*args, **kwargs)
                finally:
                    with self.changed:
                        self.coalesced -= 1
                        self.changed.notify_all()

            return run()

        return scheduled

    def wait_quiet(self, timeout: float) -> None:
        with self.changed:
            quiet = self.changed.wait_for(
                lambda: not self.connections and not self.tasks and not self.coalesced, timeout=timeout
            )
            if not quiet:
                raise AssertionError(
                    f"the live server did not go quiet within {timeout:g} s after the test's pages closed: "
                    f"{len(self.connections)} connection(s), {len(self.tasks)} handler(s) and {self.coalesced} "
                    "coalesced render(s) still running"
                )


class _NotifyingSet(set):
    """A set that takes `condition`'s lock for every change and wakes its waiters after each removal (uvicorn adds,
    discards and removes in its event-loop thread; the test thread reads under the same lock)."""

    def __init__(self, condition: threading.Condition) -> None:
        super().__init__()
        self._condition = condition

    def add(self, item) -> None:
        with self._condition:
            super().add(item)

    def discard(self, item) -> None:
        with self._condition:
            super().discard(item)
            self._condition.notify_all()

    def remove(self, item) -> None:
        with self._condition:
            super().remove(item)
            self._condition.notify_all()


@pytest.fixture(scope="session")
def _asgi_server():
    import uvicorn

    from portal import live
    from portal.asgi import application

    # The socket listens before the server thread starts, so the first request waits in the backlog instead of
    # the fixture polling for start-up.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    config = uvicorn.Config(application, log_level="warning", lifespan="off", ws="websockets-sansio")
    server = uvicorn.Server(config)
    work = ServerWork()
    work.attach(server)
    send_later = live._send_later
    live._send_later = work.counting(send_later)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True, name="asgi-live-server")
    thread.start()
    _server_work.append(work)
    yield f"http://127.0.0.1:{port}"
    _server_work.remove(work)
    server.should_exit = True
    thread.join(timeout=5)
    live._send_later = send_later
    listener.close()


_server_work: list[ServerWork] = []  # the running server's, so a test's end can wait for it to go quiet


@pytest.fixture
def live_url(_asgi_server, transactional_db, browser):
    """Base URL of the ASGI server (HTTP and websockets), sharing the test database. When the test ends, its pages
    are closed and the server is left to finish what they started (requests, socket handlers, a coalesced tally
    render) before the database is emptied: on PostgreSQL a TRUNCATE racing a server transaction can deadlock."""
    yield _asgi_server
    for context in list(browser.contexts):
        context.close()
    _server_quiet()


def _server_quiet(timeout: float = 15) -> None:
    for work in _server_work:
        work.wait_quiet(timeout)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in the test thread; the tests' ORM calls are still synchronous.
    # (The root conftest runs the browser tests last, so no async test ever sees that loop.)
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def new_page(browser):
    """`new_page(viewport=DESKTOP, color_scheme="light")` → a fresh Page in its own context."""
    contexts = []

    def make(*, viewport: dict | None = None, color_scheme: str = "light"):
        context = browser.new_context(viewport=viewport or DESKTOP, color_scheme=color_scheme)
        context.set_default_timeout(10_000)
        context.add_init_script(WS_OPENED_MARKER)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def wait_for_socket(page, selector: str = "[ws-connect]", *, opened: int = 1, timeout: float | None = None) -> None:
    """Until the socket of the element at `selector` (htmx's ws extension) has opened `opened` times."""
    page.locator(f'{selector}[data-ws-opened~="{opened}"]').first.wait_for(state="attached", timeout=timeout)


def settle(page) -> None:
    """Until the page has run what its last events queued: the next animation frame, then the task after it."""
    page.evaluate("() => new Promise(resolve => requestAnimationFrame(() => setTimeout(resolve)))")


def _sign(account, method: str, params_json: str):
    """What the test wallet does for a request the page made: sign with the key, or send a transaction to (and
    read receipts from) the portal's chain, as a wallet extension's own node connection would."""
    from eth_account.messages import encode_defunct

    from governance.chain import chain

    params = json.loads(params_json)
    if method == "eth_sendTransaction":  # the wallet fills in nonce, gas and fees; a revert or no ETH throws
        tx = {key: params[0][key] for key in ("to", "data") if key in params[0]}
        return chain().send_transaction(key=account.key.to_0x_hex(), tx=tx, wait=False).to_0x_hex()
    if method == "eth_getTransactionReceipt":
        return chain().w3.provider.make_request("eth_getTransactionReceipt", params)["result"]
    if method == "personal_sign":
        message = params[0]
        if message.startswith("0x"):
            message = bytes.fromhex(message[2:]).decode()
        signed = account.sign_message(encode_defunct(text=message))
    else:  # eth_signTypedData_v4: [address, typedData JSON]
        typed = params[1] if isinstance(params[1], dict) else json.loads(params[1])
        signed = account.sign_typed_data(full_message=typed)
    return "0x" + signed.signature.hex().removeprefix("0x")


@pytest.fixture
def wallet_page(new_page, anvil_url):
    """`wallet_page(account, reject=False, chain_id=None, legacy=False, **page_options)` → a Page whose injected
    wallet signs with `account` (an eth_account LocalAccount). `reject=True` makes it refuse every request (code 4001)."""
    from governance.chain import home_chain_id

    def make(account, *, reject: bool = False, chain_id: int | None = None, can_switch: bool = True,
             legacy: bool = False, **options):
        page = new_page(**options)
        config = {
            "address": account.address, "chainId": chain_id or home_chain_id(), "reject": reject,
            "canSwitch": can_switch, "legacy": legacy,
        }
        page.expose_function("__testWallet", lambda method, params: _sign(account, method, params))
        page.add_init_script(f"window.__testWalletConfig = {json.dumps(config)};\n{WALLET_JS}")
        return page

    return make


@pytest.fixture
def signed_in_page(wallet_page, live_url, make_user):
    """`signed_in_page(account, **options)` → a wallet page already signed in as that wallet's user (created if new)."""

    def make(account, **options):
        client = Client()
        make_user(account.address, signed_in_client=client)
        page = wallet_page(account, **options)
        page.context.add_cookies(
            [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_url}]
        )
        return page

    return make


@pytest.fixture
def screenshot():
    """`screenshot(page, name)` → saves tests/screenshots/<name>.png (full page) and returns the path."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
