"""Refusal: the one way the portal says no.

A service that will not do what it was asked raises a `Refusal` (or one of the named kinds below) carrying the
sentence a person reads and the HTTP status it answers with. Nobody else invents an error class, and only three
places translate one:

- the JSON API: `install_api_handlers(api)` turns a Refusal (and ninja's own validation and auth errors) into
  `{"error": "<sentence>"}` with its status;
- views: `refusal_response(request, refusal, template=..., context=...)` re-renders the page with the sentence, and
  `RefusalMiddleware` answers any Refusal a view lets through (JSON under /api/ and for htmx/JSON callers, the site's
  refusal page otherwise);
- consumers: `refusal_frame(refusal)` is the sentence as a socket frame.

Django's own errors (404, 403, 400, 500) answer through the same shapes: `handler404` … `handler500` below are
installed in portal/urls.py, so with DEBUG off nobody ever sees a traceback. A database that cannot be reached or
whose connection pool stays exhausted or was terminated (`OperationalError`, `InterfaceError`), in a view or any middleware,
is a 503 `Unavailable` with a sentence, not a 500 (`DatabaseFaultMiddleware` and `handler500`).
"""

from __future__ import annotations

import json
import logging
import sys
from functools import lru_cache
from http import HTTPStatus

from csp.middleware import CSPMiddleware
from django.contrib.auth.models import AnonymousUser
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

log = logging.getLogger(__name__)


class Refusal(Exception):
    """A refused request: `message` is the sentence a person reads, `status` the HTTP status to answer with."""

    status: int = HTTPStatus.BAD_REQUEST

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = int(status)

    def headers(self) -> dict[str, str]:
        """Extra response headers this refusal needs (Retry-After on a rate limit)."""
        return {}


class SignInRequired(Refusal):
    status = HTTPStatus.UNAUTHORIZED


class Forbidden(Refusal):
    status = HTTPStatus.FORBIDDEN


class NotFound(Refusal):
    status = HTTPStatus.NOT_FOUND


class Conflict(Refusal):
    status = HTTPStatus.CONFLICT


class RateLimited(Refusal):
    """Too many requests; `retry_after` seconds until the window opens again."""

    status = HTTPStatus.TOO_MANY_REQUESTS

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class Unavailable(Refusal):
    """A service the request needs (the chain node, the database pool) is not answering right now; with
    `retry_after`, the seconds a client should wait before trying again (a Retry-After header)."""

    status = HTTPStatus.SERVICE_UNAVAILABLE

    def __init__(self, message: str, status: int | None = None, *, retry_after: int | None = None):
        super().__init__(message, status)
        self.retry_after = None if retry_after is None else max(1, int(retry_after))

    def headers(self) -> dict[str, str]:
        return {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}


def refusal_json(refusal: Refusal) -> JsonResponse:
    """`{"error": sentence}` with the refusal's status and headers."""
    response = JsonResponse({"error": refusal.message}, status=refusal.status)
    for name, value in refusal.headers().items():
        response[name] = value
    return response


def wants_json(request: HttpRequest) -> bool:
    """API paths, and callers that sent or asked for JSON rather than a page."""
    if request.path.startswith("/api/"):
        return True
    accept = request.headers.get("Accept", "")
    return request.content_type == "application/json" or (
        "application/json" in accept and "text/html" not in accept
    )


def refusal_response(
    request: HttpRequest, refusal: Refusal, *, template: str | None = None, context: dict | None = None
) -> HttpResponse:
    """The one way a view answers a refusal: JSON for JSON callers; otherwise `template` (or the site's refusal
    page) rendered with `error` = the sentence and the refusal's status."""
    if wants_json(request):
        return refusal_json(refusal)
    response = TemplateResponse(
        request, template or "portal/refusal.html", {**(context or {}), "error": refusal.message},
        status=refusal.status,
    )
    for name, value in refusal.headers().items():
        response[name] = value
    return response


DATABASE_UNAVAILABLE = "The database is busy or unreachable right now. Please try again in a minute."
# More requests than this worker may run at once waited REQUEST_QUEUE_TIMEOUT seconds (portal/admission.py).
PORTAL_BUSY = "The portal is very busy right now. Please try again in a few seconds."
# A connection refused, dropped or terminated (pg_terminate_backend, a restart), or a pool that stayed exhausted.
DATABASE_FAULTS = (OperationalError, InterfaceError)


def database_unavailable(exc: Exception) -> Unavailable:
    """The refusal for a database fault (connection refused, too many clients, pool timeout), logged once here."""
    log.warning("database unavailable: %s", exc)
    return Unavailable(DATABASE_UNAVAILABLE)


class RefusalMiddleware:
    """Answers a Refusal that a view did not handle itself, so no refusal ever becomes a 500; a database fault in
    a view answers 503 with a sentence."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, Refusal):
            return refusal_response(request, exception)
        if isinstance(exception, DATABASE_FAULTS):
            return error_page(request, database_unavailable(exception))
        return None


class DatabaseFaultMiddleware:
    """The outermost middleware: a database fault anywhere in a request — also in a middleware reading the session
    or the user, where no process_exception sees it, and with DEBUG on, where Django answers its debug page and not
    handler500 — answers the 503 sentence instead of a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        fault = getattr(request, "_database_fault", None)
        if fault is not None and response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR:
            return error_page(request, database_unavailable(fault))
        return response


def _note_database_fault(sender, request=None, **kwargs):
    """Django sends got_request_exception inside its except block, before it builds the 500."""
    exception = sys.exc_info()[1]
    if request is not None and isinstance(exception, DATABASE_FAULTS):
        request._database_fault = exception


got_request_exception.connect(_note_database_fault, dispatch_uid="portal.errors.database_fault")


def error_page(request: HttpRequest, refusal: Refusal) -> HttpResponse:
    """A refusal answered when something may be broken (the database): JSON, or the refusal page rendered at once
    as an anonymous visitor, so drawing the page needs neither the session nor the database."""
    if wants_json(request):
        return _with_security_headers(request, refusal_json(refusal))
    if not hasattr(request, "csp_nonce"):  # answered above CSPMiddleware (the line, a database fault)
        _header_middleware()[-1].process_request(request)
    try:
        body = render_to_string(
            "portal/refusal.html", {"error": refusal.message, "user": AnonymousUser()}, request=request
        )
    except Exception:  # noqa: BLE001 — the error page itself must never fail; fall back to the bare sentence
        log.exception("the error page could not be rendered")
        body = refusal.message
    response = HttpResponse(body, status=refusal.status)
    for name, value in refusal.headers().items():
        response[name] = value
    return _with_security_headers(request, response)


@lru_cache(maxsize=1)
def _header_middleware() -> tuple:
    """The middleware that set the security headers (CSP last), for their response step alone."""

    def unused(request):  # only process_request / process_response are called
        raise NotImplementedError

    return SecurityMiddleware(unused), XFrameOptionsMiddleware(unused), CSPMiddleware(unused)


def _with_security_headers(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """An error answered above the middleware that sets the security headers (the admission line's 503, a database
    fault in a middleware) gets them all the same; below it, each header is already set and stays as it is."""
    for middleware in _header_middleware():
        response = middleware.process_response(request, response)
    return response


def handler400(request, exception=None):
    return error_page(request, Refusal("The request was not understood."))


def handler403(request, exception=None):
    return error_page(request, Forbidden("You are not allowed to see this page."))


def handler404(request, exception=None):
    return error_page(request, NotFound("There is nothing at this address."))


def handler500(request):
    # Called inside Django's except block: a database fault anywhere (a middleware too) is a 503, not a 500.
    exception = sys.exc_info()[1]
    if isinstance(exception, DATABASE_FAULTS):
        return error_page(request, database_unavailable(exception))
    return error_page(
        request, Refusal("Something went wrong on our side. It was logged; please try again later.", 500)
    )


def refusal_frame(refusal: Refusal) -> str:
    """A refusal as a websocket text frame: `{"error": sentence, "status": status}`."""
    return json.dumps({"error": refusal.message, "status": refusal.status})


# pydantic's error types, said for a person; `{field}` is the parameter or body field, `{ctx...}` pydantic's context.
_VALIDATION_SENTENCES = {
    "missing": "{field} is missing: the request needs it.",
    "int_parsing": "{field} must be a whole number.",
    "int_type": "{field} must be a whole number.",
    "int_from_float": "{field} must be a whole number.",
    "string_type": "{field} must be text.",
    "string_too_short": "{field} must be at least {min_length} characters long.",
    "string_too_long": "{field} is too long (at most {max_length:,} characters).",
    "list_type": "{field} must be a list.",
    "too_long": "{field} has too many entries (at most {max_length:,}).",
    "bool_parsing": "{field} must be true or false.",
    "bool_type": "{field} must be true or false.",
    "literal_error": "{field} must be one of {expected}.",
    "enum": "{field} must be one of {expected}.",
    "greater_than_equal": "{field} must be at least {ge}.",
    "less_than_equal": "{field} must be at most {le}.",
}
# The error type portal.api_types.explained gives pydantic: its message is already the sentence.
EXPLAINED = "portal_sentence"


def validation_sentence(error: dict) -> str:
    """One of ninja's validation errors (`{"loc": ("path"|"query"|"body", …), "type", "msg", "ctx"}`) as a sentence
    that names the field: the sentence of a typed parameter (portal.api_types.explained) as it is, otherwise
    pydantic's error type said for a person — never pydantic's own wording."""
    kind, loc, ctx = error.get("type", ""), tuple(error.get("loc", ())), error.get("ctx") or {}
    if kind == EXPLAINED:
        return error["msg"]
    source, names = (loc[0], loc[1:]) if loc else ("body", ())
    if source == "body":
        names = names[1:] if names and names[0] == "payload" else names  # ninja's name for the whole body
        if not names:
            return "The request body must be a JSON object."
    name = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in names).lstrip(".")
    if not name:
        return "The request was not understood: please send the parameters this operation documents."
    where = {"path": "in the address", "query": "parameter", "body": "field"}.get(source, "field")
    field = f"The {where} “{name}”" if where != "in the address" else f"“{name}” in the address"
    template = _VALIDATION_SENTENCES.get(kind, "{field} is not a value we can use.")
    try:
        return template.format(field=field, **ctx)
    except (KeyError, ValueError, IndexError):
        return f"{field} is not a value we can use."


def install_api_handlers(api) -> None:
    """Register on a NinjaAPI: Refusal, ninja's ValidationError/AuthenticationError/HttpError and Http404 all
    answer `{"error": sentence}` — one error shape for the whole API."""
    def answer(request, refusal: Refusal):
        response = api.create_response(request, {"error": refusal.message}, status=refusal.status)
        for name, value in refusal.headers().items():
            response[name] = value
        return response

    @api.exception_handler(Refusal)
    def on_refusal(request, exc: Refusal):
        return answer(request, exc)

    @api.exception_handler(ValidationError)
    def on_validation_error(request, exc: ValidationError):
        return answer(request, Refusal(validation_sentence(exc.errors[0] if exc.errors else {})))

    @api.exception_handler(AuthenticationError)
    def on_auth_error(request, exc):
        return answer(request, SignInRequired("Please sign in with your wallet first."))

    @api.exception_handler(HttpError)
    def on_http_error(request, exc: HttpError):
        if isinstance(exc.__cause__, Refusal):  # ninja's "Cannot parse request body", from our parser's sentence
            return answer(request, exc.__cause__)
        return answer(request, Refusal(str(exc), exc.status_code))

    @api.exception_handler(Http404)
    def on_not_found(request, exc):
        return answer(request, NotFound(str(exc) or "Not found."))

    @api.exception_handler(OperationalError)
    def on_database_fault(request, exc: OperationalError):
        return answer(request, database_unavailable(exc))

    @api.exception_handler(InterfaceError)
    def on_database_gone(request, exc: InterfaceError):
        return answer(request, database_unavailable(exc))


class Error(Schema):
    """The one error shape of the JSON API (CONTRACT: `{"error": "…"}`), for each route's `response=` map."""

    error: str
