from http import HTTPStatus

import pytest

from .conftest import fetch_nonce, post_login, sign, siwe_text


@pytest.mark.django_db
def test_happy_path(siwe_client, dev_accounts):
    account = dev_accounts[1]
    text = siwe_text(address=account.address, nonce=fetch_nonce(siwe_client))
    response = post_login(siwe_client, {"message": text, "signature": sign(account, text)})
    assert response.status_code == HTTPStatus.OK, response.json()
    assert response.json()["address"] == account.address
