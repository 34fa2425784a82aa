"""Demo delegation for `make run`: anvil's accounts #5 and #6 hold a little loyalty and delegate it to #1 and #2,
who write delegate statements, so the directory and the profiles show delegation in and out. Idempotent."""

from __future__ import annotations

from eth_account import Account

from governance.chain import ChainUnavailable, TransactionFailed, chain
from governance.deploy import contract
from governance.delegation import token_address
from governance.devchain import DEV_KEYS
from portal.accounts.models import User
from portal.conf import DEV_ACCOUNTS

from .models import DelegateStatement

TOKEN = 10**18
# anvil's public development keys #5 and #6 (the standard "test test … junk" mnemonic)
DELEGATOR_KEYS = (
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
)
# (delegator key, tokens, delegate index among #0–#4)
DELEGATIONS = ((DELEGATOR_KEYS[0], 2_000, 1), (DELEGATOR_KEYS[1], 500, 2))
STATEMENTS = {
    1: ("Bea", "I read every risk proposal twice.\n\n- **Conservative** collateral factors\n- Treasury spending "
               "only with a plan\n\nI explain each vote in its reason."),
    2: ("Cleo", "Community first: grants, documentation and *plain words* on the portal. I vote on every proposal."),
}


def seed(*, stdout) -> None:
    address = token_address()
    if not address:
        stdout.write("  delegation: skipped, no loyalty token\n")
        return
    node = chain()
    token = contract(node, "LoyaltyToken", address)
    try:
        for key, tokens, delegate_index in DELEGATIONS:
            holder = Account.from_key(key)
            delegate = DEV_ACCOUNTS[delegate_index]
            balance = token.functions.balanceOf(holder.address).call()
            if balance < tokens * TOKEN:
                _send(node, DEV_KEYS[0], token, "mint", holder.address, tokens * TOKEN - balance)
            if token.functions.delegates(holder.address).call() != delegate:
                _send(node, key, token, "delegate", delegate)
                stdout.write(f"  {holder.address} delegated {tokens:,} LOYAL to {delegate}\n")
    except (ChainUnavailable, TransactionFailed) as exc:
        stdout.write(f"  delegation: skipped, {exc}\n")
        return
    for index, (name, statement) in STATEMENTS.items():
        user = User.objects.filter(username=DEV_ACCOUNTS[index]).first()
        if user is None:
            continue
        if not user.display_name:
            user.display_name = name
            user.save(update_fields=["display_name"])
        DelegateStatement.objects.get_or_create(address=DEV_ACCOUNTS[index], defaults={"author": user, "body": statement})


def _send(node, key: str, target, function: str, *args) -> None:
    node.send_transaction(key=key, tx={"to": target.address, "data": target.encode_abi(function, args=args)})
