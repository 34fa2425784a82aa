"""Governance endpoints of `/api/v1/` (CONTRACT: JSON API, Signed votes, Recount file). Thin: parse, call, answer.

Refusals raised by the services and selectors reach portal.errors' API handler, which answers `{"error"}`. Reads
never write: a proposal past its end reads as closed, with its exact result, before the sampler records the close.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.cache import get_conditional_response
from ninja import Router, Status
from pydantic import WithJsonSchema

from governance import selectors, services
from governance.eip712 import SignedBallot, eip712_domain, typed_data
from governance.models import Category, Proposal, ProposalState
from governance.exports import export_chunks, export_stored
from governance.schemas import (
    Eip712Out, ProposalListOut, ProposalOut, RecountFileOut, ResultsOut, VoteIn, VoteListOut, VoteReceiptOut,
)
from governance.voting import amount_text
from portal.conf import portal_settings
from portal.api_types import ProposalNumber, answers, one_of, text
from portal.errors import Refusal
from portal.parsing import PageQuery, page_slice, parse_int, parse_page
from portal.ratelimit import Limit, client_ip

router = Router()
VOTES_PAGE_MAX = 1000
# Text read by parse_int, so that a bad size is a 400 sentence like a bad page.
PageSize = Annotated[
    str | None, WithJsonSchema({"type": "integer", "minimum": 1, "maximum": VOTES_PAGE_MAX, "default": 100})
]


def proposal_json(proposal: Proposal, *, outcome: str | None = None) -> dict:
    return {
        "number": proposal.number,
        "label": proposal.label,
        "title": proposal.title,
        "body": proposal.body,
        "author": proposal.author_address,
        "category": proposal.category,
        "voting_type": proposal.voting_type,
        "choices": proposal.choice_names,
        "start": proposal.start.isoformat(),
        "end": proposal.end.isoformat(),
        "snapshot_block": proposal.snapshot_block,
        "quorum": amount_text(proposal.quorum_amount),
        "strategies": proposal.strategies,
        "state": selectors.effective_state(proposal=proposal),
        "outcome": outcome,
        "thread": proposal.thread_id,
        "risk_change": selectors.risk_change_json(proposal=proposal),
    }


def results_json(proposal: Proposal, results: selectors.Results) -> dict:
    return {
        "number": proposal.number,
        "state": results.state,
        "outcome": results.outcome,
        "winner": results.winner,
        "choices": [{"number": c.number, "choice": c.name, "weight": amount_text(c.weight)} for c in results.choices],
        "total_weight": amount_text(results.total),
        "voters": results.voters,
        "quorum": amount_text(results.quorum),
        "quorum_weight": amount_text(results.quorum_weight),
        "quorum_reached": results.quorum_reached,
    }


State = one_of(ProposalState.values, blank=True, description="Only proposals in this state; empty for all")
CategoryName = one_of(Category.values, blank=True, description="Only proposals of this category; empty for all")
TitleSearch = text(description="Words in the title (the first 100 characters are used)")


@router.get("/proposals", summary="Proposals, newest first", response=answers({200: ProposalListOut}, 400))
def list_proposals(
    request: HttpRequest, state: State = None, category: CategoryName = None, q: TitleSearch = None,
    page: PageQuery = None,
):
    if state and state not in ProposalState.values:
        raise Refusal(f"Unknown state {state!r}: use one of {', '.join(ProposalState.values)}.")
    if category and category not in Category.values:
        raise Refusal(f"Unknown category {category!r}: use one of {', '.join(Category.values)}.")
    page = parse_page(page)
    qs = selectors.proposal_list(state=state, category=category, search=q)
    count = qs.count()
    items = []
    for proposal in qs[page_slice(page=page, per_page=selectors.PAGE_SIZE)]:
        outcome = None
        if selectors.effective_state(proposal=proposal) in (ProposalState.CLOSED, ProposalState.EXECUTED):
            outcome = selectors.proposal_results(proposal=proposal).outcome
        items.append(proposal_json(proposal, outcome=outcome))
    return {"items": items, "count": count}


@router.get("/proposals/{number}", summary="One proposal", response=answers({200: ProposalOut}, 400, 404))
def get_proposal(request: HttpRequest, number: ProposalNumber):
    proposal = selectors.proposal_get(number=number)
    return proposal_json(proposal, outcome=selectors.proposal_results(proposal=proposal).outcome)


@router.get(
    "/proposals/{number}/results", summary="Weight per choice, voters, quorum and outcome",
    response=answers({200: ResultsOut}, 400, 404),
)
def get_results(request: HttpRequest, number: ProposalNumber):
    proposal = selectors.proposal_get(number=number)
    return results_json(proposal, selectors.proposal_results(proposal=proposal))


@router.get(
    "/proposals/{number}/votes", summary="Every counted vote, heaviest first",
    response=answers({200: VoteListOut}, 400, 404),
)
def list_votes(
    request: HttpRequest, number: ProposalNumber, page: PageQuery = None, page_size: PageSize = None,
):
    proposal = selectors.proposal_get(number=number)
    page = parse_page(page)
    size = 100 if page_size in (None, "") else parse_int(page_size, what="page_size", minimum=1, maximum=VOTES_PAGE_MAX)
    qs = selectors.vote_list(proposal=proposal)
    items = [
        {
            "voter": v.voter,
            "choice": v.choice,
            "reason": v.reason,
            "timestamp": v.timestamp,
            "weight": amount_text(v.weight),
            "signature": v.signature,
            "receipt": v.receipt,
        }
        for v in qs[page_slice(page=page, per_page=size)]
    ]
    return {"items": items, "count": qs.count()}


@router.post(
    "/proposals/{number}/votes", summary="Cast a signed vote (EIP-712)",
    response=answers({201: VoteReceiptOut}, 400, 403, 404, 409, 422, 429),
)
def cast_vote(request: HttpRequest, number: ProposalNumber, payload: VoteIn):
    Limit("vote-ip", portal_settings().votes_per_ip_per_minute, 60).hit(client_ip(request))
    proposal = selectors.proposal_to_vote_on(number=number)
    ballot = SignedBallot.from_fields(
        voter=payload.voter, proposal=number, choice=payload.choice, reason=payload.reason,
        timestamp=payload.timestamp, signature=payload.signature,
    )
    vote = services.vote_cast(proposal=proposal, ballot=ballot)
    return Status(HTTPStatus.CREATED, {"receipt": vote.receipt, "weight": amount_text(vote.weight)})


@router.get(
    "/eip712", summary="The EIP-712 domain and types a vote is signed with", response=answers({200: Eip712Out})
)
def get_eip712(request: HttpRequest):
    return typed_data(domain=eip712_domain())


@router.get(
    "/proposals/{number}/export", summary="The recount file (docs/recount-format.md)",
    response=answers({200: RecountFileOut}, 400, 404),
)
def export_proposal(request: HttpRequest, number: ProposalNumber):
    """A closed proposal's file from storage (ETag, Content-Length; If-None-Match answers 304); while it can still
    change, streamed in batches of votes (governance.exports): the same bytes either way."""
    proposal = selectors.proposal_get(number=number)
    stored = export_stored(proposal=proposal)
    if stored is None:
        chunks = export_chunks(proposal=proposal)
        # Under ASGI a synchronous iterator would be read whole before sending: hand it over batch by batch.
        return StreamingHttpResponse(
            _async_chunks(chunks) if isinstance(request, ASGIRequest) else chunks, content_type="application/json"
        )
    etag = f'"{stored.sha256}"'
    response = HttpResponse(bytes(stored.body), content_type="application/json")
    response["ETag"], response["Content-Length"], response["Cache-Control"] = etag, str(stored.size), "no-cache"
    return get_conditional_response(request, etag=etag, response=response)


async def _async_chunks(chunks):
    """A synchronous iterator of bytes as an asynchronous one, each step in the request's database thread."""
    step = sync_to_async(next, thread_sensitive=True)
    while (piece := await step(chunks, None)) is not None:
        yield piece
