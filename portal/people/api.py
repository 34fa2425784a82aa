"""People over JSON: the delegate directory and public profiles (CONTRACT: JSON API). Thin: parse, call, answer."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from governance.voting import amount_text
from portal.api_types import Address, answers, one_of
from portal.errors import Refusal
from portal.parsing import PageQuery, parse_page

from . import selectors, signed
from .schemas import AccountOut, DelegateListOut, DelegationTypedDataOut, SignedDelegationOut

router = Router()
DelegateSort = one_of(selectors.SORTS, default="power", description="Voting power, or participation in closed votes")


def _amount(value) -> str | None:
    return None if value is None else amount_text(value)


@router.get(
    "/delegates", summary="Addresses that received delegation, by voting power or participation",
    response=answers({200: DelegateListOut}, 400),
)
def list_delegates(request: HttpRequest, sort: DelegateSort = "power", page: PageQuery = None):
    if sort not in selectors.SORTS:
        raise Refusal(f"Unknown sort {sort[:40]!r}: use one of {', '.join(selectors.SORTS)}.")
    found = selectors.delegate_list(sort=sort, page=parse_page(page))
    items = [
        {
            "address": row.address,
            "display_name": row.display_name,
            "power": _amount(row.power),
            "delegators": row.delegators,
            "participation": row.participation,
            "statement": row.statement.body if row.statement else "",
        }
        for row in found.rows
    ]
    return {"items": items, "count": found.count}


@router.get(
    "/accounts/{address}", summary="The public profile of an address", response=answers({200: AccountOut}, 400),
)
def get_account(request: HttpRequest, address: Address):
    profile = selectors.profile_get(address=selectors.address_parse(address))
    delegation = profile.delegates_to
    return {
        "address": profile.address,
        "display_name": profile.display_name,
        "tier": {"slug": profile.tier.slug, "name": profile.tier.name} if profile.tier else None,
        "badges": profile.badges,
        "voting_power": _amount(profile.voting_power),
        "delegates_to": {"address": delegation.delegate, "since_block": delegation.since_block} if delegation else None,
        "delegators": [{"address": d.delegator, "since_block": d.since_block} for d in profile.delegators],
        "votes": [
            {
                "proposal": v.proposal.number, "title": v.proposal.title, "choice": v.choice,
                "choice_words": v.choice_words, "reason": v.reason, "weight": amount_text(v.weight),
                "timestamp": v.timestamp,
            }
            for v in profile.votes
        ],
        "proposals": profile.proposals,
        "comments": profile.comments,
        "feedback": profile.feedback,
    }


@router.get(
    "/delegations/typed-data",
    summary="What a holder signs (eth_signTypedData_v4) to delegate without gas: the token's Delegation for delegateBySig",
    response=answers({200: DelegationTypedDataOut}, 400, 409),
)
def get_delegation_typed_data(request: HttpRequest, holder: Address, delegatee: Address, days: str = "7"):
    return signed.delegation_prepare(holder=holder, delegatee=delegatee, days=days)


@router.get(
    "/delegations/check",
    summary="Check a signed delegation against the chain now, before a wallet sends it (the portal never sends it)",
    response=answers({200: SignedDelegationOut}, 400, 409, 410, 422),
)
def check_delegation(
    request: HttpRequest, chain_id: str, token: str, holder: str, delegatee: str, nonce: str, expiry: str,
    v: str, r: str, s: str,
):
    checked = signed.delegation_check(payload={
        "chain_id": chain_id, "token": token, "holder": holder, "delegatee": delegatee, "nonce": nonce,
        "expiry": expiry, "v": v, "r": r, "s": s,
    })
    return {**checked.payload(), "digest": checked.digest, "valid_until": checked.valid_until.isoformat()}
