"""The EIP-4361 message, parsed: a strict regular expression written from the EIP's ABNF first, the siwe library's
ABNF parser only when that does not match.

The library's parse (an ABNF interpreter, plus RFC 3986 and RFC 3339 grammars run again by its validators) was 89 %
of a sign-in's time. The expression below is the same grammar — EIP-4361's rules with RFC 3986's URI and authority
and RFC 3339's date-time spelled out — but narrower where the ABNF is lenient in ways no wallet uses (lower-case
"t"/"z" in times, an empty statement line): such a message simply takes the library's path, so the fast path can
only ever accept a message the library accepts too, with the same fields (tests/portal/siwe/test_message.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import siwe

from governance.signers import eip55


# RFC 3986, appendix A — exactly its rules, composed.
_UNRESERVED = r"A-Za-z0-9\-._~"
_SUB_DELIMS = r"!$&'()*+,;="
_PCT = r"%[0-9A-Fa-f]{2}"
_PCHAR = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_SCHEME = r"[A-Za-z][A-Za-z0-9+\-.]*"
_USERINFO = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*"
_DEC_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9][0-9]|[0-9])"
_IPV4 = rf"{_DEC_OCTET}\.{_DEC_OCTET}\.{_DEC_OCTET}\.{_DEC_OCTET}"
_H16 = r"[0-9A-Fa-f]{1,4}"
_LS32 = rf"(?:{_H16}:{_H16}|{_IPV4})"
_IPV6 = "(?:" + "|".join([
    rf"(?:{_H16}:){{6}}{_LS32}",
    rf"::(?:{_H16}:){{5}}{_LS32}",
    rf"(?:{_H16})?::(?:{_H16}:){{4}}{_LS32}",
    rf"(?:(?:{_H16}:){{0,1}}{_H16})?::(?:{_H16}:){{3}}{_LS32}",
    rf"(?:(?:{_H16}:){{0,2}}{_H16})?::(?:{_H16}:){{2}}{_LS32}",
    rf"(?:(?:{_H16}:){{0,3}}{_H16})?::{_H16}:{_LS32}",
    rf"(?:(?:{_H16}:){{0,4}}{_H16})?::{_LS32}",
    rf"(?:(?:{_H16}:){{0,5}}{_H16})?::{_H16}",
    rf"(?:(?:{_H16}:){{0,6}}{_H16})?::",
]) + ")"
_IPVFUTURE = rf"v[0-9A-Fa-f]+\.[{_UNRESERVED}{_SUB_DELIMS}:]+"
_HOST = rf"(?:\[(?:{_IPV6}|{_IPVFUTURE})\]|{_IPV4}|(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})*)"
_AUTHORITY = rf"(?:{_USERINFO}@)?{_HOST}(?::[0-9]*)?"
_PATH_ABEMPTY = rf"(?:/{_PCHAR}*)*"
_HIER_PART = (
    rf"(?://{_AUTHORITY}{_PATH_ABEMPTY}|/(?:{_PCHAR}+(?:/{_PCHAR}*)*)?|{_PCHAR}+(?:/{_PCHAR}*)*|)"
)
_QUERY = rf"(?:{_PCHAR}|[/?])*"
URI = rf"{_SCHEME}:{_HIER_PART}(?:\?{_QUERY})?(?:#{_QUERY})?"

# RFC 3339 date-time, upper-case T and Z only (see the module docstring).
_DATE_TIME = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})"
# EIP-4361: statement = 1*( reserved / unreserved / " " ), reserved = gen-delims / sub-delims.
_STATEMENT = rf"[{_UNRESERVED}{_SUB_DELIMS}:/?#\[\]@ ]+"

MESSAGE = re.compile(
    rf"(?:(?P<scheme>{_SCHEME})://)?(?P<domain>{_AUTHORITY}) wants you to sign in with your Ethereum account:\n"
    r"(?P<address>0x[0-9A-Fa-f]{40})\n"
    r"\n"
    rf"(?:(?P<statement>{_STATEMENT})\n)?"
    r"\n"
    rf"URI: (?P<uri>{URI})\n"
    r"Version: 1\n"
    r"Chain ID: (?P<chain_id>[0-9]+)\n"
    r"Nonce: (?P<nonce>[A-Za-z0-9]{8,})\n"
    rf"Issued At: (?P<issued_at>{_DATE_TIME})"
    rf"(?:\nExpiration Time: (?P<expiration_time>{_DATE_TIME}))?"
    rf"(?:\nNot Before: (?P<not_before>{_DATE_TIME}))?"
    rf"(?:\nRequest ID: (?P<request_id>{_PCHAR}*))?"
    rf"(?:\nResources:(?P<resources>(?:\n- {URI})*))?"
)


class InvalidMessage(ValueError):
    """The text is not an EIP-4361 message."""


@dataclass(frozen=True)
class SignInMessage:
    """The fields of an EIP-4361 message the portal checks; `address` as written, `checksum_address` its EIP-55
    spelling (computed once, with the parse's own checksum check)."""

    domain: str
    address: str
    uri: str
    chain_id: int
    nonce: str
    issued_at: datetime
    expiration_time: datetime | None = None
    not_before: datetime | None = None
    statement: str | None = None
    checksum_address: str = field(default="", compare=False)


def _timestamp(text: str) -> datetime:
    """As the siwe library reads a date-time the grammar has already accepted, so both paths agree on every time."""
    return datetime.fromisoformat(text.replace(".000Z", "Z").replace("Z", "+00:00"))


def _fast(text: str) -> SignInMessage | None:
    match = MESSAGE.fullmatch(text)
    if match is None:
        return None
    fields = match.groupdict()
    address = fields["address"]
    checksummed = eip55(address)
    hex_part = address[2:]
    if address != checksummed and hex_part not in (hex_part.lower(), hex_part.upper()):
        return None  # a mixed-case address with a wrong EIP-55 checksum: the library refuses it
    try:
        return SignInMessage(
            domain=fields["domain"], address=address, checksum_address=checksummed, uri=fields["uri"],
            chain_id=int(fields["chain_id"]),
            nonce=fields["nonce"], statement=fields["statement"],
            issued_at=_timestamp(fields["issued_at"]),
            expiration_time=_timestamp(fields["expiration_time"]) if fields["expiration_time"] else None,
            not_before=_timestamp(fields["not_before"]) if fields["not_before"] else None,
        )
    except ValueError:  # a date the grammar allows but the calendar does not (month 13): the library decides
        return None


def _library(text: str) -> SignInMessage:
    try:
        parsed = siwe.SiweMessage.from_message(text)
    except Exception as exc:  # the library raises several kinds; all mean "not an EIP-4361 message"
        raise InvalidMessage(str(exc)) from exc
    return SignInMessage(
        domain=parsed.domain, address=parsed.address, checksum_address=eip55(parsed.address), uri=str(parsed.uri),
        chain_id=parsed.chain_id,
        nonce=parsed.nonce, statement=parsed.statement, issued_at=parsed.issued_at._datetime,
        expiration_time=parsed.expiration_time._datetime if parsed.expiration_time else None,
        not_before=parsed.not_before._datetime if parsed.not_before else None,
    )


def parse_message(text: str) -> SignInMessage:
    """The message's fields; raises InvalidMessage when `text` is not EIP-4361."""
    return _fast(text) or _library(text)
