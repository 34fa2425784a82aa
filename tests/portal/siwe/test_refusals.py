"""Every SIWE refusal is JSON `{"error": sentence}` (CONTRACT), also those Django would answer itself: a missing CSRF
token, a wrong method, a rate limit (with Retry-After), a hostile body."""

from http import HTTPStatus

import pytest
from allauth.socialaccount.models import SocialAccount

from portal.accounts.models import User

from .conftest import csrf, fetch_nonce, post_login, sign, siwe_text

pytestmark = [pytest.mark.django_db, pytest.mark.chain]  # the nonce and the message carry the chain id


def assert_json_refusal(response, status: int, sentence: str, client) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert sentence in response.json()["error"]
    assert "_auth_user_id" not in client.session
    assert not User.objects.exists() and not SocialAccount.objects.exists()


def test_login_without_the_csrf_header_is_a_json_403(siwe_client, dev_accounts):
    account = dev_accounts[1]
    text = siwe_text(address=account.address, nonce=fetch_nonce(siwe_client))
    response = siwe_client.post(
        "/accounts/siwe/login/", data={"message": text, "signature": sign(account, text)}, content_type="application/json"
    )
    assert_json_refusal(response, HTTPStatus.FORBIDDEN, "security token (CSRF)", siwe_client)


def test_login_with_a_wrong_csrf_token_is_a_json_403(siwe_client, dev_accounts):
    account = dev_accounts[1]
    csrf(siwe_client)
    text = siwe_text(address=account.address, nonce=fetch_nonce(siwe_client))
    response = siwe_client.post(
        "/accounts/siwe/login/", data={"message": text, "signature": sign(account, text)},
        content_type="application/json", HTTP_X_CSRFTOKEN="x" * 32,
    )
    assert_json_refusal(response, HTTPStatus.FORBIDDEN, "security token (CSRF)", siwe_client)


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_a_wrong_method_on_the_login_url_is_a_json_405_with_allow(siwe_client, method):
    response = getattr(siwe_client, method)("/accounts/siwe/login/")
    assert_json_refusal(response, HTTPStatus.METHOD_NOT_ALLOWED, "Use POST for this address", siwe_client)
    assert response["Allow"] == "POST"


def test_a_post_on_the_nonce_url_is_a_json_405_with_allow(siwe_client):
    response = siwe_client.post("/accounts/siwe/nonce/", HTTP_X_CSRFTOKEN=csrf(siwe_client))
    assert_json_refusal(response, HTTPStatus.METHOD_NOT_ALLOWED, "Use GET for this address", siwe_client)
    assert response["Allow"] == "GET"


def test_a_rate_limited_login_carries_retry_after(siwe_client, time_machine):
    time_machine.move_to("2026-12-01 12:00:05Z", tick=False)  # inside one fixed window, 55 s before it ends
    for _ in range(10):
        post_login(siwe_client, {"message": "x", "signature": "0x11"})
    response = post_login(siwe_client, {"message": "x", "signature": "0x11"})
    assert_json_refusal(response, HTTPStatus.TOO_MANY_REQUESTS, "Please wait 55 seconds", siwe_client)
    assert response["Retry-After"] == "55"


def test_a_rate_limited_nonce_carries_retry_after(siwe_client, time_machine):
    time_machine.move_to("2026-12-01 12:00:50Z", tick=False)
    for _ in range(30):
        assert siwe_client.get("/accounts/siwe/nonce/").status_code == HTTPStatus.OK
    response = siwe_client.get("/accounts/siwe/nonce/")
    assert_json_refusal(response, HTTPStatus.TOO_MANY_REQUESTS, "Too many requests", siwe_client)
    assert response["Retry-After"] == "10"


def test_a_5000_deep_nested_login_body_is_a_400_sentence(siwe_client):
    body = '{"message": ' + "[" * 5000 + "]" * 5000 + "}"
    response = siwe_client.post(
        "/accounts/siwe/login/", data=body, content_type="application/json", HTTP_X_CSRFTOKEN=csrf(siwe_client)
    )
    assert_json_refusal(response, HTTPStatus.BAD_REQUEST, "nested too deeply", siwe_client)


def test_an_oversized_login_body_is_a_413_sentence(siwe_client):
    body = '{"message": "' + "a" * 20_000 + '"}'
    response = siwe_client.post(
        "/accounts/siwe/login/", data=body, content_type="application/json", HTTP_X_CSRFTOKEN=csrf(siwe_client)
    )
    assert_json_refusal(response, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "too large", siwe_client)
