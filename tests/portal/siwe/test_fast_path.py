"""The sign-in's fast path (issue 13: ≥ 2,000 verifications/s on one core) refuses what the slow one refused: the
EIP-191 hash is eth_account's, the EIP-55 spelling is eth_utils', a wrong checksum or a high-s signature is still a
sentence with nothing written, and a lower-case address signs in under its checksummed spelling."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from allauth.socialaccount.models import SocialAccount
from eth_account.messages import _hash_eip191_message, encode_defunct
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.accounts.models import User
from portal.siwe.message import parse_message
from portal.siwe.verify import eip191_digest

from .conftest import fetch_nonce, post_login, sign, siwe_text


def wrong_checksum(address: str) -> str:
    """The address with the case of its first letter flipped: a mixed-case spelling whose EIP-55 checksum fails."""
    index = next(i for i, c in enumerate(address) if i > 1 and c.isalpha())
    return address[:index] + address[index].swapcase() + address[index + 1:]


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300))
def test_the_eip191_digest_is_eth_accounts(text):
    assert eip191_digest(text) == _hash_eip191_message(encode_defunct(text=text))


@pytest.mark.django_db
@pytest.mark.chain
def test_a_checksum_wrong_address_is_refused_and_nothing_is_written(siwe_client, dev_accounts):
    account = dev_accounts[1]
    address = wrong_checksum(account.address)
    assert address.lower() == account.address.lower() and address != account.address
    text = siwe_text(address=address, nonce=fetch_nonce(siwe_client))
    response = post_login(siwe_client, {"message": text, "signature": sign(account, text)})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "not a valid Sign-In with Ethereum (EIP-4361) message" in response.json()["error"]
    assert not User.objects.exists() and not SocialAccount.objects.exists()
    assert "_auth_user_id" not in siwe_client.session


@pytest.mark.django_db
@pytest.mark.chain
def test_a_lower_case_address_signs_in_under_its_checksummed_spelling(siwe_client, dev_accounts):
    account = dev_accounts[1]
    text = siwe_text(address=account.address.lower(), nonce=fetch_nonce(siwe_client))
    response = post_login(siwe_client, {"message": text, "signature": sign(account, text)})
    assert response.status_code == HTTPStatus.OK, response.json()
    assert response.json()["address"] == account.address
    assert SocialAccount.objects.get().uid == account.address


def test_the_parse_gives_the_checksummed_spelling_of_every_case(dev_accounts):
    from .test_message import EIP_EXAMPLE, ADDRESS

    for spelling in (ADDRESS, ADDRESS.lower(), "0x" + ADDRESS[2:].upper()):
        assert parse_message(EIP_EXAMPLE.replace(ADDRESS, spelling)).checksum_address == to_checksum_address(ADDRESS)
