"""The portal's settings as one typed object (allauth's `app_settings` is the model).

Every key of `settings.PORTAL` is a field of `PortalSettings` below, with its default here and nowhere else. Values
may arrive as strings from the environment (portal/settings.py passes them through) and are cast to the field's
type; a value that does not fit, or a key that is not a setting (a typo), raises ImproperlyConfigured with a
sentence naming the variable. `PortalConfig.ready()` reads them once at start-up so a bad value stops the server.

Read at call time, so `override_settings(PORTAL=...)` and tests that change `settings.PORTAL` take effect.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

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
_DEV_ACCOUNTS_LOWER = frozenset(a.lower() for a in DEV_ACCOUNTS)

DEFAULT_TIERS = (
    {"slug": "bronze", "name": "Bronze", "threshold": "100"},
    {"slug": "silver", "name": "Silver", "threshold": "1000"},
    {"slug": "gold", "name": "Gold", "threshold": "10000"},
)


@dataclass(frozen=True)
class PortalSettings:
    """Every portal setting. The attribute is the lower-case key of `settings.PORTAL` (and of its environment
    variable, where there is one)."""

    # The chain and signatures
    chain_rpc_url: str = "http://127.0.0.1:8545"
    chain_rpc_urls: dict[int, str] = field(default_factory=dict)
    chain_id: int | None = None
    siwe_domain: str | None = None
    governance_name: str = "Portal Governance"
    site_name: str = "Lending DAO Portal"
    site_url: str | None = None  # where links in e-mail point; default https://SIWE_DOMAIN (or the dev server)
    multicall_address: str | None = None
    refuse_dev_keys: bool = False
    contracts: dict[str, str] = field(default_factory=dict)

    # Voting weight
    snapshot_confirmations: int = 3
    weight_chunk_size: int = 500
    weight_read_workers: int = 4
    badge_weight: Decimal = Decimal(100)
    default_strategies: list | None = None
    tiers: list | None = None
    tier_cache_seconds: int = 60
    delegation_from_block: int = 0  # where the loyalty token's delegation events start (its deployment block)
    delegation_log_chunk: int = 10_000  # blocks per eth_getLogs request

    # Proposals and votes
    proposal_threshold: Decimal = Decimal(1)
    proposal_max_body: int = 20_000
    proposal_max_choices: int = 10
    proposal_max_voting_days: int = 60
    proposal_max_open_per_author: int = 3
    proposals_per_hour: int = 5
    proposal_thread_category: str = "governance"
    votes_per_minute: int = 20
    votes_per_ip_per_minute: int = 120
    live_tally_window_seconds: float = 0.5  # a proposal's live tally is rendered at most this often (0 = per vote)

    # Discussion
    discussion_auto_hide_flags: int = 3
    discussion_edit_grace_seconds: int = 60 * 60
    discussion_new_account_hours: int = 24
    discussion_new_account_posts_per_minute: int = 5
    discussion_posts_per_minute: int = 12

    # Feedback
    feedback_posts_per_hour: int = 10
    feedback_votes_per_minute: int = 30
    feedback_figures_days: int = 90
    promoted_proposal_start_days: int = 3
    promoted_proposal_days: int = 7

    # Health and status
    health_ws_poll_seconds: float = 5.0
    health_page_id: str | None = None
    health_reference_rpc_url: str | None = None
    health_rpc_timeout_seconds: float = 5.0

    # Lending positions (CONTRACT: LENDING_POOL_ADDRESS / LENDING_POOL_KIND; unset address: the dev chain's pool)
    lending_pool_address: str | None = None
    lending_pool_kind: str = "aave-v3"
    lending_tick_seconds: float = 5.0
    lending_reference_feeds: dict[str, str] = field(default_factory=dict)

    # Durable effects (portal.effects): quick database effects (notifications) are also tried in the web process
    # right after commit, so they need not wait for a worker's poll; off, only the task workers run them.
    effects_eager: bool = True
    # E-mail (EMAIL_URL and DEFAULT_FROM_EMAIL are Django's settings, parsed by `email_settings` below)
    mail_batch_size: int = 200
    digest_hour: int = 7
    digest_batch_size: int = 500
    status_subscriptions_per_address_per_hour: int = 5
    status_subscriptions_per_ip_per_hour: int = 30
    status_confirmation_resend_seconds: int = 600

    def is_dev_account(self, address: str) -> bool:
        return address.lower() in _DEV_ACCOUNTS_LOWER

    def tier_table(self) -> tuple[dict, ...]:
        return tuple(self.tiers) if self.tiers else DEFAULT_TIERS


_FIELDS = {f.name: f for f in dataclasses.fields(PortalSettings)}
_HINTS = typing.get_type_hints(PortalSettings)


def _cast(name: str, value, hint):
    """`value` as the field's type; strings (from the environment) are parsed."""
    optional = False
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional, hint = True, args[0]
        origin = typing.get_origin(hint)
    if value is None or (optional and isinstance(value, str) and not value.strip()):
        if optional:
            return None
        raise ValueError("it may not be empty")
    base = origin or hint
    if base is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise ValueError("it must be 1/0, true/false, yes/no or on/off")
    if base is int:
        if isinstance(value, bool):
            raise ValueError("it must be a whole number")
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if not (text.isascii() and text.lstrip("-").isdigit()):
            raise ValueError("it must be a whole number")
        return int(text)
    if base is float:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError("it must be a number") from None
    if base is Decimal:
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError("it must be a decimal number") from None
        if not number.is_finite():
            raise ValueError("it must be a finite decimal number")
        return number
    if base is str:
        return str(value).strip()
    if base in (dict, list):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise ValueError("it must be JSON") from None
        if not isinstance(value, base):
            raise ValueError(f"it must be a JSON {'object' if base is dict else 'list'}")
        return value
    return value


def _build(raw: dict) -> PortalSettings:
    values = {}
    for key, value in raw.items():
        name = str(key).lower()
        if name not in _FIELDS:
            raise ImproperlyConfigured(f"PORTAL[{key!r}] is not a portal setting; see portal/conf.py for the list.")
        try:
            values[name] = _cast(name, value, _HINTS[name])
        except ValueError as exc:
            raise ImproperlyConfigured(f"{key} is set to {value!r}, but {exc}.") from None
    return PortalSettings(**values)


_built: tuple[tuple, PortalSettings] | None = None


def portal_settings() -> PortalSettings:
    """The current settings, typed. Raises ImproperlyConfigured naming the variable when one is wrong.

    Built again only when PORTAL changed: when any of its entries is another object than at the last build (the
    last build's objects are held, so none of their ids can be reused), as a test or a benchmark that assigns
    `settings.PORTAL[...]` does; a vote or a page asks several times per request."""
    global _built
    raw = getattr(settings, "PORTAL", {})
    items = tuple(raw.items())
    last = _built
    if last is not None and len(last[0]) == len(items) and all(
        k is k0 and v is v0 for (k, v), (k0, v0) in zip(items, last[0])
    ):
        return last[1]
    built = _build(dict(items))
    _built = (items, built)
    return built


CAUGHT_MAIL_BACKEND = "portal.notifications.mailbox.CaughtMailBackend"
_EMAIL_SCHEMES = {"smtp": (False, False), "smtp+tls": (True, False), "smtps": (False, True)}


def email_settings(url: str | None) -> dict:
    """Django's EMAIL_* settings from CONTRACT's EMAIL_URL: `smtp://user:pass@host:25` (plain), `smtp+tls://`
    (STARTTLS, port 587 by default), `smtps://` (TLS from the first byte, 465). Unset: mail is caught in the site's
    database, and with DEBUG on /dev/mail/ shows it. Raises ImproperlyConfigured with a sentence."""
    if not url or not url.strip():
        return {"EMAIL_BACKEND": CAUGHT_MAIL_BACKEND}
    parts = urlsplit(url.strip())
    if parts.scheme not in _EMAIL_SCHEMES:
        raise ImproperlyConfigured(
            f"EMAIL_URL must start with smtp://, smtp+tls:// or smtps:// (it starts with {parts.scheme or 'nothing'}://)."
        )
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured("EMAIL_URL has a port that is not a number.") from None
    if not parts.hostname:
        raise ImproperlyConfigured("EMAIL_URL names no host, e.g. smtp+tls://user:password@mail.example.org:587.")
    use_tls, use_ssl = _EMAIL_SCHEMES[parts.scheme]
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port or (465 if use_ssl else 587 if use_tls else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": use_tls,
        "EMAIL_USE_SSL": use_ssl,
        "EMAIL_TIMEOUT": 10,
    }
