"""Status subscriptions over JSON (`POST /api/v1/status/subscriptions`, CONTRACT): anyone, no sign-in; double
opt-in, so the answer is the same 202 whether the address was new, pending or subscribed already."""

from http import HTTPStatus

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja import Status as Answer

from portal.api_types import answers
from portal.parsing import MAX_EMAIL
from portal.ratelimit import client_ip

from .services.subscriptions import status_subscribe

router = Router()


class SubscriptionIn(Schema):
    # Checked by the service (parse_email, the component slugs), with its sentences; documented here.
    email: str = Field(description="Where the status mail goes; a confirmation link is mailed there first.",
                       json_schema_extra={"format": "email", "maxLength": MAX_EMAIL})
    components: list[str] = Field(default_factory=list, description="Component slugs; empty for every component.")


class Detail(Schema):
    detail: str


CHECK_INBOX = ("Check your inbox: we sent a link to confirm the subscription. Nothing else is sent until you open "
               "it, and every mail has a one-click unsubscribe link.")


@router.post(
    "/status/subscriptions",
    response=answers({202: Detail}, 400, 429),
    summary="Subscribe an address to status mail (double opt-in)",
)
def subscribe(request: HttpRequest, payload: SubscriptionIn):
    status_subscribe(email=payload.email, component_slugs=payload.components, ip=client_ip(request))
    return Answer(HTTPStatus.ACCEPTED, {"detail": CHECK_INBOX})
