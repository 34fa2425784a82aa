"""Every check of an EIP-4361 sign-in, in one place. Views call `siwe_nonce_issue` and `siwe_verify` only.

The nonce lives in the session (single use, 10 minutes); the signature is checked by governance.signers, the same
check votes use: an EOA (low-s only), an EIP-1271 contract wallet (`0x` for a message it approved on-chain) or an
EIP-6492 not-yet-deployed wallet.
"""

from __future__ import annotations

import re
import secrets
import string
import time
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from urllib.parse import urlsplit

from eth_hash.auto import keccak

from governance.chain import home_chain_id
from governance.signers import NotSignedBy, SignatureRefused, signer_check
from portal.conf import PortalSettings, portal_settings
from portal.errors import Forbidden, Refusal

from .message import InvalidMessage, SignInMessage, parse_message

NONCE_TTL_SECONDS = 600
MESSAGE_MAX_AGE = timedelta(minutes=10)
CLOCK_SKEW = timedelta(seconds=30)
MAX_MESSAGE_LENGTH = 2048
MAX_SIGNATURE_HEX = 8192  # EIP-6492 wraps factory calldata around the signature
MAX_OUTSTANDING_NONCES = 5
SESSION_KEY = "siwe_nonces"
NONCE_ALPHABET = string.ascii_letters + string.digits
# A refused sign-in answers 401 unless a check says otherwise (malformed input: 400).
REFUSED = HTTPStatus.UNAUTHORIZED
# Hex bytes after 0x; `0x` alone is a contract wallet pointing at a message it approved on-chain (Safe's SignMessageLib).
SIGNATURE_RE = re.compile(r"^0x(?:[0-9a-fA-F]{2})*$")


def siwe_nonce_issue(*, session) -> str:
    """A fresh nonce bound to this session: single use, valid for 10 minutes."""
    nonce = "".join(secrets.choice(NONCE_ALPHABET) for _ in range(24))
    now = int(time.time())
    issued = {n: t for n, t in session.get(SESSION_KEY, {}).items() if now - t < NONCE_TTL_SECONDS}
    issued[nonce] = now
    # Keep only the newest few so a script cannot grow the session without bound.
    session[SESSION_KEY] = dict(sorted(issued.items(), key=lambda item: item[1])[-MAX_OUTSTANDING_NONCES:])
    return nonce


def _consume_nonce(*, session, nonce: str) -> None:
    issued: dict = session.get(SESSION_KEY, {})
    issued_at = issued.pop(nonce, None)
    session[SESSION_KEY] = issued  # single use: gone whatever happens next
    if issued_at is None:
        raise Refusal(
            "This sign-in request was not issued to this browser session or was already used. Please try again.",
            REFUSED,
        )
    if time.time() - issued_at >= NONCE_TTL_SECONDS:
        raise Refusal("This sign-in request has expired. Please sign in again.", REFUSED)


def expected_domain(request, *, conf: PortalSettings | None = None) -> str:
    domain = (conf or portal_settings()).siwe_domain
    return domain if domain else request.get_host()


def _parse(message: str) -> SignInMessage:
    try:
        return parse_message(message)
    except InvalidMessage as exc:
        raise Refusal(
            "The sign-in message is not a valid Sign-In with Ethereum (EIP-4361) message.", HTTPStatus.BAD_REQUEST
        ) from exc


def _check_origin(parsed: SignInMessage, *, domain: str, request) -> None:
    if "@" in parsed.domain:
        raise Refusal("The sign-in message names a domain with user information, which is not allowed.", REFUSED)
    if parsed.domain != domain:
        raise Refusal(f"The sign-in message was made for {parsed.domain}, not for {domain}.", REFUSED)
    uri = urlsplit(parsed.uri)
    # The origin the person is on: behind the README's proxy request.scheme is https (SECURE_PROXY_SSL_HEADER).
    if uri.scheme != request.scheme or uri.username or uri.password or uri.netloc != domain:
        raise Refusal(f"The sign-in message's URI is not on {domain}.", REFUSED)


def _check_times(parsed: SignInMessage, *, now: datetime) -> None:
    issued_at = parsed.issued_at
    if issued_at > now + CLOCK_SKEW:
        raise Refusal("The sign-in message is dated in the future. Please check your device's clock.", REFUSED)
    if issued_at < now - MESSAGE_MAX_AGE:
        raise Refusal("The sign-in message is older than 10 minutes. Please sign in again.", REFUSED)
    if parsed.expiration_time is not None and now >= parsed.expiration_time:
        raise Refusal("The sign-in message has expired (its Expiration Time has passed).", REFUSED)
    if parsed.not_before is not None and now < parsed.not_before:
        raise Refusal("The sign-in message is not valid yet (its Not Before time is in the future).", REFUSED)


def eip191_digest(message: str) -> bytes:
    """The hash a wallet's personal_sign signs (EIP-191 version 0x45), as eth_account's encode_defunct and
    _hash_eip191_message compute it, without their validation layers (half the time, on every sign-in)."""
    body = message.encode("utf-8")
    return keccak(b"\x19Ethereum Signed Message:\n%d%b" % (len(body), body))


def _check_signature(parsed: SignInMessage, *, message: str, signature: str) -> None:
    """The signer check votes use too (governance.signers), on the EIP-191 hash of the text the wallet signed.
    The node (of the home chain, the message's chain by then) is asked only for a contract wallet."""
    try:
        signer_check(address=parsed.address, digest=eip191_digest(message), signature=bytes.fromhex(signature[2:]))
    except NotSignedBy:
        raise Refusal("The signature was not made by the wallet named in the message.", REFUSED) from None
    except SignatureRefused as refused:
        raise Refusal(str(refused), REFUSED) from None


def siwe_verify(*, request, message: object, signature: object) -> str:
    """Check a signed EIP-4361 message against this request; return the checksummed address or raise a Refusal
    (401 for a refused sign-in, 400/413 for malformed input, 403 for a dev key, 503 when the node is needed and down).

    Consumes the nonce (single use) whatever the outcome, once the message names one this session was given.
    """
    if not isinstance(message, str) or not message.strip():
        raise Refusal("The sign-in request has no message.", HTTPStatus.BAD_REQUEST)
    if not isinstance(signature, str) or not signature:
        raise Refusal("The sign-in request has no signature.", HTTPStatus.BAD_REQUEST)
    if len(message) > MAX_MESSAGE_LENGTH:
        raise Refusal(
            f"The sign-in message is too long (at most {MAX_MESSAGE_LENGTH} characters).",
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        )
    if not SIGNATURE_RE.match(signature) or len(signature) > MAX_SIGNATURE_HEX:
        raise Refusal("The signature is not a 0x-prefixed hexadecimal string.", HTTPStatus.BAD_REQUEST)

    parsed = _parse(message)
    _consume_nonce(session=request.session, nonce=parsed.nonce)
    conf = portal_settings()  # once: it is built from settings.PORTAL on every call
    domain = expected_domain(request, conf=conf)
    _check_origin(parsed, domain=domain, request=request)
    chain_id = conf.chain_id if conf.chain_id is not None else home_chain_id()
    if parsed.chain_id != chain_id:
        raise Refusal(f"The sign-in message is for chain {parsed.chain_id}; this portal uses chain {chain_id}.", REFUSED)
    now = datetime.now(UTC)
    _check_times(parsed, now=now)
    _check_signature(parsed, message=message, signature=signature)
    address = parsed.checksum_address
    if conf.refuse_dev_keys and conf.is_dev_account(address):
        raise Forbidden("This is a public development key; it cannot sign in to this portal.")
    return address
