"""Several wallets on one account: link from the account page, sign in with either, refuse someone else's wallet."""

from http import HTTPStatus

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.messages import get_messages
from django.test import Client

from portal.accounts.models import User

from .conftest import csrf, fetch_nonce, post_login, sign, siwe_text

pytestmark = [pytest.mark.django_db, pytest.mark.chain]  # the nonce and the message carry the chain id


def sign_in(client, account, **extra):
    text = siwe_text(address=account.address, nonce=fetch_nonce(client))
    return post_login(client, {"message": text, "signature": sign(account, text), **extra})


def test_link_a_second_wallet_then_sign_in_with_either(siwe_client, dev_accounts):
    first, second = dev_accounts[1], dev_accounts[2]
    assert sign_in(siwe_client, first).status_code == HTTPStatus.OK
    response = sign_in(siwe_client, second, process="connect")
    assert response.status_code == HTTPStatus.OK, response.json()
    user = User.objects.get()
    assert sorted(user.wallet_addresses) == sorted([first.address, second.address])
    # Was allauth's "The third-party account has been connected."
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert "Wallet linked: you can now sign in with it too." in said and not any("third-party" in m for m in said)

    for account in (first, second):
        browser = Client(enforce_csrf_checks=True)
        assert sign_in(browser, account).status_code == HTTPStatus.OK
        assert browser.session["_auth_user_id"] == str(user.pk)
    assert User.objects.count() == 1


def test_linking_a_wallet_of_another_account_is_refused(siwe_client, dev_accounts):
    first, second = dev_accounts[1], dev_accounts[2]
    assert sign_in(Client(enforce_csrf_checks=True), second).status_code == HTTPStatus.OK
    assert sign_in(siwe_client, first).status_code == HTTPStatus.OK
    response = sign_in(siwe_client, second, process="connect")
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["error"] == "This wallet is already linked to another account."
    assert SocialAccount.objects.get(uid=second.address).user.username == second.address
    assert User.objects.get(username=first.address).wallet_addresses == [first.address]


def test_connect_without_a_session_is_a_plain_sign_in(siwe_client, dev_accounts):
    response = sign_in(siwe_client, dev_accounts[1], process="connect")
    assert response.status_code == HTTPStatus.OK
    assert User.objects.count() == 1


def test_unlink_keeps_the_last_wallet(siwe_client, dev_accounts):
    first, second = dev_accounts[1], dev_accounts[2]
    sign_in(siwe_client, first)
    sign_in(siwe_client, second, process="connect")
    token = csrf(siwe_client)
    response = siwe_client.post(f"/account/wallets/{second.address}/unlink/", HTTP_X_CSRFTOKEN=token, follow=True)
    assert "no longer linked" in response.content.decode()
    response = siwe_client.post(f"/account/wallets/{first.address}/unlink/", HTTP_X_CSRFTOKEN=token, follow=True)
    assert response.status_code == HTTPStatus.CONFLICT
    assert "This is your only wallet" in response.content.decode()
    assert 'data-testid="wallet-list"' in response.content.decode()  # the account page again, with the sentence
    assert User.objects.get().wallet_addresses == [first.address]


def test_unlink_someone_elses_wallet_changes_nothing(siwe_client, dev_accounts):
    sign_in(Client(enforce_csrf_checks=True), dev_accounts[2])
    sign_in(siwe_client, dev_accounts[1])
    response = siwe_client.post(
        f"/account/wallets/{dev_accounts[2].address}/unlink/", HTTP_X_CSRFTOKEN=csrf(siwe_client), follow=True
    )
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "That wallet is not linked to your account." in response.content.decode()
    assert SocialAccount.objects.count() == 2


def test_a_demo_account_without_a_password_sets_its_display_name(siwe_client, dev_accounts):
    import io

    from portal.accounts import demo

    demo.seed(stdout=io.StringIO())  # the accounts the README tells newcomers to import: no usable password
    sign_in(siwe_client, dev_accounts[1])
    response = siwe_client.post("/account/", {"display_name": "bob"}, HTTP_X_CSRFTOKEN=csrf(siwe_client), follow=True)
    assert response.status_code == HTTPStatus.OK
    assert "Your display name is saved." in response.content.decode()
    assert User.objects.get(username=dev_accounts[1].address).display_name == "bob"


def test_display_name_is_saved_and_validated(siwe_client, dev_accounts):
    sign_in(siwe_client, dev_accounts[1])
    token = csrf(siwe_client)
    response = siwe_client.post("/account/", {"display_name": "  alice  "}, HTTP_X_CSRFTOKEN=token, follow=True)
    assert "Your display name is saved." in response.content.decode()
    assert User.objects.get().display_name == "alice"
    response = siwe_client.post("/account/", {"display_name": "x" * 41}, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == HTTPStatus.OK
    assert "Ensure this value has at most 40 characters" in response.content.decode()
    assert User.objects.get().display_name == "alice"


def test_sign_out(siwe_client, dev_accounts):
    sign_in(siwe_client, dev_accounts[1])
    response = siwe_client.post("/accounts/logout/", HTTP_X_CSRFTOKEN=csrf(siwe_client))
    assert response.status_code == HTTPStatus.FOUND
    assert "_auth_user_id" not in siwe_client.session


def test_account_page_needs_a_signed_in_user(siwe_client):
    response = siwe_client.get("/account/")
    assert response.status_code == HTTPStatus.FOUND


def test_suspended_wallet_cannot_sign_in(siwe_client, dev_accounts):
    from datetime import timedelta

    from django.utils import timezone

    from portal.accounts.models import Sanction

    account = dev_accounts[1]
    assert sign_in(Client(enforce_csrf_checks=True), account).status_code == HTTPStatus.OK
    user = User.objects.get()
    Sanction.objects.create(user=user, kind=Sanction.Kind.SUSPEND, reason="spam in three threads",
                            ends=timezone.now() + timedelta(days=2))
    response = sign_in(siwe_client, account)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json()["error"].startswith("This wallet is suspended until ")
    assert response.json()["error"].endswith(": spam in three threads")
    assert "_auth_user_id" not in siwe_client.session


def test_account_page_shows_weight_and_tier_read_on_chain(client, contracts, dev_accounts):
    from allauth.socialaccount.models import SocialAccount as Wallet

    address = dev_accounts[0].address  # the demo's largest holder: Gold
    user = User.objects.create(username=address)
    Wallet.objects.create(user=user, provider="siwe", uid=address)
    client.force_login(user)
    page = client.get("/account/").content.decode()
    assert 'id="loyalty-standing"' in page
    assert "voting power" in page and "tier--gold" in page


def test_a_suspension_ends_existing_sessions_with_the_reason(client, dev_accounts):
    from datetime import timedelta

    from django.utils import timezone

    from portal.accounts.models import Sanction

    user = User.objects.create(username=dev_accounts[1].address)
    client.force_login(user)
    assert client.get("/account/").status_code == HTTPStatus.OK
    Sanction.objects.create(user=user, kind=Sanction.Kind.SUSPEND, reason="vote buying offers",
                            ends=timezone.now() + timedelta(days=1))
    page = client.get("/", follow=True).content.decode()
    assert "Your account is suspended until" in page and "vote buying offers" in page
    assert "_auth_user_id" not in client.session
    assert client.get("/account/").status_code == HTTPStatus.FOUND


def test_people_see_an_account_as_its_display_name_or_short_address(dev_accounts):
    address = dev_accounts[1].address
    user = User(username=address)
    assert str(user) == f"{address[:6]}…{address[-4:]}"
    user.display_name = "alice"
    assert str(user) == "alice"
    assert str(User(username="admin")) == "admin"
