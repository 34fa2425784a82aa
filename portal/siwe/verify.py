"""Every check of an EIP-4361 sign-in, in one place. Views call `siwe_nonce_issue` and `siwe_verify` only.

The nonce lives in the session (single use, 10 minutes); the signature may come from an EOA, an EIP-1271 contract
wallet or an EIP-6492 not-yet-deployed wallet (checked through the chain module).
"""

from __future__ import annotations

import re
import secrets
import string
import time
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from urllib.parse import urlsplit

import siwe
from eth_utils import to_checksum_address
from siwe.siwe import is_eip6492_signature

from governance.chain import ChainUnavailable, chain, home_chain_id
from portal.conf import portal_settings
from portal.errors import Forbidden, Refusal

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
SIGNATURE_RE = re.compile(r"^0x[0-9a-fA-F]+$")


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


def expected_domain(request) -> str:
    domain = portal_settings().siwe_domain
    return domain if domain else request.get_host()


def _parse(message: str) -> siwe.SiweMessage:
    try:
        return siwe.SiweMessage.from_message(message)
    except Exception as exc:  # the parser raises several kinds; all mean the same to a person
        raise Refusal(
            "The sign-in message is not a valid Sign-In with Ethereum (EIP-4361) message.", HTTPStatus.BAD_REQUEST
        ) from exc


def _check_origin(parsed: siwe.SiweMessage, *, domain: str, request) -> None:
    if "@" in parsed.domain:
        raise Refusal("The sign-in message names a domain with user information, which is not allowed.", REFUSED)
    if parsed.domain != domain:
        raise Refusal(f"The sign-in message was made for {parsed.domain}, not for {domain}.", REFUSED)
    uri = urlsplit(str(parsed.uri))
    # The origin the person is on: behind the README's proxy request.scheme is https (SECURE_PROXY_SSL_HEADER).
    if uri.scheme != request.scheme or uri.username or uri.password or uri.netloc != domain:
        raise Refusal(f"The sign-in message's URI is not on {domain}.", REFUSED)


def _check_times(parsed: siwe.SiweMessage, *, now: datetime) -> None:
    issued_at = parsed.issued_at._datetime
    if issued_at > now + CLOCK_SKEW:
        raise Refusal("The sign-in message is dated in the future. Please check your device's clock.", REFUSED)
    if issued_at < now - MESSAGE_MAX_AGE:
        raise Refusal("The sign-in message is older than 10 minutes. Please sign in again.", REFUSED)


def _check_signature(parsed: siwe.SiweMessage, *, signature: str, domain: str, chain_id: int, now: datetime) -> None:
    checks = dict(domain=domain, nonce=parsed.nonce, uri=str(parsed.uri), chain_id=chain_id, timestamp=now, strict=True)
    try:
        parsed.verify(signature, **checks)
        return
    except siwe.ExpiredMessage as exc:
        raise Refusal("The sign-in message has expired (its Expiration Time has passed).", REFUSED) from exc
    except siwe.NotYetValidMessage as exc:
        raise Refusal("The sign-in message is not valid yet (its Not Before time is in the future).", REFUSED) from exc
    except siwe.InvalidSignature:
        pass  # not an EOA signature by that address: maybe a contract wallet
    except siwe.VerificationError as exc:
        raise Refusal("The sign-in message could not be verified.", REFUSED) from exc

    node = chain(chain_id)
    if not (is_eip6492_signature(signature) or node.get_code(parsed.address)):
        raise Refusal("The signature was not made by the wallet named in the message.", REFUSED)
    try:
        parsed.verify(signature, provider=node.provider, **checks)
    except siwe.InvalidSignature as exc:
        raise Refusal("The wallet's contract did not accept this signature.", REFUSED) from exc
    except siwe.VerificationError as exc:
        raise Refusal("The sign-in message could not be verified.", REFUSED) from exc
    except (OSError, ValueError) as exc:
        raise ChainUnavailable(
            "The contract wallet's signature could not be checked because the blockchain node cannot be reached."
        ) from exc


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
    if not SIGNATURE_RE.match(signature) or len(signature) > MAX_SIGNATURE_HEX or len(signature) % 2:
        raise Refusal("The signature is not a 0x-prefixed hexadecimal string.", HTTPStatus.BAD_REQUEST)

    parsed = _parse(message)
    _consume_nonce(session=request.session, nonce=parsed.nonce)
    domain = expected_domain(request)
    _check_origin(parsed, domain=domain, request=request)
    chain_id = home_chain_id()
    if parsed.chain_id != chain_id:
        raise Refusal(f"The sign-in message is for chain {parsed.chain_id}; this portal uses chain {chain_id}.", REFUSED)
    now = datetime.now(UTC)
    _check_times(parsed, now=now)
    _check_signature(parsed, signature=signature, domain=domain, chain_id=chain_id, now=now)
    address = to_checksum_address(parsed.address)
    conf = portal_settings()
    if conf.refuse_dev_keys and conf.is_dev_account(address):
        raise Forbidden("This is a public development key; it cannot sign in to this portal.")
    return address
