"""What every `/api/v1/` route is declared with, written once, so the OpenAPI document tells the truth
(CONTRACT: "OpenAPI describes every request, response and error shape"):

- `answers(...)`: a route's `response=` map — its success shape, and `Error` for each status it can refuse with.
  Every route can answer 503 (the database, or the chain, is unreachable), every route with a parameter 400, every
  signed-in route 401 (no session) and 403 (no CSRF token, or not allowed);
- typed parameters (with `portal.parsing.PageQuery` for every `?page=`): the constraints a parameter really has (pattern, enumeration, bounds) and, where pydantic
  checks them, the sentence a person reads when a value breaks them (`explained`);
- `signed_in`: ninja's session auth whose CSRF refusal says what to do;
- `BodyParser`: request bodies read by portal.parsing.parse_json, whose sentences say what is wrong with one.

Values that a view or selector parses itself (an address, a page, an enumeration with its own sentence) are only
documented here (`documented`): the parser stays the one check and its sentence names what was given.
"""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus
from typing import Annotated, Any

from django.conf import settings
from ninja.parser import Parser
from ninja.security import SessionAuth
from ninja.utils import check_csrf
from pydantic import Field, WithJsonSchema, WrapValidator
from pydantic_core import PydanticCustomError
from pydantic_core import ValidationError as PydanticValidationError

from portal.errors import EXPLAINED, Error, Forbidden
from portal.parsing import parse_json

ADDRESS_PATTERN = "^0x[0-9a-fA-F]{40}$"
CSRF_SENTENCE = (
    "This request needs the page's CSRF token: send the value of the csrftoken cookie in the X-CSRFToken header "
    "(the portal's own pages do this for you), from the portal's own origin."
)


def answers(ok: dict[int, Any], *refusals: int, signed_in: bool = False) -> dict[int, Any]:
    """The `response=` map of a route: `ok` (status → schema), and `Error` for 503 (every route needs the database)
    and for each status in `refusals`; a `signed_in` route adds 401 (no session) and 403 (no CSRF token, or not
    allowed)."""
    statuses = {HTTPStatus.SERVICE_UNAVAILABLE, *refusals}
    if signed_in:
        statuses |= {HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN}
    return {**ok, **{int(status): Error for status in sorted(statuses)}}


def explained(sentence: str) -> WrapValidator:
    """A parameter whose value pydantic refuses answers `sentence` (400), never pydantic's own wording."""

    def validate(value, handler):
        try:
            return handler(value)
        except PydanticValidationError:
            raise PydanticCustomError(EXPLAINED, sentence) from None

    return WrapValidator(validate)


def documented(schema: dict[str, Any]) -> WithJsonSchema:
    """The OpenAPI schema of a text parameter that the view parses itself (with its own sentence)."""
    return WithJsonSchema(schema)


def one_of(values: Iterable[str], *, blank: bool = False, default: str | None = None, description: str = ""):
    """A text parameter the view checks against `values` (refusing others with its sentence); `blank`: an empty
    value is taken too (it means "all", as an HTML form sends it)."""
    schema: dict[str, Any] = {"type": "string", "enum": [*([""] if blank else []), *values]}
    if default is not None:
        schema["default"] = default
    if description:
        schema["description"] = description
    return Annotated[str | None, documented(schema)]


def whole_number(sentence: str, *, description: str, minimum: int | None = None):
    """An integer parameter: a value that is not one (or below `minimum`) answers `sentence`."""
    return Annotated[int, Field(description=description, ge=minimum), explained(sentence)]


ProposalNumber = whole_number(
    "The proposal number must be a whole number, like /api/v1/proposals/3.",
    description="The proposal's number: 3 for LIP-3",
)
ThreadId = whole_number(
    "The thread id must be a whole number, like /api/v1/threads/12.", description="The discussion thread's id"
)
PostId = whole_number(
    "The feedback post id must be a whole number, like /api/v1/feedback/5.", description="The feedback post's id"
)
BlockNumber = Annotated[
    int | None,
    Field(ge=0, description="A block number of the chain (e.g. a proposal's snapshot block); the head when absent"),
    explained("The block must be a whole number from 0, like ?block=120."),
]
# A wallet address in a path: checked (and checksummed) by the view's parser, whose sentence shows what was given.
# Mixed case must be the EIP-55 checksum, which a pattern cannot say; all lower or all upper case is taken as it is.
Address = Annotated[str, documented({
    "type": "string", "pattern": ADDRESS_PATTERN,
    "description": "0x and 40 hexadecimal digits; in mixed case it must be the EIP-55 checksum",
    "example": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
})]


def text(*, min_length: int = 0, max_length: int | None = None, description: str = "", pattern: str | None = None):
    """A text parameter the view reads itself; documented with its real bounds."""
    schema: dict[str, Any] = {"type": "string"}
    if max_length is not None:
        schema["maxLength"] = max_length
    if min_length:
        schema["minLength"] = min_length
    if pattern:
        schema["pattern"] = pattern
    if description:
        schema["description"] = description
    return Annotated[str | None, documented(schema)]


class SignedInSession(SessionAuth):
    """ninja's session auth (a signed-in session and Django's CSRF check), whose CSRF refusal is a sentence saying
    what to do (ninja's own is "CSRF check Failed")."""

    def __init__(self) -> None:
        super().__init__(csrf=False)  # checked below, with our sentence

    def __call__(self, request):
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise Forbidden(CSRF_SENTENCE)
        return super().__call__(request)


signed_in = SignedInSession()


class BodyParser(Parser):
    """JSON bodies through the one bounded parser (depth, NaN), so that a body that is not JSON answers its sentence
    (ninja wraps the Refusal in its HttpError; portal.errors answers the Refusal)."""

    def parse_body(self, request):
        return parse_json(request.body, max_bytes=settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2**31)
