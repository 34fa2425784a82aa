"""The portal's settings as one typed object (allauth's `app_settings` is the model).

Read at call time, so `override_settings(PORTAL=...)` in tests takes effect.
"""

from dataclasses import dataclass, field

from django.conf import settings

# Anvil's well-known development accounts #0–#9 (mnemonic "test test … junk"): public keys, never trusted in production.
DEV_ACCOUNTS = (
    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
    "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
    "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
    "0x976EA74026E726554dB657fA54763abd0C3a0aa9",
    "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955",
    "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f",
    "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720",
)


@dataclass(frozen=True)
class PortalSettings:
    """The settings every part of the portal relies on. App-specific options: `portal_option(name, default)`."""

    chain_rpc_url: str = "http://127.0.0.1:8545"
    chain_id: int | None = None
    siwe_domain: str | None = None
    governance_name: str = "Portal Governance"
    site_name: str = "Lending DAO Portal"
    chain_rpc_urls: dict[int, str] = field(default_factory=dict)
    multicall_address: str | None = None
    refuse_dev_keys: bool = False
    extra: dict = field(default_factory=dict)

    def is_dev_account(self, address: str) -> bool:
        return address.lower() in {a.lower() for a in DEV_ACCOUNTS}


_KNOWN = {
    "CHAIN_RPC_URL": "chain_rpc_url",
    "CHAIN_ID": "chain_id",
    "SIWE_DOMAIN": "siwe_domain",
    "GOVERNANCE_NAME": "governance_name",
    "SITE_NAME": "site_name",
    "CHAIN_RPC_URLS": "chain_rpc_urls",
    "MULTICALL_ADDRESS": "multicall_address",
    "REFUSE_DEV_KEYS": "refuse_dev_keys",
}


def portal_settings() -> PortalSettings:
    raw = dict(getattr(settings, "PORTAL", {}))
    known = {attr: raw.pop(key) for key, attr in _KNOWN.items() if key in raw}
    return PortalSettings(**known, extra=raw)


def portal_option(name: str, default=None):
    """An optional app setting from `settings.PORTAL` (e.g. "VOTES_PER_MINUTE"), with the app's default."""
    return getattr(settings, "PORTAL", {}).get(name, default)
