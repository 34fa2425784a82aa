from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from portal.errors import Refusal, refusal_response

from . import services
from .forms import DisplayNameForm

TEMPLATE = "accounts/index.html"


def _page(request, form: DisplayNameForm) -> dict:
    wallets = request.user.socialaccount_set.filter(provider="siwe").order_by("date_joined")
    return {"form": form, "wallets": wallets}


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
