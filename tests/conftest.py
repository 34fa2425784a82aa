"""Shared fixtures: a real anvil for the tests that ask for one, dev-key accounts, and chain snapshots per test.

The chain is opt-in: a test gets anvil by requesting `anvil_url` or a fixture built on it (`node`, `contracts`,
`chain_snapshot`, `transact`, `fund`, …), or by the `chain` marker when it reads the chain only through the portal's
settings. Every other test runs with CHAIN_RPC_URL pointing at a closed port, so a pure test (tallies, parsers,
settings, templates) starts no node and an unmarked test that reads the chain fails instead of finding one.
`--no-chain` makes starting anvil an error, which proves a selection of tests needs none.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import subprocess
import threading
from datetime import timedelta
from decimal import Decimal
from email import message_from_bytes
from email import policy as email_policy

import pytest
from aiosmtpd.controller import Controller
from allauth.socialaccount.models import SocialAccount
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from eth_account import Account
from eth_utils import to_checksum_address

from governance import chain as chain_module
from governance.demo_chain import seed_chain
from governance.deploy import contract
from governance.devchain import DEV_KEYS, free_port, start_anvil, stop_anvil
from portal import cache as portal_cache
from portal.accounts.models import User
from tests.process_output import ProcessOutput

# Nothing listens on the discard port: a read fails at once (ChainUnavailable) instead of reaching someone's dev chain.
NO_CHAIN_URL = "http://127.0.0.1:9"


def pytest_addoption(parser):
    parser.addoption(
        "--no-chain", action="store_true", help="fail any test that would start anvil (proves a selection is pure)"
    )


def pytest_collection_modifyitems(items):
    """Tests that use anvil carry the `chain` marker (so `-m "not chain"` selects the pure ones); browser tests run
    last: Playwright's sync API leaves an event loop running that async tests must not inherit."""
    for item in items:
        if "anvil_url" in item.fixturenames and not item.get_closest_marker("chain"):
            item.add_marker(pytest.mark.chain)
    items.sort(key=lambda item: "tests/browser/" in item.nodeid.replace("\\", "/"))


@pytest.fixture(scope="session")
def anvil_url(request):
    """A real anvil node, started once for the session by the first test that needs it; the portal's home chain
    points at it while a chain test runs."""
    if request.config.getoption("--no-chain"):
        pytest.fail("this test starts anvil, but the run has --no-chain: it is not a pure test", pytrace=False)
    port = free_port()
    process = start_anvil(port=port)
    url = f"http://127.0.0.1:{port}"
    previous = dict(django_settings.PORTAL)
    django_settings.PORTAL["CHAIN_RPC_URL"] = url
    django_settings.PORTAL["CHAIN_ID"] = None
    chain_module._nodes.clear()
    yield url
    django_settings.PORTAL.clear()
    django_settings.PORTAL.update(previous)
    stop_anvil(process)


@pytest.fixture(autouse=True)
def _chain_or_none(request, monkeypatch):
    """Per test: anvil for a chain test (requested or marked `chain`), a closed port for every other, whatever ran
    before it."""
    if "anvil_url" in request.fixturenames or request.node.get_closest_marker("chain"):
        url = request.getfixturevalue("anvil_url")
    else:
        url = NO_CHAIN_URL
    monkeypatch.setitem(django_settings.PORTAL, "CHAIN_RPC_URL", url)


@pytest.fixture
def node(anvil_url):
    """The portal's chain object (governance.chain.chain()) on the test anvil."""
    return chain_module.chain()


@pytest.fixture
def chain_snapshot(node):
    """Undo every on-chain change a test makes (anvil's evm_snapshot / evm_revert)."""
    snapshot = node.w3.provider.make_request("evm_snapshot", [])["result"]
    yield
    node.w3.provider.make_request("evm_revert", [snapshot])


@pytest.fixture(scope="session")
def dev_accounts():
    """eth_account LocalAccounts for anvil's dev accounts #0–#4 (#0 deployed the contracts and is an admin)."""
    return [Account.from_key(key) for key in DEV_KEYS]


@pytest.fixture
def make_user(db):
    """`make_user(address=None, *, staff=False, superuser=False, groups=(), display_name="", joined=timedelta(0),
    signed_in_client=None, wallet=True)` → a portal account as a wallet's first sign-in makes it: username = the
    checksummed address (a fresh one when None), no usable password, one SIWE social account. `groups` are group
    names ("moderators", "admins", …); `joined` is how long ago the account was created; `signed_in_client` (a test
    Client) is signed in as the user; `wallet=False` makes an account without one (as `createsuperuser` does), named
    `display_name`. The same address again returns that user, with `staff` and `groups` added."""

    def make(
        address: str | None = None, *, staff: bool = False, superuser: bool = False, groups=(), display_name: str = "",
        joined: timedelta = timedelta(0), signed_in_client: Client | None = None, wallet: bool = True,
    ) -> User:
        if wallet:
            username = to_checksum_address(address) if address else Account.create().address
        else:
            username = display_name or f"user-{Account.create().address[2:10].lower()}"
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username, display_name=display_name, is_staff=staff or superuser, is_superuser=superuser,
                date_joined=timezone.now() - joined,
            )
            user.set_unusable_password()
            user.full_clean()
            user.save()
            if wallet:
                SocialAccount.objects.create(user=user, provider="siwe", uid=username)
        elif staff and not user.is_staff:
            User.objects.filter(pk=user.pk).update(is_staff=True)
            user.is_staff = True
        user.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in groups))
        if signed_in_client is not None:
            signed_in_client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return user

    return make


class SmtpServer:
    """A real SMTP server (aiosmtpd) in the test process. `messages` holds what it accepted, parsed; `refuse`
    maps an address to the reply its RCPT gets (e.g. "550 5.1.1 No such user"); with `hold_at = n` the n-th RCPT
    (1-based) sets `held` and waits until `release` is set, so a test can stop a sender in the middle of a mail."""

    def __init__(self):
        self.messages: list = []
        self.refuse: dict[str, str] = {}
        self.hold_at: int | None = None
        self.held, self.release = threading.Event(), threading.Event()
        self.rcpts = 0
        self.port = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpts += 1
        if self.rcpts == self.hold_at:
            self.held.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 30)
            return "421 4.3.0 Closing"
        if address.lower() in self.refuse:
            return self.refuse[address.lower()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=email_policy.default))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def smtp_server(settings):
    """Mail goes over SMTP to a real server on a free local port for this test."""
    handler = SmtpServer()
    handler.port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", handler.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield handler
    controller.stop()


@pytest.fixture
def stranger():
    """A fresh key with no tokens and no history."""
    return Account.create()


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    portal_cache.forget_local()
    yield


@pytest.fixture(scope="session", autouse=True)
def _devchain_dir(tmp_path_factory):
    """Deployments recorded during tests go to a temporary directory, never the dev chain's .devchain/."""
    previous = os.environ.get("DEVCHAIN_DIR")
    os.environ["DEVCHAIN_DIR"] = str(tmp_path_factory.mktemp("devchain"))
    yield
    if previous is None:
        os.environ.pop("DEVCHAIN_DIR", None)
    else:
        os.environ["DEVCHAIN_DIR"] = previous


@pytest.fixture(scope="session")
def contracts(anvil_url, _devchain_dir):
    """The portal's contracts on the test anvil, seeded like the demo chain (governance.demo_chain.seed_chain):
    #0–#4 hold 50,000 / 12,000 / 3,000 / 800 / 150 LOYAL, self-delegated; badges (x100 tokens each in the default
    strategies): #0 three, #1 two, #2 one; the lending pool has supply and borrows; the oracle has a price.
    Name -> checksummed address (LoyaltyToken, AchievementBadge, Multicall3, DemoPriceOracle, DemoDollar,
    LendingPool), also set as PORTAL["CONTRACTS"] so governance.deploy.contract_address() finds them."""
    addresses = seed_chain(stdout=io.StringIO())
    django_settings.PORTAL["CONTRACTS"] = dict(addresses)
    yield addresses
    django_settings.PORTAL.pop("CONTRACTS", None)


@pytest.fixture
def minter(dev_accounts):
    """Anvil #0: deployer, admin and minter of the loyalty token and badges, owner of the oracle."""
    return dev_accounts[0]


@pytest.fixture
def transact(node):
    """`transact(account, contract, "fn", *args)`: sign and send a contract call with an eth_account account; returns
    the receipt, raises governance.chain.TransactionFailed when it reverts."""

    def send(account, contract, function: str, *args):
        return node.send_transaction(
            key=account.key.to_0x_hex(), tx={"to": contract.address, "data": contract.encode_abi(function, args=args)}
        )

    return send


@pytest.fixture
def fund(node):
    """`fund(address)`: give an address 10 ETH on the test anvil so it can send transactions."""

    def give(address: str, wei: int = 10 * 10**18):
        node.w3.provider.make_request("anvil_setBalance", [address, hex(wei)])

    return give


@pytest.fixture
def run_effects(db):
    """`run_effects()` runs every queued task that is due, in this process, exactly as `manage.py db_worker` runs
    one (django-tasks-db's own Worker.run_task), until none is left; returns how many ran. Failed attempts stay
    recorded (retries wait for their `run_after`)."""
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    worker = Worker(queue_names=["default"], interval=0, batch=True, backend_name="default", startup_delay=False,
                    max_tasks=None, worker_id="test-worker", excluded_queue_names=[])

    def run() -> int:
        ran = 0
        while (result := DBTaskResult.objects.ready().first()) is not None:
            result.claim(worker.worker_id)
            worker.run_task(result)
            ran += 1
        return ran

    return run


@pytest.fixture
def pool(node, contracts):
    """The demo lending pool as a web3 contract."""
    return contract(node, "LendingPool", contracts["LendingPool"])


@pytest.fixture
def weth_feed(node, contracts):
    """The demo WETH/USD feed (DemoPriceOracle, 8 decimals)."""
    return contract(node, "DemoPriceOracle", contracts["DemoPriceOracle"])


@pytest.fixture
def set_price(minter, transact):
    """`set_price(feed, usd)`: a new round on a demo feed (8 decimals)."""

    def set_(feed, usd):
        transact(minter, feed, "setPrice", int(Decimal(str(usd)) * 10**8))

    return set_


@pytest.fixture
def receiver():
    """A real webhook receiver on 127.0.0.1 (tests/webhook_receiver.py)."""
    from tests.webhook_receiver import Receiver

    r = Receiver()
    yield r
    r.close()


class PrivateRedis:
    """A redis-server of the test's own on a free port, that it may stop and restart (never the machine's Redis)."""

    def __init__(self, port: int):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 10) -> None:
        # In the foreground, logging to stdout: it says when it listens, and the fixture reads that line.
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--logfile", ""],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        output = ProcessOutput(self.process)
        if not output.wait_for_line("ready to accept connections", timeout=timeout):
            self.stop()
            raise RuntimeError(
                f"redis-server did not say it was ready to accept connections on port {self.port} within "
                f"{timeout:g} s: {output.tail(500)}"
            )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def private_redis():
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_channel_layer(settings, private_redis):
    """The channel layer on the private Redis (the services-mode layer, recovering after a restart)."""
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "portal.channel_layer.RecoveringRedisChannelLayer",
            "CONFIG": {"hosts": [{**settings.REDIS_CHANNEL_OPTIONS, "address": private_redis.url}]},
        }
    }
    return private_redis
