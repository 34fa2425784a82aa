"""The JSON API (`/api/v1/`): one NinjaAPI, one router per app. Errors are always `{"error": "<sentence>"}`."""

from http import HTTPStatus

from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from governance.chain import ChainUnavailable
from portal.ratelimit import RateLimited

api = NinjaAPI(
    title="DAO Portal API",
    version="1",
    description="Proposals, signed votes, recount files, discussion threads and the feedback board.",
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


class ApiError(Exception):
    """Raise from a service or endpoint to answer `{"error": message}` with `status`."""

    def __init__(self, message: str, status: int = HTTPStatus.BAD_REQUEST):
        super().__init__(message)
        self.status = status


def _error(request, message: str, status: int):
    return api.create_response(request, {"error": message}, status=status)


@api.exception_handler(ApiError)
def on_api_error(request, exc: ApiError):
    return _error(request, str(exc), exc.status)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    first = exc.errors[0] if exc.errors else {}
    where = ".".join(str(p) for p in first.get("loc", ())[1:] if p not in ("body", "payload"))
    message = first.get("msg", "The request is not valid.")
    sentence = f"{where}: {message}." if where else f"{message}."
    return _error(request, f"The request was not understood — {sentence}", HTTPStatus.UNPROCESSABLE_ENTITY)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return _error(request, "Please sign in with your wallet first.", HTTPStatus.UNAUTHORIZED)


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    return _error(request, str(exc), exc.status_code)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return _error(request, str(exc) or "Not found.", HTTPStatus.NOT_FOUND)


@api.exception_handler(RateLimited)
def on_rate_limited(request, exc: RateLimited):
    response = _error(request, str(exc), HTTPStatus.TOO_MANY_REQUESTS)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(ChainUnavailable)
def on_chain_unavailable(request, exc: ChainUnavailable):
    return _error(request, str(exc), HTTPStatus.SERVICE_UNAVAILABLE)


def _mount_routers() -> None:
    from governance.api import router as governance_router
    from portal.discussion.api import router as discussion_router
    from portal.feedback.api import router as feedback_router

    api.add_router("", governance_router, tags=["governance"])
    api.add_router("", discussion_router, tags=["discussion"])
    api.add_router("", feedback_router, tags=["feedback"])


_mount_routers()
