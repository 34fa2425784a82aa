"""The fast EIP-4361 parse agrees with the siwe library's ABNF parse: on the EIP's own examples it matches and gives
the same fields; on anything it does not match the library decides; it never accepts what the library refuses."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.siwe.message import InvalidMessage, _fast, _library, parse_message

ADDRESS = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"

# EIP-4361's example message, then the variants its specification names (scheme, port, no statement, IP hosts,
# every optional field, time offsets and fractions, resources).
EIP_EXAMPLE = f"""example.com wants you to sign in with your Ethereum account:
{ADDRESS}

I accept the ExampleOrg Terms of Service: https://example.com/tos

URI: https://example.com/login
Version: 1
Chain ID: 1
Nonce: 32891756
Issued At: 2021-09-30T16:25:24Z
Resources:
- ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/
- https://example.com/my-web2-claim.json"""

VALID = {
    "eip-example": EIP_EXAMPLE,
    "scheme": "https://" + EIP_EXAMPLE,
    "port": EIP_EXAMPLE.replace("example.com wants", "example.com:3388 wants"),
    "no-statement": EIP_EXAMPLE.replace("I accept the ExampleOrg Terms of Service: https://example.com/tos\n", ""),
    "ipv4-host": EIP_EXAMPLE.replace("example.com wants", "127.0.0.1:8000 wants"),
    "ipv6-host": EIP_EXAMPLE.replace("example.com wants", "[2001:db8::1]:8443 wants"),
    "lowercase-address": EIP_EXAMPLE.replace(ADDRESS, ADDRESS.lower()),
    "all-optional-fields": EIP_EXAMPLE.replace(
        "Issued At: 2021-09-30T16:25:24Z",
        "Issued At: 2021-09-30T16:25:24.000Z\nExpiration Time: 2021-10-30T16:25:24.123456Z\n"
        "Not Before: 2021-09-30T18:25:24+02:00\nRequest ID: some_id-1~2!%20@:",
    ),
    "no-resources": EIP_EXAMPLE.split("\nResources:")[0],
    "empty-resources": EIP_EXAMPLE.split("\nResources:")[0] + "\nResources:",
    "uri-with-query-and-fragment": EIP_EXAMPLE.replace(
        "URI: https://example.com/login", "URI: https://user@example.com:443/a/b;c?d=e&f=%20#frag"
    ),
    "urn-uri": EIP_EXAMPLE.replace("URI: https://example.com/login", "URI: urn:uuid:4bd8a4e0-1a6b-4e4e-9b9e-5a0c1b"),
    "long-chain-id": EIP_EXAMPLE.replace("Chain ID: 1\n", "Chain ID: 4294967295\n"),
}

INVALID = {
    "bad-checksum": EIP_EXAMPLE.replace(ADDRESS, ADDRESS[:-1] + "3"),
    "short-address": EIP_EXAMPLE.replace(ADDRESS, ADDRESS[:-2]),
    "short-nonce": EIP_EXAMPLE.replace("Nonce: 32891756", "Nonce: 1234567"),
    "nonce-not-alphanumeric": EIP_EXAMPLE.replace("Nonce: 32891756", "Nonce: 3289-1756"),
    "version-2": EIP_EXAMPLE.replace("Version: 1", "Version: 2"),
    "no-issued-at": EIP_EXAMPLE.replace("Issued At: 2021-09-30T16:25:24Z\n", ""),
    "month-13": EIP_EXAMPLE.replace("2021-09-30", "2021-13-30"),
    "statement-with-newline": EIP_EXAMPLE.replace("Terms of Service:", "Terms\nof Service:"),
    "statement-with-quote": EIP_EXAMPLE.replace("Terms of Service", 'Terms of "Service"'),
    "domain-with-space": EIP_EXAMPLE.replace("example.com wants", "exa mple.com wants"),
    "uri-without-scheme": EIP_EXAMPLE.replace("URI: https://example.com/login", "URI: example.com/login"),
    "uri-with-space": EIP_EXAMPLE.replace("URI: https://example.com/login", "URI: https://example.com/a b"),
    "trailing-newline": EIP_EXAMPLE + "\n",
    "fields-out-of-order": EIP_EXAMPLE.replace("Version: 1\nChain ID: 1\n", "Chain ID: 1\nVersion: 1\n"),
    "crlf": EIP_EXAMPLE.replace("\n", "\r\n"),
    "no-statement-one-blank-line": EIP_EXAMPLE.replace("\nI accept the ExampleOrg Terms of Service: https://example.com/tos\n", ""),
    "not-a-message": "hello, sign me in",
}


@pytest.mark.parametrize("text", VALID.values(), ids=VALID.keys())
def test_the_fast_parse_reads_every_valid_example_exactly_as_the_library(text):
    fast = _fast(text)
    assert fast is not None, "the fast parse should match this valid message"
    assert fast == _library(text)


@pytest.mark.parametrize("text", INVALID.values(), ids=INVALID.keys())
def test_what_the_library_refuses_the_fast_parse_does_not_accept(text):
    assert _fast(text) is None
    with pytest.raises(InvalidMessage):
        parse_message(text)


def test_a_lenient_spelling_takes_the_librarys_path():
    lenient = EIP_EXAMPLE.replace("2021-09-30T16:25:24Z", "2021-09-30t16:25:24Z")  # ABNF strings ignore case
    assert _fast(lenient) is None
    assert parse_message(lenient).issued_at == _library(EIP_EXAMPLE).issued_at


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(position=st.integers(min_value=0, max_value=len(EIP_EXAMPLE) - 1), replacement=st.characters(codec="ascii"))
def test_a_one_character_change_never_makes_the_two_parses_disagree(position, replacement):
    text = EIP_EXAMPLE[:position] + replacement + EIP_EXAMPLE[position + 1:]
    fast = _fast(text)
    if fast is None:
        return  # the library decides: nothing to compare
    assert fast == _library(text)
