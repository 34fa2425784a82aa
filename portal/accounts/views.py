from allauth.account.models import EmailAddress
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods, require_POST

from governance.chain import ChainUnavailable, home_chain_id
from governance.delegation import token_address
from portal.errors import Refusal, refusal_response
from portal.health.models import Component, StatusSubscriber
from portal.notifications.models import Cadence
from portal.notifications.selectors import notification_preferences
from portal.people.models import DelegateStatement
from portal.people.selectors import wallet_delegations

from . import email as account_email
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
    email_addresses = list(EmailAddress.objects.filter(user=request.user).order_by("-primary", "email"))
    subscription = StatusSubscriber.objects.filter(user=request.user).prefetch_related("components").first()
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
        "email_addresses": email_addresses,
        "has_verified": any(a.verified for a in email_addresses),
        "bounced": account_email.bounced_addresses(user=request.user),
        "preferences": notification_preferences(user=request.user),
        "cadences": Cadence.choices,
        "components": list(Component.objects.order_by("position", "name")),
        "subscribed_components": set(subscription.components.values_list("pk", flat=True)) if subscription else set(),
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


EMAIL_ACTIONS = {
    "add": (account_email.email_add, "We sent a verification link to {email}. Open it to start getting mail there."),
    "send": (account_email.email_resend, "We sent a new verification link to {email}."),
    "primary": (account_email.email_make_primary, "{email} is now your primary address: your mail goes there."),
    "remove": (account_email.email_remove, "{email} is removed from your account."),
}


@login_required
@require_POST
def email_change(request):
    """The account page's e-mail card: add, resend the link, make primary, remove — each through allauth."""
    action, email = request.POST.get("action", ""), request.POST.get("email", "")
    if action not in EMAIL_ACTIONS:
        return refusal_response(request, Refusal("Choose what to do with the address: add, send, primary or remove."),
                                template=TEMPLATE, context=_page(request, DisplayNameForm(instance=request.user)))
    write, sentence = EMAIL_ACTIONS[action]
    try:
        write(request=request, email=email)
    except Refusal as refusal:
        context = _page(request, DisplayNameForm(instance=request.user))
        context["email_value"] = email[:254] if action == "add" else ""
        return refusal_response(request, refusal, template=TEMPLATE, context=context)
    messages.success(request, sentence.format(email=email.strip().lower()))
    return redirect("accounts:index")


@login_required
def email_redirect(request):
    """allauth's own e-mail page is the account page's card."""
    return redirect("accounts:index")


@require_http_methods(["GET", "POST"])
def email_confirm(request, key: str):
    """A verification link: GET shows the address and a button (a GET never writes), POST verifies it. Works
    signed out; every bad link answers its sentence and status."""
    template = "accounts/email_confirm.html"
    try:
        if request.method == "GET":
            confirmation = account_email.email_confirmation(key)
            return TemplateResponse(request, template, {"email": confirmation.email_address.email, "key": key})
        address = account_email.email_verify(request=request, key=key)
    except Refusal as refusal:
        return refusal_response(request, refusal, template=template, context={"title": "Verify your e-mail"})
    return TemplateResponse(request, template, {"verified": address.email})
