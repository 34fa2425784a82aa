from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from governance.chain import ChainUnavailable, home_chain_id
from governance.delegation import token_address
from portal.errors import Refusal, refusal_response
from portal.people.models import DelegateStatement
from portal.people.selectors import wallet_delegations

from . import services
from .forms import DisplayNameForm

TEMPLATE = "accounts/index.html"


def _page(request, form: DisplayNameForm) -> dict:
    wallets = list(request.user.socialaccount_set.filter(provider="siwe").order_by("date_joined"))
    addresses = [wallet.uid for wallet in wallets]
    delegations, chain_error = wallet_delegations(addresses=addresses)
    try:
        chain_id = home_chain_id()
    except ChainUnavailable as exc:
        chain_id, chain_error = None, chain_error or exc.message
    statement = DelegateStatement.objects.filter(address=request.user.primary_address).first()
    return {
        "form": form,
        "wallets": wallets,
        "delegations": delegations,
        "delegation_error": chain_error,
        "token": token_address(),
        "chain_id": chain_id,
        # ?delegate=… from the directory or a profile; only shown back inside an input, escaped
        "delegate_prefill": request.GET.get("delegate", "")[:42],
        "statement": statement,
    }


@login_required
def index(request):
    form = DisplayNameForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        services.user_rename(user=request.user, display_name=form.cleaned_data["display_name"])
        messages.success(request, "Your display name is saved.")
        return redirect("accounts:index")
    return TemplateResponse(request, TEMPLATE, _page(request, form))


@login_required
@require_POST
def wallet_unlink(request, address: str):
    try:
        services.wallet_unlink(user=request.user, address=address)
    except Refusal as refusal:
        form = DisplayNameForm(instance=request.user)
        return refusal_response(request, refusal, template=TEMPLATE, context=_page(request, form))
    messages.success(request, "The wallet is no longer linked to your account.")
    return redirect("accounts:index")
