"""SIWE verifications per second on one core, against a bare coincurve public-key recovery of the same signatures
in the same run (issue 13: goal ≥ 2,000/s; the siwe library's ABNF parser made it 149/s).

Each verification is the portal's whole check (portal.siwe.verify.siwe_verify: bounded input, the EIP-4361 parse,
the session's single-use nonce, domain, URI, chain id, times, the EOA signature through governance.signers) on a
request built in memory; the signatures are real (eth_account), made before the clock starts. A key's own
signature needs no node (governance.signers asks the node only for a contract wallet); a fresh local anvil is there
for the checks that would. Also printed: the portal's EIP-4361 parse alone, and the siwe
library's parse of the same messages, which the portal no longer runs.

Run: `.venv/bin/python bench/siwe_verify.py [--messages 2000]` (a few seconds). Not `bench/siwe.py`: a script of
that name in bench/ would stand in for the siwe library in every benchmark's imports.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime

os.environ["CHAIN_RPC_URL"] = "http://127.0.0.1:0"  # replaced by the bench's own anvil below
import _django  # noqa: E402,F401  (sys.path, settings, a throw-away DEVCHAIN_DIR, django.setup())
import coincurve  # noqa: E402
from django.conf import settings  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from eth_account import Account  # noqa: E402
from eth_account.messages import _hash_eip191_message, encode_defunct  # noqa: E402

from governance import chain as chain_module  # noqa: E402
from governance.devchain import free_port, start_anvil, stop_anvil  # noqa: E402
from portal.siwe.message import parse_message  # noqa: E402
from portal.siwe.verify import siwe_nonce_issue, siwe_verify  # noqa: E402

DOMAIN = "127.0.0.1:8000"
CHAIN_ID = 31337
GOAL = 2000


def message_text(*, address: str, nonce: str) -> str:
    issued = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return "\n".join([
        f"{DOMAIN} wants you to sign in with your Ethereum account:", address, "", "Sign in to the DAO portal.", "",
        f"URI: http://{DOMAIN}", "Version: 1", f"Chain ID: {CHAIN_ID}", f"Nonce: {nonce}", f"Issued At: {issued}",
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    if not 1 <= args.messages <= 20_000:
        parser.error("--messages must be between 1 and 20,000")
    port = free_port()
    anvil = start_anvil(port=port)
    try:
        settings.PORTAL = {**settings.PORTAL, "CHAIN_ID": CHAIN_ID, "SIWE_DOMAIN": DOMAIN,
                           "CHAIN_RPC_URL": f"http://127.0.0.1:{port}"}
        chain_module._nodes.clear()
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # this process on one core (anvil on another)
        return _measure(args)
    finally:
        stop_anvil(anvil)


def _measure(args) -> int:
    factory = RequestFactory()
    signed = []
    for _ in range(args.messages):
        account = Account.create()
        request = factory.post("/accounts/siwe/login/", HTTP_HOST=DOMAIN)
        request.session = {}
        text = message_text(address=account.address, nonce=siwe_nonce_issue(session=request.session))
        signature = account.sign_message(encode_defunct(text=text)).signature
        signed.append((request, text, "0x" + signature.hex().removeprefix("0x"), bytes(signature)))

    started = time.perf_counter()
    for _, text, _, signature in signed:
        digest = _hash_eip191_message(encode_defunct(text=text))
        recoverable = signature[:64] + bytes([signature[64] - 27])
        coincurve.PublicKey.from_signature_and_message(recoverable, digest, hasher=None)
    bare = args.messages / (time.perf_counter() - started)

    started = time.perf_counter()
    for request, text, signature, raw in signed:
        address = siwe_verify(request=request, message=text, signature=signature)
    portal = args.messages / (time.perf_counter() - started)
    assert address == Account.recover_message(encode_defunct(text=signed[-1][1]), signature=signed[-1][3])

    started = time.perf_counter()
    for _, text, _, _ in signed:
        parse_message(text)
    parse = args.messages / (time.perf_counter() - started)

    library = None
    try:
        from siwe import SiweMessage

        started = time.perf_counter()
        for _, text, _, _ in signed[:200]:
            SiweMessage.from_message(message=text)
        library = min(200, args.messages) / (time.perf_counter() - started)
    except ImportError:
        pass

    print(f"{args.messages:,} signed sign-in messages, one core; load average {os.getloadavg()[0]:.1f}")
    print(f"{'what':<46} {'per second':>11} {'of bare':>8}")
    print(f"{'bare: coincurve recover (EIP-191 hash + key)':<46} {bare:>11,.0f} {'100%':>8}")
    print(f"{'portal siwe_verify, every check':<46} {portal:>11,.0f} {portal / bare:>8.1%}  "
          f"(goal ≥ {GOAL:,}/s: {'met' if portal >= GOAL else 'NOT met'})")
    print(f"{'portal EIP-4361 parse alone':<46} {parse:>11,.0f} {parse / bare:>8.1%}")
    if library is not None:
        print(f"{'siwe library parse alone (not used any more)':<46} {library:>11,.0f} {library / bare:>8.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
