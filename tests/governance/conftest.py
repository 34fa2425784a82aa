"""Governance fixtures: portal users for dev wallets, proposals opened on the seeded test chain, signed ballots."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from governance.eip712 import eip712_domain, sign_vote


@pytest.fixture
def settled_chain(contracts, node, monkeypatch):
    """The seeded contracts, with the snapshot at the head so every seeded balance counts."""
    monkeypatch.setitem(django_settings.PORTAL, "SNAPSHOT_CONFIRMATIONS", 0)
    node.w3.provider.make_request("anvil_mine", ["0x2"])
    return contracts


@pytest.fixture
def admin_user(make_user, dev_accounts):
    return make_user(dev_accounts[0].address, staff=True)


@pytest.fixture
def make_proposal(db, admin_user, settled_chain):
    """`make_proposal(voting_type=..., choices=..., quorum=..., activate=True)` → a proposal (opened by default)."""
    from governance import services

    def make(voting_type="basic", choices=None, *, quorum="0", quorum_kind="amount", activate=True, hours=24,
             author=None, title=None):
        now = timezone.now()
        proposal = services.proposal_create(
            author=author or admin_user,
            title=title or f"Test {voting_type} proposal",
            body="Lower the **reserve factor**.",
            category="risk",
            voting_type=voting_type,
            choices=choices or ["Alpha", "Beta", "Gamma"],
            start=now - timedelta(minutes=1),
            end=now + timedelta(hours=hours),
            quorum_kind=quorum_kind,
            quorum_value=quorum,
        )
        if activate:
            proposal = services.proposal_activate(proposal=proposal, actor=admin_user)
        return proposal

    return make


@pytest.fixture
def ballot():
    """`ballot(account, proposal_or_number, choice)` → the JSON body of POST /api/v1/proposals/N/votes."""

    def build(account, proposal, choice, *, reason="", timestamp=None, domain=None, voter=None):
        number = proposal if isinstance(proposal, int) else proposal.number
        choice_text = choice if isinstance(choice, str) else json.dumps(choice, separators=(",", ":"))
        ts = int(time.time()) if timestamp is None else timestamp
        voter = voter or account.address
        signature = sign_vote(
            private_key=account.key.to_0x_hex(), domain=domain or eip712_domain(), voter=voter, proposal=number,
            choice=choice_text, reason=reason, timestamp=ts,
        )
        return {"voter": voter, "choice": choice_text, "reason": reason, "timestamp": ts, "signature": signature}

    return build


@pytest.fixture
def post_vote(client):
    def post(number: int, body: dict):
        return client.post(f"/api/v1/proposals/{number}/votes", data=json.dumps(body), content_type="application/json")

    return post


@pytest.fixture
def get_export(client):
    """`get_export(number, **headers)` → (response, the file's bytes) of GET /api/v1/proposals/N/export, whether it
    was streamed (a proposal that can still change) or served from storage (a recorded close)."""

    def get(number: int, **headers):
        response = client.get(f"/api/v1/proposals/{number}/export", **headers)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        return response, body

    return get
