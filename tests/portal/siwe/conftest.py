from datetime import UTC, datetime, timedelta

import pytest
from eth_account.messages import encode_defunct

from governance.chain import home_chain_id


def siwe_text(
    *, address: str, nonce: str, domain: str = "testserver", uri: str | None = None, chain_id: int | None = None,
    statement: str = "Sign in to the DAO portal.", issued_at: datetime | None = None,
    expiration: datetime | None = None, not_before: datetime | None = None,
) -> str:
    issued_at = issued_at or datetime.now(UTC)
    lines = [
        f"{domain} wants you to sign in with your Ethereum account:",
        address,
        "",
        statement,
        "",
        f"URI: {uri or 'http://' + domain}",
        "Version: 1",
        f"Chain ID: {chain_id if chain_id is not None else home_chain_id()}",
        f"Nonce: {nonce}",
        f"Issued At: {issued_at.strftime('%Y-%m-%dT%H:%M:%S.000Z')}",
    ]
    if expiration:
        lines.append(f"Expiration Time: {expiration.strftime('%Y-%m-%dT%H:%M:%S.000Z')}")
    if not_before:
        lines.append(f"Not Before: {not_before.strftime('%Y-%m-%dT%H:%M:%S.000Z')}")
    return "\n".join(lines)


def sign(account, text: str) -> str:
    return "0x" + account.sign_message(encode_defunct(text=text)).signature.hex().removeprefix("0x")


@pytest.fixture
def siwe_client(client):
    """A test client with CSRF checks on, as a browser would be."""
    from django.test import Client

    return Client(enforce_csrf_checks=True)


def fetch_nonce(client) -> str:  # noqa: D103
    return client.get("/accounts/siwe/nonce/").json()["nonce"]


def csrf(client) -> str:
    client.get("/")
    return client.cookies["csrftoken"].value


def post_login(client, body: dict):
    return client.post(
        "/accounts/siwe/login/", data=body, content_type="application/json", HTTP_X_CSRFTOKEN=csrf(client)
    )


__all__ = ["siwe_text", "sign", "fetch_nonce", "post_login", "timedelta"]
