"""Thin views: parse, call verify, finish through allauth's complete_social_login (as its Telegram provider does).

Every answer is JSON, refusals included: `{"error": sentence}` through the kernel's `refusal_json` — a wrong method,
a missing CSRF token, a rate limit (with Retry-After), a body that is not a small flat JSON object.
"""

from http import HTTPStatus

from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.helpers import complete_social_login
from allauth.socialaccount.models import SocialAccount, SocialLogin
from django.http import JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from eth_utils import is_address, to_checksum_address

from governance.chain import home_chain_id
from portal.accounts.sanctions import wallet_sign_in_refusal
from portal.errors import Conflict, Forbidden, Refusal, refusal_json
from portal.parsing import parse_json_object
from portal.ratelimit import Limit, client_ip

from .provider import SiweProvider
from .verify import siwe_nonce_issue, siwe_verify

NONCE_LIMIT = Limit("siwe-nonce", count=30, per_seconds=60)
LOGIN_LIMIT = Limit("siwe-login", count=10, per_seconds=60)
# A message (2 KB), an EIP-6492 signature (8 KB hex) and a few short fields fit well inside this.
MAX_LOGIN_BODY = 16 * 1024


class _CsrfCheck(CsrfViewMiddleware):
    """Django's own CSRF check, answering with its reason instead of an HTML 403 page (as DRF does)."""

    def _reject(self, request, reason):
        return reason


def _method_refusal(request, allowed: str) -> JsonResponse | None:
    if request.method == allowed:
        return None
    response = refusal_json(
        Refusal(f"Use {allowed} for this address ({request.method} is not allowed).", HTTPStatus.METHOD_NOT_ALLOWED)
    )
    response["Allow"] = allowed
    return response


def _login_body(request) -> dict:
    """The login request as a dict, or a Refusal with the sentence: checked for CSRF, size, JSON and shape."""
    if _CsrfCheck(lambda r: None).process_view(request, None, (), {}) is not None:
        raise Forbidden(
            "The sign-in request did not carry this page's security token (CSRF). Reload the page and try again."
        )
    if len(request.body) > MAX_LOGIN_BODY:
        raise Refusal("The sign-in request is too large.", HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    # A flat object of strings: two levels leave room for a client that nests its own extras, no more.
    return parse_json_object(request.body or b"{}", what="The sign-in request", max_bytes=MAX_LOGIN_BODY, max_depth=2)


@csrf_exempt  # no CSRF on a GET; answered JSON instead of Django's page for any other method
@login_not_required
def nonce(request):
    if refused := _method_refusal(request, "GET"):
        return refused
    try:
        NONCE_LIMIT.hit(client_ip(request))
        challenge = {"nonce": siwe_nonce_issue(session=request.session), "chain_id": home_chain_id()}
        # Convenience for browsers without keccak: the EIP-55 form of the wallet's address, to put in the message.
        address = request.GET.get("address", "")
        if address:
            if not is_address(address):
                raise Refusal("That is not an Ethereum address.")
            challenge["address"] = to_checksum_address(address)
    except Refusal as refusal:
        return refusal_json(refusal)
    response = JsonResponse(challenge)
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt  # checked in _login_body, so that a failure answers JSON
@login_not_required
def login(request):
    if refused := _method_refusal(request, "POST"):
        return refused
    try:
        LOGIN_LIMIT.hit(client_ip(request))
        body = _login_body(request)
        return _sign_in(request, body)
    except Refusal as refusal:
        return refusal_json(refusal)


def _sign_in(request, body: dict) -> JsonResponse:
    address = siwe_verify(request=request, message=body.get("message"), signature=body.get("signature"))
    suspended = wallet_sign_in_refusal(address=address)
    if suspended:
        raise Forbidden(suspended)
    connect = body.get("process") == "connect" and request.user.is_authenticated
    if connect:
        owner = SocialAccount.objects.filter(provider=SiweProvider.id, uid=address).values_list("user_id", flat=True)
        if owner and owner[0] != request.user.pk:
            raise Conflict("This wallet is already linked to another account.")
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
        raise Forbidden("Signing in did not complete. Please try again.")
    return JsonResponse({"address": address, "redirect": response.get("Location", next_url)})
