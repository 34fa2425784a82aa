"""Funded voters on a real anvil, for the benchmarks that cast signed votes (bench/load.py, bench/votes.py).

`electorate()` deploys the demo contracts on the chain at `chain_url`, mints 100 loyalty tokens to each of `count`
fresh keys, and opens a basic proposal weighed by loyalty-token balance at a snapshot block after the mint, so every
key is a distinct voter with weight. `ballot()` signs one vote with such a key. Call them after Django is set up
(bench/_django.py) and migrated, in the process that writes the benchmark's rows.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass

from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.utils import timezone
from eth_account import Account
from eth_account.signers.local import LocalAccount

from governance import chain as chain_module
from governance import services as governance_services
from governance.chain import home_chain_id
from governance.demo_chain import seed_chain
from governance.deploy import contract
from governance.devchain import DEV_KEYS
from governance.eip712 import sign_vote
from governance.models import Proposal
from governance.services.weights import snapshot_weights_preread
from portal.accounts.models import User

MINT_BATCH = 50


@dataclass(frozen=True)
class Electorate:
    admin: User
    proposal: Proposal
    voters: list[LocalAccount]  # each holds 100 loyalty tokens at the proposal's snapshot block
    contracts: dict[str, str]
    read_ahead: int  # snapshot weights stored before the first vote (0: every first vote reads the chain)


def electorate(*, chain_url: str, count: int, read_ahead: bool) -> Electorate:
    """`count` funded voters and an open proposal on the anvil at `chain_url`. With `read_ahead` the proposal's
    snapshot weights are read in one batched pass first, as the task queued when voting opens does on a worker."""
    settings.PORTAL["CHAIN_RPC_URL"] = chain_url
    settings.PORTAL["SNAPSHOT_CONFIRMATIONS"] = 1
    chain_module._nodes.clear()
    addresses = seed_chain(stdout=io.StringIO())
    settings.PORTAL["CONTRACTS"] = dict(addresses)
    node = chain_module.chain()
    voters = [Account.create() for _ in range(count)]
    token = contract(node, "LoyaltyToken", addresses["LoyaltyToken"])
    for start in range(0, count, MINT_BATCH):  # balances at the snapshot: balance-of needs no delegation transaction
        chunk = voters[start:start + MINT_BATCH]
        node.send_transaction(key=DEV_KEYS[0], tx={"to": token.address, "data": token.encode_abi(
            "mintBatch", args=([v.address for v in chunk], [100 * 10**18] * len(chunk)))})
    node.w3.provider.make_request("anvil_mine", ["0x3"])
    settings.PORTAL["DEFAULT_STRATEGIES"] = [{"kind": "erc20-balance-of", "chain_id": home_chain_id(),
                                              "address": addresses["LoyaltyToken"], "multiplier": "1"}]
    admin_address = Account.from_key(DEV_KEYS[0]).address
    admin = User.objects.create(username=admin_address, is_staff=True, is_superuser=True)
    SocialAccount.objects.create(user=admin, provider="siwe", uid=admin_address)
    now = timezone.now()
    proposal = governance_services.proposal_create(
        author=admin, title="Benchmark: lower the WETH reserve factor", body="A benchmark proposal.",
        category="risk", voting_type="basic", start=now - datetime.timedelta(minutes=1),
        end=now + datetime.timedelta(hours=2),
    )
    proposal = governance_services.proposal_activate(proposal=proposal, actor=admin)
    stored = snapshot_weights_preread(proposal_id=proposal.pk) if read_ahead else 0
    return Electorate(admin=admin, proposal=proposal, voters=voters, contracts=dict(addresses), read_ahead=stored)


def ballot(voter: LocalAccount, *, proposal: int, domain: dict, choice: str, timestamp: int) -> dict:
    """The JSON body of POST /api/v1/proposals/{proposal}/votes, signed by `voter` (EIP-712)."""
    signature = sign_vote(private_key=voter.key.to_0x_hex(), domain=domain, voter=voter.address, proposal=proposal,
                          choice=choice, reason="", timestamp=timestamp)
    return {"voter": voter.address, "choice": choice, "reason": "", "timestamp": timestamp, "signature": signature}
