from allauth.socialaccount.providers.base import Provider, ProviderAccount
from django.urls import reverse


class SiweAccount(ProviderAccount):
    def to_str(self) -> str:
        return self.account.uid


class SiweProvider(Provider):
    """Sign-In with Ethereum (EIP-4361): the uid is the wallet's checksummed address; no e-mail, no password."""

    id = "siwe"
    name = "Ethereum wallet"
    account_class = SiweAccount
    supports_redirect = False

    def get_login_url(self, request, **kwargs) -> str:
        return reverse("siwe_login")

    def extract_uid(self, data) -> str:
        return data["address"]

    def extract_common_fields(self, data) -> dict:
        return {"username": data["address"]}


provider_classes = [SiweProvider]
