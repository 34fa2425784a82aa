"""Sign-In with Ethereum per second on one core, against a bare coincurve public-key recovery of the same signatures
in the same run (issue 13: goal ≥ 2,000 verifications/s; the siwe library's ABNF parser made it 149/s).

In process, the figure the goal is about: the portal's whole check (portal.siwe.verify.siwe_verify: bounded input,
the EIP-4361 parse, the session's single-use nonce, domain, URI, chain id, times, EIP-55, the EOA signature through
governance.signers with its EIP-2 low-s refusal) on a request built in memory, its session a dict. Bare and portal
run in turns, three rounds over the same messages (their nonces re-issued to their sessions between rounds), and
the best and the median round of each are printed. A key's own signature needs no node (governance.signers asks
the node only for a contract wallet); a fresh local anvil is there for the checks that would. Also printed: the
EIP-4361 parse alone, and the siwe library's parse, which the portal runs only for a message its own parse does
not match.

Through Django: `POST /accounts/siwe/login/` through Django's request handler (django.test.Client: every
middleware, CSRF, the rate limit, the database session, allauth's sign-in; a first sign-in creates the account and
its wallet), on a throw-away database (a new SQLite file, or --database-url), against a bare `GET /api/v1/eip712`
through the same handler in the same run. No socket: the server's own cost (uvicorn, HTTP parsing) is not in it.

Run: `.venv/bin/python bench/siwe.py [--messages 2000] [--logins 200] [--database-url URL] [--profile]` (about a
minute). Like every script in bench/, it runs from its own directory; bench/_django.py loads the siwe library
before this file's name could stand in for it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2000, help="signed messages for the in-process figure")
    parser.add_argument("--logins", type=int, default=200, help="sign-ins through Django's handler (0: none)")
    parser.add_argument("--database-url", default="",
                        help="a database to throw away for the sign-ins (default: a new SQLite file)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of each measured loop")
    args = parser.parse_args()
    if not 1 <= args.messages <= 20_000:
        parser.error("--messages must be between 1 and 20,000")
    if not 0 <= args.logins <= 5_000:
        parser.error("--logins must be between 0 and 5,000")
    return args


ARGS = _arguments()  # before Django is set up: the database comes from them
os.environ["DATABASE_URL"] = ARGS.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='bench-siwe-')}/siwe.sqlite3"
os.environ.pop("REDIS_URL", None)  # the rate limit and cache in memory: the figure is the sign-in's, not Redis's
os.environ["CHAIN_RPC_URL"] = "http://127.0.0.1:0"  # replaced by the bench's own anvil below
import _django  # noqa: E402,F401  (sys.path, the real siwe library, settings, a throw-away DEVCHAIN_DIR, setup())
import coincurve  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client, RequestFactory  # noqa: E402
from django.utils.crypto import get_random_string  # noqa: E402
from eth_account import Account  # noqa: E402
from eth_account.messages import _hash_eip191_message, encode_defunct  # noqa: E402

from governance import chain as chain_module  # noqa: E402
from governance.devchain import free_port, start_anvil, stop_anvil  # noqa: E402
from portal.siwe.message import parse_message  # noqa: E402
from portal.siwe.verify import SESSION_KEY, siwe_nonce_issue, siwe_verify  # noqa: E402

DOMAIN = "127.0.0.1:8000"
CHAIN_ID = 31337
GOAL = 2000
ROUNDS = 3


def message_text(*, address: str, nonce: str) -> str:
    issued = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return "\n".join([
        f"{DOMAIN} wants you to sign in with your Ethereum account:", address, "", "Sign in to the DAO portal.", "",
        f"URI: http://{DOMAIN}", "Version: 1", f"Chain ID: {CHAIN_ID}", f"Nonce: {nonce}", f"Issued At: {issued}",
    ])


def signature_hex(account, text: str) -> str:
    return "0x" + account.sign_message(encode_defunct(text=text)).signature.hex().removeprefix("0x")


def main(args) -> int:
    port = free_port()
    anvil = start_anvil(port=port)
    try:
        settings.PORTAL = {**settings.PORTAL, "CHAIN_ID": CHAIN_ID, "SIWE_DOMAIN": DOMAIN,
                           "CHAIN_RPC_URL": f"http://127.0.0.1:{port}"}
        chain_module._nodes.clear()
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # this process on one core (anvil on another)
        print(f"one core; load average {os.getloadavg()[0]:.1f} at the start")
        _in_process(args)
        if args.logins:
            _through_django(args)
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
        return 0
    finally:
        stop_anvil(anvil)


def _signed(count: int) -> list[tuple]:
    """(request, text, nonce, signature hex, signature bytes) per fresh key; the request's session holds the nonce."""
    factory = RequestFactory()
    signed = []
    for _ in range(count):
        account = Account.create()
        request = factory.post("/accounts/siwe/login/", HTTP_HOST=DOMAIN)
        request.session = {}
        nonce = siwe_nonce_issue(session=request.session)
        text = message_text(address=account.address, nonce=nonce)
        signature = signature_hex(account, text)
        signed.append((request, text, nonce, signature, bytes.fromhex(signature[2:])))
    return signed


def _bare(signed: list[tuple]) -> float:
    started = time.perf_counter()
    for _, text, _, _, signature in signed:
        digest = _hash_eip191_message(encode_defunct(text=text))
        recoverable = signature[:64] + bytes([signature[64] - 27])
        coincurve.PublicKey.from_signature_and_message(recoverable, digest, hasher=None)
    return len(signed) / (time.perf_counter() - started)


def _portal(signed: list[tuple]) -> float:
    issued = int(time.time())
    for request, _, nonce, _, _ in signed:  # the same nonce issued again, before the clock starts
        request.session = {SESSION_KEY: {nonce: issued}}
    started = time.perf_counter()
    for request, text, _, signature, _ in signed:
        address = siwe_verify(request=request, message=text, signature=signature)
    rate = len(signed) / (time.perf_counter() - started)
    assert address == Account.recover_message(encode_defunct(text=signed[-1][1]), signature=signed[-1][4])
    return rate


def _in_process(args) -> None:
    signed = _signed(args.messages)
    bare, portal = [], []
    for _ in range(ROUNDS):
        bare.append(_bare(signed))
        portal.append(_portal(signed))

    started = time.perf_counter()
    for _, text, _, _, _ in signed:
        parse_message(text)
    parse = args.messages / (time.perf_counter() - started)

    from siwe import SiweMessage

    sample = signed[:200]
    started = time.perf_counter()
    for _, text, _, _, _ in sample:
        SiweMessage.from_message(message=text)
    library = len(sample) / (time.perf_counter() - started)

    best_bare, best = max(bare), max(portal)
    # Each round's portal against the bare run just before it (the same load), the median of the rounds.
    share = statistics.median(p / b for p, b in zip(portal, bare))
    print(f"\nin process: {args.messages:,} signed sign-in messages, {ROUNDS} rounds (best / median per second; "
          "of bare: the median round's share)")
    print(f"{'what':<48} {'best':>8} {'median':>8} {'of bare':>8}")
    print(f"{'bare: coincurve recover (EIP-191 hash + key)':<48} {best_bare:>8,.0f} {statistics.median(bare):>8,.0f} "
          f"{'100%':>8}")
    print(f"{'portal siwe_verify, every check':<48} {best:>8,.0f} {statistics.median(portal):>8,.0f} "
          f"{share:>8.1%}  (goal ≥ {GOAL:,}/s: {'met' if best >= GOAL else 'NOT met'})")
    print(f"{'portal EIP-4361 parse alone':<48} {parse:>8,.0f} {'':>8} {parse / best_bare:>8.1%}")
    print(f"{'siwe library parse alone (fallback only)':<48} {library:>8,.0f} {'':>8} {library / best_bare:>8.1%}")

    if args.profile:
        import cProfile
        import pstats

        fresh = _signed(args.messages)
        profile = cProfile.Profile()
        profile.enable()
        _portal(fresh)
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)


def _through_django(args) -> None:
    call_command("migrate", verbosity=0)
    wallets = []
    for n in range(args.logins):
        # A client per wallet (its own session and CSRF cookie) from its own address, as many people would be:
        # the per-address rate limit (10 sign-ins a minute) is not what is measured.
        client = Client(enforce_csrf_checks=True, HTTP_HOST=DOMAIN, REMOTE_ADDR=f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}")
        client.cookies["csrftoken"] = get_random_string(32)  # what a page's first answer would have set
        wallets.append((client, Account.create()))

    def prepared() -> list[tuple]:
        """A nonce from the nonce view and the signed message, per wallet, before the clock starts."""
        bodies = []
        for client, account in wallets:
            nonce = client.get("/accounts/siwe/nonce/").json()["nonce"]
            text = message_text(address=account.address, nonce=nonce)
            # Signing in rotates the CSRF token (Django's login): the page would send the cookie's current one.
            token = client.cookies["csrftoken"].value
            bodies.append((client, token, {"message": text, "signature": signature_hex(account, text)}))
        return bodies

    def logins(bodies: list[tuple]) -> float:
        started = time.perf_counter()
        for client, token, body in bodies:
            response = client.post("/accounts/siwe/login/", data=body, content_type="application/json",
                                   HTTP_X_CSRFTOKEN=token)
            assert response.status_code == 200, response.content
        return len(bodies) / (time.perf_counter() - started)

    def bare() -> float:
        started = time.perf_counter()
        for client, _ in wallets:
            assert client.get("/api/v1/eip712").status_code == 200
        return len(wallets) / (time.perf_counter() - started)

    bare()  # warm: URL resolver, templates, first queries
    baseline = bare()
    first = logins(prepared())
    returning = logins(prepared())
    baseline = max(baseline, bare())
    if args.profile:
        import cProfile
        import pstats

        bodies = prepared()
        profile = cProfile.Profile()
        profile.enable()
        logins(bodies)
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(45)
    from django.db import connection

    print(f"\nthrough Django's handler (no socket): {args.logins:,} wallets, {connection.vendor}, "
          "sessions in the database")
    print(f"{'what':<48} {'per second':>10} {'of bare':>8}")
    print(f"{'bare: GET /api/v1/eip712':<48} {baseline:>10,.0f} {'100%':>8}")
    print(f"{'POST /accounts/siwe/login/, first (new account)':<48} {first:>10,.0f} {first / baseline:>8.1%}")
    print(f"{'POST /accounts/siwe/login/, returning wallet':<48} {returning:>10,.0f} {returning / baseline:>8.1%}")


if __name__ == "__main__":
    sys.exit(main(ARGS))
