"""Thin views: parse, call verify, finish through allauth's complete_social_login (as its Telegram provider does)."""

import json
from http import HTTPStatus

from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.helpers import complete_social_login
from allauth.socialaccount.models import SocialAccount, SocialLogin
from django.http import JsonResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from eth_utils import is_address, to_checksum_address

from governance.chain import ChainUnavailable, home_chain_id
from portal.discussion.sanctions import wallet_sign_in_refusal
from portal.ratelimit import Limit, RateLimited, client_ip

from .provider import SiweProvider
from .verify import SiweError, siwe_nonce_issue, siwe_verify

NONCE_LIMIT = Limit("siwe-nonce", count=30, per_seconds=60)
LOGIN_LIMIT = Limit("siwe-login", count=10, per_seconds=60)


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@require_GET
@login_not_required
def nonce(request):
    try:
        NONCE_LIMIT.hit(client_ip(request))
    except RateLimited as exc:
        return _error(str(exc), HTTPStatus.TOO_MANY_REQUESTS)
    challenge = {"nonce": siwe_nonce_issue(session=request.session)}
    try:
        challenge["chain_id"] = home_chain_id()
    except ChainUnavailable as exc:
        return _error(str(exc), HTTPStatus.SERVICE_UNAVAILABLE)
    # Convenience for browsers without keccak: the EIP-55 form of the wallet's address, to put in the message.
    address = request.GET.get("address", "")
    if address:
        if not is_address(address):
            return _error("That is not an Ethereum address.", HTTPStatus.BAD_REQUEST)
        challenge["address"] = to_checksum_address(address)
    response = JsonResponse(challenge)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_not_required
def login(request):
    try:
        LOGIN_LIMIT.hit(client_ip(request))
    except RateLimited as exc:
        return _error(str(exc), HTTPStatus.TOO_MANY_REQUESTS)
    try:
        body = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error("The sign-in request is not valid JSON.", HTTPStatus.BAD_REQUEST)
    if not isinstance(body, dict):
        return _error("The sign-in request must be a JSON object.", HTTPStatus.BAD_REQUEST)
    try:
        address = siwe_verify(request=request, message=body.get("message"), signature=body.get("signature"))
    except SiweError as exc:
        return _error(str(exc), exc.status)
    except ChainUnavailable as exc:
        return _error(str(exc), HTTPStatus.SERVICE_UNAVAILABLE)

    refusal = wallet_sign_in_refusal(address=address)
    if refusal:
        return _error(refusal, HTTPStatus.FORBIDDEN)

    connect = body.get("process") == "connect" and request.user.is_authenticated
    if connect:
        owner = SocialAccount.objects.filter(provider=SiweProvider.id, uid=address).values_list("user_id", flat=True)
        if owner and owner[0] != request.user.pk:
            return _error("This wallet is already linked to another account.", HTTPStatus.CONFLICT)
        if owner:
            return JsonResponse({"address": address, "redirect": reverse("accounts:index")})

    provider = get_adapter().get_provider(request, SiweProvider.id)
    sociallogin: SocialLogin = provider.sociallogin_from_response(request, {"address": address})
    next_url = body.get("next") if isinstance(body.get("next"), str) else None
    if not (next_url and url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure())):
        next_url = reverse("accounts:index") if connect else "/"
    sociallogin.state = {"process": "connect" if connect else "login", "next": next_url}
    response = complete_social_login(request, sociallogin)
    if not request.user.is_authenticated:
        return _error("Signing in did not complete. Please try again.", HTTPStatus.FORBIDDEN)
    return JsonResponse({"address": address, "redirect": response.get("Location", next_url)})
