"""Status subscriptions over JSON (`POST /api/v1/status/subscriptions`, CONTRACT): anyone, no sign-in; double
opt-in, so the answer is the same 202 whether the address was new, pending or subscribed already."""

from http import HTTPStatus

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja import Status as Answer

from portal.errors import Error
from portal.ratelimit import client_ip

from .services.subscriptions import status_subscribe

router = Router()


class SubscriptionIn(Schema):
    email: str = Field(description="Where the status mail goes; a confirmation link is mailed there first.")
    components: list[str] = Field(default_factory=list, description="Component slugs; empty for every component.")


class Detail(Schema):
    detail: str


CHECK_INBOX = ("Check your inbox: we sent a link to confirm the subscription. Nothing else is sent until you open "
               "it, and every mail has a one-click unsubscribe link.")


@router.post(
    "/status/subscriptions",
    response={202: Detail, 400: Error, 422: Error, 429: Error, 503: Error},
    summary="Subscribe an address to status mail (double opt-in)",
)
def subscribe(request: HttpRequest, payload: SubscriptionIn):
    status_subscribe(email=payload.email, component_slugs=payload.components, ip=client_ip(request))
    return Answer(HTTPStatus.ACCEPTED, {"detail": CHECK_INBOX})
