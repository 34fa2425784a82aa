"""The shared fixtures keep their promises: a pure test runs with no chain, a chain test gets anvil, and `make_user`
makes an account the way a wallet's first sign-in does."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from http import HTTPStatus
from pathlib import Path

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import Client
from django.utils import timezone

from governance.chain import ChainUnavailable, chain
from portal.accounts.roles import is_moderator
from portal.conf import portal_settings

from .conftest import NO_CHAIN_URL

ROOT = Path(__file__).resolve().parent.parent


def test_the_tally_tests_start_no_chain():
    """`pytest tests/governance/test_tally.py` passes under --no-chain, where a test that starts anvil fails."""
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/governance/test_tally.py", "--no-chain", "-q", "-p", "no:cacheprovider"],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert " passed" in run.stdout.strip().splitlines()[-1]
    assert "failed" not in run.stdout and "error" not in run.stdout.strip().splitlines()[-1]


def test_a_test_that_asks_for_no_chain_reaches_no_node():
    assert portal_settings().chain_rpc_url == NO_CHAIN_URL
    with pytest.raises(ChainUnavailable, match="cannot be reached"):
        chain().block_number()


@pytest.mark.chain
def test_the_chain_marker_brings_anvil_through_the_settings(anvil_url):
    assert portal_settings().chain_rpc_url == anvil_url
    assert chain().chain_id == 31337  # anvil's default chain id
    assert chain().block_number() >= 0


def test_make_user_makes_an_account_as_a_first_sign_in_does(make_user, dev_accounts):
    address = dev_accounts[1].address
    client = Client()
    user = make_user(address.lower(), groups=["moderators"], display_name="Bea", joined=timedelta(days=30),
                     signed_in_client=client)
    assert user.username == address  # checksummed, like the SIWE provider's uid
    assert not user.has_usable_password()
    assert list(SocialAccount.objects.filter(user=user).values_list("provider", "uid")) == [("siwe", address)]
    assert is_moderator(user) and not user.is_staff
    assert str(user) == "Bea"
    assert user.date_joined < timezone.now() - timedelta(days=29)
    assert make_user(address, staff=True) == user
    user.refresh_from_db()
    assert user.is_staff
    assert SocialAccount.objects.filter(uid=address).count() == 1
    page = client.get("/account/")
    assert page.status_code == HTTPStatus.OK
    assert address.encode() in page.content


def test_make_user_without_an_address_makes_a_fresh_wallet(make_user):
    first, second = make_user(), make_user()
    assert first != second
    assert first.primary_address and second.primary_address
    assert first.wallet_addresses == [first.username]
