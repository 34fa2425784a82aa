"""Sign-In with Ethereum: the happy path, then every bad input CONTRACT names. Real keys, real signatures."""

from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import Client

from portal.accounts.models import User

from .conftest import csrf, fetch_nonce, post_login, sign, siwe_text

pytestmark = [pytest.mark.django_db, pytest.mark.chain]  # the nonce and the message carry the chain id


def assert_refused(response, status: int, sentence: str, client: Client) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert sentence in response.json()["error"]
    assert "_auth_user_id" not in client.session
    assert not User.objects.exists()
    assert not SocialAccount.objects.exists()


def test_first_sign_in_creates_the_account(siwe_client, dev_accounts):
    account = dev_accounts[1]
    text = siwe_text(address=account.address, nonce=fetch_nonce(siwe_client))
    response = post_login(siwe_client, {"message": text, "signature": sign(account, text)})
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"address": account.address, "redirect": "/"}
    user = User.objects.get()
    assert user.username == account.address
    assert user.email == "" and not user.has_usable_password()
    assert SocialAccount.objects.get().uid == account.address
    assert siwe_client.session["_auth_user_id"] == str(user.pk)


def test_second_sign_in_lands_on_the_same_account(siwe_client, dev_accounts):
    account = dev_accounts[1]
    for _ in range(2):
        text = siwe_text(address=account.address, nonce=fetch_nonce(siwe_client))
        assert post_login(siwe_client, {"message": text, "signature": sign(account, text)}).status_code == HTTPStatus.OK
    assert User.objects.count() == 1 and SocialAccount.objects.count() == 1


def test_nonce_is_long_alphanumeric_and_uncached(siwe_client):
    response = siwe_client.get("/accounts/siwe/nonce/")
    assert response.status_code == HTTPStatus.OK
    nonce = response.json()["nonce"]
    assert len(nonce) >= 16 and nonce.isalnum()
    assert response["Cache-Control"] == "no-store"
    assert fetch_nonce(siwe_client) != nonce


def test_nonce_echoes_the_checksummed_address(siwe_client, dev_accounts):
    address = dev_accounts[1].address
    body = siwe_client.get("/accounts/siwe/nonce/", {"address": address.lower()}).json()
    assert body["address"] == address
    bad = siwe_client.get("/accounts/siwe/nonce/", {"address": "0x1234"})
    assert bad.status_code == HTTPStatus.BAD_REQUEST
    assert bad.json()["error"] == "That is not an Ethereum address."


def test_replayed_nonce(siwe_client, dev_accounts):
    account = dev_accounts[1]
    text = siwe_text(address=account.address, nonce=fetch_nonce(siwe_client))
    body = {"message": text, "signature": sign(account, text)}
    assert post_login(siwe_client, body).status_code == HTTPStatus.OK
    siwe_client.post("/accounts/logout/", HTTP_X_CSRFTOKEN=csrf(siwe_client))
    User.objects.all().delete()
    response = post_login(siwe_client, body)
    assert_refused(response, HTTPStatus.UNAUTHORIZED, "already used", siwe_client)


def test_nonce_from_another_session(siwe_client, dev_accounts):
    other = Client(enforce_csrf_checks=True)
    account = dev_accounts[1]
    text = siwe_text(address=account.address, nonce=fetch_nonce(other))
    fetch_nonce(siwe_client)
    response = post_login(siwe_client, {"message": text, "signature": sign(account, text)})
    assert_refused(response, HTTPStatus.UNAUTHORIZED, "not issued to this browser session", siwe_client)


def test_expired_nonce(siwe_client, dev_accounts, time_machine):
    account = dev_accounts[1]
    time_machine.move_to(datetime.now(UTC), tick=True)
    nonce = fetch_nonce(siwe_client)
    time_machine.shift(timedelta(minutes=11))
    text = siwe_text(address=account.address, nonce=nonce)
    response = post_login(siwe_client, {"message": text, "signature": sign(account, text)})
    assert_refused(response, HTTPStatus.UNAUTHORIZED, "This sign-in request has expired", siwe_client)


def test_a_failed_attempt_uses_up_the_nonce(siwe_client, dev_accounts):
    account, other = dev_accounts[1], dev_accounts[2]
    nonce = fetch_nonce(siwe_client)
    text = siwe_text(address=account.address, nonce=nonce)
    assert post_login(siwe_client, {"message": text, "signature": sign(other, text)}).status_code == 401
    response = post_login(siwe_client, {"message": text, "signature": sign(account, text)})
    assert_refused(response, HTTPStatus.UNAUTHORIZED, "already used", siwe_client)


@pytest.mark.parametrize(
    ("changes", "sentence"),
    [
        ({"domain": "evil.example"}, "made for evil.example, not for testserver"),
        ({"domain": "evil@testserver"}, "domain with user information"),
        ({"domain": "testserver:8443"}, "made for testserver:8443, not for testserver"),
        ({"uri": "http://evil.example/login"}, "URI is not on testserver"),
        ({"uri": "https://testserver/"}, "URI is not on testserver"),
        ({"uri": "http://user:pw@testserver/"}, "URI is not on testserver"),
        ({"chain_id": 1}, "is for chain 1; this portal uses chain"),
        (lambda: {"issued_at": datetime.now(UTC) + timedelta(minutes=5)}, "dated in the future"),
        (lambda: {"issued_at": datetime.now(UTC) - timedelta(minutes=11)}, "older than 10 minutes"),
        (lambda: {"expiration": datetime.now(UTC) - timedelta(seconds=5)}, "has expired (its Expiration Time has passed)"),
        (lambda: {"not_before": datetime.now(UTC) + timedelta(minutes=5)}, "not valid yet"),
    ],
    ids=["other-domain", "userinfo", "other-port", "other-uri", "other-scheme", "uri-userinfo", "wrong-chain",
         "issued-in-future", "issued-too-long-ago", "expired", "not-before-future"],
)
def test_message_fields_are_checked(siwe_client, dev_accounts, changes, sentence):
    """Times are built when the test runs (a callable), not when it is collected: a long run must not age them."""
    changes = changes() if callable(changes) else changes
    account = dev_accounts[1]
    text = siwe_text(address=account.address, nonce=fetch_nonce(siwe_client), **changes)
    response = post_login(siwe_client, {"message": text, "signature": sign(account, text)})
    assert_refused(response, HTTPStatus.UNAUTHORIZED, sentence, siwe_client)


def test_tampered_statement(siwe_client, dev_accounts):
    account = dev_accounts[1]
    text = siwe_text(address=account.address, nonce=fetch_nonce(siwe_client))
    signature = sign(account, text)
    tampered = text.replace("Sign in to the DAO portal.", "Transfer all my tokens.")
    response = post_login(siwe_client, {"message": tampered, "signature": signature})
    assert_refused(response, HTTPStatus.UNAUTHORIZED, "not made by the wallet named in the message", siwe_client)


def test_signature_by_another_key(siwe_client, dev_accounts, stranger):
    text = siwe_text(address=dev_accounts[1].address, nonce=fetch_nonce(siwe_client))
    response = post_login(siwe_client, {"message": text, "signature": sign(stranger, text)})
    assert_refused(response, HTTPStatus.UNAUTHORIZED, "not made by the wallet named in the message", siwe_client)


@pytest.mark.parametrize(
    ("body", "status", "sentence"),
    [
        ({"message": "hello, sign me in", "signature": "0x" + "11" * 65}, 400, "not a valid Sign-In with Ethereum"),
        ({"signature": "0x" + "11" * 65}, 400, "has no message"),
        ({"message": "x"}, 400, "has no signature"),
        ({"message": 42, "signature": "0x11"}, 400, "has no message"),
        ({"message": "a" * 5000, "signature": "0x11"}, 413, "too long"),
    ],
    ids=["malformed", "missing-message", "missing-signature", "message-not-text", "oversize"],
)
def test_malformed_requests(siwe_client, body, status, sentence):
    fetch_nonce(siwe_client)
    assert_refused(post_login(siwe_client, body), status, sentence, siwe_client)


@pytest.mark.parametrize("signature", ["zz" * 65, "0xnot-hex", "0x123", "0x" + "ab" * 5000])
def test_non_hex_signature(siwe_client, dev_accounts, signature):
    text = siwe_text(address=dev_accounts[1].address, nonce=fetch_nonce(siwe_client))
    response = post_login(siwe_client, {"message": text, "signature": signature})
    assert_refused(response, HTTPStatus.BAD_REQUEST, "not a 0x-prefixed hexadecimal string", siwe_client)


def test_body_that_is_not_json(siwe_client):
    response = siwe_client.post(
        "/accounts/siwe/login/", data="message=hi", content_type="application/json", HTTP_X_CSRFTOKEN=csrf(siwe_client)
    )
    assert_refused(response, HTTPStatus.BAD_REQUEST, "not valid JSON", siwe_client)


def test_dev_keys_are_refused_in_production(siwe_client, dev_accounts, settings):
    settings.PORTAL = {**settings.PORTAL, "REFUSE_DEV_KEYS": True}
    account = dev_accounts[1]
    text = siwe_text(address=account.address, nonce=fetch_nonce(siwe_client))
    response = post_login(siwe_client, {"message": text, "signature": sign(account, text)})
    assert_refused(response, HTTPStatus.FORBIDDEN, "public development key", siwe_client)


def test_siwe_domain_setting_is_enforced(siwe_client, dev_accounts, settings):
    settings.PORTAL = {**settings.PORTAL, "SIWE_DOMAIN": "portal.example.org"}
    account = dev_accounts[1]
    text = siwe_text(address=account.address, nonce=fetch_nonce(siwe_client))  # made for the request host
    response = post_login(siwe_client, {"message": text, "signature": sign(account, text)})
    assert_refused(response, HTTPStatus.UNAUTHORIZED, "not for portal.example.org", siwe_client)


def test_login_is_rate_limited(siwe_client, stranger, dev_accounts, time_machine):
    time_machine.move_to("2026-12-01 12:00:05Z", tick=False)  # one fixed window: the count cannot cross a minute
    for _ in range(10):
        post_login(siwe_client, {"message": "x", "signature": "0x11"})
    account = dev_accounts[1]
    text = siwe_text(address=account.address, nonce=fetch_nonce(siwe_client))
    response = post_login(siwe_client, {"message": text, "signature": sign(account, text)})
    assert_refused(response, HTTPStatus.TOO_MANY_REQUESTS, "Too many requests", siwe_client)


def test_nonce_is_rate_limited(siwe_client, time_machine):
    time_machine.move_to("2026-12-01 12:00:05Z", tick=False)  # one fixed window: the count cannot cross a minute
    statuses = [siwe_client.get("/accounts/siwe/nonce/").status_code for _ in range(31)]
    assert statuses[:30] == [HTTPStatus.OK] * 30
    assert statuses[30] == HTTPStatus.TOO_MANY_REQUESTS


def test_node_down_answers_503(siwe_client, dev_accounts, settings):
    from governance import chain

    settings.PORTAL = {**settings.PORTAL, "CHAIN_RPC_URL": "http://127.0.0.1:9", "CHAIN_ID": None}
    chain._nodes.clear()
    response = siwe_client.get("/accounts/siwe/nonce/")
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "blockchain node cannot be reached" in response.json()["error"]
    chain._nodes.clear()


def test_body_that_is_not_an_object(siwe_client):
    response = siwe_client.post(
        "/accounts/siwe/login/", data=["message", "signature"], content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf(siwe_client),
    )
    assert_refused(response, HTTPStatus.BAD_REQUEST, "must be a JSON object", siwe_client)


@pytest.fixture
def node_down_with_chain_id(settings, node):
    """CHAIN_ID is configured (as in production) but the node is gone."""
    from governance import chain

    chain_id = node.chain_id
    settings.PORTAL = {**settings.PORTAL, "CHAIN_RPC_URL": "http://127.0.0.1:9", "CHAIN_ID": chain_id}
    chain._nodes.clear()
    yield
    chain._nodes.clear()


def test_a_wallet_key_signs_in_without_the_node(siwe_client, dev_accounts, node_down_with_chain_id):
    account = dev_accounts[1]
    text = siwe_text(address=account.address, nonce=fetch_nonce(siwe_client))
    response = post_login(siwe_client, {"message": text, "signature": sign(account, text)})
    assert response.status_code == HTTPStatus.OK, response.json()


def test_a_mismatched_signature_with_the_node_down_is_a_503(siwe_client, dev_accounts, stranger,
                                                            node_down_with_chain_id):
    # Whether the address is a contract wallet can only be asked of the node: down → 503 with a sentence, not a 500.
    text = siwe_text(address=dev_accounts[1].address, nonce=fetch_nonce(siwe_client))
    response = post_login(siwe_client, {"message": text, "signature": sign(stranger, text)})
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "blockchain node cannot be reached" in response.json()["error"]
    assert not User.objects.exists() and "_auth_user_id" not in siwe_client.session
